"""The MCP server: your memory as tools for MCP clients (Claude Desktop, Cursor, VS Code).

Not named `mcp`, which would shadow the SDK it is built on. One job per module:
- `view`: what a client may read (search's view, vault values hidden, `mcp.exclude_apps` gone);
- `arguments`: tool arguments checked, with messages a model can act on;
- `asking`: `ask`, answered without keeping anything and without the vault;
- `tools`: the MCP tools and the `mirix://today` resource, on the SDK's `MCPServer`;
- `audit`: every call logged without its content;
- `wire`: stdio, with a JSON-RPC error for each line that is no message;
- `token`: the HTTP transport's bearer token (its hash kept in the store);
- `http`: Streamable HTTP on 127.0.0.1 behind that token.
"""
