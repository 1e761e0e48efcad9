"""Reports API (mounted at /api/reports/): request an annual report in the background, list them."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema, Status

from .services import report_request, reports_for_user

router = Router(tags=["reports"])


class ReportIn(Schema):
    year: int
    unit: str = ""
    format: str = "docx"


class JobOut(Schema):
    task_id: str
    status_url: str


class ReportOut(Schema):
    id: int
    year: int
    unit: str
    format: str
    created_at: str
    download_url: str


@router.post("/annual", response={202: JobOut})
def annual_request(request, body: ReportIn) -> Status[dict[str, str]]:
    from vitreem.stats.selectors import require_figures

    require_figures(request.user)
    status = report_request(actor=request.user, year=body.year, unit=body.unit or None, fmt=body.format)
    return Status(202, {"task_id": str(status.pk), "status_url": f"/tasks/{status.pk}/"})


@router.get("/", response=list[ReportOut])
def report_list(request) -> list[dict[str, Any]]:
    return [{"id": r.pk, "year": r.year, "unit": r.unit.ref, "format": r.format, "created_at": r.created_at.isoformat(),
             "download_url": f"/reports/{r.pk}/download/"} for r in reports_for_user(user=request.user)[:100]]
