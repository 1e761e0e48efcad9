"""Every read of the privacy app, through the one scope mechanism (core/scope.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access
from vitreem.core.models import AuditEntry
from vitreem.core.scope import get_in_scope, scope_filter, scope_for

from .models import Consent, Purpose, SubjectRequest


def purposes() -> QuerySet[Purpose]:
    return Purpose.objects.filter(active=True)


def requests_for_user(*, user: User, status: str = "", kind: str = "") -> QuerySet[SubjectRequest]:
    """The requests routed to the units the user sees (a commune worker: her commune's queue)."""
    qs = scope_filter(SubjectRequest.objects.select_related("child", "unit"), user)
    if status == "open":
        qs = qs.filter(status__in=[SubjectRequest.Status.RECEIVED, SubjectRequest.Status.ACKNOWLEDGED])
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("due_on", "pk")


def request_get_for_user(*, user: User, request_id: int) -> SubjectRequest:
    req = get_in_scope(SubjectRequest.objects.select_related("child", "unit", "created_by", "answered_by"), user,
                       pk=request_id)
    audit_access(actor=user, obj=req, unit=req.unit_id)
    return req


def consents_for_user(*, user: User, child_id: int | None = None) -> QuerySet[Consent]:
    qs = scope_filter(Consent.objects.select_related("child", "purpose", "recorded_by"), user)
    if child_id:
        qs = qs.filter(child_id=child_id)
    return qs


def consent_get_for_user(*, user: User, consent_id: int) -> Consent:
    return get_in_scope(Consent.objects.select_related("child", "purpose"), user, pk=consent_id)


def access_log(*, child_id: int, case_ids: list[int]) -> QuerySet[AuditEntry]:
    """Who viewed or changed the child's record and cases: the audit rows (detail views are access rows)."""
    return (AuditEntry.objects.filter(Q(object_type="registry.child", object_id=str(child_id))
                                      | Q(object_type="cases.case", object_id__in=[str(c) for c in case_ids]))
            .select_related("actor").order_by("at", "id"))


# Rows of data leaving the system: every export (core.audit.audit_read_list, action "export": child lists,
# payrolls, the anonymised figures; the child's own file is an access row with the same action), downloads
# of a prepared export file, printed case forms.
EXPORT_ACTIONS = Q(action="export") | Q(action="download") | Q(action__startswith="print:")


def exports_log(*, user: User, since: dt.date | None = None, until: dt.date | None = None, actor: str = "",
                unit_id: int | None = None) -> QuerySet[AuditEntry]:
    """Whose data left the system, and when (breach response). Officers see the rows of their units and
    the rows with no unit (a province-wide export) — every row for a province-wide officer."""
    scope = scope_for(user)
    qs = AuditEntry.objects.filter(EXPORT_ACTIONS).select_related("actor", "unit")
    if not scope.province_wide:
        qs = qs.filter(unit_id__in=scope.unit_ids)
    else:
        qs = qs.filter(Q(unit_id__in=scope.unit_ids) | Q(unit__isnull=True))
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    if actor:
        qs = qs.filter(actor__username=actor)
    if unit_id:
        qs = qs.filter(Q(unit_id=unit_id) | Q(changes__units__has_key=str(unit_id)))
    return qs.order_by("-at", "-id")


def overdue_count(*, user: User) -> int:
    return requests_for_user(user=user, status="open").filter(due_on__lt=timezone.localdate()).count()


def subject_file_data(*, user: User, child_id: int) -> dict[str, Any]:
    """What the child's own file holds: the record, the consents, the requests, the access log."""
    from vitreem.cases.models import Case
    from vitreem.registry.selectors import child_get_for_user

    child = child_get_for_user(user=user, child_id=child_id, audit=False)
    cases = list(Case.objects.filter(child=child).order_by("received_at"))
    return {
        "child": child,
        "guardians": list(child.guardians.all()),
        "episodes": list(child.special_episodes.select_related("group", "subgroup").order_by("start")),
        "risks": list(child.risks.select_related("factor").order_by("start")),
        "residences": list(child.residences.select_related("unit").order_by("start")),
        "cases": cases,
        "consents": list(Consent.objects.filter(child=child).select_related("purpose", "recorded_by")),
        "requests": list(SubjectRequest.objects.filter(child=child).order_by("received_on")),
        "log": list(access_log(child_id=child.pk, case_ids=[c.pk for c in cases])),
    }
