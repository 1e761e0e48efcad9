"""Demo caseload 2021–2025: a few hundred cases of the demo province in every state, some overdue,
and the demo accounts `chairman` (commune of the `commune` account) and `supervisor` (province).

Cases are written in bulk (the services would take minutes at this size); every timeline follows the
legal order and the deadline rules of deadlines.py, so the demo looks like what the services produce.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from typing import Any

from django.utils import timezone

from vitreem.accounts.models import MemberUnit, Role, User
from vitreem.core.audit import audit_changes_bulk
from vitreem.core.models import AuditEntry
from vitreem.places.models import AdminUnit, UnitSuccession
from vitreem.places.selectors import province_code_of, unit_resolve
from vitreem.registry.models import Child, Residence

from . import deadlines
from .models import (
    Case,
    CaseEvent,
    Channel,
    Concern,
    Outcome,
    Perpetrator,
    Plan,
    PlanItem,
    Rating,
    Referral,
    Review,
    Status,
)
from .services import case_due_refresh

DEMO_PASSWORD = "vitreem-demo"  # noqa: S105 — published on purpose: demo only
DEMO_COMMUNE = ("legacy:23500", "2025:23500")
DEMO_PROVINCE = ("legacy:62", "2025:51")
START = dt.date(2021, 1, 1)
END = dt.date(2025, 12, 31)

CONCERN_MIX = [(Concern.PHYSICAL_VIOLENCE, 22), (Concern.PSYCHOLOGICAL_VIOLENCE, 8), (Concern.SEXUAL_ABUSE, 14),
               (Concern.EXPLOITATION, 6), (Concern.TRAFFICKING, 2), (Concern.NEGLECT, 16),
               (Concern.CHILD_MARRIAGE, 14), (Concern.CONSANGUINEOUS_MARRIAGE, 2), (Concern.INJURY, 8),
               (Concern.CONFLICT_WITH_LAW, 5), (Concern.OTHER, 3)]
CHANNEL_MIX = [(Channel.HOTLINE, 20), (Channel.POLICE, 15), (Channel.SCHOOL, 20), (Channel.HEALTH, 8),
               (Channel.COMMUNE, 17), (Channel.COMMUNITY, 15), (Channel.SELF, 5)]
PLACES = ["Tại nhà", "Trên đường đi học", "Tại trường", "Trên nương rẫy", "Bờ suối", "Nhà người quen", "Chợ"]
# Order of the steps; a forced stop leaves a case at that step (open, often overdue).
STOPS = ["intake", "emergency", "verify", "assess", "plan", "approve", "review", "close"]
MIN_DAYS_BACK = {"intake": 0, "emergency": 1, "verify": 4, "assess": 12, "plan": 26, "approve": 32, "review": 112,
                 "close": 125}


def _pick(rng, mix):
    return rng.choices([v for v, _w in mix], weights=[w for _v, w in mix])[0]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour % 24, 0)))


def _accounts(ctx) -> tuple[User, User]:
    made = {}
    for username, role, full_name, refs in (
        ("chairman", Role.CHAIRMAN, "Lê Văn Bình", DEMO_COMMUNE),
        ("supervisor", Role.CASE_SUPERVISOR, "Phạm Thị Ngọc", DEMO_PROVINCE),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            from vitreem.accounts.services import user_create

            user = user_create(username=username, password=DEMO_PASSWORD, role=role, full_name=full_name,
                               units=[unit_resolve(r) for r in refs])
        made[username] = user
        ctx.users[username] = user
    return made["chairman"], made["supervisor"]


def _worker_for(unit_2025: AdminUnit, cache: dict[int, User]) -> User:
    """A commune child-protection worker for communes without a demo account (login disabled)."""
    if unit_2025.pk in cache:
        return cache[unit_2025.pk]
    from vitreem.accounts.services import user_create

    username = f"cbxa-{unit_2025.code}"
    user = User.objects.filter(username=username).first()
    if user is None:
        olds = list(AdminUnit.objects.filter(pk__in=UnitSuccession.objects.filter(
            new=unit_2025, is_default=True).values("old_id")))
        user = user_create(username=username, password=secrets.token_urlsafe(24), role=Role.COMMUNE_WORKER,
                           full_name=f"Cán bộ BVTE {unit_2025.name}", units=[unit_2025, *olds])
        user.set_unusable_password()
        user.save(update_fields=["password"])
    cache[unit_2025.pk] = user
    return user


def seed(ctx) -> str:  # noqa: C901, PLR0915 — one story per case reads best in one place
    rng = ctx.rng("cases")
    chairman, _supervisor = _accounts(ctx)
    commune_user = ctx.users.get("commune") or User.objects.get(username="commune")
    commune2_user = ctx.users.get("commune2") or User.objects.filter(username="commune2").first()
    today = timezone.localdate()
    last_day = min(END, today)
    total = max(30, ctx.scaled(400))

    demo_unit = unit_resolve("2025:23500")
    unit_ids = list(Child.objects.filter(source="demo", unit__province_code__in=["51", "62"])
                    .values_list("unit_id", flat=True).distinct().order_by("unit_id"))
    if not unit_ids:
        return "no demo children: run the registry part first"
    others = [u for u in unit_ids if u != demo_unit.pk]
    rng.shuffle(others)
    others = others[:20]
    second = unit_resolve("2025:23512")
    # 40% of the caseload in the demo commune, so the `commune` and `chairman` accounts have work to do.
    plan_units = [demo_unit.pk] * 8 + ([second.pk] * 2 if second.pk in unit_ids else []) + others * 1
    units = {u.pk: u for u in AdminUnit.objects.filter(pk__in=set(plan_units))}
    owners: dict[int, User] = {demo_unit.pk: commune_user}
    if commune2_user is not None:
        owners[second.pk] = commune2_user

    pool: dict[int, list[tuple[int, dt.date]]] = {}
    for uid in set(plan_units):
        pool[uid] = list(Child.objects.filter(source="demo", unit_id=uid, ended_on__isnull=True,
                                              birth_date__gt=START.replace(year=START.year - 16))
                         .order_by("pk").values_list("pk", "birth_date")[:3000])
    member_units = list(MemberUnit.objects.filter(code__in=["cong-an", "so-yte", "so-gddt", "hoi-lhpn",
                                                            "so-tuphap"]))
    overrides: dict[dt.date, bool] = {}

    picked: list[tuple[int, int, dt.date, str | None]] = []  # unit, child, received day, forced stop
    attempts = 0
    while len(picked) < total and attempts < total * 20:
        attempts += 1
        uid = rng.choice(plan_units)
        if not pool.get(uid):
            continue
        child_id, birth = rng.choice(pool[uid])
        first = max(START, birth + dt.timedelta(days=365))
        child_last = (dt.date(birth.year + 16, 2, 28) if (birth.month, birth.day) == (2, 29)
                      else birth.replace(year=birth.year + 16) - dt.timedelta(days=1))
        last = min(last_day, child_last)
        if first > last:
            continue
        # A caseload that grows over the years (better reporting), with recent cases still open.
        span = (last - first).days
        day = first + dt.timedelta(days=int(span * (rng.random() ** 0.7)))
        forced = STOPS[len(picked) % len(STOPS)] if len(picked) < 2 * len(STOPS) or rng.random() < 0.12 else None
        if forced and len(picked) < 2 * len(STOPS):
            # Far enough back for every step up to the stop to have happened by today.
            back = MIN_DAYS_BACK[forced] + rng.randint(1, 30)
            # These few are today's open work (with deadlines near or missed), whatever today is.
            day = today - dt.timedelta(days=back)
            if not first <= day <= min(today, child_last):
                continue
        picked.append((uid, child_id, day, forced))

    # The commune a case belongs to is the child's commune on the day it was received.
    residences: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for cid, unit_id, start, end in Residence.objects.filter(child_id__in={p[1] for p in picked}).values_list(
            "child_id", "unit_id", "start", "end"):
        residences[cid].append((unit_id, start, end))

    worker_cache: dict[int, User] = dict(owners)
    cases: list[Case] = []
    stories: list[dict] = []
    counter: dict[int, int] = defaultdict(int)
    now = timezone.now()
    for uid, child_id, day, forced in picked:
        unit_id = next((u for u, s, e in residences.get(child_id, []) if s <= day and (e is None or e >= day)), uid)
        owner = worker_cache.get(uid) or _worker_for(units[uid], worker_cache)
        received = _at(day, rng.randint(7, 21))
        concern = _pick(rng, CONCERN_MIX)
        in_danger = concern in (Concern.SEXUAL_ABUSE, Concern.TRAFFICKING) or rng.random() < 0.15 or forced == "emergency"
        counter[day.year] += 1
        case = Case(code=f"VV-{day.year}-D{counter[day.year]:05d}", child_id=child_id, unit_id=unit_id, owner=owner,
                    province_code=province_code_of(unit_id),
                    created_by=owner, received_at=received, channel=_pick(rng, CHANNEL_MIX), concern=concern,
                    perpetrator=rng.choice(Perpetrator.values), in_danger=in_danger, place=rng.choice(PLACES),
                    reporter_anonymous=rng.random() < 0.3, summary="Thông tin tiếp nhận (dữ liệu mẫu).")
        if not case.reporter_anonymous:
            case.reporter_name = rng.choice(["Nguyễn Văn Tâm", "Y Hoa", "A Dũng", "Trần Thị Lan", "Giáo viên chủ nhiệm"])
        if in_danger:
            case.emergency_due_at = deadlines.emergency_due(received)
        events: list[tuple] = [("intake", received, owner, "", Status.RECEIVED, case.summary)]
        story: dict[str, Any] = {"plan": None, "review": None, "referral": None}

        def reached(step: str, when: dt.datetime, forced=forced) -> bool:
            return when <= now and not (forced and STOPS.index(step) > STOPS.index(forced))

        status = Status.RECEIVED
        # Emergency within 12 hours (now and then late).
        if in_danger:
            done = received + dt.timedelta(hours=rng.choice([2, 4, 6, 8, 10, 11, 14, 20]))
            if reached("emergency", done):
                case.emergency_done_at, case.emergency_action = done, "Đưa trẻ đến nơi an toàn, báo công an xã."
                if case.emergency_due_at and done > case.emergency_due_at:
                    case.deadlines_missed += 1
                events.append(("emergency", done, owner, status, Status.EMERGENCY, case.emergency_action))
                status = Status.EMERGENCY
        verified_at = max(_at(day + dt.timedelta(days=rng.randint(0, 2)), 16),
                          (case.emergency_done_at or received) + dt.timedelta(hours=1))
        verified_on = timezone.localtime(verified_at).date()
        if reached("verify", verified_at):
            case.verified_on, case.verification = verified_on, "Đã xác minh tại gia đình và nhà trường."
            unfounded = rng.random() < 0.1
            new = Status.TO_CLOSE if unfounded else (Status.EMERGENCY if status == Status.EMERGENCY else Status.VERIFIED)
            events.append(("verify", verified_at, owner, status, new, case.verification))
            status = new
            if unfounded:
                case.outcome = Outcome.UNFOUNDED
                close_day = verified_on + dt.timedelta(days=rng.randint(1, 5))
                if reached("close", _at(close_day, 10)):
                    case.closed_at = _at(close_day, 10)
                    events.append(("close", case.closed_at, chairman, status, Status.CLOSED, ""))
                    status = Status.CLOSED
        if status in (Status.VERIFIED, Status.EMERGENCY):
            assessed = verified_on + dt.timedelta(days=rng.randint(1, 6))
            if reached("assess", _at(assessed, 15)):
                case.assessed_on, case.assessment = assessed, "Đánh giá nguy cơ và nhu cầu của trẻ."
                case.meeting_minutes = "Họp với gia đình, nhà trường, công an xã."
                case.plan_due_on = deadlines.add_working_days(assessed, 5, overrides)
                events.append(("assess", _at(assessed, 15), owner, status, Status.ASSESSED, case.assessment))
                status = Status.ASSESSED
                if rng.random() < 0.2 and member_units:
                    story["referral"] = (rng.choice(member_units), _at(assessed, 16))
        if status == Status.ASSESSED:
            drafted = assessed + dt.timedelta(days=rng.choice([1, 2, 3, 4, 5, 6, 9, 12]))
            if reached("plan", _at(drafted, 10)):
                case.plan_drafted_on = drafted
                if case.plan_due_on and drafted > case.plan_due_on:
                    case.deadlines_missed += 1
                review_on = drafted + dt.timedelta(days=rng.randint(30, 75))
                story["plan"] = {"drafted_on": drafted, "review_on": review_on}
                # Decree 56/2017, Art. 28(4): the chairman's decision within 2 working days.
                case.approval_due_on = deadlines.add_working_days(drafted, deadlines.APPROVAL_WORKING_DAYS,
                                                                  overrides)
                events.append(("plan", _at(drafted, 10), owner, status, Status.PLANNED, "Kế hoạch hỗ trợ, can thiệp"))
                status = Status.PLANNED
        if status == Status.PLANNED:
            approved = story["plan"]["drafted_on"] + dt.timedelta(days=rng.randint(0, 3))
            if reached("approve", _at(approved, 16)):
                story["plan"]["approved_on"] = approved
                if case.approval_due_on and approved > case.approval_due_on:
                    case.deadlines_missed += 1
                case.approval_due_on = None
                case.next_review_on = story["plan"]["review_on"]
                events.append(("approve", _at(approved, 16), chairman if uid == demo_unit.pk else None, status,
                                Status.IMPLEMENTING, ""))
                status = Status.IMPLEMENTING
        if status == Status.IMPLEMENTING:
            reviewed = story["plan"]["review_on"] + dt.timedelta(days=rng.randint(-3, 8))
            if reached("review", _at(reviewed, 10)):
                if reviewed > story["plan"]["review_on"]:
                    case.deadlines_missed += 1
                story["review"] = reviewed
                case.next_review_on = None
                events.append(("review", _at(reviewed, 10), owner, status, Status.TO_CLOSE, "Các mức nguy cơ đều thấp."))
                status = Status.TO_CLOSE
                close_day = reviewed + dt.timedelta(days=rng.randint(1, 7))
                if reached("close", _at(close_day, 10)):
                    case.outcome = rng.choice([Outcome.RESOLVED] * 8 + [Outcome.TRANSFERRED, Outcome.AGED_OUT])
                    case.closed_at = _at(close_day, 10)
                    events.append(("close", case.closed_at, chairman if uid == demo_unit.pk else None, status,
                                   Status.CLOSED, ""))
                    status = Status.CLOSED
        case.status = status
        case_due_refresh(case)
        cases.append(case)
        stories.append({**story, "events": events})

    Case.objects.bulk_create(cases, batch_size=500)
    events_rows: list[CaseEvent] = []
    plans: list[Plan] = []
    reviews: list[Review] = []
    referrals: list[Referral] = []
    audit: list[AuditEntry] = []
    for case, story in zip(cases, stories, strict=True):
        for kind, when, actor, from_status, to_status, text in story["events"]:
            events_rows.append(CaseEvent(case=case, kind=kind, at=when, actor=actor, from_status=from_status,
                                         to_status=to_status, text=text))
        if story["plan"]:
            p = story["plan"]
            approved = p.get("approved_on")
            plans.append(Plan(case=case, number=1, drafted_on=p["drafted_on"], goal="Bảo đảm an toàn cho trẻ",
                              review_on=p["review_on"], created_by=case.owner,
                              status=Plan.State.APPROVED if approved else Plan.State.DRAFT,
                              approved_on=approved, decision_number=f"{rng.randint(1, 300)}/QĐ-UBND" if approved else "",
                              approved_by=chairman if approved and case.unit_id in (demo_unit.pk,) else None))
        if story["review"]:
            reviews.append(Review(case=case, reviewed_on=story["review"], harm=Rating.LOW,
                                  perpetrator_access=Rating.LOW, care_obstacles=Rating.LOW, recommend_close=True,
                                  reviewed_by=case.owner))
        if story["referral"]:
            unit, opened = story["referral"]
            referrals.append(Referral(case=case, member_unit=unit, reason="Phối hợp hỗ trợ", guardian_consent=True,
                                      child_consent=True, opened_at=opened, opened_by=case.owner,
                                      closed_at=case.closed_at))
        audit.append(AuditEntry(actor=case.owner, kind=AuditEntry.Kind.CHANGE, action="case.intake",
                                object_type="cases.case", object_id=str(case.pk), unit_id=case.unit_id,
                                changes={"demo": True, "code": case.code}, source="demo"))
    CaseEvent.objects.bulk_create(events_rows, batch_size=2000)
    Plan.objects.bulk_create(plans, batch_size=500)
    kinds = list(PlanItem.Kind.values)
    items = []
    for plan in plans:
        for _i in range(rng.randint(1, 3)):
            finished = plan.case.status in (Status.TO_CLOSE, Status.CLOSED)
            items.append(PlanItem(plan=plan, kind=rng.choice(kinds), description="Hoạt động hỗ trợ",
                                  responsible=rng.choice(["Trạm y tế xã", "Nhà trường", "Hội Phụ nữ xã",
                                                          "Công an xã", "Trung tâm CTXH tỉnh"]),
                                  due_on=plan.drafted_on + dt.timedelta(days=rng.randint(5, 40)),
                                  status=PlanItem.ItemStatus.DONE if finished else PlanItem.ItemStatus.IN_PROGRESS))
    PlanItem.objects.bulk_create(items, batch_size=2000)
    Review.objects.bulk_create(reviews, batch_size=500)
    Referral.objects.bulk_create(referrals, batch_size=500)
    audit_changes_bulk(audit)
    by_status: dict[str, int] = defaultdict(int)
    for case in cases:
        by_status[case.status] += 1
    overdue = sum(1 for c in cases if c.next_due_at and c.next_due_at <= now)
    ctx.data["cases"] = {"cases": len(cases), "overdue": overdue}
    return (f"{len(cases)} cases ({', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))}), "
            f"{overdue} overdue; accounts chairman, supervisor")
