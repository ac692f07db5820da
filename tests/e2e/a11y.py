"""Accessibility checks for the e2e tests: axe-core (no serious or critical violation) and width."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
#: Installed by `make` next to the virtualenv (git-ignored); the version the Makefile pins.
AXE = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"


def axe_check(page: Page, axe: Path, what: str) -> None:
    """No serious or critical violation on the page as it is now. axe is served from the page's own
    origin by a Playwright route, so the page's CSP (script-src 'self') stays in force."""
    origin = re.match(r"https?://[^/]+", page.url)
    assert origin is not None
    url = f"{origin.group(0)}/__test__/axe.min.js"
    page.route(url, lambda route: route.fulfill(path=str(axe), content_type="application/javascript"))
    page.add_script_tag(url=url)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{what}: {bad}"


def no_horizontal_scroll(page: Page, what: str) -> None:
    """The page fits its window's width (a 320 px phone scrolls only down)."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{what}: {width[0]} px wide in a {width[1]} px window"
