"""The error report: the file's own rows that have errors or warnings, each with what is wrong, as .xlsx.

The user corrects the rows in it and imports them again (the header row is the original one, so the
same mapping applies).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.cells import xlsx_write_row

from .models import ImportBatch
from .reading import ReadError


def error_report_write(batch: ImportBatch, path_or_buffer: Any) -> int:
    """Write the report; returns the number of rows in it."""
    import xlsxwriter

    from .services import import_table

    errors: dict[int, list[str]] = defaultdict(list)
    warnings: dict[int, list[str]] = defaultdict(list)
    for e in batch.result.get("errors", []):
        errors[e["row"]].append(f"[{e['column']}] {e['message']}")
    for w in batch.result.get("warnings", []):
        warnings[w["row"]].append(f"[{w['column']}] {w['message']}")
    try:
        table = import_table(batch)
        headers, rows = table.headers, {n: cells for n, cells in table.data_rows() if n in errors or n in warnings}
    except ReadError:
        headers, rows = [], {}
    workbook = xlsxwriter.Workbook(path_or_buffer, {"constant_memory": True, "in_memory": not isinstance(path_or_buffer, str)})
    sheet = workbook.add_worksheet(_("Lỗi")[:31])
    bold = workbook.add_format({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#EEF2F6"})
    bad = workbook.add_format({"font_color": "#B3261E", "text_wrap": True})
    date_fmt = workbook.add_format({"num_format": "dd/mm/yyyy"})
    # The file's own headers are text from outside: written as strings, never as formulas.
    xlsx_write_row(sheet, 0, 0, [_("Dòng"), _("Lỗi"), _("Cảnh báo"), *headers], bold)
    sheet.set_column(1, 2, 50)
    n = 0
    for n, rownum in enumerate(sorted(set(errors) | set(warnings)), start=1):
        sheet.write_number(n, 0, rownum)
        sheet.write_string(n, 1, "\n".join(errors.get(rownum, [])), bad)
        sheet.write_string(n, 2, "\n".join(warnings.get(rownum, [])))
        for col, value in enumerate(rows.get(rownum, []), start=3):
            if value in ("", None):
                continue
            if isinstance(value, dt.datetime | dt.date):
                sheet.write_datetime(n, col, value, date_fmt)
            elif isinstance(value, bool):
                sheet.write_boolean(n, col, value)
            elif isinstance(value, int | float):
                sheet.write_number(n, col, value)
            else:
                sheet.write_string(n, col, str(value)[:32000])
    workbook.close()
    return n
