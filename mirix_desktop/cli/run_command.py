"""`mirix-desktop run`: the daemon, capturing the screen into the encrypted store."""

from __future__ import annotations

import logging
import logging.handlers

import click

from mirix_desktop.cli.context import AppContext, pass_app
from mirix_desktop.llm.base import ChatModel
from mirix_desktop.llm.providers import choose_provider, make_chat_model
from mirix_desktop.pipeline.daemon import Daemon


def _log_to_file(app: AppContext) -> None:
    """The daemon's log beside the store: `status` points there for details."""
    log_dir = app.paths.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / "daemon.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    mirix = logging.getLogger("mirix")
    if mirix.getEffectiveLevel() > logging.INFO:
        mirix.setLevel(logging.INFO)


@click.command()
@click.option(
    "--no-ui", is_flag=True, help="Run headless: capture and memory only, no tray or windows."
)
@pass_app
def run(app: AppContext, no_ui: bool) -> None:
    """Start the daemon: capture the screen every few seconds, read it, remember it.

    Stops on Ctrl-C or SIGTERM. `mirix-desktop pause` / `resume` / `status`
    talk to it from another terminal.
    """
    store = app.store()
    info = store.info()
    _log_to_file(app)
    store.embedder.embed(["warm up"])
    click.echo(
        f"Store: {info.path} (SQLCipher {info.cipher_version}, key: {info.key_mode}); "
        f"{info.memories} memories."
    )
    if not no_ui:
        click.echo("The tray UI is not part of this build: running headless.")
    capture = app.settings.capture
    click.echo(
        f"Capturing every {capture.interval_s:g} s (password managers and private windows "
        "are never captured; `mirix-desktop pause` stops capture). Ctrl-C to stop."
    )
    provider = choose_provider(app.settings)
    model_factory = None
    if provider != "extractive" and app.settings.consolidation.enabled:
        budget = app.settings.consolidation.cpu_seconds_per_day
        click.echo(
            f"Consolidation with the {provider} model while you are idle "
            f"(at most {budget:g} s of model time a day)."
        )

        def model_factory() -> ChatModel | None:
            return make_chat_model(app.settings, app.paths.models_dir)

    daemon = Daemon(
        app.paths,
        app.settings,
        store,
        model_factory=model_factory,
        model_measure="cpu" if provider == "local" else "wall",
    )
    daemon.run_forever()
    click.echo(f"Stopped. {daemon.status.frames_today} frames captured today.")
