"""Reporting periods: "2022Q1"…"2022Q4", "2022H1"/"2022H2", "2022" — their dates and deadlines."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError

from .models import PeriodType

_PERIOD_RE = re.compile(r"^(\d{4})(?:(Q)([1-4])|(H)([12]))?$")


@dataclass(frozen=True)
class Period:
    code: str
    type: str
    start: dt.date
    end: dt.date

    @property
    def year(self) -> int:
        return self.start.year

    def due_on(self, deadline_days: int) -> dt.date:
        return self.end + dt.timedelta(days=deadline_days)

    @property
    def label(self) -> str:
        if self.type == PeriodType.QUARTER:
            return _("Quý %(q)s/%(y)s") % {"q": self.code[-1], "y": self.year}
        if self.type == PeriodType.HALF:
            return (_("6 tháng đầu năm %(y)s") if self.code.endswith("H1") else _("6 tháng cuối năm %(y)s")) % {
                "y": self.year}
        return _("Năm %(y)s") % {"y": self.year}


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_parse(code: str) -> Period:
    m = _PERIOD_RE.match((code or "").strip().upper())
    if not m:
        raise DomainError(_("Kỳ báo cáo không hợp lệ: %(p)s (ví dụ: 2022Q1, 2022H2, 2022).") % {"p": code},
                          field="period")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(3))
        return Period(f"{year}Q{q}", PeriodType.QUARTER, dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
    if m.group(4):
        h = int(m.group(5))
        return Period(f"{year}H{h}", PeriodType.HALF, dt.date(year, 6 * h - 5, 1), _month_end(year, 6 * h))
    return Period(str(year), PeriodType.YEAR, dt.date(year, 1, 1), dt.date(year, 12, 31))


def periods_of_year(period_type: str, year: int) -> list[Period]:
    if period_type == PeriodType.QUARTER:
        return [period_parse(f"{year}Q{q}") for q in range(1, 5)]
    if period_type == PeriodType.HALF:
        return [period_parse(f"{year}H{h}") for h in (1, 2)]
    return [period_parse(str(year))]


def period_previous(period: Period) -> Period:
    if period.type == PeriodType.QUARTER:
        q = int(period.code[-1])
        return period_parse(f"{period.year}Q{q - 1}" if q > 1 else f"{period.year - 1}Q4")
    if period.type == PeriodType.HALF:
        return period_parse(f"{period.year}H1" if period.code.endswith("H2") else f"{period.year - 1}H2")
    return period_parse(str(period.year - 1))
