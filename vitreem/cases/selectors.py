"""Every read of cases goes through `cases_for_user`: pages, API, documents, attachments, services.

On top of the unit scope (core.scope) it adds the case rules:
- leaders and member-unit reporters never see a case (only counts, through the indicators);
- a referral agency sees a case only while a referral to its member unit is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access
from vitreem.core.errors import NotFound
from vitreem.core.scope import scope_filter, scope_for
from vitreem.registry.selectors import age_band_bounds

from .models import OPEN_STATUSES, Case, CaseEvent, Referral, Status


def cases_for_user(user: User) -> QuerySet[Case]:
    """The cases `user` may read in detail. The one gate: everything else builds on it."""
    scope = scope_for(user)
    if not scope.read_case_details:
        return Case.objects.none()
    in_units = scope_filter(Case.objects.all(), user)
    if scope.referral_agency and scope.member_unit_ids:
        referred = Referral.objects.filter(member_unit_id__in=scope.member_unit_ids, closed_at__isnull=True)
        return Case.objects.filter(Q(pk__in=in_units.values("pk")) | Q(pk__in=referred.values("case_id")))
    return in_units


def case_get_for_user(*, user: User, case_id: Any, audit: bool = True, for_update: bool = False) -> Case:
    """One case the user may see (404 otherwise); opening it writes an access row."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise NotFound(_("Không tìm thấy vụ việc hoặc bạn không có quyền xem.")) from None
    if not cases_for_user(user).filter(pk=pk).exists():
        raise NotFound(_("Không tìm thấy vụ việc hoặc bạn không có quyền xem."))
    qs = Case.objects.select_related("child", "child__ethnicity", "unit", "owner")
    case = (qs.select_for_update(of=("self",)) if for_update else qs).get(pk=pk)
    if audit:
        audit_access(actor=user, obj=case, unit=case.unit_id)
    return case


def mask_name(full_name: str) -> str:
    """"Nguyễn Thị Hoa" → "N. T. H." — for lists read by people outside the commune."""
    return " ".join(f"{part[0]}." for part in full_name.split() if part)


def names_visible(user: User) -> bool:
    """Names appear in full on lists only for the commune's own people; others see initials
    (and the full name on the case page, whose opening is audited)."""
    return scope_for(user).commune_staff


# {(the scope's units, language): (the unit tree's stamp, [(pk, label)])}: the case list's commune filter of a
# province-wide user lists its ~400 communes, read and built on every visit (a third of the province's
# case list, profiled). Kept per process while the unit tree does not change, like the child list's.
_COMMUNE_CHOICES: dict[tuple[frozenset[int], str], Any] = {}


def commune_choices(user: User) -> Sequence[tuple[str, str]]:
    """[(pk, label)] of the communes of a province-wide user's scope, both versions (the case list's
    filter), as `Options` (their tags escaped once, kept with them); [] for anyone else."""
    from django.utils.translation import get_language

    from vitreem.places.models import AdminUnit
    from vitreem.places.selectors import kept_while_tree_unchanged
    from vitreem.registry.forms import Options, unit_label

    scope = scope_for(user)
    if not scope.province_wide:
        return []

    def read() -> Options:
        communes = AdminUnit.objects.filter(pk__in_ids=scope.unit_ids, level="commune").order_by("version", "name")
        return Options([(str(u.pk), unit_label(u, indent_level=False)) for u in communes.only("version", "level", "name")])

    return kept_while_tree_unchanged(_COMMUNE_CHOICES, (scope.unit_ids, get_language() or ""), read, limit=1000)


