"""A small generated region (synthetic, deterministic) shared by the source and product tests."""

from __future__ import annotations

from pathlib import Path

from steward.demo.generator import generate

END_YEAR = 2026
YEARS = (2025, 2026)


def make_region(out: Path, *, students: int = 300, districts: int = 2, seed: int = 11) -> list[Path]:
    """Generate drops for ``districts`` districts into ``out``; returns the drop directories."""
    generate(out, districts, students, len(YEARS), seed, end_year=END_YEAR)
    return sorted(p for p in out.iterdir() if p.is_dir())
