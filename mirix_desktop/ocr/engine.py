"""OCR engines: a grayscale image in, text lines with boxes and confidences out.

Two implementations of one small protocol. `tesserocr` keeps libtesseract
loaded in-process, so a small region costs tens of milliseconds instead of the
~0.15 s a fresh `tesseract` process needs just to start; `pytesseract` (the
tesseract command) is the fallback when the wheel is missing or broken. Both
read tesseract's TSV output (`image_to_data`) and group words into lines.

Tesseract's OpenMP threading is limited to one thread: on a busy 2-core
machine the default made a dense 1080p frame six times slower. The limit must
be in the environment before libtesseract is loaded, hence `_limit_threads()`
before every engine import.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageOps

from mirix_desktop.errors import OcrFailed, OcrUnavailable
from mirix_desktop.geometry import WORD_GAP, Rect

log = logging.getLogger("mirix.ocr")

# Where distributions put tesseract's language data; tesserocr's own default
# is the build machine's path, which never exists here.
_TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
    "C:/Program Files/Tesseract-OCR/tessdata",
)
# Page segmentation "single column of text of variable sizes". The
# automatic mode (3) splits monospaced lines at their wide spaces into
# fragments ("line 0: the quick brown" / "fox 0 jumps..."); regions handed
# to OCR are mostly one column of one window anyway.
_PSM = 4
# Tesseract 5 reads a poorly read line again inverted (light on dark).
_NO_INVERTED_RETRY = "tessedit_do_invert"
# Words below this confidence are mostly icons and box-drawing read as text.
MIN_WORD_CONFIDENCE = 30.0


@dataclass(frozen=True)
class OcrWord:
    """One word of a line, its box relative to the line's top-left corner."""

    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float


@dataclass(frozen=True)
class OcrLine:
    """One line of text with its box in the image's pixel coordinates."""

    text: str
    x: int
    y: int
    width: int
    height: int
    confidence: float  # mean word confidence, 0-100
    # The words it was read as (empty once its text is edited, e.g. redacted):
    # what lets `ocr/reuse.py` read again only the changed words of a line.
    words: tuple[OcrWord, ...] = field(default=(), compare=False, repr=False)

    def moved(self, dx: int, dy: int) -> OcrLine:
        return OcrLine(
            self.text,
            self.x + dx,
            self.y + dy,
            self.width,
            self.height,
            self.confidence,
            self.words,
        )

    @property
    def box(self) -> Rect:
        return Rect(self.x, self.y, self.width, self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: Image.Image) -> list[OcrLine]:
        """Lines found in `image` (mode "L"), top to bottom."""
        ...


def _limit_threads() -> None:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def find_tessdata(languages: str) -> Path:
    """The tessdata directory holding every language in `languages` ("eng+deu")."""
    wanted = [lang for lang in languages.split("+") if lang]
    candidates = []
    if os.environ.get("TESSDATA_PREFIX"):
        prefix = Path(os.environ["TESSDATA_PREFIX"])
        candidates += [prefix, prefix / "tessdata"]
    candidates += [Path(c) for c in _TESSDATA_CANDIDATES]
    seen_any: Path | None = None
    for directory in candidates:
        if not directory.is_dir():
            continue
        seen_any = seen_any or directory
        if all((directory / f"{lang}.traineddata").exists() for lang in wanted):
            return directory
    if seen_any is None:
        raise OcrUnavailable(
            "tesseract's language data was not found. Install tesseract with English data "
            "(Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-eng; macOS: brew "
            "install tesseract) or set TESSDATA_PREFIX."
        )
    missing = [lang for lang in wanted if not (seen_any / f"{lang}.traineddata").exists()]
    raise OcrUnavailable(
        f"no tesseract data for OCR language(s) {', '.join(missing)} in {seen_any}. Install "
        f"them (Debian/Ubuntu: apt-get install "
        f"{' '.join('tesseract-ocr-' + m for m in missing)}) or change ocr.languages."
    )


