"""The desktop app's windows, tray and IPC: the only place widgets live."""
