"""The recommended local chat models, where their files live, and how they get there.

A catalogue entry names one GGUF file in a Hugging Face repository. `pull`
downloads it into the models dir through `huggingface_hub`, checks its sha256
against the one the Hub publishes for the LFS file (and against a pinned one,
if the entry has it) and only then renames it into place, so a file under its
final name is always complete. `resolve_model` turns what the user wrote in
`local_model.model` (a catalogue name, a file name, a path) into a GGUF file,
or a `ModelFileError` that says how to fix it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirix_desktop.errors import ModelDownloadError, ModelFileError
from mirix_desktop.platform_support import hub_offline_requested_by_user

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
DEFAULT_ENDPOINT = "https://huggingface.co"
ENDPOINT_ENV = "HF_ENDPOINT"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HASH_CHUNK = 4 * 1024 * 1024

# Called on the downloading thread with the bytes received so far and the
# file's size (None if the Hub did not say); it may raise to stop the download.
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class CatalogueModel:
    """One downloadable GGUF: a short name, where it lives on the Hub, what it is for."""

    name: str
    repo_id: str
    filename: str
    size_mb: int
    context_tokens: int
    description: str
    revision: str = "main"
    # When set, the download must also match it: protects against a file that
    # changed upstream. None: trust the sha256 the Hub publishes.
    sha256: str | None = None

    def path_in(self, models_dir: Path) -> Path:
        return models_dir / self.filename

    def is_downloaded(self, models_dir: Path) -> bool:
        return self.path_in(models_dir).is_file()


CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        name="qwen2.5-0.5b",
        repo_id="Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
        size_mb=491,
        context_tokens=32768,
        description="Tiny and fast; fine on any machine (~1 GB RAM), short plain answers.",
    ),
    CatalogueModel(
        name="qwen2.5-1.5b",
        repo_id="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        size_mb=1117,
        context_tokens=32768,
        description="Good default for laptops (~2 GB RAM); quick on a recent CPU.",
    ),
    CatalogueModel(
        name="qwen2.5-3b",
        repo_id="Qwen/Qwen2.5-3B-Instruct-GGUF",
        filename="qwen2.5-3b-instruct-q4_k_m.gguf",
        size_mb=2105,
        context_tokens=32768,
        description="Better answers for 8 GB+ machines (~3 GB RAM); slower on CPU.",
    ),
    CatalogueModel(
        name="llama3.2-1b",
        repo_id="bartowski/Llama-3.2-1B-Instruct-GGUF",
        filename="Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        size_mb=808,
        context_tokens=131072,
        description="Small and fast (~1.5 GB RAM); long context, English-first.",
    ),
    CatalogueModel(
        name="llama3.2-3b",
        repo_id="bartowski/Llama-3.2-3B-Instruct-GGUF",
        filename="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        size_mb=2019,
        context_tokens=131072,
        description="Solid all-rounder for 8 GB+ machines (~3 GB RAM); slower on CPU.",
    ),
)


def find_model(name: str, catalogue: Sequence[CatalogueModel] = CATALOGUE) -> CatalogueModel | None:
    """The catalogue entry called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((entry for entry in catalogue if entry.name == wanted), None)


def _known_names(catalogue: Sequence[CatalogueModel]) -> str:
    return ", ".join(entry.name for entry in catalogue)


def resolve_model(
    spec: str, models_dir: Path, catalogue: Sequence[CatalogueModel] = CATALOGUE
) -> Path:
    """The GGUF file `spec` means: a catalogue name, a file in models_dir, or a path.

    Raises `ModelFileError` naming the path (and, for a catalogue name that is not
    downloaded yet, the command that downloads it) when there is no usable file.
    """
    spec = spec.strip()
    if not spec:
        raise ModelFileError(
            "no local model given: set local_model.model to a name from "
            "`mirix-desktop models list`, a file name in the models dir, or a path"
        )
    entry = find_model(spec, catalogue)
    if entry is not None:
        path = entry.path_in(models_dir)
        if not path.exists():
            raise ModelFileError(
                f"{path}: the model {entry.name} is not downloaded; "
                f"run `mirix-desktop models pull {entry.name}`"
            )
    else:
        in_models_dir = models_dir / spec
        if os.sep not in spec and "/" not in spec and in_models_dir.exists():
            path = in_models_dir
        else:
            path = Path(spec).expanduser()
            if not path.exists():
                raise ModelFileError(
                    f"{path}: no such model file (and {spec!r} is neither a file in "
                    f"{models_dir} nor a known model: {_known_names(catalogue)})"
                )
    _check_gguf(path)
    return path


