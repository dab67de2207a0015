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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mirix_desktop.chord import parse_chord
from mirix_desktop.errors import ConfigError
from mirix_desktop.privacy.exclusions import PrivacyRule


class _Section(BaseModel):
    # No inf or nan: `busy_timeout_s = inf` satisfied gt=0 and then overflowed
    # where the store was opened.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class StoreSettings(_Section):
    cache_mb: int = Field(
        128,
        ge=8,
        description="SQLite page cache in MiB. Encrypted pages are decrypted on every cache "
        "miss, so the vector index should fit here.",
    )
    busy_timeout_s: float = Field(
        5.0,
        gt=0,
        description="Seconds to wait for another writer before reporting the store locked.",
    )


class EmbeddingSettings(_Section):
    model: Literal["static-minilm", "minilm"] = Field(
        "static-minilm",
        description="'static-minilm': a static model distilled from all-MiniLM-L6-v2 with "
        "numpy, ~100x cheaper per text; 'minilm': the transformer itself (needs the "
        "`[transformer]` extra: torch and sentence-transformers).",
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
    on_battery: Literal["same", "slower", "keyframes"] = Field(
        "slower",
        description="What capture does while the computer runs on battery: 'same' (no "
        "change), 'slower' (look at the screen every battery_interval_s instead), or "
        "'keyframes' (keep looking as often, but only keep a frame when the window changes "
        "or every keyframe_interval_s).",
    )
    battery_interval_s: float = Field(
        10.0,
        ge=0.25,
        le=600,
        description="Seconds between two looks at the screen on battery, when on_battery "
        "is 'slower'.",
    )


class StorageSettings(_Section):
    retention_days: int = Field(
        0,
        ge=0,
        description="Keep what is recorded for this many days, then remove it for good "
        "(screen captures, memories and chats older than that). 0: keep everything.",
    )
    max_gb: float = Field(
        0.0,
        ge=0,
        description="Most disk space (GB) the memories file may use. When it is reached, "
        "the oldest thumbnails go first, then the oldest screen captures and their text; "
        "your memories stay, and the newest day is always kept. 0: no limit.",
    )
    min_free_gb: float = Field(
        1.0,
        ge=0,
        description="Capture pauses while the disk has less free space than this (GB), "
        "and goes on by itself once there is room again. 0: never pause for space.",
    )

    @field_validator("retention_days", mode="before")
    @classmethod
    def _whole_days(cls, value: object) -> object:
        # A retention shorter than a day would delete today's captures as they
        # arrive: refused with the reason, not a pydantic type error.
        if isinstance(value, bool):
            return value
        number: float | None = None
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                return value
        if number is None:
            return value
        if number < 0:
            raise ValueError("retention_days cannot be negative: use 0 to keep everything")
        if 0 < number < 1:
            raise ValueError(
                f"a retention shorter than a day ({value}) is not allowed: use 1 or more "
                "days, or 0 to keep everything"
            )
        if number != int(number):
            raise ValueError(f"retention_days is a whole number of days, not {value}")
        return int(number)


class OcrSettings(_Section):
    engine: Literal["auto", "tesserocr", "pytesseract"] = Field(
        "auto",
        description="'tesserocr' (in-process, fast), 'pytesseract' (the tesseract command) "
        "or 'auto' (tesserocr, falling back to the command).",
    )
    languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract languages joined by '+', e.g. 'eng+deu'. Each needs its data "
        "installed (Debian/Ubuntu: tesseract-ocr-deu); `mirix-desktop doctor` checks them.",
    )


class PrivacySettings(_Section):
    default_exclusions: bool = Field(
        True,
        description="Never capture password managers and private/incognito browser windows.",
    )
    exclude: list[PrivacyRule] = Field(
        default_factory=list,
        description="Your own rules, each a [[privacy.exclude]] table: field = 'app', "
        "'title' or 'url'; pattern; regex = true for a regular expression (default false: "
        "a case-insensitive substring).",
    )
    redact_emails: bool = Field(False, description="Also redact e-mail addresses in screen text.")


class LlmSettings(_Section):
    provider: Literal["auto", "extractive", "local", "openai"] = Field(
        "auto",
        description="Who answers: 'local' (a GGUF through llama.cpp), 'openai' (any "
        "OpenAI-compatible server), 'extractive' (no model: the top memories, quoted), or "
        "'auto' (local if local_model.model is set, else openai if openai.model is set, "
        "else extractive).",
    )
    timeout_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Seconds a whole answer may take; then it is cut off, kept and marked partial.",
    )
    max_answer_tokens: int = Field(512, ge=16, le=32768, description="Longest answer, in tokens.")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")
    snippets: int = Field(
        8, ge=1, le=50, description="Memories retrieved and offered to the model per question."
    )


