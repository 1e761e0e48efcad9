"""Every read of activities, play points, partners and budgets, through the scope mechanism.

Activities are not personal data: anyone whose scope covers a unit (a member-unit reporter included)
may read that unit's activities. Named children linked to a recreation event are read only through the
registry's own scoped selector.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from vitreem.core.errors import NotFound
from vitreem.core.scope import scope_for
from vitreem.core.text import format_number, format_percent
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import unit_tree

from .models import (
    Activity,
    BudgetAllocation,
    Participant,
    Partner,
    PlayPoint,
    Project,
    Purpose,
    Source,
    Spending,
)

if TYPE_CHECKING:
    from vitreem.accounts.models import User


def _scope_ids(user: User) -> frozenset[int]:
    return scope_for(user).unit_ids


# ---------------------------------------------------------------- the units a figure covers

def unit_ids_on(params, day: dt.date) -> frozenset[int] | None:
    """Ids of the units (of the version in force on `day`) whose activities count for `params.unit`:
    its communes plus every district/province whose communes all lie inside it, so a district-level
    training counts for its district and its province but not for one of its communes. Limited to the
    user's scope; None = no restriction."""
    from vitreem.places.models import version_on

    cache = params.extra.setdefault("activities_cache", {})
    # What follows depends on the day only through the version of the units in force (`commune_ids`): a
    # year's first and last days share it but in 2025, and their units are read once. The unit and the
    # user are in the key: `dataclasses.replace` keeps `extra`, so a memo can be shared by the parameters
    # of another unit (programme.rules.play_point_communes_share: the whole installation's province).
    key = ("units", version_on(day), getattr(params.unit, "pk", None), getattr(params.user, "pk", None))
    if key not in cache:
        if params.unit is None:
            ids = None
        else:
            communes = dataclasses.replace(params, user=None).commune_ids(day) or frozenset()
            tree = unit_tree()
            parents = {a for c in communes for a in tree.up.get(c, ()) if a is not None}
            above = {p for p in parents if tree.below.get(p) and tree.below[p] <= communes}
            ids = frozenset(communes | above)
        if params.user is not None:
            scope = _scope_ids(params.user)
            ids = scope if ids is None else ids & scope
        cache[key] = ids
    return cache[key]


def unit_ids_for_period(params) -> frozenset[int] | None:
    """Across the 2025 reform a year has records on units of both versions: take the union."""
    first = unit_ids_on(params, params.period_start)
    last = unit_ids_on(params, params.period_end)
    if first is None or last is None:
        return None
    return first | last


def _in_units(qs: QuerySet, ids: frozenset[int] | None, field: str = "unit") -> QuerySet:
    return qs if ids is None else qs.filter(**{f"{field}__in_ids": ids})  # core.db.InIds


def done_activities_all(params, kind: str | None) -> QuerySet[Activity]:
    """Activities carried out (status done) that started within the period, in every unit: of one kind,
    or of every kind (None)."""
    qs = Activity.objects.filter(status="done", start_date__gte=params.period_start, start_date__lte=params.period_end)
    return qs if kind is None else qs.filter(kind=kind)


def done_activities(params, kind: str) -> QuerySet[Activity]:
    """done_activities_all, in the units of `params`."""
    return _in_units(done_activities_all(params, kind), unit_ids_for_period(params))


def trainees_count(activities: QuerySet[Activity]) -> int:
    """A person on a course's list counts once per course (distinct name, sex, unit), once more per other course."""
    return Participant.objects.filter(activity__in=activities).values("activity_id", "person_key").distinct().count()


