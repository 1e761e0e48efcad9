"""Charts drawn on the server as inline SVG: no JavaScript bundle for slow commune connections.

Each function returns safe markup; every mark has a <title> (read by screen readers and shown on
hover) and, when given, links to the list of records behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from vitreem.core.text import format_number

PALETTE = ["#0b5394", "#b3261e", "#1e7b34", "#8a5300", "#6a1b9a", "#00838f"]


def _link(url: str | None, inner: str) -> str:
    return f'<a href="{escape(url)}">{inner}</a>' if url else inner


def bar_chart(items: Sequence[tuple[str, float, str | None]], *, title: str, width: int = 560) -> SafeString:
    """Horizontal bars: (label, value, drill-down url)."""
    if not items:
        return mark_safe("")  # noqa: S308 — constant
    row, pad = 22, 70
    # The label column is as wide as the longest label needs (about CHAR_PX a character at 12 px), up to
    # half the chart; a label still longer is shortened to what fits, whole in its <title> (issue 21
    # item 9: labels were cut at the chart's left edge).
    longest = max(len(label) for label, _v, _u in items)
    label_w = int(min(max(120, longest * CHAR_PX + 12), width * 0.5))
    fits = int((label_w - 12) / CHAR_PX)
    height = row * len(items) + 8
    top = max((v for _l, v, _u in items), default=0) or 1
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for i, (label, value, url) in enumerate(items):
        y = 4 + i * row
        w = (width - label_w - pad) * (value or 0) / top
        shown = format_number(value)
        bar = (f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{PALETTE[0]}">'
               f'<title>{escape(label)}: {shown}</title></rect>'
               f'<text x="{label_w + w + 4:.1f}" y="{y + row - 10}" font-size="12">{shown}</text>')
        parts.append(f'<text x="{label_w - 6}" y="{y + row - 10}" font-size="12" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(_short(label, fits))}</text>' + _link(url, bar))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text is escaped above


def line_chart(series: dict[str, list[tuple[int, float | None]]], *, title: str, width: int = 560,
               height: int = 220) -> SafeString:
    """Trend lines over years, one per series; a legend below."""
    points = [v for values in series.values() for _x, v in values if v is not None]
    xs = sorted({x for values in series.values() for x, _v in values})
    if not points or not xs:
        return mark_safe("")  # noqa: S308 — constant
    left, right, top_pad, bottom = 60, 20, 10, 40
    top = max(points) or 1
    span = max(len(xs) - 1, 1)

    def px(x: int) -> float:
        return left + (width - left - right) * (xs.index(x) / span)

    def py(v: float) -> float:
        return top_pad + (height - top_pad - bottom) * (1 - v / top)

    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height + 20 * len(series)}" '
             f'width="100%"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - right}" y2="{py(0):.1f}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{py(top) + 4:.1f}" font-size="11" text-anchor="end">{format_number(top)}</text>',
             f'<text x="{left - 4}" y="{py(0) + 4:.1f}" font-size="11" text-anchor="end">0</text>']
    parts.extend(f'<text x="{px(x):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">{x}</text>'
                 for x in xs)
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        known = [(x, v) for x, v in values if v is not None]
        path = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in known)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for x, v in known:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{color}">'
                         f'<title>{escape(name)} {x}: {format_number(v)}</title></circle>')
        ly = height + 20 * i
        parts.append(f'<rect x="{left}" y="{ly - 9}" width="12" height="4" fill="{color}"/>'
                     f'<text x="{left + 18}" y="{ly - 4}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text is escaped above


def point_map(points: Sequence[dict[str, Any]], *, title: str, width: int = 420, height: int = 460) -> SafeString:
    """Communes as circles at their coordinates, area proportional to the value.
    points: {"name", "lat", "lon", "value", "url"}; points without coordinates are left out."""
    located = [p for p in points if p.get("lat") is not None and p.get("lon") is not None]
    if not located:
        return mark_safe("")  # noqa: S308 — constant
    lats = [p["lat"] for p in located]
    lons = [p["lon"] for p in located]
    pad = 20
    lat0, lat1 = min(lats), max(lats)
    lon0, lon1 = min(lons), max(lons)
    sx = (width - 2 * pad) / ((lon1 - lon0) or 1)
    sy = (height - 2 * pad) / ((lat1 - lat0) or 1)
    scale = min(sx, sy)
    top = max((p["value"] or 0) for p in located) or 1
    parts = [f'<svg class="chart map" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%"><title>{escape(title)}</title>']
    for p in sorted(located, key=lambda p: -(p["value"] or 0)):  # small circles drawn last, on top
        x = pad + (p["lon"] - lon0) * scale
        y = pad + (lat1 - p["lat"]) * scale
        r = 2 + 14 * ((p["value"] or 0) / top) ** 0.5
        circle = format_html('<circle cx="{}" cy="{}" r="{}" fill="#0b5394" fill-opacity=".45" stroke="#0b5394">'
                             "<title>{}: {}</title></circle>", f"{x:.1f}", f"{y:.1f}", f"{r:.1f}", p["name"],
                             format_number(p["value"]))
        parts.append(_link(p.get("url"), str(circle)))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text is escaped above


# The width of a character of the charts' 12 px sans-serif text, generously (Vietnamese letters with
# their marks are no wider than Latin ones).
CHAR_PX = 7.0


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
