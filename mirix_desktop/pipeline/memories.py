"""From OCR'd frames to memories: resources per document, episodes per stretch of activity.

Resources. Each OCR line belongs to the top-most window containing it. A
window's document is (app, URL or cleaned title); a new key whose lines
mostly match a recent document of the same app is that document (a terminal
whose title follows the working directory, a page whose title counts unread
messages). New lines are appended to the document's current chunk; a chunk
holds about `CHUNK_CHARS` characters and the next one starts after it, all
sharing the document's `thread`, so search gets focused passages and their
neighbours as context.

Episodes. The active window's document, from the first frame to an app or
title switch, capture stopping (idle, pause, lock, an excluded window) or a
gap longer than `episode_gap_s`. Without a language model the summary is the
window title plus the episode's most telling lines. An open episode is
written every minute, so a crash loses at most that.

Transactions. The builder's state (lines seen, chunks, the open episode)
must match what is stored. `frame`, `activity` and `close_episode` change it
tentatively; the caller writes their updates, then calls `commit` with the
new ids, or `rollback` when the write failed (store locked, disk full), so a
retry makes the same updates again and nothing is lost or written twice. A
memory the person deleted while it was being filled is `forget`-ten: its
lines are not written again, and what comes next starts a new memory.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeAlias

from mirix_desktop.capture.session import WindowInfo
from mirix_desktop.memory.records import (
    EpisodicMemory,
    MemoryFields,
    MemoryType,
    ResourceMemory,
)
from mirix_desktop.memory.store import MemoryStore
from mirix_desktop.ocr.engine import OcrLine
from mirix_desktop.privacy.exclusions import Exclusion, PrivacyFilter

log = logging.getLogger("mirix.pipeline.memories")

# Reads a document back (after a restart or an eviction): (thread) -> (its
# latest chunk's memory id, that chunk, the lines of the chunks before it) or None.
DocumentReader: TypeAlias = Callable[[str], tuple[int, ResourceMemory, list[str]] | None]

CHUNK_CHARS = 1500
# Documents kept in memory; an evicted one is reloaded from the store.
_OPEN_DOCUMENTS = 64
# Chunks a reloaded document remembers as seen: after a restart the screen is
# read whole, and a full editor or terminal shows more than one chunk of text,
# whose lines must not be appended again.
_RELOADED_CHUNKS = 20
_SEEN_PER_DOCUMENT = 20_000
_SAME_DOCUMENT_SHARE = 0.6
_EPISODE_WRITE_EVERY = timedelta(seconds=60)
_EPISODE_LINES = 200
_EPISODE_FRAMES = 100

_BROWSERS = ("firefox", "chrome", "chromium", "brave", "edge", "safari", "epiphany", "vivaldi",
             "opera", "librewolf", "qutebrowser")  # fmt: skip
_TERMINALS = ("terminal", "konsole", "xterm", "kitty", "alacritty", "wezterm", "tilix", "urxvt",
              "foot", "terminator", "iterm")  # fmt: skip
_EDITORS = ("code", "codium", "pycharm", "idea", "sublime", "gedit", "kate", "vim", "emacs",
            "zed", "geany", "notepad++")  # fmt: skip
_CHATS = ("slack", "discord", "telegram", "signal", "teams", "element", "zulip", "mattermost")

# Title decorations that do not change which document it is.
_TITLE_SUFFIX = re.compile(
    r"\s+[-—–|]\s+(?:Mozilla Firefox|Firefox|Google Chrome|Chromium|Brave|Microsoft\u200b? Edge|"
    r"Visual Studio Code|VSCodium|Sublime Text|gedit|Kate|LibreOffice \w+|Vim|Emacs)"
    r"(?:\s.*)?$",
    re.IGNORECASE,
)
_TITLE_DECORATION = re.compile(r"^(?:[●•*]\s*|\(\d+\)\s*)+|\s*[●•*]$")
_URL_TEXT = re.compile(
    r"(?<![\w@])((?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?"
    r"(?:/[^\s]*)?)",
    re.IGNORECASE,
)
_ADDRESS_BAR_HEIGHT = 140
_WORD = re.compile(r"[A-Za-z]{2,}")


def app_kind(app: str | None) -> str:
    name = (app or "").lower()
    for kind, names in (
        ("web page", _BROWSERS),
        ("terminal", _TERMINALS),
        ("code", _EDITORS),
        ("chat", _CHATS),
    ):
        if any(n in name for n in names):
            return kind
    return "document"


def clean_title(title: str | None) -> str:
    text = (title or "").strip()
    text = _TITLE_SUFFIX.sub("", text)
    return _TITLE_DECORATION.sub("", text).strip()


def line_key(text: str) -> str:
    """OCR reads the same line with small differences in spacing and punctuation."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def url_from_address_bar(window: WindowInfo, lines: list[OcrLine]) -> str | None:
    """A browser's URL as read from its address bar (no desktop API exposes it)."""
    if window.rect is None or app_kind(window.app) != "web page":
        return None
    top = window.rect.y + _ADDRESS_BAR_HEIGHT
    for line in lines:
        if line.y > top:
            break
        match = _URL_TEXT.search(line.text)
        if match and "." in match.group(1):
            url = match.group(1).rstrip(".,;")
            return url if url.lower().startswith("http") else f"https://{url}"
    return None


