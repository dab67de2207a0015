"""mirix-desktop: a local-first screen-memory assistant with an encrypted memory store."""

__version__ = "0.1.0"
