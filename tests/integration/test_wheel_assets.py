"""The wheel carries the assets, and an installed wheel finds its icons without a checkout.

The wheel is built from a copy of the sources (so a stale build/ in the
checkout cannot add files), installed with --no-deps into a new, empty venv,
and asked for its icons from a directory far from the checkout: once through
`mirix_desktop.assets` alone, once through `ui/icons.py` with Qt drawing them
(PySide6 borrowed from the test venv, after the new venv's own packages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ICONS = sorted(path.name for path in (REPO / "mirix_desktop" / "assets" / "icons").glob("*.svg"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "mirix_desktop",
        source / "mirix_desktop",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the test venv's setuptools builds it, with no download.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    (built,) = out.glob("mirix_desktop-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new venv holding only the wheel."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return python


def test_the_wheel_carries_every_icon_and_the_assets_readme(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert ICONS, "no icons in the checkout"
    for icon in ICONS:
        assert f"mirix_desktop/assets/icons/{icon}" in names
    assert "mirix_desktop/assets/README.md" in names
    assert "mirix_desktop/assets/__init__.py" in names
    assert "mirix_desktop/privacy/char_trigrams.tsv.gz" in names
    # Nothing but the package and its metadata: no tests, packaging or build leftovers.
    assert {name.split("/")[0] for name in names} == {
        "mirix_desktop",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }


def _run(python: Path, code: str, cwd: Path, **env: str) -> str:
    # A clean environment: no PYTHONPATH pointing back at the checkout.
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), **env}
    result = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_installed_wheel_finds_its_icons(installed: Path, tmp_path: Path) -> None:
    out = _run(
        installed,
        "import mirix_desktop.assets as a\n"
        f"for name in {ICONS!r}:\n"
        "    print(a.asset_path('icons', name))\n",
        cwd=tmp_path,
    )
    paths = [Path(line) for line in out.splitlines()]
    venv = installed.parent.parent
    assert [path.name for path in paths] == ICONS
    for path in paths:
        assert path.is_file()
        assert path.is_relative_to(venv), f"{path} is not inside the new venv"
        assert not path.is_relative_to(REPO)


def test_an_installed_wheel_redacts_with_its_own_character_model(
    installed: Path, tmp_path: Path
) -> None:
    # A key's piece alone on a row is judged by the character model only: the
    # model's counts must come from the installed package, not the checkout.
    out = _run(
        installed,
        "from mirix_desktop.privacy import char_model\n"
        "from mirix_desktop.privacy.redaction import Redactor\n"
        "print(Redactor().redact_lines(['9p6YDjZBC'])[0][0])\n"
        "print(char_model.__file__)\n",
        cwd=tmp_path,
    )
    redacted, module = out.splitlines()
    assert redacted == "[REDACTED]"
    assert Path(module).is_relative_to(installed.parent.parent)


def test_an_installed_wheel_draws_its_icons_with_qt(installed: Path, tmp_path: Path) -> None:
    # The new venv's site-packages first, so its mirix_desktop is the one imported;
    # PySide6 and the other dependencies from the test venv after it.
    venv_site = (
        installed.parent.parent / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    out = _run(
        installed,
        "import sys\n"
        f"sys.path.append({sysconfig.get_paths()['purelib']!r})\n"
        "from mirix_desktop.ui.qt import QtGui\n"
        "app = QtGui.QGuiApplication(['test'])\n"
        "from mirix_desktop.ui import icons\n"
        "import mirix_desktop\n"
        "print(mirix_desktop.__file__)\n"
        "print(icons.icon_path('mirix.svg'))\n"
        "print(icons.app_icon().pixmap(32, 32).isNull())\n",
        cwd=tmp_path,
        QT_QPA_PLATFORM="offscreen",
    )
    package, icon, null = out.splitlines()
    assert Path(package).is_relative_to(venv_site)
    assert Path(icon).is_relative_to(venv_site)
    assert null == "False"