def address_bar_verdicts(
    privacy: PrivacyFilter,
    windows: tuple[WindowInfo, ...],
    lines: list[OcrLine],
    monitor_size: tuple[int, int],
) -> list[tuple[WindowInfo, Exclusion | None]]:
    """Each browser window whose address bar OCR read, with the URL rule its text
    matches (OCR's misreadings allowed for, see `PrivacyFilter.excluded_address`)."""
    verdicts: list[tuple[WindowInfo, Exclusion | None]] = []
    for window, window_lines in _attribute(windows, lines, monitor_size):
        if app_kind(window.app) != "web page":
            continue
        top = (window.rect.y if window.rect is not None else 0) + _ADDRESS_BAR_HEIGHT
        bar = [line.text for line in window_lines if line.y <= top]
        if bar:
            verdicts.append((window, privacy.excluded_address(bar)))
    return verdicts


def salience(line: OcrLine) -> float:
    words = _WORD.findall(line.text)
    if len(words) < 3 or line.confidence < 60:
        return 0.0
    letters = sum(c.isalpha() for c in line.text)
    return min(len(words), 12) * (letters / max(1, len(line.text))) * line.confidence / 100


@dataclass
class _Document:
    thread: str
    app: str | None
    title: str
    url: str | None
    kind: str
    first_seen: datetime
    last_seen: datetime
    chunk_id: int | None = None
    chunk_first_seen: datetime | None = None
    chunk_lines: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def memory(self) -> ResourceMemory:
        return ResourceMemory(
            app=self.app,
            thread=self.thread,
            kind=self.kind,
            title=self.title or None,
            url=self.url,
            content="\n".join(self.chunk_lines),
            first_seen=self.chunk_first_seen or self.first_seen,
            last_seen=self.last_seen,
        )


@dataclass
class _Episode:
    thread: str
    app: str | None
    title: str
    url: str | None
    started_at: datetime
    last_at: datetime
    memory_id: int | None = None
    written_at: datetime | None = None
    # How many lines and frames the last write held.
    written_lines: int = 0
    written_frames: int = 0
    lines: list[OcrLine] = field(default_factory=list)
    line_keys: set[str] = field(default_factory=set)
    frames: list[int] = field(default_factory=list)
    changed: bool = True

    def memory(self) -> EpisodicMemory:
        best = sorted(self.lines, key=salience, reverse=True)[:5]
        salient = [line.text for line in self.lines if line in best]
        verb = {"web page": "Read", "terminal": "Worked in", "code": "Edited", "chat": "Chatted in"}
        place = f"{self.title} ({self.app})" if self.app else self.title
        summary = f"{verb.get(app_kind(self.app), 'Used')} {place or 'an untitled window'}"
        if self.url:
            summary += f" at {self.url}"
        if salient:
            summary += ": " + " / ".join(salient)
        details = "\n".join(line.text for line in self.lines[:40]) or None
        return EpisodicMemory(
            app=self.app,
            thread=self.thread,
            started_at=self.started_at,
            ended_at=self.last_at,
            title=self.title or None,
            summary=summary,
            details=details,
            source_frames=self.frames[:_EPISODE_FRAMES],
        )


@dataclass
class _SavedDocument:
    """A document as it was before uncommitted changes; `added`: keys added to its `seen`."""

    document: _Document
    copy: _Document
    added: list[str] = field(default_factory=list)


@dataclass
class _Checkpoint:
    """The builder's state as last committed, kept while newer changes wait for their write."""

    documents: OrderedDict[str, _Document]
    aliases: OrderedDict[str, str]
    episode: _Episode | None
    touched: dict[int, _SavedDocument] = field(default_factory=dict)


