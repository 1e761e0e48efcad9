"""Files attached to a case (scans, photos): stored on disk under MEDIA_ROOT, never in the database,
never served as static files (views.attachment_download checks the case's access and audits it).

Limits are settings: VITREEM_CASE_ATTACHMENT_MAX_BYTES (10 MB) and the allowed types below; the
file's first bytes must match its extension, so a renamed executable is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.audit import audit_change
from vitreem.core.errors import ValidationFailed
from vitreem.core.text import nfc

from .models import Attachment, Case, CaseEvent
from .services import case_for_action

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# extension -> (content type, accepted leading bytes)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}


def max_bytes() -> int:
    return int(getattr(settings, "VITREEM_CASE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _check(upload) -> tuple[str, str]:
    name = nfc(getattr(upload, "name", "") or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_TYPES:
        raise ValidationFailed({"file": _("Loại tệp không được phép (%(e)s). Chỉ nhận: %(a)s.")
                                % {"e": ext or "?", "a": ", ".join(sorted(ALLOWED_TYPES))}})
    size = upload.size
    if size > max_bytes():
        raise ValidationFailed({"file": _("Tệp quá lớn (%(s)s MB); tối đa %(m)s MB.")
                                % {"s": round(size / 1048576, 1), "m": round(max_bytes() / 1048576, 1)}})
    if size == 0:
        raise ValidationFailed({"file": _("Tệp rỗng.")})
    content_type, magics = ALLOWED_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise ValidationFailed({"file": _("Nội dung tệp không khớp với đuôi .%(e)s.") % {"e": ext}})
    return name[:200], content_type


@transaction.atomic
def attachment_add(*, actor, case: Case | int, upload, description: str = "") -> Attachment:
    case = case_for_action(actor, case, None, action="attach")
    name, content_type = _check(upload)
    attachment = Attachment(case=case, name=name, content_type=content_type, size=upload.size,
                            description=nfc(description or "")[:255], uploaded_by=actor)
    attachment.file.save(name, upload, save=False)
    # If anything below fails the row is rolled back; remove the file too so no orphan stays on disk.
    try:
        attachment.save()
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.ATTACHMENT, at=timezone.now(), actor=actor,
                                 from_status=case.status, to_status=case.status, text=attachment.name,
                                 data={"attachment": attachment.pk, "size": attachment.size})
        audit_change(actor=actor, action="case.attachment_add", obj=case, unit=case.unit,
                     changes={"attachment": attachment.pk, "name": name, "size": attachment.size})
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment
