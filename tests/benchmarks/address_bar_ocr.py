"""Password-manager web vaults recognised from their address bar as OCR reads it.

    .venv/bin/python -m tests.benchmarks.address_bar_ocr

Each URL is drawn as an address bar shows it (dark text on a light grey bar)
in every upright DejaVu font at 12, 14 and 16 px, read by the OCR engine the
pipeline uses, and the reading given to `PrivacyFilter.excluded_address`
with the shipped rules. Printed: vault address bars recognised / drawn (and
how many OCR read nothing of), and ordinary address bars (pages about the
same password managers among them) wrongly excluded / drawn.
"""

from __future__ import annotations

import glob

from PIL import Image, ImageDraw, ImageFont

from mirix_desktop.ocr.engine import make_engine
from mirix_desktop.privacy.exclusions import PrivacyFilter

VAULTS = [
    "vault.bitwarden.com/#/vault",
    "https://vault.bitwarden.eu/#/vault",
    "my.1password.com/vaults/all",
    "https://my.1password.eu/home",
    "lastpass.com/vault/",
    "www.lastpass.com/vault",
]
ORDINARY = [
    "bitwarden.com/blog/",
    "bitwarden.com/help/",
    "support.1password.com/explore/",
    "www.lastpass.com/pricing",
    "github.com/bitwarden/clients",
    "my.example.com/vault",
    "docs.python.org/3/library/re.html",
    "en.wikipedia.org/wiki/Vault",
    "news.ycombinator.com/item?id=1",
    "example.com/?next=vault.bitwarden.com",
]
SIZES = (12, 14, 16)


def fonts() -> list[str]:
    skip = ("Oblique", "Italic", "ExtraLight", "Math")
    found = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf"))
    return [path for path in found if not any(word in path for word in skip)]


def main() -> None:
    engine = make_engine("auto", "eng", dark_on_light=True)
    privacy = PrivacyFilter()
    for name, urls in (("vault", VAULTS), ("ordinary", ORDINARY)):
        excluded = drawn = unread = 0
        for path in fonts():
            for size in SIZES:
                font = ImageFont.truetype(path, size)
                for url in urls:
                    image = Image.new("L", (600, 3 * size), 240)
                    ImageDraw.Draw(image).text((10, size), url, font=font, fill=20)
                    read = [line.text for line in engine.recognize(image)]
                    drawn += 1
                    unread += not read
                    excluded += privacy.excluded_address(read) is not None
        print(f"{name} address bars excluded: {excluded}/{drawn} (OCR read nothing: {unread})")


if __name__ == "__main__":
    main()
