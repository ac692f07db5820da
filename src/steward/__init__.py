"""Steward: decides, delivers and records lawful student-data disclosures."""

__version__ = "0.1.0"
