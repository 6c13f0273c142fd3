"""Implementation of `ddsp.core`, one module per job (see `ddsp/core.py`)."""
