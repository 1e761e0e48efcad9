"""The report's charts as PNG images (Pillow, already a dependency): Word takes no SVG, so the
dashboard's SVG charts (stats.charts) cannot go into the .docx; the PDF uses the same PNGs so both
documents show the same pictures. Drawn at twice the size and reduced, for smooth edges in print.

Each function returns PNG bytes, or None when there is nothing to draw."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from vitreem.core.text import format_number

PALETTE = ["#0b5394", "#b3261e", "#1e7b34", "#8a5300", "#6a1b9a", "#00838f"]  # as on the dashboard
SCALE = 2  # drawn at 2×, then reduced
# Fonts with Vietnamese letters; the first one found is used (Debian/Ubuntu paths, then others).
FONT_PATHS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size * SCALE)
    return ImageFont.load_default(size * SCALE)  # Pillow's own font: fewer diacritics, but never fails


def _png(img: Image.Image) -> bytes:
    # zlib's default level, not Pillow's `optimize` search: as large a file within 1 %, at half the time
    # (0.9 of 2.2 s for the chart of a province's 273 communes, measured before BAR_LIMIT)
    out = io.BytesIO()
    img.resize((img.width // SCALE, img.height // SCALE), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()


def _nice(value: float) -> float:
    """The axis top: a round multiple of a power of ten at or above `value`, read in four even steps."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 4, 5, 6, 8, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(items: Sequence[tuple[str, float | None]], *, title: str, width: int = 900) -> bytes | None:
    """Horizontal bars with their values: (label, value)."""
    bars: list[tuple[str, float]] = [(label, value or 0) for label, value in items]
    if not bars or not any(v for _l, v in bars):
        return None
    s = SCALE
    row, label_w, pad, head = 30, 420, 90, 44
    height = head + row * len(bars) + 10
    img = Image.new("RGB", (width * s, height * s), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10 * s, 10 * s), title, fill="black", font=_font(16))
    top = max(v for _l, v in bars) or 1
    for i, (label, value) in enumerate(bars):
        y = (head + i * row) * s
        w = (width - label_w - pad) * value / top * s
        draw.text(((label_w - 8) * s, y + 5 * s), _short(label, 52), fill="black", font=_font(13), anchor="ra")
        if w:
            draw.rectangle((label_w * s, y + 3 * s, label_w * s + w, y + (row - 5) * s), fill=PALETTE[0])
        draw.text((label_w * s + w + 6 * s, y + 5 * s), format_number(value), fill="black", font=_font(13))
    return _png(img)


def line_chart(series: dict[str, list[tuple[int, float | None]]], *, title: str, width: int = 900,
               height: int = 380) -> bytes | None:
    """Trend lines over years, one per series, on a gridded axis, with a legend below."""
    points = [v for values in series.values() for _x, v in values if v is not None]
    xs = sorted({x for values in series.values() for x, _v in values})
    if not points or not xs:
        return None
    s = SCALE
    left, right, head, bottom, inset = 90, 40, 50, 50, 40
    legend = 26 * len(series)
    img = Image.new("RGB", (width * s, (height + legend) * s), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10 * s, 10 * s), title, fill="black", font=_font(16))
    top = _nice(max(points))
    span = max(len(xs) - 1, 1)

    def px(x: int) -> float:
        return (left + inset + (width - left - right - 2 * inset) * (xs.index(x) / span)) * s

    def py(v: float) -> float:
        return (head + (height - head - bottom) * (1 - v / top)) * s

    # gridlines with their values (the exact figures are in the annex tables; no labels on the points,
    # where lines of like size would print them over each other)
    for k in range(5):
        v = top * k / 4
        draw.line((left * s, py(v), (width - right) * s, py(v)), fill="#888888" if k == 0 else "#dddddd", width=s)
        draw.text(((left - 8) * s, py(v)), format_number(v), fill="black", font=_font(12), anchor="rm")
    for x in xs:
        draw.text((px(x), py(0) + 8 * s), str(x), fill="black", font=_font(12), anchor="ma")
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        known = [(px(x), py(v)) for x, v in values if v is not None]
        if len(known) > 1:
            draw.line(known, fill=color, width=3 * s)
        for cx, cy in known:
            draw.ellipse((cx - 4 * s, cy - 4 * s, cx + 4 * s, cy + 4 * s), fill=color)
        ly = (height + 26 * i) * s
        draw.rectangle((left * s, ly + 6 * s, (left + 16) * s, ly + 12 * s), fill=color)
        draw.text(((left + 24) * s, ly), name, fill="black", font=_font(13))
    return _png(img)
