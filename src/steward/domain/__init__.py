"""Functional core: value types shared by every layer (pure, no I/O)."""
