"""Bar chart labels fit the chart (issue 21 item 9: long labels were cut off at its left edge)."""

from __future__ import annotations

import re

from vitreem.stats.charts import CHAR_PX, bar_chart


def _labels(svg: str) -> list[tuple[float, str]]:
    return [(float(x), text) for x, text in re.findall(
        r'<text x="([\d.]+)"[^>]*text-anchor="end"><title>[^<]*</title>([^<]*)</text>', svg)]


def test_every_label_fits_left_of_its_bar():
    items = [("Trẻ em có hoàn cảnh đặc biệt thuộc hộ nghèo ở xã đặc biệt khó khăn", 120, None),
             ("Trẻ em bị xâm hại", 7, None), ("Trẻ em khuyết tật nặng và đặc biệt nặng", 40, None)]
    labels = _labels(str(bar_chart(items, title="Nhóm")))
    assert len(labels) == 3
    for x, text in labels:
        assert len(text) * CHAR_PX <= x, (x, text)  # the text, drawn leftwards from x, stays inside
    assert labels[1][1] == "Trẻ em bị xâm hại"  # a short label is whole
    assert labels[0][1].endswith("…")  # one longer than half the chart is shortened, whole in its <title>


def test_the_whole_label_is_in_its_title():
    svg = str(bar_chart([("Một nhãn rất dài " * 5, 1, None)], title="t"))
    assert "<title>" + ("Một nhãn rất dài " * 5) + "</title>" in svg
