"""What a worker's phone may hold, read through the one scope mechanism.

Only what her field work needs goes to the phone: her communes' active children with the fields the
field forms show, the open cases she owns (a summary), her communes' trainings and recreation events
of these weeks, the code tables, and her own held changes. Nothing of another commune: every read
here starts from `children_for_user` / `cases_for_user` / `activities_for_user`, which filter by
`core.scope`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access
from vitreem.core.scope import get_in_scope, scope_filter, scope_for

from .models import FieldChange

# A change committed just before a download but stamped a little earlier must not slip between two
# incremental downloads: each download starts this much before the previous one's server time.
CURSOR_OVERLAP = dt.timedelta(minutes=10)
# The activities a worker may take attendance at offline: those of these weeks.
ACTIVITY_WINDOW = dt.timedelta(days=60)

CHILD_FIELDS = ["id", "version", "full_name", "birth_date", "birth_precision", "sex", "ethnicity", "personal_id",
                "village", "schooling", "school_level", "dropout_date", "disability", "birth_registered",
                "household_head", "special", "risks", "guardians"]


def field_enabled(user: User) -> bool:
    """Field work offline is for the commune child-protection worker."""
    from vitreem.core.scope import scope_for

    return scope_for(user).commune_worker


def scope_key(user: User) -> str:
    """A fingerprint of the account and its scope: the phone erases its data when it changes."""
    scope = scope_for(user)
    raw = f"{user.pk}:{scope.role}:{','.join(str(u) for u in sorted(scope.unit_ids))}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _codes() -> dict[str, list[list[str]]]:
    from vitreem.cases.models import Channel, Concern, Perpetrator
    from vitreem.registry.models import (
        BirthPrecision,
        Disability,
        Ethnicity,
        Guardian,
        RiskFactor,
        Schooling,
        SchoolLevel,
        Sex,
    )

    def choices(cls) -> list[list[str]]:
        return [[str(v), str(label)] for v, label in cls.choices]

    return {
        "ethnicity": [[c, n] for c, n in Ethnicity.objects.order_by("code").values_list("code", "name")],
        "risk_factor": [[c, n] for c, n in RiskFactor.objects.filter(active=True).order_by("code")
                        .values_list("code", "name")],
        "sex": choices(Sex), "birth_precision": choices(BirthPrecision), "schooling": choices(Schooling),
        "school_level": choices(SchoolLevel), "disability": choices(Disability),
        "relationship": choices(Guardian.Relationship), "channel": choices(Channel), "concern": choices(Concern),
        "perpetrator": choices(Perpetrator),
    }


def _children_rows(qs: QuerySet) -> list[list[Any]]:
    """The children of `qs` as rows in CHILD_FIELDS order (five queries whatever their number)."""
    from vitreem.registry.models import ChildRisk, Guardian, SpecialEpisode

    rows = list(qs.order_by("given_key", "name_key", "pk").values_list(
        "pk", "version", "full_name", "birth_date", "birth_precision", "sex", "ethnicity__code", "personal_id",
        "village", "schooling", "school_level", "dropout_date", "disability", "birth_registered",
        "household__head_name"))
    ids = [r[0] for r in rows]
    guardians: dict[int, list[list[Any]]] = {}
    for gid, child_id, name, rel, phone, primary in (Guardian.objects.filter(child_id__in=ids).order_by("pk")
                                                      .values_list("pk", "child_id", "full_name", "relationship",
                                                                   "phone", "is_primary")):
        guardians.setdefault(child_id, []).append([gid, name, rel, phone, primary])
    risks: dict[int, list[str]] = {}
    for child_id, code in ChildRisk.objects.filter(child_id__in=ids, end__isnull=True).values_list(
            "child_id", "factor__code"):
        risks.setdefault(child_id, []).append(code)
    special = set(SpecialEpisode.objects.filter(child_id__in=ids, end__isnull=True)
                  .values_list("child_id", flat=True))
    return [[pk, version, name, _iso(birth), precision, sex, ethnicity or "", pid, village, schooling, level,
             _iso(dropout), disability, registered, head or "", pk in special, sorted(risks.get(pk, [])),
             guardians.get(pk, [])]
            for (pk, version, name, birth, precision, sex, ethnicity, pid, village, schooling, level, dropout,
                 disability, registered, head) in rows]


def _changed_child_ids(user: User, since: dt.datetime) -> set[int]:
    """Children of her scope with a change since `since`, from the audit log: every write to a child
    (screens, API, import, sync; guardians and risks included) leaves a row there."""
    from vitreem.core.models import AuditEntry

    rows = scope_filter(AuditEntry.objects.filter(at__gte=since, object_type="registry.child",
                                                  kind=AuditEntry.Kind.CHANGE), user)
    return {int(i) for i in rows.values_list("object_id", flat=True) if str(i).isdigit()}


def _cases(user: User) -> list[dict[str, Any]]:
    from vitreem.cases.models import OPEN_STATUSES
    from vitreem.cases.selectors import cases_for_user

    rows = (cases_for_user(user).filter(owner=user, status__in=OPEN_STATUSES)
            .select_related("child").order_by("next_due_at", "-received_at"))
    return [{"id": c.pk, "code": c.code, "version": c.version, "child": c.child_id, "child_name": c.child.full_name,
             "status": c.status, "status_label": str(c.get_status_display()), "concern": c.concern,
             "concern_label": str(c.get_concern_display()), "received_at": c.received_at.isoformat(),
             "in_danger": c.in_danger, "next_due_at": c.next_due_at.isoformat() if c.next_due_at else None,
             "next_due_kind": c.next_due_kind} for c in rows]


def _activities(user: User, today: dt.date) -> list[dict[str, Any]]:
    from vitreem.activities.models import Kind, Status
    from vitreem.activities.selectors import activities_for_user

    rows = (activities_for_user(user=user)
            .filter(kind__in=[Kind.TRAINING, Kind.RECREATION], start_date__lte=today + ACTIVITY_WINDOW,
                    end_date__gte=today - ACTIVITY_WINDOW)
            .exclude(status=Status.CANCELLED).order_by("-start_date", "pk"))
    return [{"id": a.pk, "kind": a.kind, "kind_label": str(a.get_kind_display()), "title": a.title,
             "start": a.start_date.isoformat(), "end": a.end_date.isoformat()} for a in rows]


def held_changes_for_user(*, user: User) -> QuerySet[FieldChange]:
    """Her changes waiting for a decision: conflicts she resolves, registrations in the review queue."""
    return FieldChange.objects.filter(user=user, status__in=[FieldChange.Status.CONFLICT,
                                                             FieldChange.Status.REVIEW]).order_by("synced_at")


def held_as_dict(change: FieldChange) -> dict[str, Any]:
    return {"id": str(change.id), "kind": change.kind, "status": change.status,
            "status_label": str(change.get_status_display()), "recorded_at": change.recorded_at.isoformat(),
            "child": change.child_id, "result": change.result}


def snapshot_for(*, user: User, since: dt.datetime | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The worker's data for her phone. Without `since`, everything (first download); with it, the
    children changed since then and the ids of all her children (the phone drops the others)."""
    from vitreem.places.models import AdminUnit
    from vitreem.registry.selectors import children_for_user

    now = now or timezone.now()
    today = timezone.localdate(now)
    scope = scope_for(user)
    children = children_for_user(user=user).select_related(None)
    out: dict[str, Any] = {
        "server_time": now.isoformat(),
        "cursor": (now - CURSOR_OVERLAP).isoformat(),
        "full": since is None,
        "user": {"id": user.pk, "name": user.display_name},
        "scope": {"key": scope_key(user),
                  "units": [{"id": u.pk, "ref": u.ref, "name": u.name, "current": u.valid_on(today)}
                            for u in AdminUnit.objects.filter(pk__in=scope.unit_ids, level="commune")
                            .order_by("version", "code")]},
        "settings": {"wipe_days": settings.VITREEM_FIELD_WIPE_DAYS,
                     "clock_tolerance_minutes": settings.VITREEM_FIELD_CLOCK_TOLERANCE_MINUTES},
        "child_fields": CHILD_FIELDS,
    }
    if since is None:
        out["codes"] = _codes()
        out["children"] = _children_rows(children)
    else:
        changed = _changed_child_ids(user, since)
        out["children"] = _children_rows(children.filter(pk__in=changed)) if changed else []
        out["child_ids"] = list(children.order_by("pk").values_list("pk", flat=True))
    out["cases"] = _cases(user)
    out["activities"] = _activities(user, today)
    out["held"] = [held_as_dict(c) for c in held_changes_for_user(user=user)]
    # The download puts her communes' children on the phone: one access row per commune.
    for unit in AdminUnit.objects.filter(pk__in=scope.unit_ids, level="commune"):
        audit_access(actor=user, obj=unit, unit=unit, action="field.download")
    return out


