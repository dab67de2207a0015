"""Malformed and adversarial images for fuzzing `ingest`, made deterministically from a seed.

`cases(seed)` describes some 1400 cases in families: truncated files, flipped
bytes, PNG fields changed behind a valid CRC, decompression bombs, extreme
sizes, unusual modes, animation, EXIF orientation, hostile file-system
objects and names, foreign formats, odd content. `small_cases(seed)` keeps a
few of every family for the default test run. Nothing is written until
`Case.build(directory)`, which returns the path to hand to `ingest`.

Each case says what `ingest` should do: "processed" (a usable picture, however
odd), "rejected" (with a reason) or "either" (damage that a decoder may or may
not read past, such as a PNG missing only its end chunk). `readable` cases
show WORDS upright once decoded as intended, so a test can check they were read.
"""

from __future__ import annotations

import io
import os
import random
import socket
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from tests.helpers.screens import FONT_PATH

Expect = Literal["processed", "rejected", "either"]
Content = Callable[[], bytes]
Writer = Callable[[Path], Path]

WORDS = "Quokka ledger 4417"
# The formats `ingest` reads; anything else is refused however valid.
READ_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "PPM")
# EXIF orientation -> the transposition that turns the stored picture upright.
EXIF_ROTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    expect: Expect
    write: Writer  # (its own empty directory) -> the path to ingest
    readable: bool = False

    def build(self, directory: Path) -> Path:
        """Writes the case into a directory of its own below `directory`; returns its path."""
        own = directory / self.name
        own.mkdir(parents=True, exist_ok=True)
        return self.write(own)


class _Family:
    def __init__(self, family: str) -> None:
        self.family = family
        self.cases: list[Case] = []

    def file(
        self, name: str, expect: Expect, content: Content, ext: str = "png", readable: bool = False
    ) -> None:
        self.special(name, expect, partial(_write_file, f"{name}.{ext}", content), readable)

    def special(self, name: str, expect: Expect, write: Writer, readable: bool = False) -> None:
        self.cases.append(Case(f"{self.family}-{name}", self.family, expect, write, readable))


def _write_file(name: str, content: Content, directory: Path) -> Path:
    path = directory / name
    path.write_bytes(content())
    return path


# -- pictures and encodings -------------------------------------------------------------


def text_screen(
    size: tuple[int, int] = (420, 120),
    text: str = WORDS,
    *,
    mode: str = "RGB",
    ink: str = "black",
    paper: str = "white",
    font_size: int = 22,
) -> Image.Image:
    """A light screen with `text` and a second line, large enough for tesseract."""
    font = ImageFont.truetype(FONT_PATH, font_size)
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), text, font=font, fill=ink)
    draw.text((20, 20 + font_size * 2), "fuzzing the ingest path", font=font, fill=ink)
    return image if mode == "RGB" else image.convert(mode)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _encode(make: Callable[[], Image.Image], fmt: str, **options: object) -> bytes:
    return encoded(make(), fmt, **options)


def _screen_as(mode: str, fmt: str, **options: object) -> Content:
    return partial(_encode, partial(text_screen, mode=mode), fmt, **options)


