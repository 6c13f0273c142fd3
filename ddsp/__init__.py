"""ddsp (in progress)."""
