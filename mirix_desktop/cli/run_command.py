"""`mirix-desktop run`: start the daemon with safe defaults."""

from __future__ import annotations

import click

from mirix_desktop.cli.context import AppContext, pass_app


@click.command()
@pass_app
def run(app: AppContext) -> None:
    """Open (or create) the encrypted store and get the memory engine ready."""
    store = app.store()
    info = store.info()
    # Warm the embedder now so the first search is fast.
    store.embedder.embed(["warm up"])
    click.echo(
        f"Store: {info.path} (SQLCipher {info.cipher_version}, key: {info.key_mode}, "
        f"schema {info.schema_version})"
    )
    click.echo(f"Memories: {info.memories}; embedding model: {info.embedding_model}")
    click.echo(
        "The memory engine is ready: add memories with `mirix-desktop memory add` and find "
        "them with `mirix-desktop search`. Screen capture and the tray arrive in later "
        "releases; this build does not record the screen."
    )
