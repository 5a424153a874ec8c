"""Report notebooks (this file only lets pytest import notebooks/conftest.py under its own name)."""