# Tesseract misreads text that touches the image's edge; a tight crop of one
# line gets this much background around it (boxes are shifted back).
_BORDER = 10


def prepare(image: Image.Image) -> Image.Image:
    """Grayscale, dark-on-light (tesseract 5 reads light-on-dark text poorly), with a border."""
    gray = image if image.mode == "L" else image.convert("L")
    if float(np.asarray(gray).mean()) < 110:
        gray = ImageOps.invert(gray)
    background = int(np.median(np.asarray(gray)[[0, -1], :]))
    return ImageOps.expand(gray, border=_BORDER, fill=background)


def lines_from_tsv(rows: list[dict[str, Any]]) -> list[OcrLine]:
    """Groups tesseract's word rows (level 5) into lines, dropping unreadable words.

    Tesseract's "line" in single-column mode runs across the whole picture
    (a sidebar entry, the code beside it and a minimap). Such a line is cut
    where words stand far apart, so each piece has a tight box: the pipeline
    decides by boxes which text moved, was covered or must be read again.
    """
    grouped: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for row in rows:
        if int(row["level"]) != 5:
            continue
        if not str(row["text"]).strip():
            continue
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        grouped.setdefault(key, []).append(row)
    # Cut before dropping unreadable words: the gap they leave is not a column gap.
    lines = [
        _line_of(readable)
        for words in grouped.values()
        for piece in _pieces(words)
        if (readable := [w for w in piece if float(w["conf"]) >= MIN_WORD_CONFIDENCE])
    ]
    lines.sort(key=lambda line: (line.y, line.x))
    return lines


# Words are cut into pieces at a WORD_GAP, or further apart than this many
# line heights (large text).
_PIECE_GAP = 2.5


