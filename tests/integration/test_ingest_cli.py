"""`mirix-desktop ingest`: good images become memories, bad ones are refused with the reason."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from click.testing import CliRunner

from mirix_desktop.cli.main import cli
from tests.conftest import PASSPHRASE
from tests.helpers.screens import screen, text_lines


def _png_claiming(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_ingest_reads_good_images_and_rejects_bad_ones_with_reasons(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    screen(text_lines(6), footer="Invoice for the Capybara rescue shelter").save(good)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"this is not an image at all" * 10)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:400])
    enormous = tmp_path / "enormous.png"
    _png_claiming(enormous, 20000, 20000)
    wide = tmp_path / "wide.png"
    _png_claiming(wide, 17000, 10)
    missing = tmp_path / "missing.png"
    data_dir = tmp_path / "data"
    runner = CliRunner()
    env = {"MIRIX_PASSPHRASE": PASSPHRASE}
    args = ["--data-dir", str(data_dir), "ingest", "--app", "evince", "--title", "Invoice"]
    files = [empty, corrupt, good, truncated, enormous, wide, missing]
    result = runner.invoke(cli, [*args, *map(str, files)], env=env)
    assert result.exit_code == 2, result.output
    output = result.output
    assert "ingested" in output and "good.png" in output
    assert "empty.png: the file is empty" in output
    assert "corrupt.png: not an image format" in output
    assert "truncated.png: the image is corrupt or truncated" in output
    assert "enormous.png: the image is too large" in output and "400000000" in output
    assert "missing.png: no such file" in output
    assert "wide.png: the image is too large (17000x10)" in output
    assert "6 of 7 images were rejected" in output
    found = runner.invoke(
        cli, ["--data-dir", str(data_dir), "search", "--json", "Capybara shelter"], env=env
    )
    assert found.exit_code == 0, found.output
    assert '"app": "evince"' in found.output and "Capybara" in found.output


def test_ingest_refuses_an_image_of_an_excluded_app(tmp_path: Path) -> None:
    image = tmp_path / "vault.png"
    screen(["Gringotts vault number 713"]).save(image)
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "d"), "ingest", "--app", "keepassxc", str(image)],
        env={"MIRIX_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 2
    assert "excluded by a privacy rule" in result.output
