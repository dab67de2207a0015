"""The local chat models as the CLI and the settings window show them, and their download.

`models list`/`models pull` and the settings window's model picker share
these: the catalogue with what is downloaded, a size in words, and one
download function that reports its progress to a callback and can be
cancelled (the callback runs on the downloading thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mirix_desktop.assistant.cancel import CancelToken
from mirix_desktop.errors import DownloadCancelled
from mirix_desktop.llm import catalogue
from mirix_desktop.llm.catalogue import CatalogueModel

# Bytes received so far, and the file's size when the Hub said it.
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ModelRow:
    """One catalogue model and whether its file is in the models dir."""

    entry: CatalogueModel
    path: Path
    downloaded: bool

    @property
    def name(self) -> str:
        return self.entry.name


@dataclass(frozen=True)
class Downloaded:
    """Where the model is now; `already_there`: a matching file was kept, nothing fetched."""

    name: str
    path: Path
    already_there: bool


def size_text(size_mb: int) -> str:
    """'491 MB', '1.1 GB'."""
    return f"{size_mb / 1000:.1f} GB" if size_mb >= 1000 else f"{size_mb} MB"


def catalogue_rows(models_dir: Path) -> list[ModelRow]:
    """The recommended models, in catalogue order, each with whether it is downloaded."""
    return [
        ModelRow(entry, entry.path_in(models_dir), entry.is_downloaded(models_dir))
        for entry in catalogue.CATALOGUE
    ]


def download_model(
    name: str,
    models_dir: Path,
    *,
    progress_bar: bool = False,
    on_progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Downloaded:
    """Downloads the catalogue model `name` (checked against its published sha256).

    `on_progress` hears of every chunk; once `cancel` is set the next chunk
    stops the download with `DownloadCancelled` and nothing of it is kept (a
    previous file of that name stays as it was). Other failures raise
    `ModelDownloadError` with what went wrong.
    """

    def report(received: int, total: int | None) -> None:
        if cancel is not None and cancel.cancelled:
            raise DownloadCancelled(f"the download of {name} was cancelled")
        if on_progress is not None:
            on_progress(received, total)

    if cancel is not None and cancel.cancelled:
        raise DownloadCancelled(f"the download of {name} was cancelled")
    entry = catalogue.find_model(name)
    before = _identity(entry.path_in(models_dir)) if entry is not None else None
    path = catalogue.pull(name, models_dir, progress=progress_bar, on_progress=report)
    already = before is not None and before == _identity(path)
    return Downloaded(entry.name if entry is not None else name, path, already)


def _identity(file: Path) -> tuple[int, int] | None:
    """Tells whether a pull replaced the file: a download is renamed over it."""
    try:
        stat = file.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)