def _check_gguf(path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file")
    try:
        with path.open("rb") as file:
            magic = file.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file: {exc.strerror or exc}") from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"{path} is not a GGUF model file")


def hub_endpoint() -> str:
    """The Hub to download from; read on every call (huggingface_hub reads it at import)."""
    return (os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Published:
    """What the Hub says about the file at the entry's revision."""

    commit: str
    sha256: str
    size: int | None


def pull(
    name: str,
    models_dir: Path,
    *,
    progress: bool,
    on_progress: ProgressCallback | None = None,
    catalogue: Sequence[CatalogueModel] = CATALOGUE,
) -> Path:
    """Downloads the catalogue model `name` into models_dir and returns its path.

    A file already there with the published checksum is kept as is. Anything that
    goes wrong (unknown name, network, 404, checksum, disk) raises
    `ModelDownloadError`; the final file name then holds either the previous file
    or nothing, never a partial download. `progress` draws a bar on stderr;
    `on_progress` is told of every chunk received, and whatever it raises (e.g.
    `DownloadCancelled`) stops the download and deletes what was received.
    """
    entry = find_model(name, catalogue)
    if entry is None:
        raise ModelDownloadError(f"unknown model {name!r}; known models: {_known_names(catalogue)}")
    if hub_offline_requested_by_user():
        raise ModelDownloadError(
            "HF_HUB_OFFLINE is set in your environment; unset it to download a model"
        )
    with _online():
        return _pull(entry, models_dir, progress=progress, on_progress=on_progress)


@contextlib.contextmanager
def _online() -> Iterator[None]:
    """Lifts the offline mode the embedder set for its bundled model, for one download."""
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


def _pull(
    entry: CatalogueModel,
    models_dir: Path,
    *,
    progress: bool,
    on_progress: ProgressCallback | None = None,
) -> Path:
    endpoint = hub_endpoint()
    target = entry.path_in(models_dir)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelDownloadError(
            f"cannot create the models dir {models_dir}: {exc.strerror or exc}"
        ) from exc

    published = _published(entry, endpoint)
    if target.is_file() and _matches(target, published):
        log.info("%s is already downloaded and matches sha256 %s", target, published.sha256)
        return target

    _check_free_space(models_dir, published.size, entry)
    try:
        # A private directory inside models_dir: same filesystem, so the final
        # rename is atomic, and huggingface_hub's local-dir bookkeeping
        # (.cache/huggingface) goes away with it.
        staging = Path(
            tempfile.mkdtemp(prefix=f".{entry.filename}.", suffix=".partial", dir=models_dir)
        )
    except OSError as exc:
        raise ModelDownloadError(f"cannot write in {models_dir}: {exc.strerror or exc}") from exc
    try:
        downloaded = _download(
            entry, published, staging, endpoint, progress=progress, on_progress=on_progress
        )
        actual = file_sha256(downloaded)
        if actual != published.sha256:
            raise ModelDownloadError(
                f"checksum mismatch for {entry.filename}: expected sha256 {published.sha256}, "
                f"got {actual}; the download was deleted, run the command again"
            )
        _fsync(downloaded)
        os.replace(downloaded, target)
    except OSError as exc:
        raise ModelDownloadError(
            f"cannot save {entry.filename} in {models_dir}: {exc.strerror or exc}"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("downloaded %s (sha256 %s)", target, published.sha256)
    return target


def _published(entry: CatalogueModel, endpoint: str) -> _Published:
    # Imported here: huggingface_hub (and httpx) cost a noticeable start-up time
    # that only a download needs.
    import httpx
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(entry.repo_id, entry.filename, revision=entry.revision, endpoint=endpoint)
    try:
        metadata = get_hf_file_metadata(url, endpoint=endpoint)
    except (OSError, httpx.HTTPError) as exc:
        raise _download_error(exc, entry, endpoint) from exc
    if metadata.commit_hash is None:
        raise ModelDownloadError(
            f"{endpoint} does not look like a Hugging Face Hub (no X-Repo-Commit header "
            f"for {url}); check HF_ENDPOINT"
        )
    sha256 = (metadata.etag or "").lower()
    if not _SHA256.match(sha256):
        if entry.sha256 is None:
            raise ModelDownloadError(
                f"{endpoint} publishes no sha256 for {entry.repo_id}/{entry.filename} "
                f"(etag {metadata.etag!r}), so the download could not be verified"
            )
        sha256 = entry.sha256
    if entry.sha256 is not None and entry.sha256.lower() != sha256:
        raise ModelDownloadError(
            f"{entry.repo_id}/{entry.filename} changed on the Hub: it has sha256 {sha256}, "
            f"mirix-desktop expects {entry.sha256.lower()}"
        )
    return _Published(commit=metadata.commit_hash, sha256=sha256, size=metadata.size)


def _check_free_space(models_dir: Path, size: int | None, entry: CatalogueModel) -> None:
    if size is None:
        return
    try:
        free = shutil.disk_usage(models_dir).free
    except OSError:
        return
    if free < size:
        raise ModelDownloadError(
            f"not enough disk space for {entry.filename}: it needs {size / 1e6:.0f} MB, "
            f"{models_dir} has {free / 1e6:.0f} MB free"
        )


def _matches(path: Path, published: _Published) -> bool:
    try:
        if published.size is not None and path.stat().st_size != published.size:
            return False
        return file_sha256(path) == published.sha256
    except OSError:
        return False


def _download(
    entry: CatalogueModel,
    published: _Published,
    staging: Path,
    endpoint: str,
    *,
    progress: bool,
    on_progress: ProgressCallback | None = None,
) -> Path:
    import httpx
    from huggingface_hub import hf_hub_download

    try:
        downloaded = hf_hub_download(
            entry.repo_id,
            entry.filename,
            # The commit the metadata came from: the file cannot change under us
            # between the checksum look-up and the download.
            revision=published.commit,
            local_dir=staging,
            endpoint=endpoint,
            tqdm_class=_progress_bar_class(entry.filename, show=progress, on_progress=on_progress),
        )
    except (OSError, httpx.HTTPError) as exc:
        raise _download_error(exc, entry, endpoint) from exc
    return Path(downloaded)


def _progress_bar_class(
    label: str, *, show: bool, on_progress: ProgressCallback | None = None
) -> Any:
    """A tqdm class for huggingface_hub: on stderr when shown, labelled with the file name.

    It also tells `on_progress` (a disabled bar counts nothing itself), before
    each chunk is counted, so that a cancel raised there stops the download.
    """
    from tqdm import tqdm  # type: ignore[import-untyped]

    class _Bar(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # huggingface_hub labels the bar with the (commit-hash) URL otherwise.
            kwargs["desc"] = label
            kwargs["disable"] = not show
            self.received = int(kwargs.get("initial") or 0)
            total = kwargs.get("total")
            self.expected = int(total) if total is not None else None
            super().__init__(*args, **kwargs)
            if on_progress is not None:
                on_progress(self.received, self.expected)

        def update(self, n: float | None = 1) -> bool | None:
            # A resumed download first takes back what it counted (a negative n).
            self.received = max(0, self.received + int(n or 0))
            if on_progress is not None:
                on_progress(self.received, self.expected)
            return super().update(n)  # type: ignore[no-any-return]

    return _Bar


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _download_error(
    exc: OSError | httpx.HTTPError, entry: CatalogueModel, endpoint: str
) -> ModelDownloadError:
    """A `ModelDownloadError` saying which of huggingface_hub's or httpx's failures happened."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{entry.repo_id}/{entry.filename} ({entry.revision})"
    if isinstance(exc, RepositoryNotFoundError):
        problem = f"the repository {entry.repo_id} does not exist on {endpoint} or needs a login"
    elif isinstance(exc, RevisionNotFoundError):
        problem = f"{entry.repo_id} has no revision {entry.revision!r} on {endpoint}"
    elif isinstance(exc, RemoteEntryNotFoundError):
        problem = f"{entry.filename} is not in {entry.repo_id} on {endpoint} (HTTP 404)"
    elif isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "error"
        problem = f"{endpoint} answered HTTP {status}"
    elif isinstance(exc, LocalEntryNotFoundError | ConnectionError) or not isinstance(exc, OSError):
        # huggingface_hub wraps a failed connection in LocalEntryNotFoundError; the
        # cause says what actually happened.
        cause = exc.__cause__ if isinstance(exc, LocalEntryNotFoundError) else None
        reason = re.sub(r"^\[Errno -?\d+\] ", "", _first_line(cause or exc))
        problem = f"network error talking to {endpoint}: {reason[:1].lower()}{reason[1:]}"
    else:
        problem = _first_line(exc)
    return ModelDownloadError(f"cannot download {where}: {problem}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