def _once(func: Content) -> Content:
    """`func`, computed once: a base is shared by hundreds of cases."""
    memo: list[bytes] = []

    def get() -> bytes:
        if not memo:
            memo.append(func())
        return memo[0]

    return get


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_raw(
    width: int,
    height: int,
    *,
    bit_depth: int = 8,
    color_type: int = 0,
    idat: bytes | None = None,
    extra: Iterable[bytes] = (),
) -> bytes:
    """A PNG written by hand; without `idat`, a little zero data (a header that lies)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + b"".join(extra)
        + chunk(b"IDAT", data)
        + chunk(b"IEND", b"")
    )


def png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, kind, body) of each chunk of a well-formed PNG."""
    chunks, offset = [], 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((offset, kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def _chunk_index(data: bytes, kind: bytes) -> int:
    return next(i for i, found in enumerate(png_chunks(data)) if found[1] == kind)


def png_with_chunk(data: bytes, index: int, body: bytes) -> bytes:
    """`data` with chunk `index` given a new body and a correct CRC (so it is decoded)."""
    offset, kind, old = png_chunks(data)[index]
    return data[:offset] + chunk(kind, body) + data[offset + 12 + len(old) :]


def _after_header(data: bytes, *extra: bytes) -> bytes:
    """A PNG with chunks inserted after IHDR (which ends at byte 33)."""
    return data[:33] + b"".join(extra) + data[33:]


def _white_rows(width: int, height: int) -> bytes:
    """Zlib data of a white 8-bit gray picture, compressed row by row (no big buffer)."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    return b"".join(packer.compress(row) for _ in range(height)) + packer.flush()


def _patched(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims `width` x `height`."""
    data = encoded(text_screen((64, 32)), "JPEG")
    sof = data.index(b"\xff\xc0")
    return _patched(data, sof + 5, struct.pack(">HH", height, width))


def gif_claiming(width: int, height: int) -> bytes:
    data = encoded(text_screen((64, 32)), "GIF")
    data = _patched(data, 6, struct.pack("<HH", width, height))
    descriptor = data.index(b"\x2c", 13)
    return _patched(data, descriptor + 5, struct.pack("<HH", width, height))


def bmp_claiming(width: int, height: int) -> bytes:
    data = encoded(text_screen((64, 32)), "BMP")
    return _patched(data, 18, struct.pack("<ii", width, height))


def tiff_claiming(width: int, height: int) -> bytes:
    """A hand-made uncompressed gray TIFF with 100 bytes of pixels and a large header."""
    entries = [
        (256, 4, width),
        (257, 4, height),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 8 + 2 + 12 * 9 + 4),
        (277, 3, 1),
        (278, 4, height),
        (279, 4, 100),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 4 + b"\x80" * 100


def webp_claiming(width: int, height: int) -> bytes:
    """A lossless WebP whose VP8L header claims `width` x `height` (at most 16384 a side)."""
    data = encoded(text_screen((64, 32)), "WEBP", lossless=True)
    start = data.index(b"VP8L") + 8
    (bits,) = struct.unpack("<I", data[start + 1 : start + 5])
    bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
    return _patched(data, start + 1, struct.pack("<I", bits))


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def rotated_screen(orientation: int, fmt: str = "JPEG") -> bytes:
    """The words stored turned so that EXIF `orientation` turns them upright again."""
    upright = text_screen((420, 160), font_size=26)
    method = EXIF_ROTATION.get(orientation)
    stored = upright if method is None else upright.transpose(_INVERSE.get(method, method))
    return encoded(stored, fmt, quality=95, exif=exif_bytes(orientation))


_BASES: dict[str, tuple[str, Content]] = {
    "png": ("png", _once(_screen_as("RGB", "PNG"))),
    "png-interlaced": ("png", _once(_screen_as("RGB", "PNG", interlace=1))),
    "jpeg": ("jpg", _once(_screen_as("RGB", "JPEG", quality=90))),
    "jpeg-progressive": ("jpg", _once(_screen_as("RGB", "JPEG", quality=90, progressive=True))),
    "gif": ("gif", _once(_screen_as("RGB", "GIF"))),
    "webp": ("webp", _once(_screen_as("RGB", "WEBP", quality=90))),
    "webp-lossless": ("webp", _once(_screen_as("RGB", "WEBP", lossless=True))),
    "tiff": ("tif", _once(_screen_as("RGB", "TIFF"))),
    "tiff-lzw": ("tif", _once(_screen_as("RGB", "TIFF", compression="tiff_lzw"))),
    "bmp": ("bmp", _once(_screen_as("RGB", "BMP"))),
}
_PNG = _BASES["png"][1]


# -- damage -------------------------------------------------------------------------------


def _cut(content: Content, at: int) -> bytes:
    return content()[:at]


def _cut_points(length: int, count: int, rng: random.Random) -> list[int]:
    """Header boundaries, an even spread, some random points and the last few bytes."""
    fixed = [1, 2, 4, 6, 8, 12, 16, 20, 24, 29, 33, 37, 41, 50, 64, 100, 200]
    spread = [length * i // count for i in range(1, count)]
    tail = [length - 1, length - 2, length - 4, length - 12]
    jitter = [rng.randrange(1, length) for _ in range(count // 4)]
    return sorted({p for p in fixed + spread + tail + jitter if 0 < p < length})


def flips(data: bytes, count: int, region: tuple[int, int], rng: random.Random) -> bytes:
    """`data` with `count` bytes in [region) flipped, randomised or set to an edge value."""
    buffer = bytearray(data)
    low, high = region
    for _ in range(count):
        at = rng.randrange(low, min(high, len(buffer)))
        choice = rng.random()
        if choice < 0.5:
            buffer[at] ^= 1 << rng.randrange(8)
        elif choice < 0.8:
            buffer[at] = rng.randrange(256)
        else:
            buffer[at] = rng.choice([0x00, 0xFF, 0x7F, 0x80])
    return bytes(buffer)


def _flipped_content(content: Content, where: str, seed: int) -> bytes:
    data = content()
    rng = random.Random(seed)
    region = (0, 64) if where == "header" else (64, len(data))
    return flips(data, rng.randint(1, 8), region, rng)


def _ihdr_bytes(at: int, new: bytes) -> bytes:
    data = _PNG()
    return png_with_chunk(data, 0, _patched(png_chunks(data)[0][2], at, new))


def _idat_flipped(seed: int) -> bytes:
    data = _PNG()
    index = _chunk_index(data, b"IDAT")
    body = png_chunks(data)[index][2]
    rng = random.Random(seed)
    return png_with_chunk(data, index, flips(body, rng.randint(1, 6), (2, len(body)), rng))


def _random_rows(seed: int) -> bytes:
    """Valid zlib, wrong pixels: random filter bytes and values."""
    rng = random.Random(seed)
    rows = b"".join(bytes([rng.randrange(256)]) + rng.randbytes(420 * 3) for _ in range(120))
    return png_raw(420, 120, color_type=2, idat=zlib.compress(rows))


_PALETTE_PNG = _once(_screen_as("P", "PNG"))


def _palette_of_length(length: int) -> bytes:
    data = _PALETTE_PNG()
    return png_with_chunk(data, _chunk_index(data, b"PLTE"), (bytes(range(256)) * 4)[:length])


def _no_idat() -> bytes:
    header = png_chunks(_PNG())[0][2]
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# -- families -----------------------------------------------------------------------------


def _valid() -> list[Case]:
    family = _Family("valid")
    for base, (ext, content) in _BASES.items():
        family.file(base, "processed", content, ext, readable=True)
    return family.cases


def _truncated(rng: random.Random) -> list[Case]:
    family = _Family("truncated")
    for base, (ext, content) in _BASES.items():
        many = base in ("png", "jpeg", "jpeg-progressive")
        for at in _cut_points(len(content()), 40 if many else 12, rng):
            family.file(f"{base}-{at}", "either", partial(_cut, content, at), ext)
    return family.cases


def _flipped(rng: random.Random) -> list[Case]:
    family = _Family("flipped")
    for base, (ext, content) in _BASES.items():
        many = base in ("png", "jpeg", "gif", "webp", "tiff")
        for where in ("header", "data"):
            for index in range(35 if many else 12):
                flipped = partial(_flipped_content, content, where, rng.randrange(2**32))
                family.file(f"{base}-{where}-{index}", "either", flipped, ext)
    return family.cases


def _png_fields(rng: random.Random) -> list[Case]:
    """PNG chunks changed with their CRCs fixed, so the decoder itself meets the damage."""
    family = _Family("pngfield")
    for depth in (0, 1, 3, 5, 7, 9, 16, 32, 255):
        for color in (0, 1, 2, 3, 4, 5, 6, 7, 255):
            content = partial(_ihdr_bytes, 8, bytes([depth, color]))
            family.file(f"ihdr-depth{depth}-color{color}", "either", content)
    for field, at in (("compression", 10), ("filter", 11), ("interlace", 12)):
        for value in (1, 2, 255):
            family.file(f"ihdr-{field}-{value}", "either", partial(_ihdr_bytes, at, bytes([value])))
    for width, height in ((0, 10), (10, 0), (0, 0), (2**31, 1), (1, 2**31 - 1)):
        content = partial(_ihdr_bytes, 0, struct.pack(">II", width, height))
        family.file(f"ihdr-size-{width}x{height}", "rejected", content)
    for index in range(30):
        family.file(f"idat-flip-{index}", "either", partial(_idat_flipped, rng.randrange(2**32)))
    for index in range(10):
        family.file(f"idat-random-rows-{index}", "either", partial(_random_rows, index))
    for length in (0, 3, 4, 766, 768, 771):
        family.file(f"plte-length-{length}", "either", partial(_palette_of_length, length))
    family.file("idat-empty", "rejected", partial(png_raw, 420, 120, idat=b""))
    family.file("idat-not-zlib", "rejected", partial(png_raw, 420, 120, idat=b"not zlib" * 20))
    family.file("no-iend", "either", lambda: _PNG()[:-12])
    family.file("no-idat", "rejected", _no_idat)
    family.file("chunk-length-huge", "either", lambda: _patched(_PNG(), 33, b"\x7f\xff\xff\xff"))
    unknown = chunk(b"ABCD", b"x" * 10)
    family.file("unknown-critical-chunk", "either", lambda: _after_header(_PNG(), unknown))
    return family.cases


_ZEROS = _once(lambda: zlib.compress(b"\x00" * 100_000_000, 9))


def _metadata_bomb(kind: bytes, prefix: bytes) -> bytes:
    return _after_header(_PNG(), chunk(kind, prefix + _ZEROS()))


def _bombs() -> list[Case]:
    family = _Family("bomb")
    sizes = (
        (50000, 50000),
        (65535, 65535),
        (2**31 - 1, 1),
        (1, 2**31 - 1),
        (16385, 16385),
        (20000, 20000),
        (16384, 16384),
    )
    for width, height in sizes:
        family.file(f"png-{width}x{height}", "rejected", partial(png_raw, width, height))
    # Real data for a white 16384 x 16384 picture: about 1 MB on disk, 268 MP.
    real = partial(png_raw, 16384, 16384, idat=_white_rows(16384, 16384))
    family.file("png-16384x16384-real-data", "rejected", real)
    family.file("png-1bit-65535x65535", "rejected", partial(png_raw, 65535, 65535, bit_depth=1))
    rgba16 = partial(png_raw, 30000, 30000, bit_depth=16, color_type=6)
    family.file("png-rgba16-30000x30000", "rejected", rgba16)
    claims: list[tuple[str, str, Callable[[int, int], bytes], tuple[tuple[int, int], ...]]] = [
        (
            "jpeg",
            "jpg",
            jpeg_claiming,
            ((50000, 50000), (65500, 65500), (65535, 1), (16385, 16384)),
        ),
        ("gif", "gif", gif_claiming, ((65535, 65535), (50000, 50000), (20000, 2000))),
        (
            "bmp",
            "bmp",
            bmp_claiming,
            ((50000, 50000), (100000, 1), (-50000, 50000), (30000, -30000)),
        ),
        ("tiff", "tif", tiff_claiming, ((50000, 50000), (4_000_000_000, 2))),
        ("webp", "webp", webp_claiming, ((16384, 16384), (16384, 4096))),
    ]
    for kind, ext, make, sizes_claimed in claims:
        for width, height in sizes_claimed:
            content = partial(make, width, height)
            family.file(f"{kind}-{width}x{height}", "rejected", content, ext)
    # Metadata that inflates to 100 MB: text and colour-profile chunks.
    family.file("png-ztxt-100mb", "either", partial(_metadata_bomb, b"zTXt", b"Comment\x00\x00"))
    family.file("png-iccp-100mb", "either", partial(_metadata_bomb, b"iCCP", b"icc\x00\x00"))
    itxt = partial(_metadata_bomb, b"iTXt", b"Comment\x00\x01\x00\x00\x00")
    family.file("png-itxt-100mb", "either", itxt)
    many = chunk(b"tEXt", b"k\x00" + b"v" * 100) * 10000
    family.file("png-10000-text-chunks", "either", lambda: _after_header(_PNG(), many))
    return family.cases


def _limit_picture(width: int, height: int) -> bytes:
    """A white 8-bit gray PNG of any size, with the words near its top-left corner."""
    image = Image.new("L", (width, height), 255)
    if width >= 300 and height >= 40:
        font = ImageFont.truetype(FONT_PATH, 22)
        ImageDraw.Draw(image).text((10, 8), WORDS, font=font, fill=0)
    return encoded(image, "PNG", compress_level=1)


def _blank(mode: str, fmt: str) -> bytes:
    return encoded(Image.new(mode, (1, 1), "white" if mode == "RGB" else None), fmt)


def _sizes(full: bool) -> list[Case]:
    family = _Family("size")

    def add(width: int, height: int, expect: Expect, readable: bool = False) -> None:
        content = partial(_limit_picture, width, height)
        family.file(f"{width}x{height}", expect, content, readable=readable)

    for width, height in ((1, 1), (2, 1), (1, 2), (3, 3), (1, 1000), (1000, 1), (8, 8)):
        add(width, height, "processed")
    for width, height in ((30000, 10), (10, 30000), (16385, 10), (10, 16385)):
        add(width, height, "rejected")
    add(16384, 10, "processed")
    add(10, 16384, "processed")
    add(16384, 40, "processed", readable=True)
    add(16384, 2442, "rejected")  # 40.01 MP
    add(6325, 6325, "rejected")  # 40.01 MP
    if full:  # reading 40 MP takes a while: not in the default run
        add(16384, 2441, "processed", readable=True)  # 39.99 MP and 16384 a side
        add(6324, 6324, "processed", readable=True)  # 39.99 MP
    for mode in ("1", "L", "P", "RGBA", "I;16", "LA"):
        family.file(f"1x1-{mode.replace(';', '')}", "processed", partial(_blank, mode, "PNG"))
    for fmt, ext in (("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tif")):
        family.file(f"1x1-{ext}", "processed", partial(_blank, "RGB", fmt), ext)
    family.file("1x1-bmp", "processed", partial(_blank, "RGB", "BMP"), "bmp")
    return family.cases


def _rgb48_png() -> bytes:
    """A 48-bit RGB PNG (Pillow cannot write one) showing the words."""
    gray = text_screen(mode="L")
    rows = bytearray()
    for y in range(gray.height):
        rows.append(0)
        for x in range(gray.width):
            value = int(gray.getpixel((x, y))) * 257  # type: ignore[arg-type]
            rows += struct.pack(">HHH", value, value, value)
    idat = zlib.compress(bytes(rows))
    return png_raw(gray.width, gray.height, bit_depth=16, color_type=2, idat=idat)


def _i16(transparency: int | None = None) -> bytes:
    wide = text_screen(mode="L").point(lambda v: v * 257, "I").convert("I;16")
    if transparency is None:
        return encoded(wide, "PNG")
    return encoded(wide, "PNG", transparency=transparency)


def _palette_clear_ground() -> bytes:
    """A palette picture whose ground colour is the transparent entry."""
    image = text_screen(mode="P")
    return encoded(image, "PNG", transparency=image.getpixel((0, 0)))


def _on_transparent_ground(mode: str) -> bytes:
    """Black words on a fully transparent ground, as a window cut out of its shadow."""
    alpha = text_screen(mode="L").point(lambda v: 255 - v)
    image = Image.new(mode, alpha.size, 0)
    image.putalpha(alpha)
    return encoded(image, "PNG")


def _modes() -> list[Case]:
    family = _Family("mode")

    def add(name: str, content: Content, ext: str = "png", readable: bool = True) -> None:
        family.file(name, "processed", content, ext, readable)

    add("cmyk-jpeg", _screen_as("CMYK", "JPEG", quality=95), "jpg")
    add("cmyk-tiff", _screen_as("CMYK", "TIFF"), "tif")
    add("i16-png", _i16)
    add("i16-png-transparent", partial(_i16, 65535))
    add("rgb48-png", _rgb48_png)
    add("i32-tiff", partial(_encode, lambda: text_screen(mode="L").convert("I"), "TIFF"), "tif")
    add("float-tiff", partial(_encode, lambda: text_screen(mode="L").convert("F"), "TIFF"), "tif")
    add("palette-png", _screen_as("P", "PNG"))
    add("palette-transparent-index", _palette_clear_ground)
    # Alpha per palette entry: the last one (which the words do not use) is clear.
    alphas = bytes([255] * 255 + [0])
    add("palette-transparent-bytes", _screen_as("P", "PNG", transparency=alphas))
    add("palette-gif-transparent", _screen_as("P", "GIF", transparency=3), "gif")
    add("gray-transparent", _screen_as("L", "PNG", transparency=255))
    add("rgb-transparent", _screen_as("RGB", "PNG", transparency=(0, 0, 0)))
    add("la-png", _screen_as("LA", "PNG"))
    add("rgba-png", _screen_as("RGBA", "PNG"))
    add("rgba-webp", _screen_as("RGBA", "WEBP", lossless=True), "webp")
    add("la-transparent-ground", partial(_on_transparent_ground, "LA"))
    add("rgba-transparent-ground", partial(_on_transparent_ground, "RGBA"))
    clear = partial(_encode, lambda: Image.new("RGBA", (300, 80)), "PNG")
    add("rgba-fully-transparent", clear, readable=False)
    add("1bit-png", _screen_as("1", "PNG"))
    add("1bit-tiff-g4", _screen_as("1", "TIFF", compression="group4"), "tif")
    add("gray-png", _screen_as("L", "PNG"))
    add("gray-jpeg", _screen_as("L", "JPEG", quality=95), "jpg")
    add("ycbcr-444-jpeg", _screen_as("RGB", "JPEG", quality=95, subsampling=0), "jpg")
    add("jpeg-bad-icc", _screen_as("RGB", "JPEG", quality=95, icc_profile=b"\x00" * 128), "jpg")
    dark = partial(_encode, partial(text_screen, ink="white", paper="#1e1e1e"), "PNG")
    add("dark-screen", dark)
    add("ppm", _screen_as("RGB", "PPM"), "ppm")
    add("pgm-16bit", _screen_as("I;16", "PPM"), "pgm")
    return family.cases


def _animation(fmt: str, count: int, **options: object) -> bytes:
    frames = [text_screen(text=f"{WORDS} frame {i}") for i in range(count)]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, **options)


def _gif_of_other_sizes() -> bytes:
    first = text_screen()
    rest = [Image.new("RGB", (30, 10), "red"), Image.new("RGB", (5, 400), "blue")]
    return encoded(first, "GIF", save_all=True, append_images=rest, disposal=2)


def _animated() -> list[Case]:
    family = _Family("animated")

    def add(name: str, ext: str, content: Content) -> None:
        family.file(name, "processed", content, ext, readable=True)

    add("gif-3", "gif", partial(_animation, "GIF", 3, loop=0))
    add("gif-40", "gif", partial(_animation, "GIF", 40))
    add("apng-3", "png", partial(_animation, "PNG", 3))
    add("apng-blend", "png", partial(_animation, "PNG", 3, blend=1, disposal=2))
    add("webp-3", "webp", partial(_animation, "WEBP", 3))
    add("webp-lossless-3", "webp", partial(_animation, "WEBP", 3, lossless=True))
    add("tiff-pages-3", "tif", partial(_animation, "TIFF", 3))
    add("gif-frames-of-other-sizes", "gif", _gif_of_other_sizes)
    return family.cases


def _with_exif(raw: bytes, fmt: str) -> bytes:
    return encoded(text_screen(), fmt, quality=95, exif=raw)


def _exif() -> list[Case]:
    family = _Family("exif")
    for orientation in range(1, 9):
        content = partial(rotated_screen, orientation)
        family.file(f"orientation-{orientation}", "processed", content, "jpg", readable=True)
        if orientation in (3, 6, 8):
            for fmt, ext in (("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif")):
                content = partial(rotated_screen, orientation, fmt)
                family.file(f"orientation-{orientation}-{ext}", "processed", content, ext, True)
    for orientation in (0, 9, 255, 65535):
        content = partial(_with_exif, exif_bytes(orientation), "JPEG")
        family.file(f"orientation-invalid-{orientation}", "processed", content, "jpg", True)
    good = exif_bytes(6)
    corrupt = {
        "garbage": b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 16,
        "truncated": good[: len(good) // 2],
        "ifd-out-of-bounds": good[:10] + b"\xff\xff\xff\x7f" + good[14:],
        "entry-count-huge": good[:14] + b"\xff\xff" + good[16:],
        "wrong-byte-order": b"Exif\x00\x00XX*\x00" + good[10:],
        "empty": b"Exif\x00\x00",
        "orientation-as-string": good[:16] + b"\x12\x01\x02\x00" + good[20:],
    }
    for label, raw in corrupt.items():
        family.file(f"corrupt-{label}", "processed", partial(_with_exif, raw, "JPEG"), "jpg")
        family.file(f"corrupt-{label}-png", "processed", partial(_with_exif, raw, "PNG"))
    return family.cases


# The file-system cases make things other than regular files.


def _at(name: str, make: Callable[[Path], object], directory: Path) -> Path:
    path = directory / name
    make(path)
    return path


def _unix_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))


def _link(target: str | Path, path: Path) -> None:
    path.symlink_to(target)


def _stamped(when: float, directory: Path) -> Path:
    path = directory / "stamped.png"
    path.write_bytes(_PNG())
    os.utime(path, (when, when))
    return path


def _odd_name(raw: bytes, directory: Path) -> Path:
    target = os.path.join(os.fsencode(directory), raw)
    with open(target, "wb") as handle:
        handle.write(_PNG())
    return Path(os.fsdecode(target))


def _unreadable(directory: Path) -> Path:
    path = directory / "unreadable.png"
    path.write_bytes(_PNG())
    path.chmod(0)
    return path


def _below_a_file(directory: Path) -> Path:
    (directory / "plain.png").write_bytes(_PNG())
    return directory / "plain.png" / "inside.png"


def _link_to_valid(directory: Path) -> Path:
    target = directory / "target.png"
    target.write_bytes(_PNG())
    (directory / "link.png").symlink_to(target)
    return directory / "link.png"


def _filesystem() -> list[Case]:
    family = _Family("fs")
    files: dict[str, bytes | Content] = {
        "zero-bytes": b"",
        "one-byte": b"\x89",
        "png-magic-only": b"\x89PNG\r\n\x1a\n",
        "jpeg-magic-only": b"\xff\xd8\xff",
        "text-named-png": b"Dear diary, this is not a picture.\n" * 50,
        "html-named-png": b"<!doctype html><html><body>hi</body></html>",
        "svg-named-png": b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="9"/>',
        "pdf-named-png": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "zip-named-png": b"PK\x03\x04" + b"\x00" * 100,
        "random-bytes": lambda: random.Random(7).randbytes(4096),
        "nul-bytes": b"\x00" * 4096,
    }
    for name, data in files.items():
        content = data if callable(data) else partial(bytes, data)
        family.file(name, "rejected", content)
    family.file("zero-bytes-jpg", "rejected", partial(bytes, b""), "jpg")
    specials: dict[str, Callable[[Path], object]] = {
        "directory-named-png": Path.mkdir,
        "fifo-named-png": os.mkfifo,
        "socket-named-png": _unix_socket,
        "symlink-to-dev-zero": partial(_link, "/dev/zero"),
        "symlink-to-dev-urandom": partial(_link, "/dev/urandom"),
        "symlink-to-dev-null": partial(_link, "/dev/null"),
        "symlink-dangling": partial(_link, "no-such-file.png"),
        "symlink-loop": partial(_link, "it.png"),
        "symlink-to-directory": partial(_link, "."),
    }
    for name, make in specials.items():
        family.special(name, "rejected", partial(_at, "it.png", make))
    family.special("missing-file", "rejected", lambda directory: directory / "missing.png")
    family.special("below-a-file", "rejected", _below_a_file)
    family.special("symlink-to-valid", "processed", _link_to_valid, True)
    # Root reads a file whatever its mode.
    family.special("unreadable", "either" if os.geteuid() == 0 else "rejected", _unreadable)
    names = {
        "not-utf8": b"\xff\xfe-screen-\xc3.png",
        "with-newline": b"line\nbreak\r\t.png",
        "with-escapes": b"\x1b[31mred\x07\x1b]0;title\x07.png",
        "255-bytes": b"n" * 251 + b".png",
        "no-extension": b"screenshot",
        "wrong-extension": b"screenshot.jpg.exe",
    }
    for label, raw in names.items():
        family.special(f"name-{label}", "processed", partial(_odd_name, raw), True)
    # Some file systems (tmpfs, XFS) keep times that no date can hold; ext4
    # clamps them to 2446.
    times = {"epoch": 0, "1901": -(2**31), "3000": 32_503_680_000}
    for label, when in times.items():
        family.special(f"mtime-{label}", "processed", partial(_stamped, when), True)
    family.special("mtime-year-10680", "either", partial(_stamped, 2**38))
    family.special("mtime-before-year-1", "either", partial(_stamped, -(2**40)))
    return family.cases


def _fits() -> bytes:
    cards = ("SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 2", "NAXIS1  = 4", "NAXIS2  = 4", "END")
    return b"".join(card.ljust(80).encode() for card in cards).ljust(2880) + b"\x80" * 16


def _small() -> Image.Image:
    return text_screen((96, 40), font_size=12)


def _foreign_flipped(content: Content, seed: str) -> bytes:
    data = content()
    rng = random.Random(seed)
    return flips(data, rng.randint(1, 6), (0, min(len(data), 128)), rng)


def _half(content: Content) -> bytes:
    data = content()
    return data[: len(data) // 2]


def _foreign() -> list[Case]:
    """Other formats, valid or damaged, named like screenshots: not read."""
    family = _Family("foreign")
    made: dict[str, Content] = {
        "ico": partial(_encode, _small, "ICO"),
        "pcx": partial(_encode, _small, "PCX"),
        "sgi": partial(_encode, _small, "SGI"),
        "tga": partial(_encode, _small, "TGA"),
        "tga-rle": partial(_encode, _small, "TGA", compression="tga_rle"),
        "im": partial(_encode, _small, "IM"),
        "dds": partial(_encode, lambda: _small().convert("RGBA"), "DDS"),
        "qoi": partial(_encode, _small, "QOI"),
        "blp": partial(_encode, lambda: _small().convert("P"), "BLP"),
        "spider": partial(_encode, lambda: _small().convert("F"), "SPIDER"),
        "msp": partial(_encode, lambda: _small().convert("1"), "MSP"),
        "xbm": partial(_encode, lambda: _small().convert("1"), "XBM"),
        "eps": partial(_encode, _small, "EPS"),
        "pdf": partial(_encode, _small, "PDF"),
        "icns": partial(_encode, lambda: _small().resize((32, 32)), "ICNS"),
        "jpeg2000": partial(_encode, _small, "JPEG2000"),
        "fits": _fits,
        "psd": lambda: b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 4, 4, 8, 3),
        "xpm": lambda: b'/* XPM */\nstatic char *x[] = {\n"2 2 1 1",\n". c #000",\n"..",\n".."};',
    }
    for label, content in made.items():
        once = _once(content)
        family.file(label, "rejected", once)
        for index in range(6):
            flipped = partial(_foreign_flipped, once, f"{label}-{index}")
            family.file(f"{label}-flipped-{index}", "rejected", flipped)
        family.file(f"{label}-truncated", "rejected", partial(_half, once))
    # PPM is read: a huge maximum value, and a header that claims 60000 x 60000.
    family.file("ppm-maxval-huge", "either", lambda: b"P6\n4 4\n99999999\n" + b"\xff" * 96)
    family.file("ppm-claims-huge", "rejected", lambda: b"P6\n60000 60000\n255\n" + b"\xff" * 96)
    return family.cases


def _noise(width: int, height: int, seed: int) -> Image.Image:
    return Image.frombytes("L", (width, height), random.Random(seed).randbytes(width * height))


def _stripes() -> Image.Image:
    image = Image.new("L", (800, 600), 255)
    draw = ImageDraw.Draw(image)
    for y in range(0, 600, 2):
        draw.line([(0, y), (800, y)], fill=0)
    return image


def _tiny_text() -> Image.Image:
    image = Image.new("L", (1200, 800), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, 6)
    for y in range(0, 800, 7):
        draw.text((0, y), "mmmm wwww iiii " * 20, font=font, fill=0)
    return image


def _content(full: bool) -> list[Case]:
    family = _Family("content")

    def add(name: str, make: Callable[[], Image.Image], readable: bool = False) -> None:
        content = partial(_encode, make, "PNG", compress_level=1)
        family.file(name, "processed", content, readable=readable)

    add("all-black", lambda: Image.new("RGB", (1280, 800), "black"))
    add("all-white", lambda: Image.new("RGB", (1280, 800), "white"))
    add("noise-640x480", partial(_noise, 640, 480, 1))
    add("stripes", _stripes)
    add("tiny-text", _tiny_text)
    add("huge-text", partial(text_screen, (1600, 400), font_size=150), readable=True)
    add("same-as-valid", text_screen)  # "identical to the previous image" after valid-png
    if full:
        add("noise-1920x1080", partial(_noise, 1920, 1080, 2))
        add("noise-3840x2160", partial(_noise, 3840, 2160, 3))
    return family.cases


def cases(seed: int = 17, *, full: bool = True) -> list[Case]:
    """Every case, in a fixed order for a given seed; `full` adds the slow ones."""
    rng = random.Random(seed)
    everything = [
        *_valid(),
        *_truncated(rng),
        *_flipped(rng),
        *_png_fields(rng),
        *_bombs(),
        *_sizes(full),
        *_modes(),
        *_animated(),
        *_exif(),
        *_filesystem(),
        *_foreign(),
        *_content(full),
    ]
    names = [case.name for case in everything]
    assert len(set(names)) == len(names), "case names must be unique"
    return everything


# Always in the small set: one of each kind of thing that once crashed or is
# easy to get wrong.
_ALWAYS = (
    "valid-png",
    "valid-jpeg",
    "bomb-png-50000x50000",
    "bomb-jpeg-50000x50000",
    "bomb-png-ztxt-100mb",
    "size-1x1",
    "size-30000x10",
    "size-10x30000",
    "size-10x16384",
    "size-16384x40",
    "mode-cmyk-jpeg",
    "mode-i16-png",
    "mode-palette-transparent-bytes",
    "mode-rgba-transparent-ground",
    "animated-gif-3",
    "animated-apng-3",
    "animated-webp-3",
    *(f"exif-orientation-{n}" for n in range(1, 9)),
    "exif-corrupt-truncated",
    "exif-corrupt-wrong-byte-order-png",
    "fs-zero-bytes",
    "fs-text-named-png",
    "fs-directory-named-png",
    "fs-fifo-named-png",
    "fs-symlink-to-dev-zero",
    "fs-name-not-utf8",
    "fs-name-with-escapes",
    "foreign-eps",
    "foreign-ico",
    "truncated-tiff-33",
)


def small_cases(seed: int = 17, per_family: int = 2) -> list[Case]:
    """The cases above plus `per_family` more of each family, in the full set's order."""
    every = cases(seed, full=False)
    chosen = {case.name for case in every if case.name in _ALWAYS}
    rng = random.Random(seed)
    families = dict.fromkeys(case.family for case in every)
    for family in families:
        members = [c.name for c in every if c.family == family and c.name not in chosen]
        chosen.update(rng.sample(members, min(per_family, len(members))))
    return [case for case in every if case.name in chosen]
