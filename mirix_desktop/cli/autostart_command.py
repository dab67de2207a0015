"""`mirix-desktop autostart enable|disable`: start the tray app at log-in (XDG autostart).

The entry itself (where it goes, what it runs) is `app/autostart.py`; this
module only chooses the data dir and prints what happened.
"""

from __future__ import annotations

from pathlib import Path

import click

from mirix_desktop.app import autostart as entries


def _chosen_data_dir() -> Path | None:
    """The --data-dir (or MIRIX_DATA_DIR) given to this command, None for the default."""
    data_dir = click.get_current_context().find_root().params.get("data_dir")
    return data_dir if isinstance(data_dir, Path) else None


@click.group()
def autostart() -> None:
    """Start the tray app when you log in (Linux desktops: XDG autostart), or stop that."""


@autostart.command()
def enable() -> None:
    """Start `mirix-desktop run` at log-in (writes ~/.config/autostart/mirix-desktop.desktop)."""
    change = entries.enable(_chosen_data_dir())
    said = {
        "created": "Autostart enabled: mirix-desktop starts when you log in.",
        "updated": "Autostart entry updated: mirix-desktop starts when you log in.",
        "unchanged": "Autostart was already enabled; nothing changed.",
    }
    click.echo(said[change.action])
    click.echo(f"  entry: {change.path}")


@autostart.command()
def disable() -> None:
    """Stop starting mirix-desktop at log-in (removes the autostart entry)."""
    change = entries.disable()
    if change.action == "removed":
        click.echo(f"Autostart disabled: removed {change.path}.")
    else:
        click.echo(f"Autostart was not enabled ({change.path} does not exist); nothing changed.")
