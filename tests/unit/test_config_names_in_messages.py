"""Every config section or option a message or docstring names exists in the schema.

A newcomer told to set `model` in "[llm.openai]" writes a section the config
then rejects; the names in the text must be the names `config.toml` takes.
"""

from __future__ import annotations

import re
from pathlib import Path

import mirix_desktop
from mirix_desktop.config import Settings

# "[openai] section", "`[openai] api_key_env`": a section, perhaps with an option.
# Section names are words; "`[n]`" is a citation marker.
_NAMED = re.compile(r"`?\[([a-z_]{2,}(?:\.[a-z_]+)*)\](?: section|`| ([a-z_]+)`)")
SOURCE = Path(mirix_desktop.__file__).parent


def _named_settings() -> list[tuple[str, str, str | None]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in _NAMED.finditer(text):
            if not match[0].startswith("`") and not match[0].endswith(" section"):
                continue  # a list index or a link, not a config name
            if text[match.end() : match.end() + 6] == " extra":
                continue  # a pip extra ("the `[transformer]` extra"), not a section
            found.append((path.name, match[1], match[2]))
    return found


def test_messages_name_some_sections() -> None:
    # Guards the scan itself: a pattern that finds nothing checks nothing.
    assert any(section == "openai" for _, section, _ in _named_settings())


def test_every_named_section_and_option_exists() -> None:
    wrong = []
    for file, section, option in _named_settings():
        field = Settings.model_fields.get(section)
        if field is None:
            wrong.append(f"{file}: [{section}]")
            continue
        section_type = field.annotation
        assert isinstance(section_type, type)
        if option is not None and option not in section_type.model_fields:  # type: ignore[attr-defined]
            wrong.append(f"{file}: [{section}] {option}")
    assert not wrong, wrong