def case_list(*, user: User, status: str = "", concern: str = "", unit: str = "", age_band: str = "", sex: str = "",
              ethnicity: str = "", overdue: str = "", mine: bool = False, q: str = "",
              now: dt.datetime | None = None) -> QuerySet[Case]:
    """The caseload with the filters of the province page (and the API)."""
    now = now or timezone.now()
    qs = cases_for_user(user).select_related("child", "unit", "owner")
    if mine:
        qs = qs.filter(owner=user)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in Status.values:
        qs = qs.filter(status=status)
    if concern == "abuse":  # every form of abuse, Law on Children Art. 4(5) (the indicator's drill-down)
        from .rules import q_founded_abuse

        qs = qs.filter(q_founded_abuse())
    elif concern:
        qs = qs.filter(concern=concern)
    if unit:
        from vitreem.places.models import AdminUnit
        from vitreem.places.selectors import descendant_ids

        found = AdminUnit.objects.filter(pk=unit).first() if str(unit).isdigit() else None
        qs = qs.filter(unit_id__in=descendant_ids([found])) if found else qs.none()
    if age_band:
        bounds = age_band_bounds(age_band, timezone.localdate())
        if bounds:
            qs = qs.filter(child__birth_date__range=bounds)
    if sex:
        qs = qs.filter(child__sex=sex)
    if ethnicity:
        qs = qs.filter(child__ethnicity__code=ethnicity)
    if overdue == "1":
        qs = qs.filter(next_due_at__lte=now)
    if q:
        from vitreem.core.text import fold

        qs = qs.filter(Q(code__icontains=q.strip()) | Q(child__name_key__contains=fold(q)))
    return qs.order_by("-received_at", "-pk")


def cases_overdue(*, user: User, now: dt.datetime | None = None, mine: bool = False) -> QuerySet[Case]:
    now = now or timezone.now()
    qs = cases_for_user(user).filter(status__in=OPEN_STATUSES, next_due_at__lte=now)
    if mine:
        qs = qs.filter(owner=user)
    return qs.select_related("child", "unit", "owner").order_by("next_due_at")


def cases_due_soon(*, user: User, now: dt.datetime | None = None, hours: int = 48, mine: bool = False) -> QuerySet[Case]:
    now = now or timezone.now()
    qs = cases_for_user(user).filter(status__in=OPEN_STATUSES, next_due_at__gt=now,
                                     next_due_at__lte=now + dt.timedelta(hours=hours))
    if mine:
        qs = qs.filter(owner=user)
    return qs.select_related("child", "unit", "owner").order_by("next_due_at")


def cases_due_first(*, user: User, now: dt.datetime | None = None, hours: int = 48, mine: bool = False,
                    first: int = 10) -> dict[str, tuple[list[Case], int]]:
    """The home page's two work lists in one query: {"overdue": (its first `first` cases, how many),
    "due_soon": (the same)} — `cases_overdue` and `cases_due_soon` with their counts, in their order.
    Two lists and their counts were four queries over the user's units (hundreds for a province)."""
    from django.db.models import BooleanField, Count, ExpressionWrapper, F, Window
    from django.db.models.functions import RowNumber

    now = now or timezone.now()
    qs = cases_for_user(user).filter(status__in=OPEN_STATUSES, next_due_at__lte=now + dt.timedelta(hours=hours))
    if mine:
        qs = qs.filter(owner=user)
    late = ExpressionWrapper(Q(next_due_at__lte=now), output_field=BooleanField())
    qs = qs.annotate(
        late=late,
        rank=Window(RowNumber(), partition_by=[late], order_by=[F("next_due_at").asc(), F("pk").asc()]),
        total=Window(Count("pk"), partition_by=[late]),
    ).filter(rank__lte=first)
    out: dict[str, tuple[list[Case], int]] = {"overdue": ([], 0), "due_soon": ([], 0)}
    # only what the lists show (cases/_case_table.html, views._rows): the query is compiled twice (the
    # window's filter wraps it), and with every column of the case, the child, the unit and the owner
    # that was most of its time
    qs = qs.select_related("child", "unit").only(
        "code", "concern", "in_danger", "received_at", "status", "next_due_at", "next_due_kind", "unit__name",
        "child__full_name")
    for case in qs.order_by("next_due_at", "pk"):
        rows, _total = out["overdue" if case.late else "due_soon"]
        rows.append(case)
        out["overdue" if case.late else "due_soon"] = (rows, case.total)
    return out


def timeline_for(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("-at", "-pk")


def referral_open_for(case: Case, user: User) -> Referral | None:
    """The open referral through which a referral agency sees the case (None otherwise)."""
    scope = scope_for(user)
    if not scope.member_unit_ids:
        return None
    return case.referrals.filter(member_unit_id__in=scope.member_unit_ids, closed_at__isnull=True).first()
