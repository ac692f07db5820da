"""Accessible SVG charts drawn by pygal on the server: no script, no inline style (the page's CSP
allows neither), a title and description the SVG is labelled by, and the numbers repeated in a data
table by the page. pygal's element tree is edited directly (nothing is parsed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from lxml import etree
from markupsafe import Markup

SVG = "{http://www.w3.org/2000/svg}"
_DROP_TAGS = {f"{SVG}script", f"{SVG}style", f"{SVG}title", "script", "style", "title"}
_DROP_CLASSES = {"tooltip-overlay", "text-overlay"}


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]
    #: A reference line (drawn dashed, without dots).
    reference: bool = False


def _config(height: int, y_range: tuple[float, float] | None) -> dict[str, object]:
    return {
        "disable_xml_declaration": True,
        "js": [],
        "no_prefix": True,
        "width": 720,
        "height": height,
        "explicit_size": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_legend": -1,
        "x_label_rotation": 0,
        "range": y_range,
        "print_values": False,
        "dots_size": 4,
        "stroke_style": {"width": 2},
        "show_y_guides": True,
        "margin": 12,
        "margin_right": 36,
    }


def _clean(
    root: etree._Element, chart_id: str, title: str, description: str, references: Sequence[int] = ()
) -> str:
    marks = {f"serie-{i}" for i in references}
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        classes = set((element.get("class") or "").split())
        if element.tag in _DROP_TAGS or classes & _DROP_CLASSES:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        for attribute in ("style", "id"):
            if attribute in element.attrib:
                del element.attrib[attribute]
        if "series" in classes and classes & marks:
            element.set("class", f"{element.get('class')} reference")
    for defs in [*root.findall("defs"), *root.findall(f"{SVG}defs")]:
        if len(defs) == 0:
            root.remove(defs)
    root.set("id", chart_id)
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("focusable", "false")
    for attribute in ("width", "height"):
        root.attrib.pop(attribute, None)
    desc = etree.Element(f"{SVG}desc", id=f"{chart_id}-desc")
    desc.text = description
    root.insert(0, desc)
    heading = etree.Element(f"{SVG}title", id=f"{chart_id}-title")
    heading.text = title
    root.insert(0, heading)
    text: str = etree.tostring(root, encoding="unicode")
    return text


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_range: tuple[float, float] | None = None,
    height: int = 320,
) -> Markup:
    """A line chart with optional reference lines, as inline SVG markup."""
    chart = pygal.Line(**_config(height, y_range))
    chart.x_labels = list(labels)
    for s in series:
        if s.reference:
            chart.add(s.name, list(s.values), show_dots=False)
        else:
            chart.add(s.name, list(s.values))
    root = chart.render_tree()
    references = [i for i, s in enumerate(series) if s.reference]
    return Markup(_clean(root, chart_id, title, description, references))  # noqa: S704 - built from our own tree
