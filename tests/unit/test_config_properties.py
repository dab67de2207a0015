"""Properties of config loading: any file or environment gives settings or a ConfigError.

Documents are generated from the schema itself (every section and option,
with values of the right type near and past their bounds, of the wrong
type, or junk) plus unknown keys and sections, and also as raw bytes. A
loaded configuration holds only finite numbers: an infinite timeout passed
validation and then overflowed where the store was opened.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.errors import ConfigError

SECTIONS: dict[str, type[BaseModel]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}

_SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=20),
    st.datetimes(),
    st.dates(),
)
JUNK = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)
RULES = st.lists(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["app", "title", "url", "process", ""]),
            "pattern": st.one_of(
                st.text(max_size=10),
                st.sampled_from(["(", "a{4294967296}", "(" * 2000 + ")" * 2000, "[a-", "*"]),
            ),
        },
        optional={"regex": st.one_of(st.booleans(), JUNK)},
    ),
    max_size=3,
)


def _value_for(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of the option's own type, at and past its bounds, or anything."""
    text = str(annotation)
    if annotation is bool:
        own: st.SearchStrategy[Any] = st.booleans()
    elif annotation is int:
        own = st.one_of(st.integers(-5, 300_000), st.sampled_from([0, -1, 2**63 - 1, -(2**63)]))
    elif annotation is float:
        own = st.one_of(st.floats(-10, 1e6), st.sampled_from([math.inf, -math.inf, math.nan, 0.0]))
    elif annotation is str:
        own = st.text(max_size=30)
    elif "Literal" in text:
        own = st.sampled_from(list(annotation.__args__))
    elif "PrivacyRule" in text:
        own = RULES
    else:
        own = JUNK
    return st.one_of(own, own, JUNK)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True)):
        model = SECTIONS[name]
        options = draw(st.lists(st.sampled_from(sorted(model.model_fields)), unique=True))
        section = {o: draw(_value_for(model.model_fields[o].annotation)) for o in options}
        if draw(st.integers(0, 9)) == 0:
            section[draw(st.text(min_size=1, max_size=12))] = draw(JUNK)
        document[name] = section if draw(st.integers(0, 19)) else draw(JUNK)
    if draw(st.integers(0, 9)) == 0:
        document[draw(st.text(min_size=1, max_size=12))] = draw(JUNK)
    return document


def _load(content: bytes, environ: dict[str, str] | None = None) -> Settings | None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.toml"
        path.write_bytes(content)
        try:
            return load_settings(path, environ=environ or {})
        except ConfigError as exc:
            assert str(path) in exc.message
            return None


def _finite(settings: Settings) -> None:
    for name in SECTIONS:
        section = getattr(settings, name)
        for option in type(section).model_fields:
            value = getattr(section, option)
            if isinstance(value, float):
                assert math.isfinite(value), f"{name}.{option} = {value}"


@given(documents())
@example({"store": {"busy_timeout_s": math.inf}})  # passed, then overflowed opening the store
@example({"capture": {"episode_gap_s": math.nan}})
@example({"privacy": {"exclude": [{"field": "app", "pattern": "a{4294967296}", "regex": True}]}})
@example(
    {
        "privacy": {
            "exclude": [{"field": "title", "pattern": "(" * 2000 + ")" * 2000, "regex": True}]
        }
    }
)
def test_any_document_from_the_schema_loads_or_is_a_config_error(document: dict[str, Any]) -> None:
    settings = _load(tomlkit.dumps(document).encode())
    if settings is not None:
        _finite(settings)


@given(st.binary(max_size=200))
@example(b"\xff\xfe[store]\n")  # not UTF-8
@example(b"[store]\ncache_mb = 64\x00\n")
def test_any_bytes_load_or_are_a_config_error(content: bytes) -> None:
    _load(content)


OPTIONS = [f"MIRIX_{s}_{o}".upper() for s, m in SECTIONS.items() for o in m.model_fields]


@given(st.dictionaries(st.sampled_from(OPTIONS), st.text(max_size=12), max_size=6))
@example({"MIRIX_STORE_BUSY_TIMEOUT_S": "inf"})
@example({"MIRIX_PRIVACY_EXCLUDE": "[{"})
def test_any_environment_loads_or_is_a_config_error(environ: dict[str, str]) -> None:
    settings = _load(b"", environ)
    if settings is not None:
        _finite(settings)
