"""The application layer: what the CLI, the windows and (later) the MCP server all call.

No click, no widgets: the composition root, daemon status as a person reads
it, memory records as shown, doctor checks and time phrases for filters.
"""
