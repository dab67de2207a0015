"""The frozen app's entry point: the mirix-desktop CLI.

The tray app starts its capture daemon, and `query` starts the app, as
`sys.executable -m mirix_desktop ...`. In the frozen app `sys.executable` is
this program, which has no interpreter options, so that prefix is dropped here
and the rest is the CLI's command line as usual.
"""

import sys

from mirix_desktop.cli.main import main

if sys.argv[1:3] == ["-m", "mirix_desktop"]:
    del sys.argv[1:3]

main()