@dataclass
class MemoryUpdate:
    """A memory to insert (memory_id None) or replace; `commit` learns new ids."""

    memory_id: int | None
    memory: MemoryFields
    owner: _Document | _Episode


class MemoryBuilder:
    """Turns frames' lines into resource and episode updates; the caller writes them,
    then calls `commit` (or `rollback` if the write failed)."""

    def __init__(
        self, privacy: PrivacyFilter, episode_gap_s: float, store_reader: DocumentReader
    ) -> None:
        self.privacy = privacy
        self.episode_gap = timedelta(seconds=episode_gap_s)
        # Reads a document's latest chunk back after a restart: (thread) -> row or None.
        self._reader = store_reader
        self._documents: OrderedDict[str, _Document] = OrderedDict()
        self._aliases: OrderedDict[str, str] = OrderedDict()
        self.episode: _Episode | None = None
        # The committed state, while changes wait for their write.
        self._saved: _Checkpoint | None = None

    # -- transactions ----------------------------------------------------------------
    def _checkpoint(self) -> _Checkpoint:
        """Saves the committed state before the first change that is not written yet."""
        if self._saved is None:
            episode = self.episode
            if episode is not None:
                episode = replace(
                    episode,
                    lines=list(episode.lines),
                    line_keys=set(episode.line_keys),
                    frames=list(episode.frames),
                )
            self._saved = _Checkpoint(
                OrderedDict(self._documents), OrderedDict(self._aliases), episode
            )
        return self._saved

    def _touch(self, doc: _Document) -> _SavedDocument:
        """Saves a document before it changes (its `seen` set is shared: keys are noted)."""
        touched = self._checkpoint().touched
        saved = touched.get(id(doc))
        if saved is None:
            saved = touched[id(doc)] = _SavedDocument(
                doc, replace(doc, chunk_lines=list(doc.chunk_lines))
            )
        return saved

    def commit(self, updates: list[MemoryUpdate], ids: list[int]) -> None:
        """The updates are stored (`ids`, in order): the changes that made them stand.

        A newly inserted memory's id is learnt so the next write updates it.
        """
        self._saved = None
        for update, memory_id in zip(updates, ids, strict=True):
            owner = update.owner
            if update.memory_id is not None:
                continue
            if isinstance(owner, _Document):
                # Only the chunk still being filled is updated again.
                if update.memory.type_fields().get("content") == "\n".join(owner.chunk_lines):
                    owner.chunk_id = memory_id
            else:
                owner.memory_id = memory_id

    def rollback(self) -> None:
        """The updates were not stored: back to the state of the last commit."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        for entry in saved.touched.values():
            # The copy shares the set the document had: take out what was added since.
            entry.copy.seen.difference_update(entry.added)
            entry.document.__dict__.update(vars(entry.copy))
        self._documents, self._aliases = saved.documents, saved.aliases
        self.episode = saved.episode

    def forget(self, memory_ids: Collection[int]) -> None:
        """These memories were deleted while being filled (call after `rollback`).

        Their lines are not written again (the person deleted them; they stay
        seen), and what comes next starts a new memory.
        """
        assert self._saved is None, "forget() needs the committed state: rollback() first"
        for doc in self._documents.values():
            if doc.chunk_id is not None and doc.chunk_id in memory_ids:
                doc.chunk_id, doc.chunk_lines, doc.chunk_first_seen = None, [], None
        episode = self.episode
        if episode is not None and episode.memory_id in memory_ids:
            # What it saw since its last write goes on, in a new memory.
            self.episode = replace(
                episode,
                started_at=episode.written_at or episode.started_at,
                memory_id=None,
                written_at=None,
                written_lines=0,
                written_frames=0,
                lines=episode.lines[episode.written_lines :],
                frames=episode.frames[episode.written_frames :],
                line_keys=set(episode.line_keys),
                changed=True,
            )

    def reset(self) -> None:
        """A forget ran: drop every open document and the open episode (call after
        `rollback`); documents are read back from the store as it is now."""
        assert self._saved is None, "reset() needs the committed state: rollback() first"
        self._documents.clear()
        self._aliases.clear()
        self.episode = None

    # -- documents ----------------------------------------------------------------
    def _thread(self, window: WindowInfo, url: str | None) -> str:
        """The document's thread, following aliases to the document it was merged into."""
        name = (window.app or "screen").lower()
        thread = f"doc:{name}:{url or clean_title(window.title) or 'untitled'}"
        return self._aliases.get(thread, thread)

    def _document(
        self, window: WindowInfo, url: str | None, lines: list[OcrLine], at: datetime
    ) -> _Document:
        thread = self._thread(window, url)
        doc = self._documents.get(thread)
        if doc is None:
            doc = self._load(thread) or self._similar(window, lines, thread)
        if doc is None:
            doc = _Document(
                thread=thread,
                app=window.app,
                title=clean_title(window.title),
                url=url,
                kind=app_kind(window.app),
                first_seen=at,
                last_seen=at,
            )
        elif doc.thread != thread:
            self._aliases[thread] = doc.thread
            while len(self._aliases) > 4 * _OPEN_DOCUMENTS:
                self._aliases.popitem(last=False)
        self._documents[doc.thread] = doc
        self._documents.move_to_end(doc.thread)
        while len(self._documents) > _OPEN_DOCUMENTS:
            self._documents.popitem(last=False)
        return doc

    def _similar(self, window: WindowInfo, lines: list[OcrLine], thread: str) -> _Document | None:
        keys = {k for line in lines if len(k := line_key(line.text)) >= 8}
        if len(keys) < 3:
            return None
        for doc in reversed(self._documents.values()):
            if doc.app != window.app or doc.thread == thread:
                continue
            if len(keys & doc.seen) >= _SAME_DOCUMENT_SHARE * len(keys):
                return doc
        return None

    def _load(self, thread: str) -> _Document | None:
        found = self._reader(thread)
        if found is None:
            return None
        memory_id, record, earlier = found
        content: str = record.content
        chunk_lines = content.splitlines()
        return _Document(
            thread=thread,
            app=record.app,
            title=record.title or "",
            url=record.url,
            kind=record.kind,
            first_seen=record.first_seen,
            last_seen=record.last_seen or record.first_seen,
            chunk_id=memory_id,
            chunk_first_seen=record.first_seen,
            chunk_lines=chunk_lines,
            seen={line_key(text) for text in [*earlier, *chunk_lines]},
        )

    def _add_lines(self, doc: _Document, lines: list[OcrLine], at: datetime) -> list[MemoryUpdate]:
        updates: list[MemoryUpdate] = []
        saved = self._touch(doc)
        fresh = []
        for line in lines:
            key = line_key(line.text)
            if not key or key in doc.seen:
                continue
            if doc.seen is saved.copy.seen:
                saved.added.append(key)
            doc.seen.add(key)
            fresh.append(line.text)
        if len(doc.seen) > _SEEN_PER_DOCUMENT:
            doc.seen = {line_key(text) for text in doc.chunk_lines}
        if not fresh:
            return updates
        doc.last_seen = at
        for text in fresh:
            size = sum(len(t) + 1 for t in doc.chunk_lines)
            if doc.chunk_lines and size + len(text) > CHUNK_CHARS:
                updates.append(MemoryUpdate(doc.chunk_id, doc.memory(), doc))
                doc.chunk_id, doc.chunk_lines, doc.chunk_first_seen = None, [], at
            if doc.chunk_first_seen is None:
                doc.chunk_first_seen = at
            doc.chunk_lines.append(text)
        updates.append(MemoryUpdate(doc.chunk_id, doc.memory(), doc))
        # Two updates of one chunk in a frame: only the last matters.
        latest: dict[int, MemoryUpdate] = {}
        for position, update in enumerate(updates):
            latest[update.memory_id if update.memory_id is not None else -1 - position] = update
        return list(latest.values())

    # -- frames and activity --------------------------------------------------------
    def frame(
        self,
        windows: tuple[WindowInfo, ...],
        lines: list[OcrLine],
        new_lines: list[OcrLine],
        at: datetime,
        frame_id: int | None,
        monitor_size: tuple[int, int],
    ) -> list[MemoryUpdate]:
        """Updates for one processed frame: `lines` is all its text, `new_lines` what OCR read."""
        self._checkpoint()
        updates: list[MemoryUpdate] = []
        by_window = _attribute(windows, lines, monitor_size)
        fresh_keys = {id(line) for line in new_lines}
        active_window: WindowInfo | None = None
        active_lines: list[OcrLine] = []
        active_url: str | None = None
        for window, window_lines in by_window:
            url = window.url or url_from_address_bar(window, window_lines)
            if url and self.privacy.excluded(window.app, window.title, url):
                # Only the address bar's text told us it is excluded: keep nothing of it.
                continue
            doc = self._document(window, url, window_lines, at)
            updates += self._add_lines(doc, window_lines, at)
            if window.active:
                active_window, active_url = window, url
                active_lines = [line for line in window_lines if id(line) in fresh_keys]
        if active_window is None:
            active_window = next((w for w in windows if w.active), None)
        if active_window is not None:
            updates += self._episode_frame(
                active_window, active_url or active_window.url, active_lines, at, frame_id
            )
        return updates

    def activity(self, state: str, window: WindowInfo | None, at: datetime) -> list[MemoryUpdate]:
        """The capture loop's word on what happens: a switch, a stop, or still the same."""
        self._checkpoint()
        if state != "active" or window is None:
            return self.close_episode(at)
        return self._episode_frame(window, window.url, [], at, None)

    def close_episode(self, at: datetime | None = None) -> list[MemoryUpdate]:
        self._checkpoint()
        episode = self.episode
        self.episode = None
        if episode is None:
            return []
        if at is not None and at > episode.last_at and at - episode.last_at <= self.episode_gap:
            episode.last_at = at
        long_enough = (episode.last_at - episode.started_at).total_seconds() >= 10
        if not (episode.lines or long_enough):
            return []
        return [MemoryUpdate(episode.memory_id, episode.memory(), episode)]

    def _episode_frame(
        self,
        window: WindowInfo,
        url: str | None,
        lines: list[OcrLine],
        at: datetime,
        frame_id: int | None,
    ) -> list[MemoryUpdate]:
        updates: list[MemoryUpdate] = []
        thread = self._thread(window, url)
        episode = self.episode
        if episode is not None and (
            episode.thread != thread or at - episode.last_at > self.episode_gap
        ):
            updates += self.close_episode()
            episode = None
        if episode is None:
            episode = self.episode = _Episode(
                thread=thread,
                app=window.app,
                title=clean_title(window.title),
                url=url,
                started_at=at,
                last_at=at,
            )
        episode.last_at = max(episode.last_at, at)
        episode.url = episode.url or url
        if frame_id is not None and len(episode.frames) < _EPISODE_FRAMES:
            episode.frames.append(frame_id)
        for line in lines:
            key = line_key(line.text)
            if key and key not in episode.line_keys and len(episode.lines) < _EPISODE_LINES:
                episode.line_keys.add(key)
                episode.lines.append(line)
                episode.changed = True
        due = episode.written_at is None or at - episode.written_at >= _EPISODE_WRITE_EVERY
        if episode.changed and due and episode.lines:
            episode.changed = False
            episode.written_at = at
            episode.written_lines, episode.written_frames = len(episode.lines), len(episode.frames)
            updates.append(MemoryUpdate(episode.memory_id, episode.memory(), episode))
        return updates


