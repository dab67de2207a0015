"""The configuration reference, generated from the settings schema (`config.Settings`).

Every option of every section becomes one row of the README's table
`| option | default | meaning |`: its dotted name, its default as it would
be written in config.toml, and its pydantic `Field(description=...)`. The
README holds the table between two markers; a unit test fails when it
differs from what this module renders, so the README cannot drift from the
code.

    python -m mirix_desktop.config_reference                  # print the table
    python -m mirix_desktop.config_reference --write README.md  # replace the block
    python -m mirix_desktop.config_reference --check README.md  # exit 1 if it differs
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mirix_desktop.config import Settings

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"
REGENERATE = "python -m mirix_desktop.config_reference --write README.md"


@dataclass(frozen=True)
class Option:
    """One row of the reference."""

    name: str  # "section.option"
    default: str  # as written in config.toml
    meaning: str


class MissingMarkers(ValueError):
    """The file has no (or broken) config-reference markers."""


def toml_value(value: Any) -> str:
    """A default as a person would write it in config.toml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return f"`{value}`" if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML rendering for the default {value!r}")


def _default(field: Any) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()
    raise ValueError("an option without a default")


def _cell(text: str) -> str:
    # One line per row, and a pipe inside a cell would start a new column.
    return " ".join(text.split()).replace("|", "\\|")


def options(settings: type[Settings] = Settings) -> Iterator[Option]:
    """Every option of every section, in the order the schema declares them."""
    for section_name, section_field in settings.model_fields.items():
        section = section_field.annotation
        assert isinstance(section, type) and issubclass(section, BaseModel)
        for option_name, field in section.model_fields.items():
            if not field.description:
                raise ValueError(f"{section_name}.{option_name} has no Field(description=...)")
            yield Option(
                name=f"{section_name}.{option_name}",
                default=toml_value(_default(field)),
                meaning=field.description,
            )


def render_table(settings: type[Settings] = Settings) -> str:
    """The Markdown table, ending with a newline."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for option in options(settings):
        lines.append(f"| `{option.name}` | {_cell(option.default)} | {_cell(option.meaning)} |")
    return "\n".join(lines) + "\n"


def render_block(settings: type[Settings] = Settings) -> str:
    """The table with its markers, as the README holds it."""
    return f"{START}\n{render_table(settings)}{END}"


def _span(text: str) -> tuple[int, int]:
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise MissingMarkers(f"expected one {START} followed by one {END}")
    return start, end + len(END)


def current_block(text: str) -> str:
    """The block between the markers (markers included) as the file has it."""
    start, end = _span(text)
    return text[start:end]


def replace_block(text: str, settings: type[Settings] = Settings) -> str:
    """`text` with its marked block replaced by the generated one."""
    start, end = _span(text)
    return text[:start] + render_block(settings) + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mirix_desktop.config_reference",
        description="Print the configuration reference, or update it in a Markdown file.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="FILE", help="replace the marked block")
    action.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if the block differs")
    args = parser.parse_args(argv)
    target: Path | None = args.write or args.check
    if target is None:
        sys.stdout.write(render_table())
        return 0
    try:
        text = target.read_text(encoding="utf-8")
        updated = replace_block(text)
    except (OSError, MissingMarkers) as exc:
        print(f"{target}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != text:
            print(f"{target}: the configuration reference is out of date; run: {REGENERATE}")
            return 1
        return 0
    if updated != text:
        target.write_text(updated, encoding="utf-8")
        print(f"{target}: configuration reference updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
