"""Notebook helpers (ddsp 3.7.0's `ddsp.colab` package)."""
