"""The anonymised export: figures any role that reads child figures may take out (issue 15 item 8).

No names, no IDs, no dates of birth: children counted per commune (by residence on the day), age band
and sex, with how many of them are in special circumstances. A cell under 5 is written "<5" (a small
count can point at a child in a small commune); the file has no totals, so a suppressed cell cannot be
recovered by subtraction. Once de-identified the figures are no longer personal data (Law 91/2025/QH15,
Art. 2(1)); aggregating is the state's own analysis (Art. 11(2)).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.cells import csv_cell
from vitreem.core.errors import PermissionDenied
from vitreem.core.scope import scope_for
from vitreem.registry.models import Child, Residence, Sex
from vitreem.registry.rules import covers, q_special_on

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"
# Age bands (completed years on the day): under 3, 3–5, 6–10, 11–15.
BANDS = [(0, 2), (3, 5), (6, 10), (11, 15)]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def band_label(i: int) -> str:
    low, high = BANDS[i]
    return f"{low}–{high}"


def suppress(n: int) -> int | str:
    return SUPPRESSED if n < SUPPRESS_BELOW else n


def anonymised_rows(*, user, day: dt.date) -> list[dict[str, Any]]:
    """One row per (commune, age band, sex) with children, counted from the user's units."""
    scope = scope_for(user)
    if not scope.read_children or not scope.unit_ids:
        raise PermissionDenied(_("Tài khoản của bạn không được xem số liệu trẻ em."), code="no_child_figures")
    # Band i: born after day − (high+1) years and on or before day − low years.
    whens = [When(child__birth_date__gt=_years_before(day, high + 1), child__birth_date__lte=_years_before(day, low),
                  then=Value(i)) for i, (low, high) in enumerate(BANDS)]
    child_on = (Q(child__birth_date__lte=day) & Q(child__birth_date__gt=_years_before(day, 16))
                & (Q(child__ended_on__isnull=True) | Q(child__ended_on__gt=day)) & ~Q(child__end_reason="merged"))
    special_ids = Child.objects.filter(q_special_on(day)).values("pk")
    qs = (Residence.objects.filter(covers(day), child_on, unit_id__in=scope.unit_ids)
          .annotate(band=Case(*whens, output_field=IntegerField()))
          .values("unit__code", "unit__name", "unit__version", "band", "child__sex")
          .annotate(children=Count("child_id", distinct=True),
                    special=Count("child_id", distinct=True, filter=Q(child_id__in=special_ids)))
          .order_by("unit__code", "band", "child__sex"))
    sexes = {value: str(label) for value, label in Sex.choices}
    return [{"unit_code": r["unit__code"], "unit": r["unit__name"], "band": band_label(r["band"]),
             "sex": sexes.get(r["child__sex"], r["child__sex"]), "children": suppress(r["children"]),
             "special": suppress(r["special"])} for r in qs if r["band"] is not None]


HEADERS = ["Mã đơn vị", "Đơn vị", "Nhóm tuổi", "Giới tính", "Số trẻ em", "Trẻ em có hoàn cảnh đặc biệt"]
FIELDS = ["unit_code", "unit", "band", "sex", "children", "special"]


def anonymised_bytes(rows: list[dict[str, Any]], *, fmt: str, day: dt.date) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow([csv_cell(row[f]) for f in FIELDS])
        return out.getvalue().encode("utf-8")
    import xlsxwriter

    from vitreem.core.cells import xlsx_write_row

    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(path)
        sheet = book.add_worksheet("So lieu an danh")
        bold = book.add_format({"bold": True})
        xlsx_write_row(sheet, 0, 0, [_("Số trẻ em theo xã, nhóm tuổi, giới tính tại ngày %(d)s; ô dưới 5 ghi <5")
                                     % {"d": day.strftime("%d/%m/%Y")}], bold)
        xlsx_write_row(sheet, 1, 0, HEADERS, bold)
        for i, row in enumerate(rows, start=2):
            for col, f in enumerate(FIELDS):
                value = row[f]
                if isinstance(value, int):
                    sheet.write_number(i, col, value)
                else:
                    sheet.write_string(i, col, str(value))
        book.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def day_for_year(year: int) -> dt.date:
    today = timezone.localdate()
    return today if year >= today.year else dt.date(year, 12, 31)