class LocalModelSettings(_Section):
    model: str = Field(
        "",
        description="A GGUF: a name from `models list`, a file name under the models dir, "
        "or a path. Empty: no local model.",
    )
    context_tokens: int = Field(
        4096,
        ge=256,
        le=262144,
        description="Context window in tokens (n_ctx), capped at the model's trained context.",
    )
    threads: int = Field(0, ge=0, le=256, description="CPU threads (0: the physical cores).")
    gpu_layers: int = Field(0, ge=-1, description="Layers offloaded to a GPU (-1: all).")


class OpenAISettings(_Section):
    base_url: str = Field(
        "https://api.openai.com/v1",
        description="The server's OpenAI-compatible API root, e.g. "
        "http://localhost:11434/v1 (Ollama) or http://gpu-box:8080/v1 (llama.cpp server). "
        "When neither the file nor MIRIX_OPENAI_BASE_URL sets it, OPENAI_BASE_URL (the "
        "openai SDK's own variable) is the default.",
    )
    model: str = Field("", description="The model name the server knows. Empty: not configured.")
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the API key, used when the keyring holds "
        "none (`mirix-desktop llm set-key` stores one there). Keys never go in this file.",
    )
    context_tokens: int = Field(
        8192, ge=256, le=2_000_000, description="Context window of the remote model."
    )


class ConsolidationSettings(_Section):
    enabled: bool = Field(
        True, description="Let a configured model summarise episodes and learn facts when idle."
    )
    idle_after_s: float = Field(
        120.0, ge=0, description="Consolidate only after this many seconds without input."
    )
    cpu_seconds_per_day: float = Field(
        600.0,
        ge=0,
        description="Budget of model time (CPU-seconds for a local model, wall-seconds for a "
        "remote one) spent on consolidation per day.",
    )


class UiSettings(_Section):
    hotkey: str = Field(
        "Ctrl+Alt+Space",
        description="The global key chord that opens the quick query box, e.g. "
        "'Ctrl+Alt+Space' or 'Super+F12' (modifiers Ctrl, Alt, Shift, Super). Only this "
        "chord is grabbed (X11, Windows). Empty: no hotkey. On Wayland bind a desktop "
        "shortcut to `mirix-desktop query` instead.",
    )

    @field_validator("hotkey")
    @classmethod
    def _a_chord(cls, value: str) -> str:
        if value.strip():
            parse_chord(value)  # a ValueError naming the problem
        return value.strip()


class McpSettings(_Section):
    exclude_apps: list[str] = Field(
        default_factory=list,
        description="Apps whose memories, episodes and screen text MCP clients (Claude "
        "Desktop, Cursor, VS Code...) never see, e.g. ['Signal', 'Thunderbird']: matched "
        "exactly against the app names `mirix-desktop search` shows. What capture excludes "
        "is never stored at all.",
    )
    http_port: int = Field(
        8765, ge=1024, le=65535, description="Port of `mirix-desktop mcp --http` (127.0.0.1)."
    )


class Settings(_Section):
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    local_model: LocalModelSettings = Field(default_factory=LocalModelSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    consolidation: ConsolidationSettings = Field(default_factory=ConsolidationSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    ui: UiSettings = Field(default_factory=UiSettings)


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


OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"


def load_settings(
    config_file: Path | None,
    environ: Mapping[str, str] | None = None,
    cli_overrides: Mapping[str, Any] | None = None,
    *,
    file_values: Mapping[str, Any] | None = None,
) -> Settings:
    """Builds the settings from the file (if present), the environment and CLI flags.

    `file_values` stands in for the file's contents: the valid part of a file
    with mistakes (app/settings_model.py's `load_tolerant`).
    """
    environ = os.environ if environ is None else environ
    layers: dict[str, Any] = {}
    # The openai SDK's own variable, honoured as the default under every layer of ours.
    if environ.get(OPENAI_BASE_URL_ENV, "").strip():
        layers = {"openai": {"base_url": environ[OPENAI_BASE_URL_ENV].strip()}}
    if file_values is not None:
        layers = _merge(layers, file_values)
    elif config_file is not None and config_file.exists():
        try:
            layers = _merge(layers, tomllib.loads(config_file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{config_file}: cannot read the config file: {exc}") from exc
    layers = _merge(layers, _env_overrides(environ))
    layers = _merge(layers, cli_overrides or {})
    try:
        return Settings.model_validate(layers)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f"{config_file}" if config_file else "settings"
        raise ConfigError(f"{where}: invalid configuration: {problems}") from exc
