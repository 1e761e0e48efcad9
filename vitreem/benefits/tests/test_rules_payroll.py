"""The hand-computed cases of the issue, through the services and the payroll computation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vitreem.benefits import services
from vitreem.benefits.models import Adjustment, Allowance, Payroll
from vitreem.benefits.payroll import payroll_compute
from vitreem.benefits.rules import age_for_month, coefficient_age, month_parse
from vitreem.core.errors import Conflict, DomainError, ValidationFailed

from .factories import make_child

D = dt.date


def line_of(unit, month: str, child):
    result = payroll_compute(month=month_parse(month), commune_ids={unit.pk})
    found = [ln for ln in result.lines if ln.child_id == child.pk]
    return found[0] if found else None


def enrol(actor, child, group, on, **kw):
    return services.allowance_enrol(actor=actor, child=child, group=group, number=f"{on:%m%d}/QĐ-UBND",
                                    decided_on=on, **kw)


def test_coefficient_age_is_the_age_reached_in_the_month():
    # Decree 20/2021, Art. 8(1): a new age band from the month it is reached.
    assert coefficient_age(D(2020, 3, 15), D(2024, 2, 1)) == 3
    assert coefficient_age(D(2020, 3, 15), D(2024, 3, 1)) == 4
    assert coefficient_age(D(2020, 3, 31), D(2024, 3, 1)) == 4  # born on the last day: still that month


@pytest.mark.django_db
def test_child_turning_four_in_2026(units, worker_a):
    # After the 2025 reform the same clause is applied (no later text changing it was found): an orphan
    # born 20/01/2022 is paid 2.5 × 500.000 in December 2025 and 1.5 × 500.000 from January 2026.
    child = make_child(units.commune_a, birth=D(2022, 1, 20), episodes=[("1", D(2022, 6, 1))])
    enrol(worker_a, child, "no_nurture", D(2025, 9, 10))
    dec, jan = line_of(units.commune_a, "2025-12", child), line_of(units.commune_a, "2026-01", child)
    assert (dec.coefficient, dec.amount) == (Decimal("2.5"), 1_250_000)
    assert (jan.coefficient, jan.amount) == (Decimal("1.5"), 750_000)


def test_month_rule_age_is_taken_at_end_of_previous_month():
    assert age_for_month(D(2020, 3, 15), D(2024, 3, 1)) == 3
    assert age_for_month(D(2020, 3, 15), D(2024, 4, 1)) == 4
    assert age_for_month(D(2020, 4, 1), D(2024, 4, 1)) == 3  # born on the 1st: still 3 on 31/03
    assert age_for_month(D(2024, 5, 20), D(2024, 5, 1)) == 0


@pytest.mark.django_db
def test_child_turning_four_mid_year_and_base_change(units, worker_a):
    # An orphan born 15/03/2020: 2.5 × 360.000 up to February 2024, and 1.5 from March, the month she
    # turns 4 — Decree 20/2021, Art. 8(1): a change of level "kể từ tháng đối tượng đủ điều kiện điều
    # chỉnh" (before, vitreem paid March at 2.5: 360.000 too much); 1.5 × 500.000 from July 2024
    # (Decree 76/2024).
    child = make_child(units.commune_a, birth=D(2020, 3, 15), episodes=[("1", D(2021, 1, 10))])
    enrol(worker_a, child, "no_nurture", D(2023, 10, 5))
    feb, mar, apr = (line_of(units.commune_a, m, child) for m in ("2024-02", "2024-03", "2024-04"))
    assert (feb.coefficient, feb.base, feb.amount) == (Decimal("2.5"), 360_000, 900_000)
    assert (mar.coefficient, mar.amount) == (Decimal("1.5"), 540_000)
    assert (apr.coefficient, apr.amount) == (Decimal("1.5"), 540_000)
    jun, jul = line_of(units.commune_a, "2024-06", child), line_of(units.commune_a, "2024-07", child)
    assert (jun.base, jun.amount) == (360_000, 540_000)
    assert (jul.base, jul.amount) == (500_000, 750_000)
    assert line_of(units.commune_a, "2023-09", child) is None  # before the decision's month
    first = line_of(units.commune_a, "2023-10", child)
    assert first.amount == 900_000 and first.arrears == 0


@pytest.mark.django_db
def test_sixteen_year_old_in_school_continues_and_one_out_of_school_stops(units, worker_a):
    # Born 10/05/2008: 16 in May 2024. In school: carries on as "16–22 in school" (Art. 5(2)), 1.5.
    student = make_child(units.commune_a, birth=D(2008, 5, 10), schooling="in_school",
                         episodes=[("3.1", D(2015, 2, 1))])
    dropout = make_child(units.commune_a, birth=D(2008, 5, 10), schooling="dropped_out",
                         episodes=[("3.1", D(2015, 2, 1))])
    enrol(worker_a, student, "no_nurture", D(2022, 1, 10))
    enrol(worker_a, dropout, "no_nurture", D(2022, 1, 10))
    may_s, jun_s = line_of(units.commune_a, "2024-05", student), line_of(units.commune_a, "2024-06", student)
    assert (may_s.group_code, may_s.amount) == ("no_nurture", 540_000)
    assert (jun_s.group_code, jun_s.coefficient, jun_s.amount) == ("no_nurture_student", Decimal("1.5"), 540_000)
    assert line_of(units.commune_a, "2024-07", student).amount == 750_000
    assert line_of(units.commune_a, "2024-05", dropout).amount == 540_000
    assert line_of(units.commune_a, "2024-06", dropout) is None


@pytest.mark.django_db
def test_twenty_second_birthday_stops(units, worker_a):
    young = make_child(units.commune_a, birth=D(2002, 8, 20), schooling="in_school", episodes=[("2", D(2003, 1, 1))])
    allowance = enrol(worker_a, young, "no_nurture_student", D(2021, 9, 6))
    assert line_of(units.commune_a, "2024-08", young).amount == 750_000
    assert line_of(units.commune_a, "2024-09", young) is None
    stopped = services.allowance_stop(actor=worker_a, allowance=allowance, reason="aged_22", number="9/QĐ",
                                      decided_on=D(2024, 9, 3))
    assert stopped.periods.get().end == D(2024, 8, 1)
    assert line_of(units.commune_a, "2024-08", young).amount == 750_000


@pytest.mark.django_db
def test_arrears_for_a_late_decision(units, officer, worker_a):
    child = make_child(units.commune_a, birth=D(2019, 6, 1), episodes=[("2", D(2019, 6, 2))])
    for m in ("2024-01", "2024-02", "2024-03"):
        services.payroll_lock(actor=worker_a, month=month_parse(m), unit=units.commune_a)
    enrol(worker_a, child, "no_nurture", D(2024, 4, 10), arrears_from=D(2024, 1, 1),
          arrears_reason="Hồ sơ đủ từ 01/2024, quyết định chậm")
    april = line_of(units.commune_a, "2024-04", child)
    assert april.amount == 540_000
    assert april.arrears == 3 * 540_000
    assert [d["for_month"] for d in april.details] == [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    services.payroll_lock(actor=worker_a, month=D(2024, 4, 1), unit=units.commune_a)
    may = line_of(units.commune_a, "2024-05", child)
    assert (may.amount, may.arrears, may.adjustment) == (540_000, 0, 0)
    # The locked April shows what was paid.
    locked = payroll_compute(month=D(2024, 4, 1), commune_ids={units.commune_a.pk})
    assert locked.locked and locked.arrears == 1_620_000 and locked.total == 2_160_000


@pytest.mark.django_db
def test_paid_month_corrected_by_adjustment_in_a_later_month(units, worker_a):
    child = make_child(units.commune_a, birth=D(2018, 2, 2), episodes=[("1", D(2020, 1, 1))])
    allowance = enrol(worker_a, child, "no_nurture", D(2024, 3, 4))
    services.payroll_lock(actor=worker_a, month=D(2024, 3, 1), unit=units.commune_a)
    services.payroll_lock(actor=worker_a, month=D(2024, 4, 1), unit=units.commune_a)
    services.payroll_lock(actor=worker_a, month=D(2024, 5, 1), unit=units.commune_a)
    # Reported in June: the child died on 20/04/2024; May should not have been paid.
    child.ended_on = D(2024, 4, 20)
    child.save(update_fields=["ended_on"])
    services.allowance_stop(actor=worker_a, allowance=allowance, reason="died", number="12/QĐ", decided_on=D(2024, 6, 5))
    with pytest.raises(Conflict):
        services.payroll_lock(actor=worker_a, month=D(2024, 5, 1), unit=units.commune_a)
    june = line_of(units.commune_a, "2024-06", child)
    assert (june.amount, june.arrears, june.adjustment) == (0, 0, -540_000)
    # The paid month itself is unchanged.
    assert Payroll.objects.get(unit=units.commune_a, month=D(2024, 5, 1)).total == 540_000
    assert line_of(units.commune_a, "2024-05", child).amount == 540_000


@pytest.mark.django_db
def test_a_paid_month_is_corrected_when_only_the_child_s_record_changed_after_it(units, worker_a):
    """The allowance ended with May (decided before May was paid), and after that only the child's
    record changed (a death on 20/04 reported late): no allowance in force in June, no decision and no
    adjustment since the locks. The June payroll still reconciles May (`_may_owe`: the child changed
    since the earliest lock) and takes back what May paid."""
    child = make_child(units.commune_a, birth=D(2018, 2, 2), episodes=[("1", D(2020, 1, 1))])
    allowance = enrol(worker_a, child, "no_nurture", D(2024, 3, 4))
    services.allowance_stop(actor=worker_a, allowance=allowance, reason="other", note="Về ở với ông bà",
                            number="15/QĐ", decided_on=D(2024, 5, 10), last_month=D(2024, 5, 1))
    for month in (3, 4, 5):
        services.payroll_lock(actor=worker_a, month=D(2024, month, 1), unit=units.commune_a)
    child.ended_on = D(2024, 4, 20)
    child.save(update_fields=["ended_on", "updated_at"])
    june = line_of(units.commune_a, "2024-06", child)
    assert (june.amount, june.adjustment) == (0, -540_000)


@pytest.mark.django_db
def test_manual_adjustment_is_paid_next_open_month_then_settled(units, worker_a):
    child = make_child(units.commune_a, birth=D(2017, 2, 2), episodes=[("1", D(2020, 1, 1))])
    allowance = enrol(worker_a, child, "no_nurture", D(2024, 3, 4))
    with pytest.raises(ValidationFailed):  # March not paid yet: nothing to correct
        services.payroll_adjust(actor=worker_a, allowance=allowance, for_month=D(2024, 3, 1), amount=100_000,
                                reason="x")
    services.payroll_lock(actor=worker_a, month=D(2024, 3, 1), unit=units.commune_a)
    services.payroll_adjust(actor=worker_a, allowance=allowance, for_month=D(2024, 3, 1), amount=540_000,
                            reason="Chưa nhận tiền tháng 3")
    april = line_of(units.commune_a, "2024-04", child)
    assert (april.amount, april.adjustment) == (540_000, 540_000)
    services.payroll_lock(actor=worker_a, month=D(2024, 4, 1), unit=units.commune_a)
    assert Adjustment.objects.get().settled_in.month == D(2024, 4, 1)
    assert line_of(units.commune_a, "2024-05", child).adjustment == 0


@pytest.mark.django_db
def test_bad_decisions_are_refused_and_write_nothing(units, worker_a, officer):
    healthy = make_child(units.commune_a, birth=D(2015, 1, 1))
    with pytest.raises(ValidationFailed) as exc:
        enrol(worker_a, healthy, "no_nurture", D(2024, 3, 4))
    assert "không có ghi nhận mồ côi" in exc.value.message
    with pytest.raises(DomainError):  # a commune worker may not record an exception
        enrol(worker_a, healthy, "no_nurture", D(2024, 3, 4), exception_reason="Đã xác minh")
    assert not Allowance.objects.exists()
    # An officer may, with a reason.
    a = enrol(officer, healthy, "no_nurture", D(2024, 3, 4), exception_reason="Cha mẹ mất tích, đang xác minh")
    assert a.exception_reason
    orphan = make_child(units.commune_a, birth=D(2015, 1, 1), episodes=[("1", D(2016, 1, 1))])
    with pytest.raises(ValidationFailed) as exc:
        enrol(worker_a, orphan, "no_nurture", D(2024, 3, 4), start_month=D(2024, 2, 1))
    assert exc.value.field == "start_month"
    enrol(worker_a, orphan, "no_nurture", D(2024, 3, 4))
    with pytest.raises(Conflict):
        enrol(officer, orphan, "disability_severe", D(2024, 3, 4), exception_reason="x", certified_on=D(2024, 3, 1))
    with pytest.raises(Conflict):
        enrol(officer, orphan, "no_nurture", D(2024, 4, 4))
    assert Allowance.objects.count() == 2


@pytest.mark.django_db
def test_no_base_level_for_the_month_is_refused(units, admin_user):
    from vitreem.benefits.models import BaseLevel

    BaseLevel.objects.filter(valid_to__isnull=True).update(valid_to=D(2025, 6, 30))
    with pytest.raises(DomainError) as exc:
        payroll_compute(month=D(2025, 8, 1), commune_ids={units.commune_a.pk})
    assert exc.value.code == "no_base_level"
    with pytest.raises(DomainError):
        payroll_compute(month=D(2021, 6, 1), commune_ids={units.commune_a.pk})


@pytest.mark.django_db
def test_highest_coefficient_wins_in_eligibility(units, officer):
    from vitreem.benefits.rules import RuleBook, best_group, check_group, facts_load

    # An orphan aged 6 with a severe disability: 2.0 (disability) beats 1.5 (no nurture).
    child = make_child(units.commune_a, birth=D(2018, 1, 1), disability="severe", episodes=[("1", D(2019, 1, 1))])
    day = D(2024, 3, 1)
    f = facts_load([child], day=day)[child.pk]
    verdicts = [check_group(code, f) for code in ("no_nurture", "disability_severe", "hiv_poor")]
    assert best_group(verdicts, RuleBook.load(), f, day).group == "disability_severe"


@pytest.mark.django_db
def test_hiv_coefficients_are_the_decree_s_and_confirmed():
    # Decree 20/2021, Art. 6(1)(c): 2.5 under 4 years, 2.0 from 4 to under 16.
    from vitreem.benefits.models import Coefficient

    rows = {(c.age_from, c.age_to): c for c in Coefficient.objects.filter(group__code="hiv_poor")}
    assert rows[(0, 4)].value == Decimal("2.5") and rows[(4, 16)].value == Decimal("2.0")
    assert all(c.confirmed and c.legal_basis == "Nghị định 20/2021, Điều 6 khoản 1 điểm c" for c in rows.values())


# ---------------------------------------------------------------- disabled children (issue 14 item 3)

def test_a_disabled_child_is_paid_from_the_certificate_s_month(units, worker_a):
    """Decree 20/2021, Art. 8(1): "Thời gian hưởng trợ cấp xã hội hàng tháng đối với người khuyết tật từ
    tháng được cấp giấy xác nhận mức độ khuyết tật". A certificate of 05/07/2024, a decision of
    10/10/2024: July–September are arrears at 2.0 × 500,000 (severe disability, a child)."""
    child = make_child(units.commune_a, birth=D(2015, 2, 1), disability="severe")
    for m in ("2024-07", "2024-08", "2024-09"):
        services.payroll_lock(actor=worker_a, month=month_parse(m), unit=units.commune_a)
    allowance = enrol(worker_a, child, "disability_severe", D(2024, 10, 10), certified_on=D(2024, 7, 5))
    assert allowance.periods.get().start == D(2024, 7, 1)
    decision = allowance.decisions.get()
    assert decision.disability_certified_on == D(2024, 7, 5) and decision.arrears_from == D(2024, 7, 1)
    october = line_of(units.commune_a, "2024-10", child)
    assert (october.amount, october.arrears) == (1_000_000, 3_000_000)
    assert [d["for_month"] for d in october.details] == [D(2024, 7, 1), D(2024, 8, 1), D(2024, 9, 1)]


def test_the_certificate_date_is_required_and_not_after_the_decision(units, worker_a):
    child = make_child(units.commune_a, birth=D(2015, 2, 1), disability="severe")
    with pytest.raises(ValidationFailed) as missing:
        enrol(worker_a, child, "disability_severe", D(2024, 10, 10))
    assert missing.value.field == "certified_on"
    with pytest.raises(ValidationFailed) as late:
        enrol(worker_a, child, "disability_severe", D(2024, 10, 10), certified_on=D(2024, 10, 11))
    assert late.value.field == "certified_on"
    assert not Allowance.objects.filter(child=child).exists()
    # Issued in the decision's month: no arrears.
    allowance = enrol(worker_a, child, "disability_severe", D(2024, 10, 10), certified_on=D(2024, 10, 2))
    assert allowance.periods.get().start == D(2024, 10, 1) and allowance.decisions.get().arrears_from is None


def test_a_disabled_child_turning_16_carries_on_at_the_adult_coefficient(units, worker_a):
    """Art. 6(1)(e): 2.5 for a child with a particularly severe disability, 2.0 for an adult; the
    change applies from the month the person qualifies (Art. 8(1)). Never a stop at 16."""
    from vitreem.benefits.rules import check_group, facts_load

    child = make_child(units.commune_a, birth=D(2008, 5, 20), disability="particularly_severe")
    enrol(worker_a, child, "disability_particularly_severe", D(2023, 1, 10), certified_on=D(2023, 1, 5))
    assert line_of(units.commune_a, "2024-04", child).amount == 900_000  # 2.5 × 360,000, aged 15
    assert line_of(units.commune_a, "2024-05", child).amount == 720_000  # 2.0 × 360,000, 16 on 20/05
    assert line_of(units.commune_a, "2024-07", child).amount == 1_000_000  # 2.0 × 500,000
    assert line_of(units.commune_a, "2026-01", child).amount == 1_000_000
    facts = facts_load([child], day=D(2024, 6, 1))[child.pk]
    assert check_group("disability_particularly_severe", facts).failing == []


def test_who_decides_is_dated(units, worker_a):
    """Issue 14 item 6: the district chairman decides until 30/6/2025 (Decree 20/2021, Art. 8(1)(đ)),
    the commune chairman from 1/7/2025 (two-level local government)."""
    from django.utils import translation

    from conftest import login
    from vitreem.benefits.rules import deciding_authority

    assert deciding_authority(D(2025, 6, 30)) == "district" and deciding_authority(D(2025, 7, 1)) == "commune"
    before = enrol(worker_a, make_child(units.commune_a, birth=D(2015, 1, 1), episodes=[("1", D(2016, 1, 1))]),
                   "no_nurture", D(2025, 6, 20))
    after = enrol(worker_a, make_child(units.commune_a, birth=D(2016, 1, 1), episodes=[("1", D(2017, 1, 1))]),
                  "no_nurture", D(2025, 7, 2))
    with translation.override("vi"):
        assert before.decisions.get().authority == "Chủ tịch UBND cấp huyện"
        assert after.decisions.get().authority == "Chủ tịch UBND cấp xã"
    page = login(worker_a).get(f"/benefits/recipients/{before.pk}/").content.decode()
    assert "Chủ tịch UBND cấp huyện" in page


@pytest.mark.django_db
def test_no_source_of_nurture_is_exactly_the_cases_of_article_5_1(units, worker_a):
    """Issue 14 item 2 — Decree 20/2021 Art. 5(1) points a–l, not every child of Law-on-Children groups 1–3:
    a parent "no longer able to care" (Decree 56 sub-groups 3.2 without a facility, 3.7), parents who
    are children themselves (3.11), an adopted abandoned child (2.2 without point a) do not qualify;
    one parent dead and the other in prison (3.3, point đ) or abandoned and not adopted (2.2, point a) do."""
    on = D(2024, 3, 5)
    cases = {
        "3.3": (("3.3", D(2023, 1, 1)), True),
        "2.2 not adopted": (("2.2", D(2023, 1, 1), None, "a"), True),
        "2.2 adopted": (("2.2", D(2023, 1, 1), None, ""), False),
        "3.2 facility": (("3.2", D(2023, 1, 1), None, "d"), True),
        "3.2 unable": (("3.2", D(2023, 1, 1), None, ""), False),
        "3.7": (("3.7", D(2023, 1, 1)), False),
        "3.11": (("3.11", D(2023, 1, 1)), False),
        "bare 3": (("3", D(2023, 1, 1), None, ""), False),
    }
    for label, (episode, qualifies) in cases.items():
        child = make_child(units.commune_a, birth=D(2018, 2, 1), episodes=[episode])
        if qualifies:
            allowance = enrol(worker_a, child, "no_nurture", on)
            assert line_of(units.commune_a, "2024-03", child).amount == 540_000, label  # 1.5 × 360.000
            assert allowance.periods.get().group.code == "no_nurture"
        else:
            with pytest.raises(ValidationFailed) as refused:
                enrol(worker_a, child, "no_nurture", on)
            assert "khoản 1 Điều 5" in str(refused.value.errors["group"]), label
            assert not Allowance.objects.filter(child=child).exists(), label


@pytest.mark.django_db
def test_a_child_under_3_in_an_extremely_difficult_village(units, worker_a, officer):
    """Issue 14 item 1 — Decree 20/2021 Art. 5(7), coefficient 1.5 (Art. 6(1)(g)), worked by hand: born
    10/05/2023 in a near-poor household of "Thôn Kon Gung" (on the province's list from 04/6/2021):
    enrolled 12/02/2024 → 1.5 × 360.000 = 540.000 in 02/2024, 1.5 × 500.000 = 750.000 from 07/2024, still
    paid in 05/2026 (the month of the 3rd birthday, Art. 8(2)) and not in 06/2026. A child of the next
    village, or of a household that is neither poor nor near-poor, does not qualify; an orphan under 3
    there is paid as Art. 5(1) (2.5), not 5(7)."""
    from vitreem.benefits.models import DifficultArea

    DifficultArea.objects.create(unit=units.commune_a, village="Thôn Kon Gung", valid_from=D(2021, 6, 4),
                                 legal_basis="Quyết định 612/QĐ-UBDT ngày 16/9/2021")
    near_poor = {2024: "near_poor", 2025: "near_poor", 2026: "near_poor"}
    child = make_child(units.commune_a, birth=D(2023, 5, 10), poverty=near_poor, village="thôn kon gung")
    enrol(worker_a, child, "under3_difficult_area", D(2024, 2, 12))
    feb = line_of(units.commune_a, "2024-02", child)
    assert (feb.group_code, feb.coefficient, feb.amount) == ("under3_difficult_area", Decimal("1.5"), 540_000)
    assert line_of(units.commune_a, "2024-07", child).amount == 750_000
    assert line_of(units.commune_a, "2026-05", child).amount == 750_000
    assert line_of(units.commune_a, "2026-06", child) is None
    elsewhere = make_child(units.commune_a, birth=D(2023, 5, 10), poverty=near_poor, village="Thôn 2")
    not_poor = make_child(units.commune_a, birth=D(2023, 5, 10), village="Thôn Kon Gung")
    for other, why in ((elsewhere, "xã, thôn đặc biệt khó khăn"), (not_poor, "hộ cận nghèo")):
        with pytest.raises(ValidationFailed) as refused:
            enrol(worker_a, other, "under3_difficult_area", D(2024, 2, 12))
        assert why in str(refused.value.errors["group"])
    orphan = make_child(units.commune_a, birth=D(2023, 5, 10), poverty=near_poor, village="Thôn Kon Gung",
                        episodes=[("1", D(2023, 9, 1))])
    with pytest.raises(ValidationFailed) as refused:
        enrol(worker_a, orphan, "under3_difficult_area", D(2024, 2, 12))
    assert "khoản 1, 3 hoặc 6" in str(refused.value.errors["group"])
    from vitreem.benefits.selectors import eligibility_for_user

    found = {line.child.pk: line.group for line in eligibility_for_user(user=officer, on=D(2024, 2, 20)).eligible}
    assert found.get(orphan.pk) == "no_nurture" and elsewhere.pk not in found and not_poor.pk not in found


@pytest.mark.django_db
def test_a_rule_correction_is_an_adjustment_in_the_next_open_month_with_a_dry_run_first(units, worker_a):
    """Issue 14 item 8. March 2024 was paid under the old reading of Art. 8(1): a child turning 4 on 15/03
    got 2.5 × 360.000 = 900.000 instead of 1.5 × 360.000 = 540.000. The paid month never changes; nothing
    moves until the correction is recorded; `payroll_adjustments --rules-from` shows first, writing
    nothing, what it would create: −360.000 in the next open month. Once recorded, the April payroll
    carries it, marked as a rule correction; locking April settles it (May carries nothing)."""
    import io
    import json

    from django.core.management import call_command

    from vitreem.benefits.models import PaidLine, RuleChange
    from vitreem.benefits.payroll import RULE_CHANGE_NOTE

    child = make_child(units.commune_a, birth=D(2020, 3, 15), episodes=[("1", D(2021, 1, 10))])
    enrol(worker_a, child, "no_nurture", D(2024, 2, 5))
    services.payroll_lock(actor=worker_a, month=D(2024, 2, 1), unit=units.commune_a)
    services.payroll_lock(actor=worker_a, month=D(2024, 3, 1), unit=units.commune_a)
    PaidLine.objects.filter(child=child, for_month=D(2024, 3, 1)).update(coefficient=Decimal("2.5"), amount=900_000)
    assert line_of(units.commune_a, "2024-04", child).adjustment == 0  # no silent change

    out = io.StringIO()
    call_command("payroll_adjustments", month="2024-04", as_user=worker_a.username, unit="legacy:23500",
                 rules_from="2024-03", json=True, stdout=out)
    dry = json.loads(out.getvalue())
    assert [(r["child"], r["for_month"], r["cause"], r["amount"]) for r in dry["lines"]] == [
        (child.pk, "2024-03", "rule", -360_000)]
    assert dry["by_cause"] == {"rule": {"lines": 1, "amount": -360_000}}
    assert not RuleChange.objects.filter(affects_from__gte=D(2024, 1, 1)).exists()
    assert line_of(units.commune_a, "2024-04", child).adjustment == 0  # the dry run wrote nothing

    RuleChange.objects.create(affects_from=D(2024, 3, 1), description="Art. 8(1)", legal_basis="Điều 8 khoản 1")
    with CaptureQueriesContext(connection) as computed:
        april = line_of(units.commune_a, "2024-04", child)
    # the corrections are read once for both phases that use them (who may be owed, what to reconcile)
    assert sum('"benefits_rulechange"' in q["sql"] for q in computed.captured_queries) == 1
    assert (april.amount, april.adjustment) == (540_000, -360_000)
    assert [(d["for_month"], d["cause"]) for d in april.details] == [(D(2024, 3, 1), "rule")]
    services.payroll_lock(actor=worker_a, month=D(2024, 4, 1), unit=units.commune_a)
    paid = PaidLine.objects.get(child=child, for_month=D(2024, 3, 1), kind="adjustment")
    assert (paid.amount, paid.note) == (-360_000, RULE_CHANGE_NOTE)
    may = line_of(units.commune_a, "2024-05", child)
    assert (may.amount, may.adjustment) == (540_000, 0)


@pytest.mark.django_db
def test_a_near_poor_single_mother_of_two_children_who_also_receive_allowances(units, worker_a):
    """Issue 14 item 4 — Decree 20/2021 Art. 5(4), 6(1)(d), 6(2), worked by hand. Y Hoa, single (unmarried),
    near-poor household, raises Y Bi (born 20/09/2008, severe disability, not in school) and Y Ba (born
    02/03/2015, particularly severe disability). Both children have their own allowance; the mother's is
    her own, enrolled 10/08/2024: 2 × 1.0 × 500.000 = 1.000.000 in 08/2024 and 09/2024 (Y Bi turns 16 in
    September: still raised that month, Art. 8(2)), 500.000 from 10/2024. The children are paid as before:
    Y Bi 2.0 × 500.000 → 1.5 × 500.000 from his 16th birthday month, Y Ba 2.5 × 500.000."""
    from vitreem.benefits.models import AllowanceChild
    from vitreem.registry.models import Guardian

    near_poor = {2024: "near_poor"}
    bi = make_child(units.commune_a, birth=D(2008, 9, 20), name="Y Bi", disability="severe", poverty=near_poor,
                    schooling="dropped_out")
    ba = make_child(units.commune_a, birth=D(2015, 3, 2), name="Y Ba", disability="particularly_severe")
    ba.household = bi.household
    ba.save(update_fields=["household"])
    enrol(worker_a, bi, "disability_severe", D(2024, 7, 5), certified_on=D(2024, 7, 1))
    enrol(worker_a, ba, "disability_particularly_severe", D(2024, 7, 5), certified_on=D(2024, 7, 1))
    mother = Guardian.objects.create(child=bi, full_name="Y Hoa", name_key="y hoa", relationship="mother")
    grandmother = Guardian.objects.create(child=ba, full_name="Y Lan", name_key="y lan", relationship="grandparent")

    def single(**kw):
        args = {"actor": worker_a, "guardian": mother, "children": [bi, ba], "single_reason": "unmarried",
                "number": "12/QĐ-UBND", "decided_on": D(2024, 8, 10), **kw}
        return services.single_parent_enrol(**args)

    for kw, field in (({"single_reason": ""}, "single_reason"), ({"guardian": grandmother, "children": [ba]}, "guardian"),
                      ({"children": [ba]}, "children"), ({"decided_on": D(2023, 8, 10)}, "children")):
        with pytest.raises(ValidationFailed) as refused:
            single(**kw)
        assert field in refused.value.errors, kw
        assert not Allowance.objects.exclude(parent_name="").exists()
    with pytest.raises(ValidationFailed) as refused:  # the child's own enrolment in the parent's group
        enrol(worker_a, ba, "single_parent_poor", D(2024, 8, 10))
    assert "cha hoặc mẹ" in str(refused.value.errors["group"])

    own = single()
    assert (own.recipient_name, sorted(own.children.values_list("pk", flat=True))) == ("Y Hoa", sorted([bi.pk, ba.pk]))
    # The links to the children carry the children's province code (issue 13 item 6), as the allowances do.
    links = AllowanceChild.objects.filter(allowance=own)
    assert sorted(links.values_list("child_id", "province_code")) == sorted([(bi.pk, "51"), (ba.pk, "51")])
    result = payroll_compute(month=D(2024, 8, 1), commune_ids={units.commune_a.pk})
    paid = {ln.name: (ln.coefficient, ln.amount) for ln in result.lines}
    assert paid == {"Y Hoa": (Decimal("2.0"), 1_000_000), "Y Bi": (Decimal("2.0"), 1_000_000),
                    "Y Ba": (Decimal("2.5"), 1_250_000)}
    assert {ln.name: ln.amount for ln in payroll_compute(month=D(2024, 9, 1), commune_ids={units.commune_a.pk}).lines} \
        == {"Y Hoa": 1_000_000, "Y Bi": 750_000, "Y Ba": 1_250_000}
    assert {ln.name: ln.amount for ln in payroll_compute(month=D(2024, 10, 1), commune_ids={units.commune_a.pk}).lines} \
        == {"Y Hoa": 500_000, "Y Bi": 750_000, "Y Ba": 1_250_000}
    with pytest.raises(Conflict):
        single(number="13/QĐ-UBND")


@pytest.mark.django_db
def test_the_province_loads_its_list_of_extremely_difficult_areas_all_rows_or_none(units, officer, worker_a, tmp_path):
    """Issue 14 item 1: the list is dated data the province loads from a sheet; a bad row names its row and
    column and nothing is written; a commune worker may not load it."""
    from openpyxl import Workbook

    from vitreem.benefits.models import DifficultArea
    from vitreem.core.errors import PermissionDenied

    header = ["Mã xã", "Thôn", "Từ ngày", "Đến ngày", "Căn cứ"]
    good = [["legacy:23500", "", "04/06/2021", "30/06/2025", "QĐ 861/QĐ-TTg"],
            ["legacy:23512", "Thôn Kon Klốc", "16/09/2021", "", "QĐ 612/QĐ-UBDT"]]
    with pytest.raises(ValidationFailed) as refused:
        services.difficult_areas_load(actor=officer, rows=[header, *good, ["legacy:99999", "", "01/01/2022", "", "x"],
                                                           ["legacy:23500", "", "31/02/2022", "", "x"]])
    assert set(refused.value.errors) == {"row_4", "row_5"} and "Dòng 4" in refused.value.errors["row_4"]
    assert not DifficultArea.objects.exists()
    with pytest.raises(PermissionDenied):
        services.difficult_areas_load(actor=worker_a, rows=[header, *good])
    book = Workbook()
    for row in [header, *good]:
        book.active.append(row)
    path = tmp_path / "xa-dbkk.xlsx"
    book.save(path)
    from django.core.management import call_command

    call_command("difficult_areas_load", str(path), as_user=officer.username)
    call_command("difficult_areas_load", str(path), as_user=officer.username)  # again: nothing doubled
    assert sorted(DifficultArea.objects.values_list("unit_id", "village", "valid_to")) == sorted(
        [(units.commune_a.pk, "", D(2025, 6, 30)), (units.commune_b.pk, "Thôn Kon Klốc", None)])


@pytest.mark.django_db
def test_the_adjustments_dry_run_is_scoped_and_audited(units, worker_a, worker_b):
    """`vitreem payroll_adjustments` reads children's payroll lines: within the user's scope, like
    `vitreem payroll`; another commune's worker is refused; the read is audited."""
    import io

    from django.core.management import CommandError, call_command

    from vitreem.core.models import AuditEntry

    with pytest.raises(CommandError):
        call_command("payroll_adjustments", month="2024-04", as_user=worker_b.username, unit="legacy:23500",
                     stdout=io.StringIO())
    call_command("payroll_adjustments", month="2024-04", as_user=worker_a.username, stdout=io.StringIO())
    assert AuditEntry.objects.filter(actor=worker_a, object_type="benefits.payroll_adjustments").count() == 1
    assert not AuditEntry.objects.filter(actor=worker_b, object_type="benefits.payroll_adjustments").exists()


@pytest.mark.django_db
def test_the_payroll_totals_of_the_statistics_are_what_the_lines_add_up_to(units, worker_a, worker_b):
    """The statistics' monthly cost and lines (benefits.indicators) come from `payroll_totals`: the open
    communes computed, the locked ones summed from what was paid — the same as adding up every line of
    `payroll_compute`, arrears and a correction included, for every commune and for some."""
    from vitreem.benefits.payroll import payroll_totals

    paid = make_child(units.commune_a, birth=D(2019, 6, 1), episodes=[("2", D(2019, 6, 2))])
    for m in ("2024-01", "2024-02", "2024-03"):
        services.payroll_lock(actor=worker_a, month=month_parse(m), unit=units.commune_a)
    enrol(worker_a, paid, "no_nurture", D(2024, 4, 10), arrears_from=D(2024, 1, 1), arrears_reason="Quyết định chậm")
    other = make_child(units.commune_a, birth=D(2018, 2, 2), episodes=[("1", D(2020, 1, 1))])
    enrol(worker_a, other, "no_nurture", D(2024, 3, 4))
    services.payroll_lock(actor=worker_a, month=D(2024, 4, 1), unit=units.commune_a)  # April of A: locked
    open_b = make_child(units.commune_b, birth=D(2017, 2, 2), episodes=[("1", D(2020, 1, 1))])
    enrol(worker_b, open_b, "no_nurture", D(2024, 3, 4))
    april = D(2024, 4, 1)
    for communes in (None, {units.commune_a.pk}, {units.commune_a.pk, units.commune_b.pk}, {units.commune_b.pk}):
        expected: dict[int, tuple[int, int]] = {}
        for ln in payroll_compute(month=april, commune_ids=communes).lines:
            total, n = expected.get(ln.unit_id, (0, 0))
            expected[ln.unit_id] = (total + ln.total, n + 1)
        assert payroll_totals(month=april, commune_ids=communes) == expected
    # A: April and January–March in arrears for the first, April and March (locked without it) for the
    # second; B: April
    assert payroll_totals(month=april, commune_ids=None) == {
        units.commune_a.pk: (4 * 540_000 + 2 * 540_000, 2), units.commune_b.pk: (540_000, 1)}
