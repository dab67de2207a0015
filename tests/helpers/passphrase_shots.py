"""Screenshots of the key panel, to look at: a passphrase store being changed, or a keyring one.

    MIRIX_UI_THEME=light .venv/bin/python -m tests.helpers.passphrase_shots passphrase OUT.png
    MIRIX_UI_THEME=dark .venv/bin/python -m tests.helpers.passphrase_shots keyring OUT.png

"passphrase": the fields filled, the strength hint and a problem shown;
"done": after a change went through; "keyring": a store whose key is in an
(in-memory) keyring.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring

from mirix_desktop.app.services import AppServices
from mirix_desktop.memory import keys
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.ui.passphrase_panel import PassphrasePanel
from mirix_desktop.ui.qt import QtCore, QtWidgets
from mirix_desktop.ui.theme import apply_theme
from tests.conftest import MODELS_DIR
from tests.helpers.keyring_backend import MemoryKeyring

OLD = "shots passphrase one"


def main() -> None:
    kind, out = sys.argv[1], sys.argv[2]
    os.environ["MIRIX_MODELS_DIR"] = str(MODELS_DIR)
    keyring.set_keyring(MemoryKeyring())
    app = QtWidgets.QApplication(["mirix-desktop"])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        services = AppServices.create(Path(tmp) / "data")
        store_file = services.paths.store_file
        store_file.parent.mkdir(parents=True)
        source = KeySource() if kind == "keyring" else KeySource(passphrase=OLD)
        keys.create_key(store_file, source)
        services.use_key(keys.unlock_key(store_file, source))
        services.store()
        panel = PassphrasePanel(services)
        metrics = panel.fontMetrics()
        panel.resize(metrics.averageCharWidth() * 90, metrics.lineSpacing() * 22)
        panel.show()
        if kind in ("passphrase", "done"):
            panel.current.setText(OLD)
            panel.new.setText("tidal lantern orbit")
            panel.repeat.setText("tidal lantern orbit" if kind == "done" else "tidal lantern")
            panel.change_button.click()
        deadline = time.perf_counter() + 30
        while panel.busy and time.perf_counter() < deadline:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        for _ in range(10):
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if kind == "passphrase":
            panel.new.setText("tidal lantern")  # the hint for what is typed now
        panel.grab().save(out)
        print(f"{out}: {panel.width()}x{panel.height()} logical, {panel.message.text()!r}")
        services.close()


if __name__ == "__main__":
    main()
