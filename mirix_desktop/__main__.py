"""Allows `python -m mirix_desktop`."""

from mirix_desktop.cli.main import main

main()
