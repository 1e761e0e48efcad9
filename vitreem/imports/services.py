"""Every write of the imports app: an upload, a run (dry or real), a remembered mapping, an export file.

`import_execute` is the one path that writes children from a spreadsheet, for the CLI, the web job
and the API alike: one transaction, all-or-nothing unless `valid_only`, every change audited with
the import as its source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change
from vitreem.core.errors import PermissionDenied, ValidationFailed
from vitreem.core.middleware import source_var
from vitreem.core.scope import require_unit, scope_for
from vitreem.places.models import AdminUnit

from .columns import FIELDS, header_set_key
from .engine import Importer, Outcome
from .models import ExportFile, HeaderMapping, ImportBatch
from .reading import SUFFIXES, ReadError, Table, table_read

MAX_UPLOAD = 60 * 1024 * 1024


class _Rollback(Exception):  # noqa: N818 — control flow, not an error
    pass


def _default_scope_unit(user: User) -> AdminUnit:
    """The unit an import is filed under: the user's widest current unit (scope filters on it)."""
    units = list(user.units.all())
    if not units:
        raise PermissionDenied(_("Tài khoản của bạn chưa được gán đơn vị nào."))
    order = {"province": 0, "district": 1, "commune": 2}
    units.sort(key=lambda u: (order.get(u.level, 3), u.version != "2025", u.code))
    return units[0]


@transaction.atomic
def import_create(*, actor: User, filename: str, content: bytes | File, default_unit: AdminUnit | None = None,
                  sheet: str = "") -> ImportBatch:
    """Keep an uploaded file for preview and import. Refuses other formats, oversized files and a
    default unit outside the user's scope."""
    if not scope_for(actor).write_children:
        raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được nhập danh sách."))
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationFailed({"file": _("Định dạng tệp %(s)s không được hỗ trợ: dùng .xlsx, .xls, .ods hoặc .csv.")
                                % {"s": suffix or "?"}})
    data = content if isinstance(content, bytes) else content.read()
    if not data:
        raise ValidationFailed({"file": _("Tệp rỗng.")})
    if len(data) > MAX_UPLOAD:
        raise ValidationFailed({"file": _("Tệp quá lớn (tối đa 60 MB).")})
    _pending_quota(actor)
    if default_unit is not None:
        require_unit(actor, default_unit)
    unit = default_unit or _default_scope_unit(actor)
    require_unit(actor, unit, write=False)
    batch = ImportBatch(filename=Path(filename).name[:255], sha256=hashlib.sha256(data).hexdigest(), owner=actor,
                        unit=unit, default_unit=default_unit, sheet=sheet)
    batch.file.save(f"{batch.sha256[:16]}{suffix}", ContentFile(data), save=False)
    batch.save()
    audit_change(actor=actor, action="import.upload", obj=batch, unit=unit,
                 changes={"file": batch.filename, "sha256": batch.sha256})
    return batch


def _pending_quota(actor: User) -> None:
    """At most VITREEM_IMPORT_PENDING_PER_USER uploads waiting to be imported per user (issue 20 item 12):
    each keeps its file on disk until it is imported or given up."""
    limit = settings.VITREEM_IMPORT_PENDING_PER_USER
    # Locking the user's row makes two uploads at once count each other.
    from vitreem.accounts.models import User

    User.objects.select_for_update().filter(pk=actor.pk).first()
    pending = ImportBatch.objects.filter(owner=actor, status=ImportBatch.Status.UPLOADED).count()
    if pending >= limit:
        raise ValidationFailed({"file": _("Bạn đang có %(n)s tệp đã tải lên nhưng chưa nhập (tối đa %(n)s): hãy nhập "
                                          "hoặc bỏ bớt các tệp đó trong danh sách trước khi tải tệp mới.") % {"n": limit}})


