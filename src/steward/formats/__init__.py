"""Readers and writers that translate exchange formats to and from canonical records (pure)."""
