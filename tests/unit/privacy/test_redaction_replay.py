"""`tests/benchmarks/redaction_replay.py`: saved OCR input judged with today's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.redaction_replay import replay

KEY = "sk-proj-Zq8vT3BlbkFJx7Wm2QpL9rYc4NdKs"


def test_replay_counts_leaks_and_changed_ordinary_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = {
        "secrets": [
            {"seed": "s", "case": "redacted", "kind": "openai", "style": "light",
             "secret": KEY, "calls": [{"lines": [f"export OPENAI_API_KEY={KEY}"],
                                       "boxes": [[0, 0, 600, 14]]}]},
            # Prose that happens to hold the "secret": no rule can find it.
            {"seed": "s", "case": "prose", "kind": "password", "style": "light",
             "secret": "horsebatterystaple", "calls": [{"lines": ["my horsebatterystaple"],
                                                        "boxes": None}]},
        ],
        "fp": [
            {"kind": "code", "calls": [
                {"lines": ["def main() -> None:", f"key = '{KEY}'"],
                 "boxes": [[0, 0, 200, 14], [0, 20, 400, 14]]},
                {"lines": ["a title"], "boxes": None},  # not an OCR line: not counted
            ]},
        ],
    }  # fmt: skip
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(saved))
    assert replay([path], verbose=False, fp_lines=False) == 1
    out = capsys.readouterr().out
    assert "CLEAR s prose light" in out
    assert "s: 1 / 2 in clear (openai 0/1, password 1/1)" in out
    assert "ordinary OCR lines changed: 1 / 2" in out
