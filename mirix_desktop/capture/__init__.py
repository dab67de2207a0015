"""Screen capture: grabbing monitors, the active window, change detection, idle."""
