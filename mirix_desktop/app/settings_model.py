"""The settings window's view of the config schema: every option, and one value checked.

`option_specs()` reads `config.Settings` (declared once, with type, default,
bounds and description per option) into `OptionSpec`s, so an option added
to the schema appears in the window without touching the UI. `check_value`
runs one changed value through the same pydantic section model the app
loads the file with, and returns the problem in plain words.

`read_config_file` is for a file edited by hand with mistakes: unlike
`config.load_settings`, which refuses the whole file, it keeps every valid
option and names each bad key with its problem, so the window can still
open and show them.
"""

from __future__ import annotations

import functools
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from mirix_desktop.config import Settings, load_settings
from mirix_desktop.errors import ConfigError
from mirix_desktop.privacy.exclusions import PrivacyRule

OptionKind = Literal["bool", "int", "float", "str", "choice", "str_list", "rules"]


@dataclass(frozen=True)
class OptionSpec:
    """One option of config.toml as the window shows it."""

    section: str
    name: str
    kind: OptionKind
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # inclusive unless min_exclusive
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    @property
    def key(self) -> str:
        """ "section.name", as the README and error messages write it."""
        return f"{self.section}.{self.name}"


@dataclass(frozen=True)
class Problem:
    """A key of the config file and what is wrong with it, in plain words."""

    key: str
    problem: str


@dataclass(frozen=True)
class CheckedValue:
    """A value after validation: `value` (normalised) when `problem` is None."""

    value: Any = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class FileContents:
    """What a config file holds: its valid options, and the problems of the rest."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def settings(self) -> Settings:
        """Settings from the valid options (defaults elsewhere); no environment layer."""
        return Settings.model_validate(self.values)


def section_models(settings: type[Settings] = Settings) -> dict[str, type[BaseModel]]:
    """Each section's name and its pydantic model, in the schema's order."""
    found: dict[str, type[BaseModel]] = {}
    for name, section_field in settings.model_fields.items():
        model = section_field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        found[name] = model
    return found


def _kind(annotation: Any) -> tuple[OptionKind, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", tuple(str(arg) for arg in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        if item is PrivacyRule:
            return "rules", ()
        if item is str:
            return "str_list", ()
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if annotation is str:
        return "str", ()
    raise TypeError(f"the settings window has no field for the type {annotation!r}")


def _default(info: Any) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()
    raise ValueError("an option without a default")


def option_specs(settings: type[Settings] = Settings) -> list[OptionSpec]:
    """Every option of every section, in the order the schema declares them."""
    return list(_specs(settings))


@functools.cache
def _specs(settings: type[Settings]) -> tuple[OptionSpec, ...]:
    specs: list[OptionSpec] = []
    for section, model in section_models(settings).items():
        for name, info in model.model_fields.items():
            kind, choices = _kind(info.annotation)
            bounds: dict[str, Any] = {}
            for rule in info.metadata:
                if isinstance(rule, Ge):
                    bounds["minimum"] = float(rule.ge)  # type: ignore[arg-type]
                elif isinstance(rule, Gt):
                    bounds["minimum"], bounds["min_exclusive"] = float(rule.gt), True  # type: ignore[arg-type]
                elif isinstance(rule, Le):
                    bounds["maximum"] = float(rule.le)  # type: ignore[arg-type]
                elif isinstance(rule, Lt):
                    bounds["maximum"], bounds["max_exclusive"] = float(rule.lt), True  # type: ignore[arg-type]
                elif isinstance(rule, MinLen | MaxLen):
                    continue
            specs.append(
                OptionSpec(
                    section=section,
                    name=name,
                    kind=kind,
                    default=_default(info),
                    description=info.description or "",
                    choices=choices,
                    **bounds,
                )
            )
    return tuple(specs)


def find_spec(key: str, settings: type[Settings] = Settings) -> OptionSpec:
    """The option named "section.name"; KeyError if the schema has none."""
    for spec in option_specs(settings):
        if spec.key == key:
            return spec
    raise KeyError(key)


def plain_words(error: Mapping[str, Any]) -> str:
    """A pydantic error message as a person reads it."""
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if message.startswith("Input should be"):
        message = "must be" + message[len("Input should be") :]
    elif message.startswith("Extra inputs are not permitted"):
        message = "is not an option MIRIX knows (a typo?)"
    elif message.startswith("String should match pattern"):
        message = "is not written the way this option expects (see its description)"
    return message


def check_value(
    section: str, name: str, value: Any, settings: type[Settings] = Settings
) -> CheckedValue:
    """Validates one option's value with its section's pydantic model."""
    model = section_models(settings).get(section)
    if model is None:
        return CheckedValue(problem=f"[{section}] is not a section MIRIX knows (a typo?)")
    if name not in model.model_fields:
        return CheckedValue(problem="is not an option MIRIX knows (a typo?)")
    try:
        checked = model.model_validate({name: value})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = [str(part) for part in error["loc"][1:]]
            text = plain_words(error)
            if where and where[0].isdigit():
                text = f"entry {int(where[0]) + 1}: {text}"
            problems.append(text)
        return CheckedValue(problem="; ".join(problems))
    return CheckedValue(value=getattr(checked, name))


def _table_problem(value: Any) -> str:
    return f"must be a table of options, not a {type(value).__name__}"


def _walk(
    document: Mapping[str, Any], settings: type[Settings]
) -> Iterator[Problem | tuple[str, str, Any]]:
    models = section_models(settings)
    for section, options in document.items():
        if section not in models:
            yield Problem(section, "is not a section MIRIX knows (a typo?)")
            continue
        if not isinstance(options, dict):
            yield Problem(section, _table_problem(options))
            continue
        for name, value in options.items():
            checked = check_value(section, name, value, settings)
            if checked.ok:
                yield (section, name, checked.value)
            else:
                yield Problem(f"{section}.{name}", checked.problem or "is not valid")


def parse_config_text(text: str, settings: type[Settings] = Settings) -> FileContents:
    """The valid options of a config file's text, and a `Problem` for each bad key."""
    contents = FileContents()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        contents.problems.append(Problem("(the whole file)", f"is not valid TOML: {exc}"))
        return contents
    for item in _walk(document, settings):
        if isinstance(item, Problem):
            contents.problems.append(item)
        else:
            section, name, value = item
            contents.values.setdefault(section, {})[name] = value
    return contents


def read_config_file(config_file: Path, settings: type[Settings] = Settings) -> FileContents:
    """`parse_config_text` of the file; a missing file is empty, an unreadable one a problem."""
    if not config_file.exists():
        return FileContents()
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileContents(problems=[Problem("(the whole file)", f"cannot be read: {exc}")])
    return parse_config_text(text, settings)


def load_tolerant(
    config_file: Path, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[Problem]]:
    """The settings with every valid option of the file, and the problems of the others.

    For `run`: a file edited by hand with a mistake must not keep MIRIX from
    starting; the tray app shows the problems in its settings window and the
    daemon logs the keys. A problem outside the file (a bad MIRIX_* variable)
    is still a ConfigError.
    """
    try:
        return load_settings(config_file, environ), []
    except ConfigError:
        contents = read_config_file(config_file)
        if not contents.problems:
            raise
        settings = load_settings(config_file, environ, file_values=contents.values)
        return settings, contents.problems


def value_of(settings: Settings, spec: OptionSpec) -> Any:
    """The option's value in `settings`."""
    return getattr(getattr(settings, spec.section), spec.name)


def to_toml(value: Any) -> Any:
    """A validated value as config.toml holds it (rules become tables)."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list | tuple):
        return [to_toml(item) for item in value]
    return value
