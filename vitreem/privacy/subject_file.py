"""The child's own file (.pdf): what vitreem holds about the child and who viewed it — the answer to an
access request (Law 91/2025/QH15, Art. 4(1)(c)–(d), Art. 15(2)(a): provided to the data subject, through
the legal representative for a child, Art. 24(2))."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from vitreem.core.audit import audit_access

from .selectors import subject_file_data

PDF_FONTS = '"Times New Roman", "Liberation Serif", "DejaVu Serif"'


def subject_file_html(data: dict) -> str:
    return render_to_string("privacy/subject_file.html", {**data, "fonts": PDF_FONTS, "now": timezone.now()})


def subject_file_pdf(*, user, child_id: int) -> tuple[bytes, dict]:
    """The PDF and the data it holds. The access row (action `export`, like every export) says who took the
    child's file out, and when: the export log (breach response) lists it with the other exports."""
    from weasyprint import HTML

    data = subject_file_data(user=user, child_id=child_id)
    pdf = HTML(string=subject_file_html(data)).write_pdf()
    child = data["child"]
    audit_access(actor=user, obj=child, unit=child.unit_id, action="export")
    return pdf, data
