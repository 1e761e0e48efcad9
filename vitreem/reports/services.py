"""Writes of the reports app: generate a report (stored with its parameters and time) and upload the
province's Word template. Long generation runs as a background job (vitreem.core.jobs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change
from vitreem.core.errors import PermissionDenied, ValidationFailed
from vitreem.core.scope import scope_for

from .models import Format, GeneratedReport, ReportTemplate
from .render import DEFAULT_TEMPLATE, render_docx, render_pdf, template_check
from .tables import tables_xlsx

CONTENT_TYPES = {
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.PDF: "application/pdf",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def require_template_admin(user: User) -> None:
    # The standing agency (province officers) owns the report's wording.
    if not scope_for(user).standing_agency:
        raise PermissionDenied(_("Chỉ cán bộ cơ quan thường trực cấp tỉnh được thay mẫu báo cáo."))


def format_clean(fmt: str) -> str:
    if fmt not in Format.values:
        raise ValidationFailed({"format": _("Định dạng %(f)s không hỗ trợ (dùng docx, pdf hoặc xlsx).") % {"f": fmt}})
    return fmt


def active_template() -> tuple[ReportTemplate | None, Path | bytes]:
    """The newest template that passed the check, else the default shipped with vitreem."""
    tpl = ReportTemplate.objects.filter(valid=True).first()
    if tpl is not None:
        try:
            with tpl.file.open("rb") as fh:
                return tpl, fh.read()
        except OSError:
            pass  # the file is gone: fall back to the default rather than fail the report
    return None, DEFAULT_TEMPLATE


def report_build(*, year: Any, unit: Any, fmt: str, user: User | None = None) -> tuple[bytes, dict[str, Any]]:
    """The report's bytes and the parameters it was built from (no write)."""
    from .data import report_data

    fmt = format_clean(fmt)
    ctx = report_data(year=year, unit=unit, user=user)
    params = {"year": ctx["year"], "unit": ctx["unit_ref"], "format": fmt, "as_of": ctx["as_of"]}
    if fmt == Format.XLSX:
        from vitreem.places.selectors import unit_resolve

        return tables_xlsx(year=ctx["year"], unit=unit_resolve(ctx["unit_ref"]), user=user), params
    if fmt == Format.PDF:
        return render_pdf(ctx), params
    tpl, source = active_template()
    params["template"] = tpl.name if tpl else "default"
    return render_docx(ctx, source), params


@transaction.atomic
def report_generate(*, actor: User, year: Any, unit: Any, fmt: str) -> GeneratedReport:
    """Build the report as `actor` (their scope) and keep it with its parameters and time."""
    from vitreem.places.selectors import unit_resolve

    started = time.perf_counter()
    data, params = report_build(year=year, unit=unit, fmt=fmt, user=actor)
    unit_obj = unit_resolve(params["unit"])
    tpl = ReportTemplate.objects.filter(name=params.get("template"), valid=True).first() if "template" in params else None
    report = GeneratedReport(kind="annual", year=params["year"], unit=unit_obj, format=fmt, params=params,
                             created_by=actor if getattr(actor, "pk", None) else None, template=tpl)
    report.seconds = round(time.perf_counter() - started, 2)
    report.file.save(f"bao-cao-tre-em-{params['year']}-{unit_obj.code}.{fmt}", ContentFile(data), save=False)
    report.save()
    audit_change(actor=actor, action="report.generate", obj=report, unit=unit_obj, changes=params)
    return report


def report_request(*, actor: User, year: Any, unit: Any, fmt: str):
    """Check the request now (so bad input gets its message at once), then generate in the background."""
    from vitreem.core.jobs import job_start
    from vitreem.stats.engine import params_for
    from vitreem.stats.selectors import unit_for_user, year_clean

    from .tasks import report_generate_task

    fmt = format_clean(fmt)
    year = year_clean(year)
    unit_obj = unit_for_user(actor, unit or None, day=params_for(year=year).as_of)
    with transaction.atomic():
        return job_start(kind="reports.annual", owner=actor, task=report_generate_task, total=3,
                         user_id=actor.pk, year=year, unit=unit_obj.ref, fmt=fmt)


@transaction.atomic
def template_upload(*, actor: User, name: str, data: bytes) -> ReportTemplate:
    """Accept a Word template only if it renders the report; otherwise raise with the placeholder at
    fault and keep the current one (nothing is written)."""
    require_template_admin(actor)
    if not data:
        raise ValidationFailed({"file": _("Hãy chọn tệp mẫu Word (.docx).")})
    template_check(data)
    tpl = ReportTemplate(name=(name or "mau-bao-cao.docx")[:200], valid=True,
                         uploaded_by=actor if getattr(actor, "pk", None) else None)
    tpl.file.save(Path(tpl.name).name or "mau.docx", ContentFile(data), save=False)
    tpl.save()
    audit_change(actor=actor, action="report_template.upload", obj=tpl, changes={"name": tpl.name})
    return tpl


def reports_for_user(*, user: User):
    """Generated reports the user may download: their own, and for province-wide roles all of them."""
    scope = scope_for(user)
    qs = GeneratedReport.objects.select_related("unit", "created_by")
    if scope.province_wide:
        return qs.filter(unit_id__in_ids=scope.unit_ids)
    return qs.filter(created_by=user)
