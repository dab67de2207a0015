"""The `mirix-desktop` command line (click)."""
