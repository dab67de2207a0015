"""Where the files the app reads at run time (icons) are found, in every kind of install.

The assets are package data of `mirix_desktop.assets`: a source checkout, an
installed wheel and a PyInstaller folder all keep them beside this module, so
one lookup through importlib.resources serves the three. They are read as
real files (Qt opens SVGs by path), which every supported install provides.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def assets_dir() -> Path:
    """The directory holding `icons/` and the other assets."""
    root = resources.files(__name__)
    if not isinstance(root, Path):
        # A zipped install (zipimport) has no file paths to hand to Qt.
        raise FileNotFoundError(f"the assets of {__name__} are not on the file system ({root})")
    return root


def asset_path(*parts: str) -> Path:
    """The asset at `parts` under the assets dir; FileNotFoundError names where it looked."""
    path = assets_dir().joinpath(*parts)
    if not path.is_file():
        # A missing asset is a broken install, not a user error: fail loudly.
        raise FileNotFoundError(f"asset {'/'.join(parts)} not found (looked in {path})")
    return path
