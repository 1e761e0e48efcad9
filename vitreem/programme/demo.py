"""The demo committee's programme: the Decision 23 catalogue, a reporter for every member unit,
provincial targets 2021–2025 (and 2030), every report of every period 2021–2025 with realistic values
(most on time, some late, a few missing, the latest awaiting review or returned), yearly work
programmes with tasks, explanations for the targets not achieved, member-unit ratings, and the
evaluations of 2021–2024 closed.

Computed indicators are not seeded: they come from the demo registry through the statistics engine.
The story is fixed (same seed, same data); only timeliness is drawn at random.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from vitreem.accounts.demo import DEMO_MEMBER_UNITS, DEMO_PASSWORD, DEMO_PROVINCE
from vitreem.accounts.models import MemberUnit, Role, User
from vitreem.accounts.services import user_create
from vitreem.core.audit import audit_change
from vitreem.places.models import Level
from vitreem.places.selectors import unit_resolve

from .catalogue import catalogue_load
from .models import (
    DataElement,
    DataValue,
    Explanation,
    Indicator,
    MemberUnitEvaluation,
    Plan,
    ReportForm,
    Submission,
    SubmissionStatus,
    Target,
    Task,
    TaskStatus,
    YearEvaluation,
)
from .periods import periods_of_year

YEARS = (2021, 2022, 2023, 2024, 2025)
D = Decimal

# The province's true yearly rates behind the reports (Kon Tum is poorer than the national average).
RATES: dict[str, tuple[float, ...]] = {
    "immunised": (93.5, 95.0, 96.2, 96.8, 97.3),
    "stunted": (27.5, 26.4, 25.1, 24.0, 22.8),
    "primary": (94.1, 94.8, 95.6, 96.2, 96.9),
    "lowsec": (80.2, 81.5, 83.0, 84.6, 86.1),
    "births": (96.0, 97.1, 97.8, 98.4, 98.7),
    "friendly": (48, 53, 58, 62, 66),  # communes meeting the child-friendly standard (of 102)
    "play": (28, 33, 37, 41, 44),  # communes with play points
    "consulted": (25.0, 27.0, 29.0, 31.0, 33.0),
    "labour": (6.1, 5.8, 5.4, 5.1, 4.8),
    "dropout": (0.9, 0.8, 0.75, 0.7, 0.6),
    "injured": (640, 610, 590, 570, 555),  # children injured per 100,000 children
    "injury_deaths": (19.0, 18.2, 17.5, 16.8, 16.1),  # per 100,000 children
}
# The province's children under 16 behind the injury reports (about the committee's 2022 figure).
DEMO_CHILDREN = 200000

# Provincial targets 2021–2025 and 2030, and a 2020 baseline.
TARGETS: dict[str, tuple[Any, ...]] = {
    # code: (baseline 2020, 2021, 2022, 2023, 2024, 2025, 2030)
    "tre-em-hcdb": (1.6, 6.5, 6.5, 6.5, 6.5, 6.5, 6.0),
    "tre-em-hcdb-duoc-tro-giup": (78, 80, 82, 85, 88, 90, 95),
    "tro-cap-xa-hoi": (1650, 1700, 1800, 1900, 2000, 2100, 2500),
    "tre-em-bi-xam-hai": (6.5, 6.0, 5.5, 5.0, 4.8, 4.5, 4.0),
    "tai-nan-thuong-tich": (650, 630, 610, 590, 570, 550, 500),
    "tu-vong-tai-nan-thuong-tich": (19.5, 19, 18.5, 18, 17, 16, 15),
    "tao-hon": (190, 185, 180, 175, 170, 165, 140),
    "lao-dong-tre-em": (6.3, 6.0, 5.7, 5.4, 5.1, 4.9, 4.5),
    "dang-ky-khai-sinh": (95.5, 96.5, 97, 97.5, 98, 98.5, 100),
    "xa-phu-hop-tre-em": (44, 48, 52, 56, 60, 65, 75),
    "xa-co-diem-vui-choi": (25, 30, 33, 36, 38, 40, 45),
    "tre-em-duoc-lay-y-kien": (22, 25, 27, 28, 29, 30, 35),
    "tiem-chung-day-du": (92.8, 95, 96, 96.5, 97, 97, 98),
    "suy-dinh-duong-thap-coi": (28.4, 27, 26, 25, 24, 23, 20),
    "hoan-thanh-tieu-hoc": (93.5, 94, 95, 95.5, 96, 97, 99),
    "hoan-thanh-thcs": (79, 81, 82, 83, 85, 88, 93),
}

# Reports that never came (form, period): the evaluation shows "no data" where they were the only source.
MISSING = {("doan-tham-van", "2023"), ("vhttdl-diem-vui-choi", "2021"), ("yte-tiem-chung", "2024Q3"),
           ("gddt-bo-hoc", "2022H2")}
# The last periods: awaiting review, or returned with a comment.
PENDING = {("yte-tiem-chung", "2025Q4"): "submitted", ("tuphap-khai-sinh", "2025H2"): "submitted",
           ("gddt-hoan-thanh", "2025"): "returned", ("gddt-bo-hoc", "2025H2"): "submitted"}

EXPLANATIONS: dict[str, tuple[str, str]] = {
    "tiem-chung-day-du": ("Thiếu vắc xin trong một số tháng; người dân ở vùng sâu, vùng xa đi lại khó khăn; "
                          "một bộ phận người dân còn e ngại tiêm chủng.",
                          "Tổ chức tiêm chủng lưu động tại thôn, làng; phối hợp già làng, người có uy tín vận động; "
                          "bảo đảm cung ứng vắc xin kịp thời."),
    "suy-dinh-duong-thap-coi": ("Tỷ lệ hộ nghèo, hộ đồng bào dân tộc thiểu số cao; tập quán chăm sóc, nuôi dưỡng "
                                "trẻ nhỏ chưa phù hợp.",
                                "Triển khai dự án cải thiện dinh dưỡng thuộc Chương trình mục tiêu quốc gia; "
                                "hướng dẫn thực hành dinh dưỡng tại cộng đồng."),
    "hoan-thanh-tieu-hoc": ("Học sinh dân tộc thiểu số nghỉ học theo mùa vụ; cơ sở vật chất điểm trường lẻ còn thiếu.",
                            "Duy trì bữa ăn bán trú; giáo viên đến tận nhà vận động học sinh ra lớp."),
    "hoan-thanh-thcs": ("Học sinh bỏ học đi làm thuê, tảo hôn; khoảng cách từ nhà đến trường xa.",
                        "Phối hợp UBND cấp xã và Đoàn Thanh niên vận động học sinh trở lại lớp; mở rộng nhà bán trú."),
    "dang-ky-khai-sinh": ("Một số trẻ sinh tại nhà, cha mẹ chưa làm thủ tục khai sinh đúng hạn.",
                          "Đẩy mạnh đăng ký khai sinh trực tuyến và lưu động; công chức tư pháp - hộ tịch rà soát "
                          "từng thôn."),
    "xa-phu-hop-tre-em": ("Nhiều xã chưa đạt tiêu chí về điểm vui chơi và phòng, chống tai nạn thương tích.",
                          "Lồng ghép tiêu chí xã phù hợp với trẻ em vào chương trình nông thôn mới."),
    "xa-co-diem-vui-choi": ("Ngân sách xã hạn hẹp, chưa bố trí quỹ đất cho điểm vui chơi.",
                            "Vận động xã hội hoá; đề nghị các huyện bố trí kinh phí theo Nghị quyết của HĐND tỉnh."),
    "lao-dong-tre-em": ("Trẻ em theo gia đình lên rẫy, làm thuê theo mùa vụ.",
                        "Truyền thông về lao động trẻ em; kiểm tra các cơ sở sử dụng lao động chưa thành niên."),
    "tre-em-duoc-lay-y-kien": ("Các diễn đàn trẻ em mới tổ chức ở cấp tỉnh, chưa đến cấp xã.",
                               "Tổ chức diễn đàn trẻ em cấp huyện, cấp xã; lấy ý kiến trẻ em qua trường học."),
}
GENERIC_EXPLANATION = ("Nguồn lực và nhân lực làm công tác trẻ em ở cơ sở còn thiếu; số liệu chưa được cập nhật đầy đủ.",
                       "Bổ sung nhân lực, tập huấn cộng tác viên; rà soát số liệu hằng quý.")

# The yearly work programme (from the committee's 2023 tasks): (task, lead unit, supporting units)
WORK_TASKS = [
    ("Truyền thông pháp luật về bảo vệ trẻ em, phòng chống bạo lực, xâm hại trẻ em", "so-tttt",
     ["so-vhttdl", "tinh-doan"]),
    ("Quản lý nhà nước, kiểm tra việc thực hiện các chỉ tiêu về trẻ em", "so-ldtbxh", ["so-yte"]),
    ("Tập huấn cán bộ, cộng tác viên, tình nguyện viên làm công tác trẻ em cấp cơ sở", "so-ldtbxh", ["hoi-lhpn"]),
    ("Phối hợp liên ngành và với UBND các huyện trong bảo vệ trẻ em", "so-ldtbxh", ["cong-an", "so-tuphap"]),
    ("Phát động phong trào thi đua lồng ghép các mục tiêu vì trẻ em", "hoi-lhpn", ["tinh-doan"]),
    ("Phối hợp UNICEF, Plan International và các tổ chức phi chính phủ nhân rộng mô hình bảo vệ trẻ em",
     "so-ldtbxh", ["so-taichinh"]),
    ("Giảm tình trạng tảo hôn và hôn nhân cận huyết thống", "ban-dantoc", ["hoi-lhpn", "so-tuphap"]),
    ("Duy trì sĩ số, vận động trẻ em trong độ tuổi đến trường; phân luồng học sinh", "so-gddt", ["tinh-doan"]),
    ("Tăng cường hoạt động vui chơi, giải trí cho trẻ em", "so-vhttdl", ["tinh-doan"]),
    ("Bố trí kinh phí cho công tác trẻ em", "so-taichinh", []),
    ("Tiêm chủng mở rộng và cải thiện dinh dưỡng trẻ em dưới 5 tuổi", "so-yte", ["hoi-lhpn"]),
    ("Phòng ngừa, điều tra, xử lý các vụ xâm hại trẻ em", "cong-an", ["so-ldtbxh"]),
]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _q(x: float) -> Decimal:
    return D(str(round(x, 2)))


def _reporters(ctx) -> dict[str, User]:
    """A reporter account per member unit (`reporter` is the education department's)."""
    out: dict[str, User] = {}
    units = [unit_resolve(ref) for ref in DEMO_PROVINCE]
    for code, name, _en, _kind in DEMO_MEMBER_UNITS:
        username = "reporter" if code == "so-gddt" else f"reporter-{code}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=DEMO_PASSWORD, role=Role.REPORTER, units=units,
                               full_name=f"Báo cáo viên {name}", member_unit=MemberUnit.objects.get(code=code))
        ctx.users[username] = user
        out[code] = user
    return out