def import_job_reap(*, batch: ImportBatch) -> bool:
    """An import left "running" by a worker that died (kill -9, a reboot): its job is marked failed
    (core.jobs.jobs_reap) and the upload goes back to waiting, so its page offers to run it again.
    The import is one transaction: nothing of it was written. Returns whether it was reset."""
    from vitreem.core.jobs import WORKER_DIED, jobs_reap
    from vitreem.core.models import TaskStatus

    if batch.status != ImportBatch.Status.RUNNING or not batch.task_id:
        return False
    status = TaskStatus.objects.filter(pk=batch.task_id).first()
    if status is None or not jobs_reap([status]):
        return False
    batch.status = ImportBatch.Status.UPLOADED
    batch.result = {"message": str(WORKER_DIED)}
    batch.save(update_fields=["status", "result"])
    return True


@transaction.atomic
def import_discard(*, actor: User, batch: ImportBatch, reason: str) -> ImportBatch:
    """Give up an upload that will not be imported — unreadable, refused, or dropped by the user — and
    delete its file (issue 20 item 12: a rejected 50 MB file stayed on disk). The batch stays, with
    its name, hash and the reason, so the list says what happened."""
    if batch.status in (ImportBatch.Status.RUNNING, ImportBatch.Status.DONE):
        raise ValidationFailed({"file": _("Lần nhập này đã chạy: tệp được giữ cùng kết quả.")})
    name = batch.file.name
    if name:
        batch.file.delete(save=False)
        batch.file = ""  # the column is not nullable: no file is ""
    batch.status = ImportBatch.Status.FAILED
    batch.result = {**(batch.result or {}), "message": reason}
    batch.finished_at = timezone.now()
    batch.save(update_fields=["file", "status", "result", "finished_at"])
    audit_change(actor=actor, action="import.discard", obj=batch, unit=batch.unit_id,
                 changes={"file": batch.filename, "deleted": name, "reason": reason})
    return batch


def import_table(batch: ImportBatch) -> Table:
    """The table in a batch's file (the sheet chosen, or found)."""
    return table_read(batch.file.path, filename=batch.filename, sheet=batch.sheet or None)


def mapping_for(batch: ImportBatch, table: Table) -> dict[int, str]:
    """The batch's confirmed mapping, else the one remembered for these headers, else the guess."""
    if batch.mapping:
        return {int(k): v for k, v in batch.mapping.items()}
    remembered = HeaderMapping.objects.filter(key=header_set_key(table.headers)).first()
    if remembered:
        return {int(k): v for k, v in remembered.mapping.items() if int(k) < len(table.headers)}
    return dict(table.guessed)


@transaction.atomic
def mapping_confirm(*, actor: User, batch: ImportBatch, mapping: dict[int, str], headers: list[str],
                    unit_choices: dict[str, int] | None = None) -> ImportBatch:
    """The user confirmed (or corrected) the column mapping: keep it on the batch and remember it for
    files with the same headers."""
    require_unit(actor, batch.unit)
    clean = {int(k): v for k, v in mapping.items() if v}
    bad = [v for v in clean.values() if v not in FIELDS]
    if bad:
        raise ValidationFailed({"mapping": _("Trường không hợp lệ: %(v)s.") % {"v": ", ".join(bad)}})
    used = [v for v in clean.values() if v != "seq"]
    twice = sorted({v for v in used if used.count(v) > 1})
    if twice:
        raise ValidationFailed({"mapping": _("Mỗi trường chỉ gán cho một cột (bị gán nhiều lần: %(v)s).")
                                % {"v": ", ".join(str(FIELDS[v]) for v in twice)}})
    if "full_name" not in used and "given_name" not in used:
        raise ValidationFailed({"mapping": _("Cần gán cột Họ và tên.")})
    if unit_choices:
        for unit_id in unit_choices.values():
            require_unit(actor, int(unit_id))
        batch.unit_choices = {k: int(v) for k, v in unit_choices.items()}
    batch.mapping = {str(k): v for k, v in clean.items()}
    batch.save(update_fields=["mapping", "unit_choices"])
    HeaderMapping.objects.update_or_create(key=header_set_key(headers), defaults={
        "headers": headers, "mapping": batch.mapping, "updated_by": actor})
    return batch