def play_points_open(params, day: dt.date | None = None) -> QuerySet[PlayPoint]:
    """Play points open on `day`: opened on or before it and not closed on or before it. Points recorded on
    a legacy commune still count after the reform (their commune maps to its successor)."""
    day = day or params.as_of
    qs = PlayPoint.objects.filter(Q(opened_on__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day)))
    from vitreem.places.models import REFORM_DATE

    ids = unit_ids_on(params, day)
    if ids is not None and day >= REFORM_DATE:
        legacy = unit_ids_on(params, REFORM_DATE - dt.timedelta(days=1))
        ids = ids | (legacy or frozenset())
    return _in_units(qs, ids)


def communes_with_play_points(params, day: dt.date | None = None) -> tuple[int, int]:
    """(communes with at least one open play point, open play points) on the date, communes counted in the
    version in force on that date."""
    from vitreem.places.models import UnitSuccession, version_on

    day = day or params.as_of
    rows = list(play_points_open(params, day).values_list("unit_id", "unit__version"))
    version = version_on(day)
    old = {uid for uid, v in rows if v != version}
    mapping = {}
    if old:
        if version == "2025":
            mapping = dict(UnitSuccession.objects.filter(old_id__in=old, is_default=True).values_list("old_id", "new_id"))
        else:
            mapping = dict(UnitSuccession.objects.filter(new_id__in=old, is_default=True).values_list("new_id", "old_id"))
    communes = {mapping.get(uid, uid) for uid, _v in rows}
    return len(communes), len(rows)


def budget_lines_all(params) -> QuerySet[BudgetAllocation]:
    return BudgetAllocation.objects.filter(year=params.year)


def budget_lines(params) -> QuerySet[BudgetAllocation]:
    return _in_units(budget_lines_all(params), unit_ids_for_period(params))


def budget_spendings_all(params) -> QuerySet[Spending]:
    """Spendings within the period on the year's lines, in every unit."""
    return Spending.objects.filter(allocation__in=budget_lines_all(params), spent_on__gte=params.period_start,
                                   spent_on__lte=params.period_end)


def budget_spendings(params) -> QuerySet[Spending]:
    return Spending.objects.filter(allocation__in=budget_lines(params), spent_on__gte=params.period_start,
                                   spent_on__lte=params.period_end)


def projects_active(params) -> QuerySet[Project]:
    ids = unit_ids_for_period(params)
    qs = Project.objects.filter(Q(start_date__lte=params.period_end)
                                & (Q(end_date__isnull=True) | Q(end_date__gte=params.period_start)))
    if ids is not None:
        qs = qs.filter(Q(unit__in_ids=ids) | Q(communes__in_ids=ids)).distinct()
    return qs


# ---------------------------------------------------------------- lists and detail pages