def _values(form_code: str, yi: int, period_count: int, rng, ctx, communes: int) -> dict[str, Any]:
    """Consistent values of one report (parts within wholes, disaggregations summing to totals)."""
    def share(total: int, pct: float) -> int:
        return min(total, round(total * (pct + rng.uniform(-0.4, 0.4)) / 100))

    if form_code == "yte-tiem-chung":
        under1 = ctx.scaled(3100) + rng.randint(-120, 120)
        return {"under1": under1, "under1_immunised": share(under1, RATES["immunised"][yi])}
    if form_code == "yte-dinh-duong":
        measured = ctx.scaled(52000) + rng.randint(-800, 800)
        return {"under5_measured": measured, "under5_stunted": share(measured, RATES["stunted"][yi])}
    if form_code == "gddt-hoan-thanh":
        p, s = ctx.scaled(13500) + rng.randint(-200, 200), ctx.scaled(11800) + rng.randint(-200, 200)
        return {"primary_cohort": p, "primary_completed": share(p, RATES["primary"][yi]),
                "lowsec_cohort": s, "lowsec_completed": share(s, RATES["lowsec"][yi])}
    if form_code == "gddt-bo-hoc":
        pupils = ctx.scaled(160000) + rng.randint(-1000, 1000)
        return {"pupils": pupils, "dropouts": round(pupils * RATES["dropout"][yi] / 100 / 2)}
    if form_code == "tuphap-khai-sinh":
        births = ctx.scaled(6200) + rng.randint(-150, 150)
        return {"births": births, "births_registered": share(births, RATES["births"][yi])}
    if form_code == "tuphap-khai-sinh-duoi-5":
        under5 = ctx.scaled(52000) + rng.randint(-500, 500)
        return {"under5": under5, "under5_registered": share(under5, RATES["births"][yi])}
    if form_code == "yte-tai-nan-thuong-tich":
        children = ctx.scaled(DEMO_CHILDREN)
        injured = round(children * RATES["injured"][yi] / 100000)
        return {"children_injured": injured,
                "injury_deaths": min(injured, round(children * RATES["injury_deaths"][yi] / 100000))}
    if form_code == "ldtbxh-xa-phu-hop":
        return {"communes": communes, "communes_child_friendly": min(communes, RATES["friendly"][yi]),
                "child_labour_rate": _q(RATES["labour"][yi])}
    if form_code == "vhttdl-diem-vui-choi":
        return {"communes": communes, "communes_play_points": min(communes, RATES["play"][yi])}
    if form_code == "doan-tham-van":
        surveyed = ctx.scaled(5000)
        return {"children_7plus": surveyed, "children_consulted": share(surveyed, RATES["consulted"][yi])}
    return {}