def _result(batch: ImportBatch, table: Table, importer: Importer, out: Outcome, written: bool) -> dict[str, Any]:
    return {
        "file": batch.filename,
        "sheet": table.sheet,
        "header_row": table.header_row,
        "encoding": importer.encoding,
        "mapping": {table.headers[i]: f for i, f in sorted(importer.mapping.items())},
        "rows": out.rows,
        "valid": out.valid,
        "invalid": out.invalid,
        "created": out.created if written or batch.dry_run else 0,
        "updated": out.updated if written or batch.dry_run else 0,
        "unchanged": out.unchanged,
        "review": out.review if written or batch.dry_run else 0,
        "written": written,
        "errors": [e.as_dict() for e in out.errors],
    }


def import_execute(*, actor: User, batch: ImportBatch, dry_run: bool = False, valid_only: bool = False,
                   progress=None, today: dt.date | None = None) -> dict[str, Any]:
    """Read, validate, match and (unless `dry_run`) write a batch. Returns the result (the --json shape).

    All-or-nothing by default: if any row is invalid nothing is written. With `valid_only` the valid
    rows are written. Either way it is one transaction: a crash half-way leaves nothing behind.
    """
    require_unit(actor, batch.unit)
    today = today or timezone.localdate()
    batch.dry_run, batch.valid_only = dry_run, valid_only
    try:
        table = import_table(batch)
    except ReadError as exc:  # unreadable or refused: the file is deleted, the batch says why
        batch.result = {"file": batch.filename, "message": str(exc), "written": False, "errors": []}
        import_discard(actor=actor, batch=batch, reason=str(exc))
        raise
    token = source_var.set(batch.source)
    try:
        importer = Importer(table, actor=actor, mapping=mapping_for(batch, table), today=today, source=batch.source,
                            default_unit=batch.default_unit, unit_choices=batch.unit_choices, progress=progress)
        written = False
        try:
            with transaction.atomic():
                out = importer.run(write=not dry_run, valid_only=valid_only)
                written = not dry_run and (valid_only or out.invalid == 0) and out.valid > 0
                if not written:
                    raise _Rollback
                audit_change(actor=actor, action="import.commit", obj=batch, unit=batch.unit,
                             changes={k: getattr(out, k) for k in ("rows", "valid", "invalid", "created", "updated",
                                                                   "unchanged", "review")})
        except _Rollback:
            out = importer.out
    finally:
        source_var.reset(token)
    result = _result(batch, table, importer, out, written)
    result["warnings"] = [w.as_dict() for w in out.warnings]
    result["splits"] = out.splits
    result["encodings"] = {table.headers[i]: e for i, e in importer.encodings.items()}
    result["file_encoding"] = table.file_encoding
    batch.sheet = batch.sheet or table.sheet
    batch.header_row = table.header_row
    batch.result = result
    batch.status = (ImportBatch.Status.DONE if written else ImportBatch.Status.CHECKED if dry_run and not out.invalid
                    else ImportBatch.Status.REJECTED if out.invalid else ImportBatch.Status.CHECKED)
    batch.finished_at = timezone.now()
    batch.save()
    return result


def json_result(result: dict[str, Any]) -> dict[str, Any]:
    """The result as `import_children --json` prints it: exactly the documented keys."""
    keys = ("file", "sheet", "header_row", "encoding", "mapping", "rows", "valid", "invalid", "created", "updated",
            "unchanged", "review", "written", "errors")
    return {k: result.get(k) for k in keys}


@transaction.atomic
def export_file_save(*, actor: User, filename: str, data: bytes, filters: dict[str, Any], rows: int,
                     units: dict[str, int] | None = None) -> ExportFile:
    from vitreem.privacy.exports import export_audit

    export = ExportFile(owner=actor, filename=filename, filters=filters, rows=rows)
    export.file.save(filename, ContentFile(data), save=False)
    export.save()
    export_audit(actor=actor, what="registry.child", rows=rows, filters=filters, units=units,
                 extra={"export_file": export.pk})
    return export