def _attribute(
    windows: tuple[WindowInfo, ...], lines: list[OcrLine], monitor_size: tuple[int, int]
) -> list[tuple[WindowInfo, list[OcrLine]]]:
    """Each line goes to the top-most window containing its centre (windows are top-first)."""
    placed = [w for w in windows if w.rect is not None]
    if not placed:
        # No window geometry (no window manager, or an ingested image): one
        # window, the active one or the screen itself, holds everything.
        holder = next((w for w in windows if w.active), None) or (windows[0] if windows else None)
        if holder is None:
            holder = WindowInfo(app=None, title="Screen", rect=None, active=True)
        return [(holder, list(lines))]
    groups: dict[int, list[OcrLine]] = {i: [] for i in range(len(placed))}
    for line in lines:
        cx, cy = line.centre
        for index, window in enumerate(placed):
            assert window.rect is not None
            if window.rect.contains_point(cx, cy):
                groups[index].append(line)
                break
    return [(placed[i], group) for i, group in groups.items() if group or placed[i].active]


def resource_reader(store: MemoryStore) -> DocumentReader:
    """A reader for `MemoryBuilder`: a document's newest chunks from the store."""

    def read(thread: str) -> tuple[int, ResourceMemory, list[str]] | None:
        records = store.recent_in_thread(thread, MemoryType.RESOURCE, _RELOADED_CHUNKS)
        if not records:
            return None
        chunks = []
        for record in records:
            chunk = record.model()
            assert isinstance(chunk, ResourceMemory)
            chunks.append(chunk)
        earlier = [line for chunk in chunks[:-1] for line in chunk.content.splitlines()]
        return records[-1].id, chunks[-1], earlier

    return read
