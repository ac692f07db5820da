"""Synthetic region generator and demo seeding (no real student data anywhere)."""