def review_queue_for_user(*, user: User) -> QuerySet[FieldChange]:
    """Registrations made offline that look like a child already registered, in the user's scope
    (officers see the province's, a worker her communes')."""
    if not scope_for(user).write_children:
        return FieldChange.objects.none()
    return (scope_filter(FieldChange.objects.filter(status=FieldChange.Status.REVIEW), user)
            .select_related("user", "unit").order_by("synced_at"))


def held_change_get_for_user(*, user: User, change_id: Any, status: str) -> FieldChange:
    """One held change in the user's scope (404 otherwise). A conflict is decided by the worker who
    made the change; a duplicate review by anyone who may write in its commune."""
    from django.utils.translation import gettext as _

    from vitreem.core.errors import NotFound

    try:
        pk = uuid.UUID(str(change_id))
    except ValueError:
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None
    qs = FieldChange.objects.filter(status=status).select_related("user", "unit", "child")
    if status == FieldChange.Status.CONFLICT:
        qs = qs.filter(user=user)
    return get_in_scope(qs, user, pk=pk)


def review_candidates(*, user: User, ids: list[int]) -> list:
    """The register's records a held registration may duplicate, as the reviewer may see them; showing
    them writes an access row for each (the review page is their detail view)."""
    from vitreem.registry.selectors import children_for_user

    children = list(children_for_user(user=user).filter(pk__in=ids).select_related("unit", "household", "ethnicity")
                    .prefetch_related("guardians"))
    for child in children:
        audit_access(actor=user, obj=child, unit=child.unit_id, action="field.review")
    return children
