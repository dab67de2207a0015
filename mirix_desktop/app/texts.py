"""Messages as a window shows them: without instructions to run CLI commands.

Known errors are written for the terminal and often end with the command
that fixes the problem (`mirix-desktop llm set-key`, `--model`). A person in
the chat window has no terminal at hand, so the windows show the same
message without those sentences and parentheses; the CLI keeps them.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"`[^`]*`")
_MASK = re.compile(r"\x00(\d+)\x00")
_FLAG = re.compile(r"(?:^|[\s(])--[a-z][a-z-]*")
_PARENTHESIS = re.compile(r"\s*\([^()]*\)")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+")


def for_window(message: str) -> str:
    """`message` without the sentences that tell the reader to run a command."""
    spans: list[str] = []

    def mask(match: re.Match[str]) -> str:
        # Code spans hide their dots ("qwen2.5") from the sentence split.
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    def names_command(part: str) -> bool:
        if _FLAG.search(part):
            return True
        return any(
            spans[int(n)].startswith(("`mirix-desktop", "`export ")) for n in _MASK.findall(part)
        )

    masked = _CODE.sub(mask, message)
    masked = _PARENTHESIS.sub(lambda m: "" if names_command(m.group(0)) else m.group(0), masked)
    kept = [part for part in _SENTENCE_END.split(masked) if not names_command(part)]
    text = _MASK.sub(lambda m: spans[int(m.group(1))], " ".join(kept)).strip()
    if not text:
        return message
    text = re.sub(r"[;:,]$", ".", text)
    return text if text.endswith((".", "!", "?", ")")) else text + "."
