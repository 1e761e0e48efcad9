"""Demo activities and money for the synthetic Kon Tum, 2021–2025.

Each year: budget lines for the province (and its departments), every district and every commune, by
source and purpose; communication events in every commune (school talks, loudspeaker broadcasts,
community meetings); trainings at province, district and commune level with named participants;
district campaigns; Children's Day and Mid-Autumn festivals; play points opening over the years (about
a third of communes by 2022, rising towards the 2025 target of 40%); a few partner projects (UNICEF,
Plan International, World Vision). Activities after 1 July 2025 are recorded on the 2025 communes.
The allowances line follows the benefits payroll when its indicator exists. Same seed, same data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from vitreem.accounts.models import MemberUnit
from vitreem.core.text import fold_words
from vitreem.places.models import REFORM_DATE, AdminUnit, Level, UnitSuccession

from .models import (
    Activity,
    BudgetAllocation,
    Participant,
    Partner,
    PlayPoint,
    Project,
    Spending,
)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Y", "A", "Đinh", "Rơ Châm"]
MIDDLE_F = ["Thị", "Thị Thu", "Thị Ngọc", "Thị Kim", ""]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", ""]
GIVEN_F = ["Hoa", "Lan", "Mai", "Hiền", "Blin", "Nhung", "Thảo", "H'Lim", "Phương", "Trang", "Yến", "Duyên"]
GIVEN_M = ["Hùng", "Thuận", "Dũng", "Nam", "Khoa", "Tâm", "Hiếu", "Blông", "Sơn", "Tuấn", "Vinh", "Long"]
ETHNIC = ["Kinh", "Kinh", "Xơ Đăng", "Ba Na", "Giẻ Triêng", "Gia Rai", "Brâu"]
ROLES = ["Cộng tác viên thôn", "Cán bộ LĐ-TBXH xã", "Giáo viên", "Chi hội phụ nữ", "Bí thư chi đoàn",
         "Trưởng thôn", "Tình nguyện viên"]
TALK_TITLES = {
    "violence": "Truyền thông phòng, chống bạo lực, xâm hại trẻ em",
    "child_marriage": "Truyền thông phòng, chống tảo hôn và hôn nhân cận huyết thống",
    "injury": "Truyền thông phòng, chống đuối nước, tai nạn thương tích trẻ em",
    "online": "An toàn cho trẻ em trên môi trường mạng",
    "law": "Tuyên truyền Luật Trẻ em",
    "schooling": "Vận động trẻ em trong độ tuổi đến trường",
}


def _day(rng, year: int, lo_month: int = 1, hi_month: int = 12) -> dt.date:
    month = rng.randint(lo_month, hi_month)
    return dt.date(year, month, rng.randint(1, 28))


def _name(rng, sex: str) -> str:
    middle = rng.choice(MIDDLE_F if sex == "F" else MIDDLE_M)
    given = rng.choice(GIVEN_F if sex == "F" else GIVEN_M)
    return " ".join(p for p in (rng.choice(FAMILY), middle, given) if p)


def _split(rng, total: int, share_lo: float, share_hi: float) -> tuple[int, int]:
    first = round(total * rng.uniform(share_lo, share_hi))
    return first, total - first


def seed(ctx) -> str:  # noqa: C901, PLR0915 — a generator reads best as one story
    rng = ctx.rng("activities")
    actor = ctx.users.get("admin")
    province, province_25 = ctx.province, ctx.province_2025
    districts = list(AdminUnit.objects.filter(parent=province, level=Level.DISTRICT).order_by("code"))
    communes = list(AdminUnit.objects.filter(version="legacy", level=Level.COMMUNE, province_code=province.code)
                    .order_by("code"))
    successor = dict(UnitSuccession.objects.filter(is_default=True, old__in=communes).values_list("old_id", "new_id"))
    new_ids = sorted(set(successor.values()))
    new_communes = {u.pk: u for u in AdminUnit.objects.filter(pk__in=new_ids)}
    departments = list(MemberUnit.objects.filter(kind__in=["department", "mass_org"]).order_by("code"))
    by_code = {m.code: m for m in departments}

    def place_on(unit: AdminUnit, day: dt.date) -> AdminUnit:
        """Where an activity of a legacy unit is recorded on `day` (the 2025 successor after the reform)."""
        if day < REFORM_DATE or unit.version == "2025":
            return unit
        if unit.level == Level.COMMUNE:
            return new_communes.get(successor.get(unit.pk, 0), province_25)
        return province_25

    # ---- partners and projects
    partner_specs = [("UNICEF", "un", "Liên hợp quốc"), ("Plan International", "intl_ngo", "Vương quốc Anh"),
                     ("World Vision", "intl_ngo", "Hoa Kỳ"), ("Công ty CP Cao su Kon Tum", "business", "Việt Nam")]
    partners = {}
    for name, kind, country in partner_specs:
        partners[name], _created = Partner.objects.get_or_create(name=name, defaults={"kind": kind, "country": country})
    project_specs = [
        ("UNICEF", "Mô hình bảo vệ trẻ em dựa vào cộng đồng", "community_protection", 2021, 2025, 3_600_000_000),
        ("UNICEF", "Điểm tư vấn, tham vấn bảo vệ trẻ em tại trường học", "counselling_point", 2022, 2024, 1_200_000_000),
        ("Plan International", "Phòng, chống tảo hôn vùng đồng bào dân tộc thiểu số", "community_protection", 2021,
         2024, 2_400_000_000),
        ("World Vision", "Xây dựng điểm vui chơi an toàn cho trẻ em", "play_space", 2022, 2025, 1_800_000_000),
        ("Công ty CP Cao su Kon Tum", "Tủ sách và góc đọc cho trẻ em", "other", 2023, None, 300_000_000),
    ]
    projects: list[Project] = []
    for partner_name, title, model, start, end, funding in project_specs:
        project = Project.objects.create(
            partner=partners[partner_name], name=title, unit=province, model_type=model,
            start_date=dt.date(start, 1, 1), end_date=dt.date(end, 12, 31) if end else None, funding=funding,
            results=f"Triển khai tại {min(len(communes), 8)} xã; tập huấn cộng tác viên, truyền thông cộng đồng.")
        project.communes.set(rng.sample(communes, min(len(communes), 8)))
        projects.append(project)

    # ---- play points: opened over the years; a few close
    points = []
    for commune in communes:
        if rng.random() < 0.38:
            for _i in range(rng.choice([1, 1, 1, 2])):
                opened = _day(rng, rng.choice([2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025]))
                unit = place_on(commune, opened)
                closed = _day(rng, rng.randint(opened.year + 1, 2026)) if rng.random() < 0.08 else None
                if closed is not None and closed <= opened:
                    closed = None
                points.append(PlayPoint(
                    unit=unit, name=f"Điểm vui chơi thôn {rng.randint(1, 12)} — {commune.short_name}",
                    point_type=rng.choice(["playground", "community_house", "library", "sports", "school"]),
                    opened_on=opened, closed_on=closed, condition=rng.choice(["good", "good", "fair", "poor"]),
                    project=projects[3] if opened.year >= 2022 and rng.random() < 0.3 else None))
    PlayPoint.objects.bulk_create(points, batch_size=1000)

    # ---- budgets and activities, year by year
    from .selectors import allowance_indicator

    allowance_code = allowance_indicator()
    lines: list[BudgetAllocation] = []
    activities: list[Activity] = []
    spend_plan: list[tuple[int, int]] = []  # (activity index, line index)
    participant_plan: dict[int, int] = {}  # activity index -> number of participants
    for year in ctx.years:

        def line(unit, source, purpose, amount, member=None, project=None, _year=year):
            lines.append(BudgetAllocation(year=_year, unit=unit, source=source, purpose=purpose,
                                          amount=int(round(amount, -5)), member_unit=member, project=project))
            return len(lines) - 1

        prov_unit = province if year < 2025 else province_25  # lines of 2025 are set after the merger
        growth = 1 + 0.06 * (year - 2021)
        allowance = 12_500_000_000 * growth
        if allowance_code:
            from vitreem.stats.engine import compute, params_for

            monthly = compute(params_for(year=year, unit=province), [allowance_code])[allowance_code] or 0
            if monthly:
                allowance = monthly * 12 * 1.05
        line(prov_unit, "provincial", "allowances", allowance)
        prov_lines = {p: line(prov_unit, "provincial", p, amt * growth) for p, amt in
                      [("communication", 420_000_000), ("training", 650_000_000), ("recreation", 300_000_000),
                       ("case_support", 500_000_000), ("facilities", 900_000_000)]}
        intl_lines = [line(prov_unit, "international", rng.choice(["communication", "training"]),
                           p.funding / 4, project=p) for p in projects if p.active_in(dt.date(year, 1, 1),
                                                                                       dt.date(year, 12, 31))]
        for code in ("so-gddt", "hoi-lhpn", "tinh-doan", "so-vhttdl"):
            if code in by_code:
                line(prov_unit, "provincial", "communication", rng.randint(60, 160) * 1_000_000, member=by_code[code])
        district_lines = {}
        if year < 2025:
            for d in districts:
                district_lines[d.pk] = {p: line(d, "district", p, rng.randint(a, b) * 1_000_000 * growth)
                                        for p, a, b in [("communication", 40, 90), ("training", 30, 80),
                                                        ("recreation", 40, 120)]}
        commune_lines = {}
        for c in communes:
            unit = c if year < 2025 else place_on(c, dt.date(2025, 12, 31))
            commune_lines[(c.pk, "communication")] = line(unit, "commune", "communication",
                                                          rng.randint(5, 15) * 1_000_000)
            commune_lines[(c.pk, "recreation")] = line(unit, "commune", "recreation", rng.randint(8, 25) * 1_000_000)
            if rng.random() < 0.5:
                commune_lines[(c.pk, "mobilisation")] = line(unit, "mobilisation", "recreation",
                                                             rng.randint(5, 40) * 1_000_000)

        def add(kind, unit_legacy, day, title, line_idx=None, cost=0, n_participants=0, _year=year, **fields):
            unit = place_on(unit_legacy, day)
            status = "done" if rng.random() > 0.04 else "cancelled"
            if _year == ctx.years[-1] and day.month == 12 and day.day > 20:
                status = "planned"
            end = fields.pop("end", day)
            idx = len(activities)
            spends = line_idx is not None and cost and status == "done"
            activities.append(Activity(kind=kind, title=title, status=status, start_date=day, end_date=end, unit=unit,
                                       cost=cost if spends else 0, created_by=actor, **fields))
            if spends:
                spend_plan.append((idx, line_idx))
            if n_participants:
                participant_plan[idx] = n_participants
            return idx

        # communication: 3–7 per commune per year
        for c in communes:
            for _i in range(rng.randint(3, 7)):
                topic = rng.choice(list(TALK_TITLES))
                form = rng.choice(["school_talk", "broadcast", "community", "community", "print", "social_media"])
                total = {"school_talk": rng.randint(80, 400), "broadcast": rng.randint(300, 1500),
                         "community": rng.randint(30, 150), "print": rng.randint(100, 600),
                         "social_media": rng.randint(200, 2000)}[form]
                children, adults = _split(rng, total, 0.6, 0.9) if form == "school_talk" else _split(rng, total, 0.1, 0.4)
                male, female = _split(rng, total, 0.42, 0.55)
                day = _day(rng, year)
                use_line = rng.random() < 0.5
                add("communication", c, day, f"{TALK_TITLES[topic]} — {c.short_name}",
                    line_idx=commune_lines[(c.pk, "communication")] if use_line else None,
                    cost=rng.randint(5, 30) * 100_000 if use_line else 0, topic=topic, comm_form=form,
                    reached_total=total, reached_children=children, reached_adults=adults, reached_male=male,
                    reached_female=female, materials=rng.randint(0, 300) if form in ("print", "school_talk") else 0)
            # recreation: Children's Day and Mid-Autumn in most communes
            for occasion, month, day_no, title in [("childrens_day", 6, 1, "Vui Tết Thiếu nhi 1/6"),
                                                   ("mid_autumn", 9, 10, "Vui Tết Trung thu")]:
                if rng.random() < 0.85:
                    total = rng.randint(80, 450)
                    boys, girls = _split(rng, total, 0.45, 0.55)
                    small, mid = round(total * rng.uniform(0.2, 0.35)), round(total * rng.uniform(0.35, 0.45))
                    day = dt.date(year, month, day_no)
                    key = (c.pk, "mobilisation") if (c.pk, "mobilisation") in commune_lines else (c.pk, "recreation")
                    add("recreation", c, day, f"{title} — {c.short_name}", line_idx=commune_lines[key],
                        cost=rng.randint(20, 80) * 100_000, occasion=occasion, children_total=total,
                        children_male=boys, children_female=girls, age_0_5=small, age_6_10=mid,
                        age_11_15=total - small - mid, special_children=min(total, rng.randint(2, 25)))
            if rng.random() < 0.45:
                day = _day(rng, year, 3, 11)
                add("training", c, day, f"Tập huấn kỹ năng bảo vệ trẻ em cho cộng tác viên — {c.short_name}",
                    n_participants=rng.randint(12, 30), audience="collaborators", days=1, topic="case_management",
                    topics="Phát hiện, thông báo, can thiệp trẻ em có nguy cơ; kỹ năng làm việc với trẻ em")
        # districts: campaigns and trainings (until the districts were abolished)
        if year < 2025:
            for d in districts:
                add("campaign", d, dt.date(year, 6, 1), f"Tháng hành động vì trẻ em năm {year} — {d.short_name}",
                    end=dt.date(year, 6, 30), targets="Phòng, chống tai nạn thương tích, đuối nước; giảm tảo hôn; "
                                                      "vận động trẻ em đến trường")
                day = _day(rng, year, 3, 10)
                add("training", d, day, f"Tập huấn nghiệp vụ bảo vệ trẻ em cấp huyện — {d.short_name}",
                    line_idx=district_lines[d.pk]["training"], cost=rng.randint(15, 40) * 1_000_000,
                    n_participants=rng.randint(25, 45), audience="staff", days=2, topic="case_management",
                    end=day + dt.timedelta(days=1), topics="Quản lý trường hợp theo Nghị định 56/2017")
        # province: conferences, trainings for teachers and parents, the yearly campaign
        for audience, title, n in [("staff", "Tập huấn quản lý trường hợp bảo vệ trẻ em", 60),
                                   ("teachers", "Tập huấn kỹ năng phòng, chống xâm hại cho giáo viên", 45),
                                   ("parents", "Tập huấn kỹ năng làm cha mẹ", 40)]:
            day = _day(rng, year, 2, 11)
            add("training", province, day, f"{title} năm {year}", line_idx=prov_lines["training"],
                cost=rng.randint(40, 90) * 1_000_000, n_participants=n, audience=audience, days=2,
                topic="case_management", end=day + dt.timedelta(days=1),
                organiser=by_code.get("so-gddt") if audience == "teachers" else by_code.get("so-ldtbxh"))
        add("campaign", province, dt.date(year, 5, 20), f"Phát động Tháng hành động vì trẻ em năm {year}",
            end=dt.date(year, 6, 30), line_idx=prov_lines["communication"], cost=150_000_000,
            targets="Lồng ghép các chỉ tiêu của Chương trình hành động vì trẻ em giai đoạn 2021–2030")
        add("communication", province, dt.date(year, 11, 15), f"Hội thi tìm hiểu Luật Trẻ em năm {year}",
            line_idx=intl_lines[0] if intl_lines else prov_lines["communication"], cost=120_000_000,
            topic="law", comm_form="competition", reached_total=1200, reached_children=1000, reached_adults=200,
            reached_male=560, reached_female=640)

    BudgetAllocation.objects.bulk_create(lines, batch_size=2000)
    for idx, line_idx in spend_plan:  # lines now have their ids: link before inserting the activities
        activities[idx].budget_line_id = lines[line_idx].pk
    Activity.objects.bulk_create(activities, batch_size=2000)
    partner_links = []
    through = Activity.partners.through
    for i, a in enumerate(activities):
        if a.kind == "training" and a.unit.level == Level.PROVINCE and i % 3 == 0:
            partner_links.append(through(activity_id=a.pk, partner_id=partners["UNICEF"].pk))
        elif a.kind == "communication" and a.comm_form == "competition":
            partner_links.append(through(activity_id=a.pk, partner_id=partners["Plan International"].pk))
    through.objects.bulk_create(partner_links, batch_size=2000)

    spendings = [Spending(allocation_id=lines[line_idx].pk, spent_on=activities[idx].end_date,
                          amount=activities[idx].cost, activity_id=activities[idx].pk,
                          description=activities[idx].title[:255], created_by=actor) for idx, line_idx in spend_plan]
    # Other spending of the lines (allowance payroll, case support, facilities, remaining operations): 70–98%.
    spent_by_line: dict[int, int] = defaultdict(int)
    for s in spendings:
        spent_by_line[s.allocation_id] += s.amount
    for ln in lines:
        target = int(ln.amount * rng.uniform(0.7, 0.98))
        rest = target - spent_by_line[ln.pk]
        if rest > 0:
            spendings.append(Spending(allocation_id=ln.pk, spent_on=dt.date(ln.year, 12, rng.randint(1, 28)),
                                      amount=int(round(rest, -3)), description="Chi thường xuyên theo dự toán",
                                      created_by=actor))
    Spending.objects.bulk_create(spendings, batch_size=2000)

    participants = []
    for idx, n in participant_plan.items():
        a = activities[idx]
        for _i in range(n):
            sex = "F" if rng.random() < 0.55 else "M"
            name = _name(rng, sex)
            unit_name = a.unit.short_name if a.unit.level == Level.COMMUNE else rng.choice(communes).short_name
            pre = rng.randint(40, 75) / 10
            name_key = fold_words(name)
            participants.append(Participant(
                activity_id=a.pk, full_name=name, name_key=name_key, unit_name=unit_name, role=rng.choice(ROLES), sex=sex,
                ethnicity=rng.choice(ETHNIC), pre_score=pre if rng.random() < 0.7 else None,
                post_score=min(10, pre + rng.randint(5, 25) / 10) if rng.random() < 0.7 else None,
                person_key=f"{name_key}|{sex}|{fold_words(unit_name)}"))
    Participant.objects.bulk_create(participants, batch_size=5000)
    data: dict[str, Any] = {"activities": len(activities), "participants": len(participants),
                            "play_points": len(points), "budget_lines": len(lines)}
    ctx.data["activities"] = data
    return (f"{len(activities)} activities, {len(participants)} participants, {len(points)} play points, "
            f"{len(lines)} budget lines, {len(spendings)} spendings, {len(projects)} partner projects")
