"""Turning the report's content into files: .docx (docxtpl, from the province's Word template),
.pdf (WeasyPrint, from an HTML rendering in the same layout) and .xlsx (the statistical tables)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError

DEFAULT_TEMPLATE = Path(__file__).parent / "templates_docx" / "bao_cao_nam.docx"
# Placeholders a template must keep: without the opening paragraph the report says nothing.
REQUIRED_PLACEHOLDERS = ["opening_paragraph", "year"]


class TemplateBroken(DomainError):
    code = "template_broken"


def _sample_context() -> dict[str, Any]:
    """Every placeholder the report provides, with sample values, to test a template against."""
    row = {"no": "1", "name": "—", "cells": ["0"] * 6, "values": {}, "label": "—", "value": "0", "prev": "0",
           "change": "", "code": "1", "target": "0", "status": "—", "owner": "—", "tasks": "0/0", "reports": "0/0",
           "indicators": "0/0", "rating": "—"}
    text = ["—"]
    return {"year": 2022, "next_year": 2023, "as_of": "31/12/2022", "unit_name": "—", "unit_ref": "legacy:62",
            "issuing_parent": "—", "issuing_body": "—", "number": "—", "place_date": "—", "title": "—",
            "subtitle": "—", "figures": {}, "prev_figures": {}, "opening_paragraph": "—",
            "situation_paragraphs": text, "headline_rows": [row], "assistance_paragraphs": text,
            "cases_paragraphs": text, "communication_paragraphs": text, "targets_paragraphs": text,
            "limitations": text, "directions": text, "annex_unit_headers": ["—"] * 6, "annex_units": [row],
            "annex_total": row, "annex_groups": [row], "annex_targets": [row], "annex_members": [row],
            "targets_note": "", "members_note": "", "generated_at": "—",
            "standing_agency": "—", "standing_agency_paragraph": "—", "standing_agency_recipient": "—",
            "annex_member_units": [{"no": "1", "name": "—", "period": "—", "note": ""}],
            "annex_charts": [{"title": "—", "image": ""}]}


def template_check(data: bytes) -> None:
    """Refuse a Word template that cannot produce the report, naming the problem (TemplateBroken)."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateSyntaxError

    try:
        tpl = DocxTemplate(io.BytesIO(data))
        used = tpl.get_undeclared_template_variables()
    except TemplateSyntaxError as exc:
        raise TemplateBroken(_("Mẫu Word có lỗi cú pháp ở trường trộn: %(err)s. Kiểm tra các cặp {{ }} và {%% %%}.")
                             % {"err": exc.message}, field="file") from None
    except Exception as exc:  # not a .docx at all (zip/XML errors of many kinds)
        raise TemplateBroken(_("Tệp không phải mẫu Word (.docx) hợp lệ: %(err)s") % {"err": exc}, field="file") from None
    known = set(_sample_context())
    unknown = sorted(used - known)
    if unknown:
        raise TemplateBroken(_("Mẫu Word dùng trường {{ %(name)s }} không có trong dữ liệu báo cáo.")
                             % {"name": unknown[0]}, field="file")
    missing = [p for p in REQUIRED_PLACEHOLDERS if p not in used]
    if missing:
        raise TemplateBroken(_("Mẫu Word thiếu trường bắt buộc {{ %(name)s }}.") % {"name": missing[0]}, field="file")
    try:
        tpl.render(_sample_context(), autoescape=True)
        tpl.save(io.BytesIO())
    except Exception as exc:
        raise TemplateBroken(_("Mẫu Word không trộn được dữ liệu: %(err)s") % {"err": exc}, field="file") from None


def render_docx(ctx: dict[str, Any], template: Path | bytes | None = None) -> bytes:
    from docxtpl import DocxTemplate

    source: Any = io.BytesIO(template) if isinstance(template, bytes) else (template or DEFAULT_TEMPLATE)
    tpl = DocxTemplate(source)
    # autoescape: a name with "&" or "<" stays text (unescaped it would break the document's XML or
    # inject markup into it).
    tpl.render({**ctx, "annex_charts": _docx_images(tpl, ctx)}, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


CHART_WIDTH_MM = 160  # the A4 text width between the Decree 30 margins (210 − 30 − 15 mm), less a little


def _docx_images(tpl: Any, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """The charts as docxtpl images (an image must be made for the template it goes into)."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    return [{"title": c["title"], "image": InlineImage(tpl, io.BytesIO(c["png"]), width=Mm(CHART_WIDTH_MM))}
            for c in ctx.get("charts", [])]


def render_html(ctx: dict[str, Any]) -> str:
    charts = [{"title": c["title"], "src": "data:image/png;base64," + base64.b64encode(c["png"]).decode()}
              for c in ctx.get("charts", [])]
    return render_to_string("reports/annual_pdf.html", {**ctx, "annex_charts": charts})


def render_pdf(ctx: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_html(ctx), base_url=str(Path(__file__).parent)).write_pdf()
