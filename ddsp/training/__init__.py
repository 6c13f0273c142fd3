"""Training library for ddsp: data providers and dataset statistics."""