def _split(total: int, dims: list[str], rng) -> dict[str, int]:
    """Sex breakdown of a total (the only disaggregation the demo fills)."""
    if "sex" not in dims:
        return {}
    boys = round(total * rng.uniform(0.5, 0.53))
    return {"sex:M": boys, "sex:F": total - boys}


def seed(ctx) -> str:  # noqa: C901, PLR0915 — a story reads best in one piece
    if Submission.objects.exists():
        return "programme data already present; nothing to do"
    rng = ctx.rng("programme")
    catalogue_load()
    reporters = _reporters(ctx)
    officer = ctx.users.get("province") or ctx.users.get("admin")
    units = {mu.code: mu for mu in MemberUnit.objects.all()}
    from vitreem.places.selectors import communes_under

    communes = communes_under(ctx.province).filter(level=Level.COMMUNE).count() or 102

    # ---- baselines and targets
    indicators = {i.code: i for i in Indicator.objects.all()}
    targets = []
    for code, (baseline, *per_year) in TARGETS.items():
        ind = indicators.get(code)
        if ind is None:
            continue
        scaled = ind.measure == "number"
        ind.baseline_year, ind.baseline_value = 2020, _q(ctx.scaled(baseline) if scaled else baseline)
        ind.save(update_fields=["baseline_year", "baseline_value"])
        for year, value in zip((*YEARS, 2030), per_year, strict=True):
            targets.append(Target(indicator=ind, year=year, value=_q(ctx.scaled(value) if scaled else value),
                                  updated_by=officer, note="Kế hoạch của UBND tỉnh"))
    Target.objects.bulk_create(targets, ignore_conflicts=True)

    # ---- reports of every period 2021–2025
    forms = list(ReportForm.objects.prefetch_related("member_units").order_by("code"))
    elements = {(e.form_id, e.code): e for e in DataElement.objects.all()}
    submissions: list[Submission] = []
    pending_values: list[tuple[Submission, dict[str, Any]]] = []
    late = 0
    for form in forms:
        for mu in form.member_units.all():
            for yi, year in enumerate(YEARS):
                periods = periods_of_year(form.period_type, year)
                for period in periods:
                    if (form.code, period.code) in MISSING:
                        continue
                    due = period.due_on(form.deadline_days)
                    is_late = rng.random() < 0.18
                    late += is_late
                    day = due + dt.timedelta(days=rng.randint(2, 25)) if is_late else due - dt.timedelta(
                        days=rng.randint(0, 12))
                    when = _at(day, rng.randint(8, 16), rng.randint(0, 59))
                    status = PENDING.get((form.code, period.code), SubmissionStatus.ACCEPTED)
                    reviewed = when + dt.timedelta(days=rng.randint(1, 6))
                    sub = Submission(
                        form=form, period=period.code, period_start=period.start, period_end=period.end, due_on=due,
                        member_unit=mu, assignee_key=f"mu:{mu.pk}", status=status, first_submitted_at=when,
                        submitted_at=when, submitted_by=reporters.get(mu.code),
                        reviewed_at=reviewed if status != SubmissionStatus.SUBMITTED else None,
                        reviewed_by=officer if status != SubmissionStatus.SUBMITTED else None,
                        review_comment="Số học sinh hoàn thành THCS chưa khớp với báo cáo tổng kết năm học; "
                                       "đề nghị kiểm tra lại." if status == SubmissionStatus.RETURNED else "",
                        version=3)
                    submissions.append(sub)
                    pending_values.append((sub, _values(form.code, yi, len(periods), rng, ctx, communes)))
    Submission.objects.bulk_create(submissions)
    values = []
    for sub, vals in pending_values:
        for ecode, value in vals.items():
            element = elements[(sub.form_id, ecode)]
            values.append(DataValue(submission=sub, element=element, category="", value=D(value)))
            values.extend(DataValue(submission=sub, element=element, category=cat, value=D(v))
                          for cat, v in _split(int(value), element.disaggregations, rng).items())
    DataValue.objects.bulk_create(values, batch_size=2000)

    # ---- work programmes, target plans, member units' own plans
    tasks = 0
    for year in YEARS:
        programme = Plan.objects.create(year=year, kind=Plan.Kind.WORK_PROGRAMME,
                                        title=f"Chương trình công tác năm {year} của Ban Chỉ đạo",
                                        document_ref=f"Số {10 + year - 2021}/CTr-BCĐ", adopted_on=dt.date(year, 2, 16))
        plan = Plan.objects.create(year=year, kind=Plan.Kind.TARGET_PLAN,
                                   title=f"Kế hoạch thực hiện các chỉ tiêu vì trẻ em năm {year}",
                                   document_ref=f"Số {45 + year - 2021}/KH-UBND", adopted_on=dt.date(year, 3, 10))
        for i, (title, lead, supporting) in enumerate(WORK_TASKS):
            deadline = dt.date(year, 3 + (i % 9), 28)
            roll = rng.random()
            if (year == 2025 and roll < 0.3) or roll < 0.08:
                status, done_on = TaskStatus.IN_PROGRESS, None
            else:
                status = TaskStatus.DONE
                done_on = deadline - dt.timedelta(days=rng.randint(0, 20)) if roll < 0.8 else \
                    deadline + dt.timedelta(days=rng.randint(5, 40))
            task = Task.objects.create(plan=programme if i < 10 else plan, title=title, lead_unit=units[lead],
                                       deadline=deadline, status=status, done_on=done_on,
                                       result="Đã triển khai theo kế hoạch" if status == TaskStatus.DONE else "")
            task.supporting_units.set([units[c] for c in supporting])
            tasks += 1
    for code, name, _en, _kind in DEMO_MEMBER_UNITS:
        own = Plan.objects.create(year=2023, kind=Plan.Kind.MEMBER_UNIT, member_unit=units[code],
                                  title=f"Kế hoạch bảo vệ trẻ em năm 2023 của {name}")
        Task.objects.create(plan=own, title="Xây dựng và ban hành kế hoạch của ngành", lead_unit=units[code],
                            deadline=dt.date(2023, 3, 31), status=TaskStatus.DONE, done_on=dt.date(2023, 3, 20))
        tasks += 1

    # ---- evaluations: explanations for every target not achieved, ratings, years closed
    from .selectors import evaluation_for_year, member_unit_evaluations

    explained = 0
    today = dt.date(2026, 3, 1)
    for year in YEARS:
        rows = evaluation_for_year(year=year, with_trend=False)["targets"]
        not_achieved = [r for r in rows if r["status"] == "not_achieved"]
        for row in not_achieved:
            # 2025 is still being evaluated: the first explanation is still missing
            if year == 2025 and row is not_achieved[0]:
                continue
            causes, solutions = EXPLANATIONS.get(row["code"], GENERIC_EXPLANATION)
            owner = indicators[row["code"]].owner
            Explanation.objects.create(indicator_id=row["indicator_id"], year=year, causes=causes, solutions=solutions,
                                       member_unit=owner, written_by=reporters.get(owner.code) if owner else officer)
            explained += 1
        if year < 2025:
            for m in member_unit_evaluations(year=year, target_rows=rows, today=today):
                if m["suggested"]:
                    MemberUnitEvaluation.objects.create(
                        year=year, member_unit=m["member_unit"], rating=m["suggested"], confirmed_by=officer,
                        confirmed_at=_at(dt.date(year + 1, 2, 16), 9),
                        comment="Theo kết quả đánh giá của cơ quan thường trực")
            YearEvaluation.objects.create(year=year, finalised_by=officer,
                                          finalised_at=_at(dt.date(year + 1, 2, 16), 10),
                                          summary=f"Ban Chỉ đạo đã đánh giá kết quả thực hiện năm {year}.")
    audit_change(actor=ctx.users.get("admin"), action="programme.demo.seed", object_type="programme",
                 changes={"submissions": len(submissions), "values": len(values), "tasks": tasks,
                          "explanations": explained})
    return (f"{len(reporters)} reporters, {len(targets)} targets, {len(submissions)} reports ({late} late, "
            f"{len(MISSING)} missing), {tasks} tasks, {explained} explanations")
