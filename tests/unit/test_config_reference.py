"""The README's configuration table is the one generated from the settings schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from mirix_desktop import config_reference
from mirix_desktop.config import Settings, StoreSettings
from mirix_desktop.config_reference import (
    END,
    REGENERATE,
    START,
    MissingMarkers,
    current_block,
    options,
    render_block,
    render_table,
    replace_block,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_holds_the_generated_reference() -> None:
    block = current_block(README.read_text(encoding="utf-8"))
    assert block == render_block(), (
        "README.md's configuration reference differs from the settings schema "
        f"(mirix_desktop/config.py). Regenerate it: {REGENERATE}"
    )


def test_every_option_of_every_section_is_a_row() -> None:
    table = render_table()
    names = [option.name for option in options()]
    expected = [
        f"{section}.{option}"
        for section, field in Settings.model_fields.items()
        for option in field.annotation.model_fields  # type: ignore[union-attr]
    ]
    assert names == expected
    for name in expected:
        assert f"| `{name}` |" in table
    assert table.count("\n") == len(expected) + 2


def test_defaults_as_written_in_config_toml_and_meanings_from_the_fields() -> None:
    rows = {option.name: option for option in options()}
    assert rows["capture.enabled"].default == "true"
    assert rows["privacy.redact_emails"].default == "false"
    assert rows["store.cache_mb"].default == "128"
    assert rows["llm.temperature"].default == "0.2"
    assert rows["embedding.model"].default == "`static-minilm`"
    assert rows["openai.model"].default == '""'
    assert rows["privacy.exclude"].default == "[]"
    described = StoreSettings.model_fields["cache_mb"].description
    assert rows["store.cache_mb"].meaning == described


def test_a_pipe_in_a_description_does_not_split_the_cell() -> None:
    class Odd(StoreSettings):
        mode: str = Field("a|b", description="either 'a' | 'b'\n  on two lines")

    class OddSettings(Settings):
        store: Odd = Field(default_factory=Odd)

    row = next(line for line in render_table(OddSettings).splitlines() if "store.mode" in line)
    assert row == "| `store.mode` | `a\\|b` | either 'a' \\| 'b' on two lines |"


def test_an_option_without_a_description_is_refused() -> None:
    class Bare(StoreSettings):
        undocumented: int = 3

    class BareSettings(Settings):
        store: Bare = Field(default_factory=Bare)

    with pytest.raises(ValueError, match=r"store.undocumented has no Field\(description"):
        render_table(BareSettings)


def test_the_block_is_replaced_between_the_markers_only() -> None:
    text = f"# Title\n\nbefore\n\n{START}\n| old | table |\n{END}\n\nafter\n"
    updated = replace_block(text)
    assert updated == f"# Title\n\nbefore\n\n{render_block()}\n\nafter\n"
    assert replace_block(updated) == updated
    with pytest.raises(MissingMarkers):
        replace_block("no markers here")
    with pytest.raises(MissingMarkers):
        replace_block(f"{END}\n{START}\n")


def test_the_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "README.md"
    target.write_text(f"intro\n{START}\nstale\n{END}\n", encoding="utf-8")
    assert config_reference.main(["--check", str(target)]) == 1
    assert REGENERATE in capsys.readouterr().out
    assert config_reference.main(["--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == f"intro\n{render_block()}\n"
    assert config_reference.main(["--check", str(target)]) == 0
    assert config_reference.main([]) == 0
    assert capsys.readouterr().out.endswith(render_table())
