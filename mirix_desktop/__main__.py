"""`python -m mirix_desktop`: the CLI (how the tray app starts its capture daemon)."""

from mirix_desktop.cli.main import main

if __name__ == "__main__":
    main()
