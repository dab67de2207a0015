"""The memory-grounded assistant: retrieval, prompts, answers, citations, consolidation."""
