"""Small builders for the activities tests (through the services, so the rules apply)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from vitreem.activities import services


def talk(actor, unit, *, day=dt.date(2022, 3, 15), total=120, children=100, male=60, **extra: Any):
    data = {"title": "Nói chuyện chuyên đề phòng, chống xâm hại trẻ em", "start_date": day, "unit": unit,
            "comm_form": "school_talk", "topic": "violence", "reached_total": total, "reached_children": children,
            "reached_adults": total - children, "reached_male": male, "reached_female": total - male, **extra}
    return services.activity_create(actor=actor, kind="communication", data=data)


def training(actor, unit, *, day=dt.date(2022, 5, 10), **extra: Any):
    data = {"title": "Tập huấn kỹ năng bảo vệ trẻ em cho cộng tác viên", "start_date": day,
            "end_date": day + dt.timedelta(days=1), "unit": unit, "audience": "collaborators", "days": 2,
            "topic": "case_management", **extra}
    return services.activity_create(actor=actor, kind="training", data=data)


def recreation(actor, unit, *, day=dt.date(2022, 6, 1), total=200, **extra: Any):
    data = {"title": "Vui Tết Thiếu nhi 1/6", "start_date": day, "unit": unit, "occasion": "childrens_day",
            "children_total": total, "children_male": total // 2, "children_female": total - total // 2,
            "age_0_5": 50, "age_6_10": 100, "age_11_15": total - 150, "special_children": 10, **extra}
    return services.activity_create(actor=actor, kind="recreation", data=data)


def campaign(actor, unit, *, day=dt.date(2022, 6, 20), **extra: Any):
    data = {"title": "Tháng hành động vì trẻ em", "start_date": day, "end_date": day + dt.timedelta(days=10),
            "unit": unit, "targets": "Giảm tảo hôn; trẻ em đến trường", **extra}
    return services.activity_create(actor=actor, kind="campaign", data=data)


def sheet(rows: list[list[Any]], headings: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    from vitreem.activities.sheets import TEMPLATE_HEADINGS

    book = Workbook()
    ws = book.active
    ws.append(headings or TEMPLATE_HEADINGS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
