"""Case notices: in-app (Notification rows shown on the home page) and e-mail when the recipient
has an address. Deadline notices are sent by the task `deadlines_notify` (scheduled by
`vitreem run_worker`, see schedule.py) or `vitreem cases_notify`; an assignment notice is sent by
`case_reassign` itself."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from vitreem.accounts.models import Role
from vitreem.core.scope import scope_for

from .deadlines import due_soon_hours
from .models import OPEN_STATUSES, Case, Notification

# Lazy: read in the reader's language (they were translated once, at import, in the server's).
DUE_LABELS = {
    "emergency": _l("can thiệp khẩn cấp (12 giờ)"),
    "isolation": _l("hết hạn cách ly tạm thời"),
    "plan": _l("lập kế hoạch hỗ trợ, can thiệp"),
    "approval": _l("phê duyệt kế hoạch hỗ trợ, can thiệp (02 ngày làm việc)"),
    "review": _l("rà soát kế hoạch"),
}
# A notice is written by the worker, read later by someone in their own language: it keeps its facts
# (Notification.params) and is worded when shown (`notice_text`). Keyed by (kind, to the case's owner?).
TEXTS = {
    ("due_soon", False): _l("Vụ việc %(c)s (phụ trách: %(o)s) sắp đến hạn %(k)s (hạn %(t)s)."),
    ("overdue", False): _l("Vụ việc %(c)s (phụ trách: %(o)s) đã quá hạn %(k)s (hạn %(t)s)."),
    ("overdue", True): _l("Vụ việc %(c)s đã quá hạn %(k)s (hạn %(t)s)."),
    ("due_soon", True): _l("Vụ việc %(c)s sắp đến hạn %(k)s (hạn %(t)s)."),
    ("assigned", True): _l("Bạn được giao phụ trách vụ việc %(c)s (người giao: %(u)s)."),
}
# Deadlines whose next step is the commune chairman's decision: the end (or extension, by his
# decision) of temporary isolation — Decree 56/2017, Art. 32(3) — and the approval of the plan within
# 2 working days — Art. 28(4). He is told when they are near and when they are missed; the worker
# who owns the case too. The other deadlines are the worker's.
CHAIRMAN_DUE_KINDS = {"isolation", "approval"}
ASSIGNED = "assigned"


def due_label(kind: str) -> str:
    return str(DUE_LABELS.get(kind, kind))


def notice_text(notice: Notification) -> str:
    """The notice in the language of the request (the stored `message`: notices written before the
    params were kept)."""
    params = notice.params or {}
    template = TEXTS.get((notice.kind, bool(params.get("owner"))))
    if template is None or "c" not in params:
        return notice.message
    return str(template) % {**params, "k": due_label(notice.due_kind)}


def _send(notice: Notification, user) -> bool:
    """E-mail a notice created just now. The message names the case code only: no child's name
    leaves the system by e-mail."""
    if not user.email:
        return False
    send_mail(subject=f"[vitreem] {notice.message}", message=notice.message, from_email=None,
              recipient_list=[user.email], fail_silently=True)
    Notification.objects.filter(pk=notice.pk).update(emailed=True)
    return True


def _overseers() -> tuple[list, dict[int, list]]:
    """Active case supervisors (with their scope) and commune chairmen by unit, read once per run."""
    supervisors = list(_active(Role.CASE_SUPERVISOR))
    chairmen: dict[int, list] = defaultdict(list)
    for user in _active(Role.CHAIRMAN):
        for unit_id in scope_for(user).unit_ids:
            chairmen[unit_id].append(user)
    return supervisors, chairmen


def _active(role: str):
    from vitreem.accounts.models import User

    return User.objects.filter(role=role, is_active=True).prefetch_related("units")


def _recipients(case: Case, kind: str, supervisors: list, chairmen: dict[int, list]) -> list:
    """The owner always; when the next step is the commune chairman's decision, the chairman too
    (near and missed); for an overdue deadline also the province's case supervisors."""
    users = [case.owner]
    if case.next_due_kind in CHAIRMAN_DUE_KINDS:
        users += chairmen.get(case.unit_id, [])
    if kind == "overdue":
        users += [s for s in supervisors if scope_for(s).sees_unit(case.unit_id)]
    unique: dict[int, object] = {}
    for user in users:
        unique.setdefault(user.pk, user)
    return list(unique.values())


def deadline_notifications_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Create one notice per recipient, case, deadline and kind (due soon / overdue).
    Idempotent: running it twice sends nothing new."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=int(getattr(settings, "VITREEM_CASE_DUE_SOON_HOURS", 48)))
    created = emailed = 0
    cases = (Case.objects.filter(status__in=OPEN_STATUSES, next_due_at__lte=horizon)
             .select_related("owner", "unit"))
    supervisors: list | None = None
    chairmen: dict[int, list] = {}
    for case in cases.iterator(chunk_size=500):
        if case.next_due_at is None:
            continue
        if case.next_due_at > now + dt.timedelta(hours=due_soon_hours(case.unit)):
            continue
        kind = "overdue" if case.next_due_at <= now else "due_soon"
        if supervisors is None and (kind == "overdue" or case.next_due_kind in CHAIRMAN_DUE_KINDS):
            supervisors, chairmen = _overseers()
        when = timezone.localtime(case.next_due_at).strftime("%H:%M %d/%m/%Y")
        values = {"c": case.code, "k": due_label(case.next_due_kind), "t": when, "o": case.owner.display_name}
        for user in _recipients(case, kind, supervisors or [], chairmen):
            params = {"c": case.code, "o": case.owner.display_name, "t": when, "owner": user.pk == case.owner_id}
            message = str(TEXTS[(kind, params["owner"])]) % values
            try:
                with transaction.atomic():
                    notice = Notification.objects.create(user=user, case=case, kind=kind,
                                                         due_kind=case.next_due_kind, due_at=case.next_due_at,
                                                         message=message, params=params)
            except IntegrityError:
                continue
            created += 1
            emailed += _send(notice, user)
    return {"created": created, "emailed": emailed}


def assignment_notify(*, case: Case, owner, actor, at: dt.datetime) -> Notification:
    """Tell the new owner that the case is now theirs (called inside the reassignment's transaction;
    the e-mail leaves only once it commits)."""
    params = {"c": case.code, "u": actor.display_name, "owner": True}
    notice = Notification.objects.create(user=owner, case=case, kind=ASSIGNED, due_kind="", due_at=at,
                                         message=str(TEXTS[(ASSIGNED, True)]) % params, params=params)
    transaction.on_commit(lambda: _send(notice, owner))
    return notice


def notifications_for_user(*, user, unread_only: bool = True):
    qs = Notification.objects.filter(user=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs
