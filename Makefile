# The two commands of the README. Both set up a fresh machine first.
.PHONY: setup run test lint bench package

VENV := .venv
BIN := $(VENV)/bin

setup:
	@scripts/bootstrap.sh

# Starts the tray app with safe defaults (store encrypted, capture local only, after consent).
run: setup
	$(BIN)/mirix-desktop run

# The whole test suite: lint, format check, types, tests.
test: setup lint
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check mirix_desktop tests
	$(BIN)/ruff format --check mirix_desktop tests
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m tests.benchmarks.run_all

# The one-folder app (dist/mirix-desktop/, PyInstaller), then a check that it
# starts and works on a throwaway data dir under Xvfb (packaging/README.md).
package: setup
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/pyinstaller/mirix-desktop.spec
	packaging/pyinstaller/verify.sh dist/mirix-desktop/mirix-desktop
