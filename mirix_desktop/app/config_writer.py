"""Writing the person's choices back into config.toml without losing their edits.

The config file is theirs: comments, order and formatting survive (tomlkit
edits the document in place), new exclusions are appended as
`[[privacy.exclude]]` entries, a rule already there is not added twice, and
the file is replaced atomically so a crash mid-write leaves the old one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import AoT, Array, Table

from mirix_desktop.errors import ConfigError
from mirix_desktop.privacy.exclusions import PrivacyRule


def _rule_key(rule: PrivacyRule) -> tuple[str, str, bool]:
    return (rule.field, rule.pattern, rule.regex)


def _existing_keys(entries: Any) -> set[tuple[str, str, bool]]:
    found: set[tuple[str, str, bool]] = set()
    for entry in entries:
        try:
            found.add(_rule_key(PrivacyRule.model_validate(dict(entry))))
        except (TypeError, ValueError):
            # Someone else's invalid entry: config.load_settings will name it.
            continue
    return found


def _rule_table(rule: PrivacyRule) -> Table:
    table = tomlkit.table()
    table.add("field", rule.field)
    table.add("pattern", rule.pattern)
    table.add("regex", rule.regex)
    return table


def add_exclusions(config_file: Path, rules: Sequence[PrivacyRule]) -> list[PrivacyRule]:
    """Appends `rules` to `privacy.exclude` in `config_file`; returns those actually added.

    Creates the file (and its directory, owner-only) if needed. A file that is
    not valid TOML, or whose `privacy` is not a table, is left untouched and
    reported as a `ConfigError` naming it.
    """
    text = ""
    if config_file.exists():
        try:
            text = config_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc

    if "privacy" not in document:
        document.add("privacy", tomlkit.table())
    privacy = document["privacy"]
    if not isinstance(privacy, dict):
        raise ConfigError(f"{config_file}: 'privacy' must be a table ([privacy])")
    entries = privacy.get("exclude")
    if entries is None:
        entries = tomlkit.aot()
        privacy["exclude"] = entries
    if not isinstance(entries, AoT | Array):
        raise ConfigError(f"{config_file}: 'privacy.exclude' must be a list of rules")

    seen = _existing_keys(entries)
    added: list[PrivacyRule] = []
    for rule in rules:
        if _rule_key(rule) in seen:
            continue
        seen.add(_rule_key(rule))
        added.append(rule)
        if isinstance(entries, AoT):
            entries.append(_rule_table(rule))
        else:
            # Someone wrote `exclude = [{...}]`: keep their inline style.
            inline = tomlkit.inline_table()
            inline.update({"field": rule.field, "pattern": rule.pattern, "regex": rule.regex})
            entries.append(inline)
    if added:
        _write_atomically(config_file, tomlkit.dumps(document))
    return added


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file: {exc}") from exc


# A change to this value removes the key from the file (TOML has no null).
REMOVE = None


def write_options(config_file: Path, changes: Mapping[str, Mapping[str, object] | None]) -> None:
    """Sets each `changes[section][name]` in `config_file`, keeping everything else.

    Comments, order and formatting of the rest survive; a value's own
    trailing comment stays with it. A value of None removes the key; a
    section of None removes the whole top-level entry (a section MIRIX does
    not know, or a stray key outside any section).
    `privacy.exclude` (a list of rules) replaces the whole array of tables.
    Values are written as given: validate them first (app/settings_model.py).
    The file is replaced atomically, created owner-only (0600) if new. A file
    that is not valid TOML is left untouched: ConfigError.
    """
    text = ""
    if config_file.exists():
        try:
            text = config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc
    for section, options in changes.items():
        if options is None:
            if section in document:
                del document[section]
            continue
        table = document.get(section)
        if table is None:
            if all(value is REMOVE for value in options.values()):
                continue
            table = tomlkit.table()
            document.add(section, table)
            table = document[section]
        if not isinstance(table, dict):
            raise ConfigError(f"{config_file}: '{section}' must be a table ([{section}])")
        for name, value in options.items():
            if value is REMOVE:
                if name in table:
                    del table[name]
                continue
            _set(table, name, value)
    _write_atomically(config_file, tomlkit.dumps(document))


def _set(table: Any, name: str, value: object) -> None:
    if isinstance(value, list) and value and all(isinstance(v, PrivacyRule | dict) for v in value):
        entries = tomlkit.aot()
        for rule in value:
            entries.append(_rule_table(PrivacyRule.model_validate(rule)))
        table[name] = entries
        return
    if isinstance(value, list) and not value and isinstance(table.get(name), AoT):
        # An emptied list of rules: an empty array, since an empty AoT writes nothing.
        table[name] = tomlkit.array()
        return
    # tomlkit keeps the old item's trailing comment and place for the new value.
    table[name] = tomlkit.item(value)
