"""Deadline notices: in-app (Notification rows shown on the home page) and e-mail when the owner
has an address. Run by the task `deadlines_notify` (see tasks.py) or `vitreem cases_notify`."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .deadlines import due_soon_hours
from .models import OPEN_STATUSES, Case, Notification

DUE_LABELS = {
    "emergency": _("can thiệp khẩn cấp (12 giờ)"),
    "isolation": _("hết hạn cách ly tạm thời"),
    "plan": _("lập kế hoạch hỗ trợ, can thiệp"),
    "review": _("rà soát kế hoạch"),
}


def due_label(kind: str) -> str:
    return str(DUE_LABELS.get(kind, kind))


def deadline_notifications_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Create one notice per case, deadline and kind (due soon / overdue) for the case owner.
    Idempotent: running it twice sends nothing new."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=int(getattr(settings, "VITREEM_CASE_DUE_SOON_HOURS", 48)))
    created = emailed = 0
    cases = (Case.objects.filter(status__in=OPEN_STATUSES, next_due_at__lte=horizon)
             .select_related("owner", "unit"))
    for case in cases.iterator(chunk_size=500):
        if case.next_due_at is None:
            continue
        if case.next_due_at > now + dt.timedelta(hours=due_soon_hours(case.unit)):
            continue
        kind = "overdue" if case.next_due_at <= now else "due_soon"
        when = timezone.localtime(case.next_due_at).strftime("%H:%M %d/%m/%Y")
        if kind == "overdue":
            message = _("Vụ việc %(c)s đã quá hạn %(k)s (hạn %(t)s).")
        else:
            message = _("Vụ việc %(c)s sắp đến hạn %(k)s (hạn %(t)s).")
        message = message % {"c": case.code, "k": due_label(case.next_due_kind), "t": when}
        try:
            with transaction.atomic():
                notice = Notification.objects.create(user=case.owner, case=case, kind=kind,
                                                     due_kind=case.next_due_kind, due_at=case.next_due_at,
                                                     message=message)
        except IntegrityError:
            continue
        created += 1
        if case.owner.email:
            # The message names the case code only: no child's name leaves the system by e-mail.
            send_mail(subject=f"[vitreem] {message}", message=message, from_email=None,
                      recipient_list=[case.owner.email], fail_silently=True)
            Notification.objects.filter(pk=notice.pk).update(emailed=True)
            emailed += 1
    return {"created": created, "emailed": emailed}


def notifications_for_user(*, user, unread_only: bool = True):
    qs = Notification.objects.filter(user=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs
