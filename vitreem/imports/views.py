"""Pages: import history and upload → preview (table, mapping, first rows, errors) → confirm →
background job → result with the error report; exports of the child list; the blank template."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vitreem.accounts.http import AuthenticatedHttpRequest
from vitreem.core.errors import DomainError
from vitreem.core.jobs import job_start
from vitreem.core.models import TaskStatus
from vitreem.core.scope import require_ability, require_unit, scope_for

from .columns import FIELDS
from .forms import MappingForm, UploadForm
from .models import ImportBatch
from .reading import ReadError
from .selectors import export_filters, export_get_for_user, import_get_for_user, imports_for_user

# Files up to this many rows are checked in full while the user waits; bigger ones in the job.
PREVIEW_FULL_ROWS = 3000
# Exports up to this many children are sent at once; bigger ones are made in the background.
EXPORT_SYNC_ROWS = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"




def _require_read(user) -> None:
    require_ability(user, "read_children", _("Tài khoản của bạn không xem được danh sách trẻ em."))


@login_required
@require_GET
def import_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_read(request.user)
    page = Paginator(imports_for_user(user=request.user), 25).get_page(request.GET.get("page"))
    can_write = scope_for(request.user).write_children
    return render(request, "imports/list.html", {"page": page, "form": UploadForm(user=request.user) if can_write else None,
                                                 "can_write": can_write})


@login_required
@require_POST
def import_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    from .services import import_create

    form = UploadForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_create(actor=request.user, filename=upload.name, content=upload,
                                  default_unit=form.unit_obj(), sheet=form.cleaned_data.get("sheet") or "")
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error("file" if exc.field in (None, "file") else None, str(exc.message))
        else:
            return redirect("imports:preview", batch.pk)
    page = Paginator(imports_for_user(user=request.user), 25).get_page(1)
    return render(request, "imports/list.html", {"page": page, "form": form, "can_write": True}, status=400)


def _preview_rows(table, limit: int = 10) -> list[tuple[int, list[str]]]:
    """The first rows as the import will read them: a column typed in TCVN3 or VNI is shown converted
    (each column's encoding detected on the same sample the import uses)."""
    from vitreem.core.text import detect_column_encoding, to_unicode

    from .engine import ENCODING_SAMPLE
    from .values import cell_text

    width = len(table.headers)
    sample: list[list[str]] = [[] for _ in range(width)]
    first: list[tuple[int, list]] = []
    for seen, (rownum, cells) in enumerate(table.data_rows(), start=1):
        if len(first) < limit:
            first.append((rownum, cells[:width]))
        for i, c in enumerate(cells[:width]):
            if isinstance(c, str) and c and len(sample[i]) < ENCODING_SAMPLE:
                sample[i].append(c)
        if len(first) >= limit and (seen >= ENCODING_SAMPLE or all(len(s) >= ENCODING_SAMPLE for s in sample)):
            break
    encodings = [detect_column_encoding(s) for s in sample]
    return [(rownum, [to_unicode(c, encodings[i])[:80] if isinstance(c, str) and encodings[i] in ("tcvn3", "vni")
                      else cell_text(c)[:80] for i, c in enumerate(cells)]) for rownum, cells in first]


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponse:
    from .services import import_discard, import_execute, import_table, mapping_confirm, mapping_for

    batch = import_get_for_user(user=request.user, import_id=import_id)
    require_unit(request.user, batch.unit)
    if batch.status in (ImportBatch.Status.RUNNING, ImportBatch.Status.DONE):
        return redirect("imports:detail", batch.pk)
    try:
        table = import_table(batch)
    except ReadError as exc:
        batch = import_discard(actor=request.user, batch=batch, reason=str(exc))
        return render(request, "imports/preview.html", {"batch": batch, "read_error": str(exc)}, status=200)
    mapping = mapping_for(batch, table)
    splits = batch.result.get("splits") or {}
    form = MappingForm(request.POST or None, headers=table.headers, mapping=mapping, splits=splits)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "imports/preview.html", {"batch": batch, "form": form, "table": table}, status=400)
        try:
            mapping_confirm(actor=request.user, batch=batch, mapping=form.mapping(), headers=table.headers,
                            unit_choices=form.unit_choices())
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error(None, str(exc.message))
            return render(request, "imports/preview.html", {"batch": batch, "form": form, "table": table}, status=400)
        if "confirm" in request.POST:
            return _start(request, batch, valid_only=request.POST.get("valid_only") == "1")
        messages.success(request, _("Đã lưu cách đọc cột; lần sau tệp có cùng tiêu đề sẽ dùng lại."))
        return redirect("imports:preview", batch.pk)
    total = table.data_end - table.data_start
    checked = None
    if total <= PREVIEW_FULL_ROWS:
        checked = import_execute(actor=request.user, batch=batch, dry_run=True)
        if checked.get("splits") and not splits:
            form = MappingForm(headers=table.headers, mapping=mapping, splits=checked["splits"])
    ctx = {"batch": batch, "form": form, "table": table, "rows": _preview_rows(table), "checked": checked,
           "total": total, "errors": (checked or {}).get("errors", [])[:100],
           "warnings": (checked or {}).get("warnings", [])[:50], "fields": FIELDS}
    return render(request, "imports/preview.html", ctx)


@login_required
@require_POST
def import_drop(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponse:
    """The user gives up an upload: its file is deleted and it leaves the pending quota."""
    from .services import import_discard

    batch = import_get_for_user(user=request.user, import_id=import_id)
    require_unit(request.user, batch.unit)
    import_discard(actor=request.user, batch=batch, reason=_("Người tải lên đã bỏ tệp này."))
    messages.success(request, _("Đã bỏ tệp %(f)s.") % {"f": batch.filename})
    return redirect("imports:list")


def _start(request: AuthenticatedHttpRequest, batch: ImportBatch, *, valid_only: bool) -> HttpResponse:
    from .tasks import import_run

    with transaction.atomic():
        status = job_start(kind="import", owner=request.user, task=import_run, import_id=batch.pk,
                           user_id=request.user.pk, valid_only=valid_only)
        batch.status, batch.task_id, batch.valid_only = ImportBatch.Status.RUNNING, status.pk, valid_only
        batch.save(update_fields=["status", "task_id", "valid_only"])
    return redirect("imports:detail", batch.pk)


@login_required
@require_GET
def import_detail(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponse:
    from .services import import_job_reap

    batch = import_get_for_user(user=request.user, import_id=import_id)
    import_job_reap(batch=batch)  # its worker died: say so, and offer to run it again
    status = TaskStatus.objects.filter(pk=batch.task_id, owner_id=request.user.pk).first() if batch.task_id else None
    result = batch.result or {}
    return render(request, "imports/detail.html", {
        "batch": batch, "status": status, "result": result, "errors": result.get("errors", [])[:200],
        "warnings": result.get("warnings", [])[:100], "running": batch.status == ImportBatch.Status.RUNNING})


@login_required
@require_GET
def import_errors(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponseBase:
    from .report import error_report_write

    batch = import_get_for_user(user=request.user, import_id=import_id)
    buffer = io.BytesIO()
    error_report_write(batch, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"loi-nhap-{batch.pk}.xlsx", content_type=XLSX)


@login_required
@require_GET
def import_template(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    import os
    import tempfile

    from .exporting import template_write

    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        template_write(path)
        with open(path, "rb") as fh:
            data = fh.read()
    finally:
        os.unlink(path)
    return FileResponse(io.BytesIO(data), as_attachment=True, filename="mau-danh-sach-tre-em.xlsx", content_type=XLSX)


# ---------------------------------------------------------------- export

@login_required
@require_GET
def export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    from .exporting import export_bytes
    from .tasks import export_run

    _require_read(request.user)
    from vitreem.privacy.exports import export_audit, require_export_names, units_of

    # Least privilege (issue 15 item 8): a list with names and IDs only for the roles whose work it is.
    require_export_names(request.user)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        return HttpResponse(_("Định dạng phải là xlsx hoặc csv."), status=400)
    query = {k: v for k, v in request.GET.items() if k not in ("format", "page")}
    try:
        _filters, qs = export_filters(request.user, query)
    except DomainError as exc:
        return HttpResponse(str(exc.message), status=400)
    count = qs.count()
    if count > EXPORT_SYNC_ROWS:
        with transaction.atomic():
            status = job_start(kind="export", owner=request.user, task=export_run, total=count, user_id=request.user.pk,
                               query=query, fmt=fmt)
        return redirect("core:task_status", status.pk)
    data, rows = export_bytes(qs, fmt=fmt)
    export_audit(actor=request.user, what="registry.child", rows=rows, filters={**query, "format": fmt},
                 units=units_of(qs))
    content_type = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=f"danh-sach-tre-em.{fmt}",
                        content_type=content_type)


@login_required
@require_GET
def export_download(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponseBase:
    found = export_get_for_user(user=request.user, export_id=export_id)
    from vitreem.core.audit import audit_access
    from vitreem.privacy.exports import require_export_names

    require_export_names(request.user)

    # A list of children leaves the system: who took it, and when.
    audit_access(actor=request.user, obj=found, action="download")
    content_type = XLSX if found.filename.endswith(".xlsx") else "text/csv; charset=utf-8"
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename, content_type=content_type)