def activities_for_user(*, user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(unit__in_ids=_scope_ids(user))


def activity_get_for_user(*, user: User, activity_id: int) -> Activity:
    try:
        return activities_for_user(user=user).select_related("unit", "organiser", "project", "budget_line").get(
            pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy hoạt động hoặc bạn không có quyền xem.")) from None


def activities_filter(qs: QuerySet[Activity], *, kind: str = "", topic: str = "", status: str = "",
                      unit_ids: frozenset[int] | None = None, start: dt.date | None = None,
                      end: dt.date | None = None, partner: int | None = None, q: str = "") -> QuerySet[Activity]:
    if kind:
        qs = qs.filter(kind=kind)
    if topic:
        qs = qs.filter(topic=topic)
    if status:
        qs = qs.filter(status=status)
    if start:
        qs = qs.filter(start_date__gte=start)
    if end:
        qs = qs.filter(start_date__lte=end)
    if partner:
        qs = qs.filter(partners=partner)
    if unit_ids is not None:
        qs = qs.filter(unit__in_ids=unit_ids)
    if q:
        qs = qs.filter(title__icontains=q.strip())
    return qs.select_related("unit", "organiser").order_by("-start_date", "-pk")


def activities_planned(*, user: User, start: dt.date, end: dt.date) -> QuerySet[Activity]:
    """The calendar: planned (and done) activities of a month, cancelled ones left out."""
    return (activities_for_user(user=user).filter(start_date__lte=end, end_date__gte=start)
            .exclude(status="cancelled").select_related("unit").order_by("start_date", "pk"))


def participants_of(activity: Activity) -> QuerySet[Participant]:
    return activity.participants.order_by("pk")


def participants_summary(activity: Activity) -> dict[str, Any]:
    rows = list(activity.participants.values("person_key", "sex", "pre_score", "post_score"))
    people = {r["person_key"]: r["sex"] for r in rows}
    pre = [r["pre_score"] for r in rows if r["pre_score"] is not None]
    post = [r["post_score"] for r in rows if r["post_score"] is not None]
    return {"rows": len(rows), "trainees": len(people), "female": sum(1 for s in people.values() if s == "F"),
            "pre_avg": sum(pre) / len(pre) if pre else None, "post_avg": sum(post) / len(post) if post else None}


def linked_children_for_user(*, user: User, activity: Activity):
    """Named children of a recreation event that the user may see (registry scope)."""
    from vitreem.registry.selectors import children_for_user

    visible = children_for_user(user=user, include_ended=True).values("pk")
    return activity.child_links.filter(child__in=visible).select_related("child")


def play_points_for_user(*, user: User, unit: AdminUnit | None = None, on: dt.date | None = None) -> QuerySet[PlayPoint]:
    qs = PlayPoint.objects.filter(unit__in_ids=_scope_ids(user)).select_related("unit")
    if unit is not None:
        from vitreem.places.selectors import descendant_ids

        qs = qs.filter(unit__in=descendant_ids([unit]))
    if on is not None:
        qs = qs.filter(Q(opened_on__lte=on) & (Q(closed_on__isnull=True) | Q(closed_on__gt=on)))
    return qs.order_by("unit__code", "name")


def play_point_get_for_user(*, user: User, point_id: int) -> PlayPoint:
    point = play_points_for_user(user=user).filter(pk=point_id).first()
    if point is None:
        raise NotFound(_("Không tìm thấy điểm vui chơi hoặc bạn không có quyền xem."))
    return point


def partners_list() -> QuerySet[Partner]:
    """The partner list is a shared code table (no personal data); projects are scoped."""
    return Partner.objects.annotate(n_projects=Count("projects")).order_by("name")


def projects_for_user(*, user: User, partner: Partner | None = None) -> QuerySet[Project]:
    ids = _scope_ids(user)
    qs = Project.objects.filter(Q(unit__in_ids=ids) | Q(communes__in_ids=ids)).distinct()
    if partner is not None:
        qs = qs.filter(partner=partner)
    return qs.select_related("partner", "unit").order_by("-start_date", "name")


def project_get_for_user(*, user: User, project_id: int) -> Project:
    project = projects_for_user(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound(_("Không tìm thấy dự án hoặc bạn không có quyền xem."))
    return project


def allocations_for_user(*, user: User, year: int | None = None) -> QuerySet[BudgetAllocation]:
    qs = BudgetAllocation.objects.filter(unit__in_ids=_scope_ids(user)).select_related("unit", "member_unit")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("unit__version", "unit__code", "member_unit__name", "source", "purpose")


def allocation_get_for_user(*, user: User, allocation_id: int) -> BudgetAllocation:
    line = allocations_for_user(user=user).filter(pk=allocation_id).first()
    if line is None:
        raise NotFound(_("Không tìm thấy dòng dự toán hoặc bạn không có quyền xem."))
    return line


def units_for_entry(*, user: User, on: dt.date | None = None) -> QuerySet[AdminUnit]:
    """Units a user may record activities for (both versions; the current one first)."""
    qs = AdminUnit.objects.filter(pk__in_ids=_scope_ids(user))
    if on is not None:
        from vitreem.places.models import version_on

        qs = qs.filter(version=version_on(on))
    return qs.order_by("-version", "level", "code")


def allowance_indicator() -> str | None:
    """The benefits capability's payroll cost indicator, when it is registered (never imported directly)."""
    from vitreem.stats.engine import indicators

    found = [(ind.kind != "flow", "monthly" in code, code) for code, ind in indicators().items()
             if "allowance" in code and ind.measure == "vnd"]
    return min(found)[2] if found else None


def budget_table(params) -> dict[str, Any]:
    """Allocations vs spending per unit (and member unit), by source; totals agree with the indicators."""
    lines = budget_lines(params)
    alloc: dict[tuple[int, int | None, str], int] = {}
    for a_row in lines.values("unit_id", "member_unit_id", "source").annotate(n=Sum("amount")):
        alloc[(a_row["unit_id"], a_row["member_unit_id"], a_row["source"])] = int(a_row["n"] or 0)
    spent: dict[tuple[int, int | None], int] = {}
    for s_row in (budget_spendings(params).values("allocation__unit_id", "allocation__member_unit_id")
                  .annotate(n=Sum("amount"))):
        spent[(s_row["allocation__unit_id"], s_row["allocation__member_unit_id"])] = int(s_row["n"] or 0)
    # Member unit may be None (a unit's own budget): sort None first instead of comparing it with ints.
    keys = sorted({(u, m) for (u, m, _s) in alloc} | set(spent), key=lambda k: (k[0], k[1] or 0))
    units = AdminUnit.objects.in_bulk([u for u, _m in keys])
    from vitreem.accounts.models import MemberUnit

    members = MemberUnit.objects.in_bulk([m for _u, m in keys if m])
    level_order = {"province": 0, "district": 1, "commune": 2}
    rows: list[dict[str, Any]] = []
    for unit_id, member_id in keys:
        unit = units[unit_id]
        by_source = {s: alloc.get((unit_id, member_id, s), 0) for s in Source.values}
        allocated = sum(by_source.values())
        used = spent.get((unit_id, member_id), 0)
        rows.append({"unit": unit, "member_unit": members.get(member_id) if member_id else None,
                     "by_source": [by_source[s] for s in Source.values], "allocated": allocated, "spent": used,
                     "rate": used / allocated if allocated else None, "over": used > allocated})
    rows.sort(key=lambda r: (level_order.get(r["unit"].level, 3), r["unit"].code,
                             r["member_unit"].name if r["member_unit"] else ""))
    totals_source = [sum(r["by_source"][i] for r in rows) for i in range(len(Source.values))]
    by_purpose = dict.fromkeys(Purpose.values, 0)
    for p_row in lines.values("purpose").annotate(n=Sum("amount")):
        by_purpose[p_row["purpose"]] = int(p_row["n"] or 0)
    spent_purpose = dict.fromkeys(Purpose.values, 0)
    for sp_row in budget_spendings(params).values("allocation__purpose").annotate(n=Sum("amount")):
        spent_purpose[sp_row["allocation__purpose"]] = int(sp_row["n"] or 0)
    allowance = None
    code = allowance_indicator()
    if code:
        from vitreem.stats.engine import compute, indicators

        allowance = {"code": code, "label": indicators()[code].label, "value": compute(params, [code])[code]}
    return {"rows": rows, "sources": Source.choices, "totals_source": totals_source,
            "allocated": sum(r["allocated"] for r in rows), "spent": sum(r["spent"] for r in rows),
            "purposes": [(p, label, by_purpose[p], spent_purpose[p]) for p, label in Purpose.choices],
            "allowance": allowance}


# ---------------------------------------------------------------- the annual report's results section

ACTIVITY_CODES = ["communication_events", "people_reached", "people_reached_by_group", "training_courses",
                  "trainees", "campaigns", "recreation_events", "children_in_recreation",
                  "special_children_in_recreation", "play_points", "partners_active", "projects_active",
                  "budget_allocated", "budget_spent", "budget_by_source", "budget_spent_by_source",
                  "budget_by_purpose"]


def activity_figures(*, year: int, unit: AdminUnit | None = None, user: User | None = None,
                     codes: list[str] | None = None, updating: set | None = None) -> dict[str, Any]:
    """The activity figures (`codes`, default all of ACTIVITY_CODES) from the one statistics engine (what the
    page, the CLI and the report show): a unit's from the stored figures (rollups; computed within the
    user's scope when the unit is only partly in it), the whole of the user's scope computed — and kept for
    that scope (`_kept_in_scope`). A page that passes `updating` gets a unit's stored figures as last
    computed when a change made them stale (`rollups.figures`), and the set says so."""
    from django.utils import timezone

    from vitreem.stats.engine import compute, params_for
    from vitreem.stats.rollups import figures_one

    codes = codes or ACTIVITY_CODES
    params = params_for(year=year, unit=unit, user=user)
    if year > timezone.localdate().year:
        return compute(params, codes)
    if unit is not None and (user is None or scope_for(user).read_children):
        return figures_one(unit=unit, day=params.as_of, codes=codes, user=user, updating=updating)
    # The whole of the scope; or a unit for a user who counts no child (a member unit's reporter reads
    # activities, not children): the stored figures are limited by the children a user may count, so
    # `figures_one` computed a reporter's on every visit (the home panel: 50 ms, twenty-five queries).
    return _kept_in_scope(params, user, codes)


# Counted by the communes a project covers, which a change to the project does not stamp (its audit row
# names the unit that owns it): computed on each visit, never kept for a scope.
_SCOPE_LIVE = ("partners_active", "projects_active")


def _kept_in_scope(params, user: User | None, codes: list[str]) -> dict[str, Any]:
    """The figures of `params` (its unit, or the whole of the user's scope) within the user's scope, kept
    like a rollup (`rollups.stored_value`) under the units the user is assigned, for this scope: whatever
    they count lies in the scope, and a change anywhere in it stamps one of those units (a unit below one,
    through its ancestors; a legacy commune merged into one, through the crosswalk), so the kept value is
    recomputed after any change that can alter it. Computed on every visit, the whole scope's were the
    activities page's time (about twenty queries over the hundreds of units of a province)."""
    import hashlib

    from vitreem.stats.engine import compute
    from vitreem.stats.rollups import stored_value

    ids = sorted(_scope_ids(user)) if user is not None else []
    assigned = list(user.units.all()) if ids and user is not None else []
    if not assigned:
        return compute(params, codes)
    kept = [c for c in ACTIVITY_CODES if c not in _SCOPE_LIVE]  # all of them, whatever `codes` asks
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:24]
    of = params.unit.pk if params.unit is not None else "all"
    values = stored_value(key=f"_activities:{digest}:{of}", unit=assigned, day=params.as_of,
                          compute_fn=lambda: compute(params, kept))
    values = {**values, **compute(params, [c for c in _SCOPE_LIVE if c in codes])}
    return {c: values[c] for c in codes}


def report_section(*, year: int, unit: AdminUnit | None = None, user: User | None = None) -> dict[str, Any]:
    """The annual report's results for communication, training, campaigns, recreation, partners and budget:
    the figures (from the engine's indicators) and one short Vietnamese paragraph per area."""
    from vitreem.stats.engine import params_for

    f = activity_figures(year=year, unit=unit, user=user)
    params = params_for(year=year, unit=unit, user=user)
    n = format_number
    group = f["people_reached_by_group"]
    pp = f["play_points"]
    sources = dict(Source.choices)
    source_text = "; ".join(f"{sources[s]} {n(v)} đồng" for s, v in f["budget_by_source"].items() if v)
    rate = f["budget_spent"] / f["budget_allocated"] if f["budget_allocated"] else None
    projects = list(projects_active(params).select_related("partner")[:20])
    partner_names = sorted({p.partner.name for p in projects})
    table = budget_table(params)
    paragraphs = {
        "communication": _(
            "Năm %(y)d đã tổ chức %(events)s hoạt động truyền thông về bảo vệ, chăm sóc trẻ em, tiếp cận "
            "%(people)s lượt người (%(children)s lượt trẻ em và %(adults)s lượt người lớn).") % {
            "y": year, "events": n(f["communication_events"]), "people": n(f["people_reached"]),
            "children": n(group["children"]), "adults": n(group["adults"])},
        "training": _(
            "Đã mở %(courses)s lớp tập huấn, bồi dưỡng cho %(trainees)s lượt học viên là cán bộ, cộng tác viên, "
            "tình nguyện viên, giáo viên và cha mẹ.") % {"courses": n(f["training_courses"]),
                                                         "trainees": n(f["trainees"])},
        "campaigns": _("Đã phát động và tham gia %(n)s phong trào, chiến dịch có lồng ghép các chỉ tiêu về trẻ em.")
        % {"n": n(f["campaigns"])},
        "recreation": _(
            "Đã tổ chức %(events)s hoạt động vui chơi, giải trí cho %(children)s lượt trẻ em, trong đó "
            "%(special)s lượt trẻ em có hoàn cảnh đặc biệt; %(points)s điểm vui chơi đang hoạt động tại "
            "%(communes)s xã, phường.") % {
            "events": n(f["recreation_events"]), "children": n(f["children_in_recreation"]),
            "special": n(f["special_children_in_recreation"]), "points": n(pp["points"]),
            "communes": n(pp["communes"])},
        "partners": (_("Phối hợp với %(p)s đối tác (%(names)s) triển khai %(n)s dự án, mô hình bảo vệ trẻ em.") % {
            "p": n(f["partners_active"]), "names": ", ".join(partner_names) or "—", "n": n(f["projects_active"])})
        if f["projects_active"] else _("Trong năm không có dự án, mô hình nào của đối tác được ghi nhận."),
        "budget": (_("Tổng kinh phí bố trí cho công tác trẻ em %(a)s đồng (%(sources)s); đã chi %(s)s đồng, "
                     "đạt %(r)s dự toán.") % {"a": n(f["budget_allocated"]), "sources": source_text or "—",
                                              "s": n(f["budget_spent"]), "r": format_percent(rate)})
        if f["budget_allocated"] else _("Chưa có dự toán kinh phí được ghi nhận cho năm này."),
    }
    if table["allowance"] and table["allowance"]["value"] is not None:
        paragraphs["budget"] += " " + _("Chi trả trợ cấp xã hội hằng tháng cho trẻ em (theo danh sách chi trả): "
                                        "%(v)s đồng.") % {"v": n(table["allowance"]["value"])}
    return {
        "year": year,
        "unit": unit.ref if unit else None,
        "figures": f,
        "paragraphs": paragraphs,
        "tables": {
            "budget_by_unit": [{"unit": r["unit"].name, "member_unit": r["member_unit"].name if r["member_unit"] else "",
                                "allocated": r["allocated"], "spent": r["spent"],
                                **{s: r["by_source"][i] for i, s in enumerate(Source.values)}} for r in table["rows"]],
            "budget_by_purpose": [{"purpose": label, "allocated": a, "spent": s}
                                  for _p, label, a, s in table["purposes"]],
            "projects": [{"partner": p.partner.name, "name": p.name, "model_type": p.get_model_type_display(),
                          "funding": p.funding, "results": p.results} for p in projects],
        },
        "allowance": table["allowance"],
    }


def spending_get_for_user(*, user: User, spending_id: int) -> Spending:
    spending = (Spending.objects.select_related("allocation", "allocation__unit", "activity")
                .filter(pk=spending_id, allocation__unit__in_ids=_scope_ids(user)).first())
    if spending is None:
        raise NotFound(_("Không tìm thấy khoản chi hoặc bạn không có quyền xem."))
    return spending
