"""Draw the app's icons (a white heart on the site's blue) with Pillow: `python -m vitreem.field.icons`.

Writes static/field/icons/icon-192.png, icon-512.png (rounded square) and maskable-512.png (full bleed,
the heart inside the 80 % safe zone Android's masks keep). Drawn four times larger and scaled down, so
the edges are smooth. Deterministic: the same files every run.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (11, 83, 148, 255)  # --accent in site.css
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent / "static" / "field" / "icons"
SUPERSAMPLE = 4


def _heart(size: int, scale: float) -> list[tuple[float, float]]:
    """The classic parametric heart, centred, `scale` of the icon's width."""
    points = []
    for i in range(360):
        t = 2 * math.pi * i / 360
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((x, -y))
    k = scale * size / 34  # the curve is 32 wide
    cy = size / 2 + 0.04 * size
    return [(size / 2 + x * k, cy + y * k) for x, y in points]


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BLUE)
        pen.polygon(_heart(big, 0.5), fill=WHITE)
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BLUE)
        pen.polygon(_heart(big, 0.66), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