def _pieces(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    words = sorted(words, key=lambda w: int(w["left"]))
    height = sorted(int(w["height"]) for w in words)[len(words) // 2]
    pieces = [[words[0]]]
    for word in words[1:]:
        last = pieces[-1][-1]
        gap = int(word["left"]) - (int(last["left"]) + int(last["width"]))
        if gap >= min(WORD_GAP, _PIECE_GAP * max(height, 8)):
            pieces.append([word])
        else:
            pieces[-1].append(word)
    return pieces


def _line_of(words: list[dict[str, Any]]) -> OcrLine:
    left = min(int(w["left"]) for w in words) - _BORDER
    top = min(int(w["top"]) for w in words) - _BORDER
    right = max(int(w["left"]) + int(w["width"]) for w in words) - _BORDER
    bottom = max(int(w["top"]) + int(w["height"]) for w in words) - _BORDER
    return line_of_words(
        [
            OcrWord(
                str(w["text"]).strip(),
                int(w["left"]) - _BORDER - left,
                int(w["top"]) - _BORDER - top,
                int(w["width"]),
                int(w["height"]),
                float(w["conf"]),
            )
            for w in words
        ],
        left,
        top,
        right - left,
        bottom - top,
    )


def line_of_words(words: list[OcrWord], x: int, y: int, width: int, height: int) -> OcrLine:
    """The line at (x, y, width, height) made of `words` (relative to that corner), in order."""
    ordered = tuple(sorted(words, key=lambda w: w.x))
    return OcrLine(
        text=" ".join(w.text for w in ordered),
        x=x,
        y=y,
        width=width,
        height=height,
        confidence=sum(w.confidence for w in ordered) / len(ordered),
        words=ordered,
    )


def _parse_tsv(tsv: str) -> list[dict[str, Any]]:
    header: list[str] | None = None
    rows = []
    for raw in tsv.splitlines():
        cells = raw.split("\t")
        if header is None and cells and cells[0] == "level":
            header = cells
            continue
        if header is None:
            # tesserocr's GetTSVText has no header line; its columns are fixed.
            header = [
                "level", "page_num", "block_num", "par_num", "line_num", "word_num",
                "left", "top", "width", "height", "conf", "text",
            ]  # fmt: skip
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        rows.append(dict(zip(header, cells, strict=False)))
    return rows


class TesserocrEngine:
    """libtesseract in-process. Use one instance per thread (a lock enforces it)."""

    name = "tesserocr"

    def __init__(self, languages: str = "eng", dark_on_light: bool = False) -> None:
        _limit_threads()
        try:
            import tesserocr
        except ImportError as exc:
            raise OcrUnavailable(f"the tesserocr module cannot be loaded: {exc}") from exc
        self._tessdata = find_tessdata(languages)
        self._lock = threading.Lock()
        try:
            # tesserocr wants the directory with a trailing separator.
            self._api = tesserocr.PyTessBaseAPI(
                path=str(self._tessdata) + os.sep, lang=languages, psm=_PSM
            )
            if dark_on_light:
                self._api.SetVariable(_NO_INVERTED_RETRY, "0")
        except RuntimeError as exc:
            raise OcrUnavailable(
                f"tesseract could not load language(s) '{languages}' from {self._tessdata}: {exc}"
            ) from exc

    def recognize(self, image: Image.Image) -> list[OcrLine]:
        with self._lock:
            try:
                self._api.SetImage(prepare(image))
                tsv = self._api.GetTSVText(0)
            except RuntimeError as exc:
                raise OcrFailed(
                    f"tesseract failed on a {image.width}x{image.height} image"
                ) from exc
            finally:
                self._api.Clear()
        return lines_from_tsv(_parse_tsv(tsv or ""))

    def close(self) -> None:
        with self._lock:
            self._api.End()


class PytesseractEngine:
    """The `tesseract` command, one process per call; the fallback engine."""

    name = "pytesseract"

    def __init__(
        self, languages: str = "eng", timeout_s: float = 60.0, dark_on_light: bool = False
    ) -> None:
        _limit_threads()
        if shutil.which("tesseract") is None:
            raise OcrUnavailable(
                "the 'tesseract' command is not installed (Debian/Ubuntu: apt-get install "
                "tesseract-ocr tesseract-ocr-eng; macOS: brew install tesseract)."
            )
        self._tessdata = find_tessdata(languages)
        self._languages = languages
        self._timeout_s = timeout_s
        self._options = f" -c {_NO_INVERTED_RETRY}=0" if dark_on_light else ""

    def recognize(self, image: Image.Image) -> list[OcrLine]:
        import pytesseract

        try:
            data = pytesseract.image_to_data(
                prepare(image),
                lang=self._languages,
                config=f'--psm {_PSM} --tessdata-dir "{self._tessdata}"{self._options}',
                output_type=pytesseract.Output.DICT,
                timeout=self._timeout_s,
            )
        except (RuntimeError, OSError, pytesseract.TesseractError) as exc:
            raise OcrFailed(f"tesseract failed: {exc}") from exc
        columns = list(data)
        rows = [
            dict(zip(columns, values, strict=True)) for values in zip(*data.values(), strict=True)
        ]
        return lines_from_tsv(rows)

    def close(self) -> None:
        pass


def make_engine(
    name: str = "auto", languages: str = "eng", dark_on_light: bool = False
) -> TesserocrEngine | PytesseractEngine:
    """The configured engine; "auto" prefers tesserocr and falls back to the command.

    `dark_on_light`: every picture it will be given is dark text on a light
    ground (as `ocr/reuse.py` makes them), so tesseract need not try each
    poorly read line inverted too, which costs it a quarter of its time.
    """
    if name == "pytesseract":
        return PytesseractEngine(languages, dark_on_light=dark_on_light)
    try:
        return TesserocrEngine(languages, dark_on_light)
    except OcrUnavailable as exc:
        if name == "tesserocr":
            raise
        log.warning("in-process OCR unavailable (%s); using the tesseract command", exc.message)
        return PytesseractEngine(languages, dark_on_light=dark_on_light)
