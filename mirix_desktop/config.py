"""Typed settings, declared once: defaults < TOML file < MIRIX_* env < CLI flags.

Every option has a type, a default and a description (the pydantic field).
Unknown keys in the file are an error that names the key, so a typo never
silently does nothing. Environment variables are `MIRIX_<SECTION>_<OPTION>`,
for example `MIRIX_SEARCH_DEFAULT_LIMIT=20`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mirix_desktop.capture.privacy import PrivacyRule
from mirix_desktop.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StoreSettings(_Section):
    cache_mb: int = Field(
        128,
        ge=8,
        description="SQLite page cache in MiB. Encrypted pages are decrypted on every cache "
        "miss, so the vector index should fit here.",
    )
    busy_timeout_s: float = Field(
        5.0, gt=0, description="How long to wait for another writer before giving up."
    )


class EmbeddingSettings(_Section):
    model: Literal["static-minilm", "minilm"] = Field(
        "static-minilm",
        description="'static-minilm': a static (model2vec) distillation of all-MiniLM-L6-v2, "
        "~100x cheaper per text; 'minilm': the transformer itself (sentence-transformers).",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="Texts embedded per batch.")


class SearchSettings(_Section):
    default_limit: int = Field(10, ge=1, le=1000, description="Results returned by default.")
    candidates: int = Field(
        100, ge=10, le=5000, description="Candidates taken from each index before fusion."
    )


class CaptureSettings(_Section):
    enabled: bool = Field(True, description="Capture the screen while the daemon runs.")
    interval_s: float = Field(
        2.0, ge=0.25, le=600, description="Seconds between two looks at the screen."
    )
    idle_pause_s: float = Field(
        300.0,
        ge=0,
        description="Pause capture after this many seconds without keyboard or mouse input "
        "(0: never).",
    )
    episode_gap_s: float = Field(
        300.0, gt=0, description="A gap in activity longer than this closes an episode."
    )
    thumbnail_width: int = Field(
        320,
        ge=0,
        le=1920,
        description="Width of the thumbnail kept per changed frame, inside the encrypted "
        "store (0: no thumbnails). At 320 px screen text is not legible.",
    )
    keyframe_queue: int = Field(
        30,
        ge=1,
        description="When this many frames wait for OCR, only keyframes are sent (a window "
        "switch, or every keyframe_interval_s) until OCR catches up.",
    )
    keyframe_interval_s: float = Field(
        30.0, gt=0, description="Seconds between keyframes while OCR is behind."
    )
    max_queue: int = Field(
        200,
        ge=1,
        description="Frames waiting for OCR at most; beyond it capture waits for OCR.",
    )


class OcrSettings(_Section):
    engine: Literal["auto", "tesserocr", "pytesseract"] = Field(
        "auto",
        description="'tesserocr' (in-process, fast), 'pytesseract' (the tesseract command) "
        "or 'auto' (tesserocr, falling back to the command).",
    )
    languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract languages joined by '+', e.g. 'eng+deu'.",
    )


class PrivacySettings(_Section):
    default_exclusions: bool = Field(
        True,
        description="Never capture password managers and private/incognito browser windows.",
    )
    exclude: list[PrivacyRule] = Field(
        default_factory=list,
        description="Your own rules: [[privacy.exclude]] field = 'app'|'title'|'url', "
        "pattern = '...', regex = false.",
    )
    redact_emails: bool = Field(False, description="Also redact e-mail addresses in screen text.")


class Settings(_Section):
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {}
    for section_name, section_field in Settings.model_fields.items():
        section_type = section_field.annotation
        assert isinstance(section_type, type) and issubclass(section_type, _Section)
        for option in section_type.model_fields:
            key = f"MIRIX_{section_name}_{option}".upper()
            if key in environ:
                overrides.setdefault(section_name, {})[option] = environ[key]
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(
    config_file: Path | None,
    environ: Mapping[str, str] | None = None,
    cli_overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Builds the settings from the file (if present), the environment and CLI flags."""
    layers: dict[str, Any] = {}
    if config_file is not None and config_file.exists():
        try:
            layers = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc
    layers = _merge(layers, _env_overrides(os.environ if environ is None else environ))
    layers = _merge(layers, cli_overrides or {})
    try:
        return Settings.model_validate(layers)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f"{config_file}" if config_file else "settings"
        raise ConfigError(f"{where}: invalid configuration: {problems}") from exc
