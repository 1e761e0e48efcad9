"""Services and selectors: arithmetic, validation rules, the submission life cycle, completeness,
permissions, evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from vitreem.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.programme import services as sv
from vitreem.programme.models import (
    DataValue,
    Explanation,
    Indicator,
    Rating,
    ReportForm,
    Submission,
    SubmissionStatus,
    Target,
    TaskStatus,
    YearEvaluation,
)
from vitreem.programme.periods import period_parse, period_previous, periods_of_year
from vitreem.programme.selectors import (
    _linear,
    completeness,
    evaluation_for_year,
    indicator_values,
    member_unit_evaluations,
    rate,
    submission_get_for_user,
    target_status,
)

from .conftest import at

D = Decimal


def _submit(actor, form_code, period, member_unit, values, *, when=None, accept_by=None, confirmations=None):
    form = ReportForm.objects.get(code=form_code)
    sub = sv.submission_open(actor=actor, form=form, period=period, member_unit=member_unit)
    sv.submission_save(actor=actor, submission=sub, values=values, submit=True, confirmations=confirmations)
    if when is not None:
        Submission.objects.filter(pk=sub.pk).update(first_submitted_at=when, submitted_at=when)
    if accept_by is not None:
        sv.submission_accept(actor=accept_by, submission=sub)
    sub.refresh_from_db()
    return sub


# ---------------------------------------------------------------- arithmetic


def test_rates_use_their_denominator_and_scale():
    assert rate(27, 200, "percent") == D("13.50")
    assert rate(3, 200_000, "per_100000") == D("1.50")
    assert rate(7, 2000, "per_1000") == D("3.50")
    assert rate(1865, None, "number") == D("1865.00")
    assert rate(5, 0, "percent") is None  # a zero denominator is no data, not zero
    assert rate(None, 100, "percent") is None


def test_status_is_direction_aware():
    assert target_status(D("6.2"), D("6.5"), "down") == "achieved"
    assert target_status(D("6.8"), D("6.5"), "down") == "not_achieved"
    assert target_status(D("6.5"), D("6.5"), "down") == "achieved"
    assert target_status(D("97.1"), D("97"), "up") == "achieved"
    assert target_status(D("96.9"), D("97"), "up") == "not_achieved"
    assert target_status(None, D("97"), "up") == "no_data"
    assert target_status(D("1"), None, "up") == "no_data"
    assert target_status(D("1"), D("1"), "") == "no_data"


def test_periods_across_types():
    assert [p.code for p in periods_of_year("quarter", 2022)] == ["2022Q1", "2022Q2", "2022Q3", "2022Q4"]
    assert [p.code for p in periods_of_year("half", 2022)] == ["2022H1", "2022H2"]
    q1 = period_parse("2022q1")
    assert (q1.start, q1.end, q1.due_on(15)) == (dt.date(2022, 1, 1), dt.date(2022, 3, 31), dt.date(2022, 4, 15))
    assert period_parse("2024H1").end == dt.date(2024, 6, 30)
    assert period_previous(period_parse("2022Q1")).code == "2021Q4"
    assert period_previous(period_parse("2022H2")).code == "2022H1"
    with pytest.raises(DomainError):
        period_parse("2022Q5")


def test_projection_follows_the_pace_of_recent_years():
    assert _linear([(2021, D("8")), (2022, D("7.5")), (2023, D("7"))], 2025) == D("6.00")
    assert _linear([(2022, D("7"))], 2025) is None


# ---------------------------------------------------------------- targets


def test_target_needs_direction_and_measure_and_writes_nothing(catalogue, officer):
    ind = sv.indicator_create(actor=officer, code="draft-ind", data={"name": "Chỉ tiêu nháp", "source": "reported"})
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as err:
        sv.target_set(actor=officer, indicator=ind, year=2022, value="10")
    assert "chiều đánh giá" in err.value.errors["direction"]
    assert "đơn vị đo" in err.value.errors["measure"]
    assert not Target.objects.filter(indicator=ind).exists()
    assert AuditEntry.objects.count() == before


def test_target_bad_values_are_refused(catalogue, officer):
    ind = Indicator.objects.get(code="tiem-chung-day-du")
    for year, value, field in [(2022, "120", "value"), (2019, "90", "year"), (2022, "abc", "value"),
                               (2022, "-1", "value"), (2022, "", "value")]:
        with pytest.raises(ValidationFailed) as err:
            sv.target_set(actor=officer, indicator=ind, year=year, value=value)
        assert field in err.value.errors
    assert not Target.objects.exists()


def test_target_edit_keeps_history(catalogue, officer, leader, reporter):
    ind = Indicator.objects.get(code="tiem-chung-day-du")
    target = sv.target_set(actor=officer, indicator=ind, year=2022, value="96,5")
    assert target.value == D("96.50")
    sv.target_set(actor=officer, indicator=ind, year=2022, value="97")
    history = list(AuditEntry.objects.filter(object_type="programme.target", object_id=str(target.pk)))
    assert len(history) == 2
    assert any([D(v) for v in h.changes.get("value") or ["0", "0"]] == [D("96.5"), D("97")] for h in history)
    for user in (leader, reporter):
        with pytest.raises(PermissionDenied):
            sv.target_set(actor=user, indicator=ind, year=2022, value="90")


# ---------------------------------------------------------------- validation rules of data entry


def _draft(actor, member_unit, form_code="yte-tiem-chung", period="2022Q1"):
    return sv.submission_open(actor=actor, form=ReportForm.objects.get(code=form_code), period=period,
                              member_unit=member_unit)


def test_disaggregations_must_sum_to_the_total(catalogue, reporter_health):
    sub = _draft(reporter_health, catalogue["so-yte"])
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=reporter_health, submission=sub, values={
            "under1": "100", "under1.sex:M": "50", "under1.sex:F": "45"})
    assert "(95)" in err.value.errors["under1"] and "(100)" in err.value.errors["under1"]
    assert not DataValue.objects.exists()
    # a missing total is the sum of its parts
    sv.submission_save(actor=reporter_health, submission=sub, values={"under1.sex:M": "50", "under1.sex:F": "45"})
    assert DataValue.objects.get(submission=sub, element__code="under1", category="").value == 95
    # some parts without the others
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "9", "under1.sex:M": "5"})
    assert "nhập đủ" in next(iter(err.value.errors.values()))


def test_a_part_cannot_exceed_its_whole_and_rates_stay_within_0_100(catalogue, reporter_health, officer):
    sub = _draft(reporter_health, catalogue["so-yte"])
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "100", "under1_immunised": "101"})
    assert "không được lớn hơn" in err.value.errors["under1_immunised"]
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=reporter_health, submission=sub,
                           values={"under1": "100", "under1_immunised.sex:M": "60", "under1_immunised.sex:F": "50",
                                   "under1.sex:M": "50", "under1.sex:F": "50"})
    assert "under1_immunised.sex:M" in err.value.errors
    ldtbxh = sv.submission_open(actor=officer, form=ReportForm.objects.get(code="ldtbxh-xa-phu-hop"), period="2022",
                                member_unit=catalogue["so-ldtbxh"])
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=officer, submission=ldtbxh, values={"child_labour_rate": "104,5"})
    assert "0–100" in err.value.errors["child_labour_rate"]
    with pytest.raises(ValidationFailed) as err:
        sv.submission_save(actor=officer, submission=ldtbxh, values={"communes": "-3", "communes_child_friendly": "x"})
    assert set(err.value.errors) == {"communes", "communes_child_friendly"}
    assert not DataValue.objects.exists()


def test_required_values_only_when_submitting(catalogue, reporter_health):
    sub = _draft(reporter_health, catalogue["so-yte"])
    sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "100"})
    with pytest.raises(ValidationFailed) as err:
        sv.submission_submit(actor=reporter_health, submission=sub)
    assert "chưa nhập" in err.value.errors["under1_immunised"]
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.DRAFT


def test_a_value_far_from_last_period_needs_a_confirmation_with_a_comment(catalogue, reporter_health, officer):
    mu = catalogue["so-yte"]
    _submit(reporter_health, "yte-tiem-chung", "2022Q1", mu, {"under1": "1000", "under1_immunised": "950"},
            accept_by=officer)
    sub = _draft(reporter_health, mu, period="2022Q2")
    checked = sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "1000",
                                                                                  "under1_immunised": "300"})
    assert len(checked.warnings) == 1  # a draft is saved with its warning
    key = next(iter(checked.warnings))
    with pytest.raises(ValidationFailed) as err:
        sv.submission_submit(actor=reporter_health, submission=sub)
    assert "xác nhận" in err.value.errors[f"confirm:{key}"]
    with pytest.raises(ValidationFailed):  # an empty comment is no confirmation
        sv.submission_submit(actor=reporter_health, submission=sub, confirmations={key: "  "})
    sub = sv.submission_submit(actor=reporter_health, submission=sub,
                               confirmations={key: "Thiếu vắc xin trong quý 2"})
    assert sub.status == SubmissionStatus.SUBMITTED
    assert sub.confirmations == {key: "Thiếu vắc xin trong quý 2"}


def test_stale_version_is_a_conflict(catalogue, reporter_health):
    sub = _draft(reporter_health, catalogue["so-yte"])
    sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "10"}, expected_version=1)
    with pytest.raises(Conflict):
        sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "11"}, expected_version=1)


# ---------------------------------------------------------------- life cycle: return, resubmit, lock, reopen


def test_return_and_resubmit_then_accept_locks(catalogue, reporter_health, officer):
    mu = catalogue["so-yte"]
    sub = _submit(reporter_health, "yte-tiem-chung", "2022Q1", mu, {"under1": "100", "under1_immunised": "90"},
                  when=at(2022, 4, 10))
    with pytest.raises(ValidationFailed):
        sv.submission_return(actor=officer, submission=sub, comment="")
    with pytest.raises(PermissionDenied):
        sv.submission_return(actor=reporter_health, submission=sub, comment="tự trả lại")
    with pytest.raises(Conflict):  # a submitted report waits for review: no edits
        sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "100"})
    sv.submission_return(actor=officer, submission=sub, comment="Số trẻ dưới 1 tuổi chưa khớp với dân số")
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.RETURNED and "chưa khớp" in sub.review_comment
    sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "110", "under1_immunised": "90"},
                       submit=True)
    sub.refresh_from_db()
    assert sub.status == SubmissionStatus.SUBMITTED
    assert sub.first_submitted_at == at(2022, 4, 10)  # timeliness keeps the first submission
    assert sub.on_time is True
    sv.submission_accept(actor=officer, submission=sub)
    sub.refresh_from_db()
    assert sub.locked
    with pytest.raises(Conflict) as err:
        sv.submission_save(actor=reporter_health, submission=sub, values={"under1": "1"})
    assert err.value.code == "locked"
    with pytest.raises(Conflict):
        sv.submission_submit(actor=officer, submission=sub)
    with pytest.raises(Conflict):
        sv.submission_accept(actor=officer, submission=sub)
    assert DataValue.objects.get(submission=sub, element__code="under1", category="").value == 110
    # a correction reopens it, with a reason, audited
    with pytest.raises(ValidationFailed):
        sv.submission_reopen(actor=officer, submission=sub, reason=" ")
    with pytest.raises(PermissionDenied):
        sv.submission_reopen(actor=reporter_health, submission=sub, reason="sửa")
    sv.submission_reopen(actor=officer, submission=sub, reason="Sở Y tế báo số liệu điều chỉnh")
    sub.refresh_from_db()
    assert sub.editable
    assert AuditEntry.objects.filter(action="programme.submission.reopen", object_id=str(sub.pk)).exists()
    actions = list(AuditEntry.objects.filter(object_type="programme.submission", object_id=str(sub.pk))
                   .values_list("action", flat=True))
    assert {"programme.submission.open", "programme.submission.submit", "programme.submission.return",
            "programme.submission.accept", "programme.submission.reopen"} <= set(actions)


# ---------------------------------------------------------------- permissions


def test_reporter_of_another_member_unit_cannot_enter_or_see(catalogue, reporter_health, reporter, leader, officer,
                                                            worker_a):
    mu = catalogue["so-yte"]
    form = ReportForm.objects.get(code="yte-tiem-chung")
    with pytest.raises(PermissionDenied):
        sv.submission_open(actor=reporter, form=form, period="2022Q1", member_unit=mu)
    sub = _draft(reporter_health, mu)
    for user in (reporter, leader, worker_a):
        with pytest.raises(PermissionDenied):
            sv.submission_save(actor=user, submission=sub, values={"under1": "1"})
    with pytest.raises(DomainError):  # not assigned to the education department
        sv.submission_open(actor=reporter, form=form, period="2022Q1", member_unit=catalogue["so-gddt"])
    with pytest.raises(DomainError):  # a yearly period for a quarterly form
        sv.submission_open(actor=reporter_health, form=form, period="2022", member_unit=mu)
    from vitreem.core.errors import NotFound

    for user in (reporter, worker_a):
        with pytest.raises(NotFound):
            submission_get_for_user(user=user, submission_id=sub.pk)
    assert submission_get_for_user(user=leader, submission_id=sub.pk) == sub
    # the standing agency may enter on a unit's behalf
    sv.submission_save(actor=officer, submission=sub, values={"under1": "5"})


def test_commune_reports_by_commune_workers_of_that_commune_only(catalogue, officer, worker_a, worker_b, outsider, units):
    form = sv.form_create(actor=officer, code="xa-bvte", name="Báo cáo công tác BVTE cấp xã", period_type="half",
                          for_communes=True, province=units.province_legacy)
    sv.element_add(actor=officer, form=form, code="collaborators", name="Số cộng tác viên thôn")
    sub = sv.submission_open(actor=worker_a, form=form, period="2022H1", unit=units.commune_a)
    sv.submission_save(actor=worker_a, submission=sub, values={"collaborators": "12"}, submit=True)
    with pytest.raises(PermissionDenied):
        sv.submission_open(actor=worker_b, form=form, period="2022H1", unit=units.commune_a)
    with pytest.raises(PermissionDenied):
        sv.submission_save(actor=worker_b, submission=sub, values={"collaborators": "1"})
    with pytest.raises(DomainError):  # a commune of another province is not assigned
        sv.submission_open(actor=officer, form=form, period="2022H1", unit=units.other_commune)
    rows = completeness(year=2022, user=worker_a, forms=[form], today=dt.date(2023, 1, 31))[0]["rows"]
    # her commune, and the legacy communes the 2025 reform merged into her Xã Đăk Hà (Hà Mòn, Đăk La)
    assert {r["unit"].ref for r in rows} == {units.commune_a.ref, "legacy:23521", "legacy:23524"}
    assert completeness(year=2022, user=outsider, forms=[form]) == []


# ---------------------------------------------------------------- completeness and timeliness


def test_completeness_and_timeliness_across_period_types(catalogue, reporter_health, reporter, officer):
    yte, gddt = catalogue["so-yte"], catalogue["so-gddt"]
    # quarterly: Q1 on time, Q2 late, Q3 missing, Q4 not yet due on 2023-01-10 (due 2023-01-15)
    _submit(reporter_health, "yte-tiem-chung", "2022Q1", yte, {"under1": "100", "under1_immunised": "95"},
            when=at(2022, 4, 15, 23))
    _submit(reporter_health, "yte-tiem-chung", "2022Q2", yte, {"under1": "100", "under1_immunised": "96"},
            when=at(2022, 7, 20))
    # half-yearly: H1 on time, H2 missing and due 2023-01-15
    _submit(reporter, "gddt-bo-hoc", "2022H1", gddt, {"pupils": "50000", "dropouts": "120"}, when=at(2022, 7, 1))
    forms = list(ReportForm.objects.filter(code__in=["yte-tiem-chung", "gddt-bo-hoc", "gddt-hoan-thanh"]))
    blocks = {b["form"].code: b for b in completeness(year=2022, user=officer, forms=forms, today=dt.date(2023, 1, 10))}
    q = blocks["yte-tiem-chung"]
    assert (q["expected"], q["received"], q["on_time"]) == (3, 2, 1)
    assert [c["state"] for c in q["rows"][0]["cells"]] == ["on_time", "late", "missing", "pending"]
    h = blocks["gddt-bo-hoc"]
    assert (h["expected"], h["received"], h["on_time"]) == (1, 1, 1)
    y = blocks["gddt-hoan-thanh"]  # the yearly report is due 30 days after 31/12: not yet expected
    assert (y["expected"], y["received"]) == (0, 0)
    later = {b["form"].code: b for b in completeness(year=2022, user=officer, forms=forms, today=dt.date(2023, 3, 1))}
    assert later["yte-tiem-chung"]["expected"] == 4 and later["gddt-bo-hoc"]["expected"] == 2
    assert later["gddt-hoan-thanh"]["rows"][0]["cells"][0]["state"] == "missing"
    # a reporter sees only their own unit's rows
    mine = completeness(year=2022, user=reporter, forms=forms, today=dt.date(2023, 3, 1))
    assert {r["key"] for b in mine for r in b["rows"]} == {f"mu:{gddt.pk}"}


def test_reminders_before_and_after_the_deadline(catalogue, reporter_health, officer, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    reporter_health.email = "yte@example.org"
    reporter_health.save()
    sent = sv.reminders_send(today=dt.date(2022, 4, 12))  # Q1 due 15/04, 5 days' notice
    assert any(r.kind == "before" and r.period == "2022Q1" for r in sent)
    assert sv.reminders_send(today=dt.date(2022, 4, 13)) == []  # once per kind
    with django_capture_on_commit_callbacks(execute=True):
        after = sv.reminders_send(today=dt.date(2022, 4, 20))
    assert any(r.kind == "after" and r.period == "2022Q1" for r in after)
    assert any("yte@example.org" in m.to for m in mailoutbox)
    _submit(reporter_health, "yte-tiem-chung", "2022Q2", catalogue["so-yte"],
            {"under1": "100", "under1_immunised": "96"})
    assert not any(r.period == "2022Q2" for r in sv.reminders_send(today=dt.date(2022, 7, 12)))


# ---------------------------------------------------------------- values and evaluation


def test_reported_values_come_from_accepted_reports_only(catalogue, reporter_health, officer):
    yte = catalogue["so-yte"]
    _submit(reporter_health, "yte-tiem-chung", "2022Q1", yte, {"under1": "1000", "under1_immunised": "950"},
            accept_by=officer)
    _submit(reporter_health, "yte-tiem-chung", "2022Q2", yte, {"under1": "1000", "under1_immunised": "990"},
            accept_by=officer)
    _submit(reporter_health, "yte-tiem-chung", "2022Q3", yte, {"under1": "1000", "under1_immunised": "500"},
            confirmations={"rule:{}".format(ReportForm.objects.get(code="yte-tiem-chung").rules.get().pk): "Dịch sởi"})
    ind = Indicator.objects.get(code="tiem-chung-day-du")
    # (950 + 990) / (1000 + 1000) × 100: rates are summed over numerators and denominators, never averaged
    assert indicator_values(indicators=[ind], years=[2022])["tiem-chung-day-du"][2022] == D("97.00")
    assert indicator_values(indicators=[ind], years=[2021])["tiem-chung-day-du"][2021] is None


def _children(officer, units, n_special, n_other):
    from vitreem.registry.services import child_register, special_episode_open

    for i in range(n_special + n_other):
        child = child_register(actor=officer, unit=units.commune_a, on=dt.date(2022, 1, 1),
                               data={"full_name": f"Nguyễn Văn An {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % 26]}",
                                     "birth_date": dt.date(2015, 1, 1 + i), "sex": "M"},
                               confirm_not_duplicate=True)
        if i < n_special:
            special_episode_open(actor=officer, child=child, group="1", start=dt.date(2022, 1, 2))


def test_computed_indicator_from_the_engine(catalogue, officer, units):
    _children(officer, units, n_special=1, n_other=7)
    inds = list(Indicator.objects.filter(code__in=["tre-em-hcdb", "tre-em-hcdb-duoc-tro-giup"]))
    values = indicator_values(indicators=inds, years=[2022])
    assert values["tre-em-hcdb"][2022] == D("12.50")  # 1 of 8 children
    # Assisted = allowance recipients (benefits) over children in special circumstances: none enrolled here.
    assert values["tre-em-hcdb-duoc-tro-giup"][2022] == D("0.00")
    from vitreem.stats.engine import compute, params_for

    assert compute(params_for(year=2022), ["special_circumstances_share"])["special_circumstances_share"] == 0.125


def test_evaluation_explanations_and_finalising(catalogue, officer, reporter_health, reporter, units):
    _children(officer, units, n_special=1, n_other=7)
    hcdb = Indicator.objects.get(code="tre-em-hcdb")
    tc = Indicator.objects.get(code="tiem-chung-day-du")
    sv.target_set(actor=officer, indicator=hcdb, year=2022, value="6.5")  # 12.5% > 6.5%: not achieved
    sv.target_set(actor=officer, indicator=tc, year=2022, value="97")
    _submit(reporter_health, "yte-tiem-chung", "2022Q1", catalogue["so-yte"],
            {"under1": "1000", "under1_immunised": "980"}, accept_by=officer)
    ev = evaluation_for_year(year=2022)
    rows = {r["code"]: r for r in ev["targets"]}
    assert rows["tre-em-hcdb"]["status"] == "not_achieved" and rows["tre-em-hcdb"]["gap"] == D("6.00")
    assert rows["tiem-chung-day-du"]["status"] == "achieved"
    assert rows["tiem-chung-day-du"]["trend"][2022] == D("98.00")
    assert ev["counts"] == {"achieved": 1, "not_achieved": 1, "no_data": 0}
    with pytest.raises(ValidationFailed) as err:
        sv.evaluation_finalise(actor=officer, year=2022)
    assert hcdb.name in err.value.errors["explanations"]
    assert not YearEvaluation.objects.exists()
    # the owner unit (LĐ-TBXH) writes it; another unit's reporter may not
    with pytest.raises(PermissionDenied):
        sv.explanation_write(actor=reporter, indicator=hcdb, year=2022, causes="x", solutions="y")
    with pytest.raises(ValidationFailed):
        sv.explanation_write(actor=officer, indicator=hcdb, year=2022, causes="", solutions="y")
    sv.explanation_write(actor=officer, indicator=hcdb, year=2022, causes="Nhiều trẻ mồ côi do dịch COVID-19",
                         solutions="Rà soát, hỗ trợ kịp thời")
    rows = {r["code"]: r for r in evaluation_for_year(year=2022)["targets"]}  # ordered by objective
    assert rows["tre-em-hcdb"]["explanation"]["causes"].startswith("Nhiều trẻ")
    sv.evaluation_finalise(actor=officer, year=2022)
    with pytest.raises(Conflict):
        sv.explanation_write(actor=officer, indicator=hcdb, year=2022, causes="a", solutions="b")
    # a reporter sees the targets of the indicators their unit owns
    mine = evaluation_for_year(year=2022, user=reporter_health)
    assert [r["code"] for r in mine["targets"]] == ["tiem-chung-day-du"]
    assert [m["code"] for m in mine["member_units"]] == ["so-yte"]
    assert Explanation.objects.count() == 1


def test_member_unit_evaluation_and_rating(catalogue, officer, reporter_health, reporter):
    yte = catalogue["so-yte"]
    plan = sv.plan_create(actor=officer, year=2022, kind="work_programme", title="Chương trình công tác năm 2022")
    t1 = sv.task_create(actor=officer, plan=plan, title="Tiêm chủng mở rộng", lead_unit=yte,
                        deadline=dt.date(2022, 6, 30), supporting_units=[catalogue["hoi-lhpn"]])
    t2 = sv.task_create(actor=officer, plan=plan, title="Khám sức khoẻ học đường", lead_unit=yte,
                        deadline=dt.date(2022, 9, 30))
    sv.task_update(actor=reporter_health, task=t1, status=TaskStatus.DONE, result="Đạt 98%", done_on=dt.date(2022, 6, 1))
    with pytest.raises(PermissionDenied):
        sv.task_update(actor=reporter, task=t2, status=TaskStatus.DONE)
    with pytest.raises(ValidationFailed):
        sv.task_create(actor=officer, plan=plan, title="", lead_unit=None, deadline=None)
    _submit(reporter_health, "yte-tiem-chung", "2022Q1", yte, {"under1": "10", "under1_immunised": "9"},
            when=at(2022, 4, 1))
    ev = {m["code"]: m for m in member_unit_evaluations(year=2022, today=dt.date(2023, 3, 1))}
    m = ev["so-yte"]
    assert (m["tasks_total"], m["tasks_on_time"], m["tasks_overdue"]) == (2, 1, 1)
    # 4 quarterly immunisation reports, the yearly nutrition and the yearly injury report (Decision 23's
    # injury targets).
    assert (m["reports_expected"], m["reports_received"], m["reports_on_time"]) == (6, 1, 1)
    assert m["rates"]["tasks"] == 0.5 and m["rates"]["reports"] == pytest.approx(1 / 6)
    assert m["suggested"] == Rating.NOT_DONE
    with pytest.raises(PermissionDenied):
        sv.member_evaluation_confirm(actor=reporter_health, year=2022, member_unit=yte, rating=Rating.EXCELLENT)
    with pytest.raises(ValidationFailed):
        sv.member_evaluation_confirm(actor=officer, year=2022, member_unit=yte, rating="best")
    sv.member_evaluation_confirm(actor=officer, year=2022, member_unit=yte, rating=Rating.DONE, comment="Cần cố gắng")
    assert {m["code"]: m for m in member_unit_evaluations(year=2022)}["so-yte"]["rating"] == Rating.DONE


def test_member_unit_plan_by_its_reporter(catalogue, reporter, reporter_health):
    gddt = catalogue["so-gddt"]
    plan = sv.plan_create(actor=reporter, year=2023, kind="member_unit", title="Kế hoạch BVTE ngành giáo dục 2023",
                          member_unit=gddt)
    sv.task_create(actor=reporter, plan=plan, title="Vận động học sinh ra lớp", lead_unit=gddt,
                   deadline=dt.date(2023, 9, 5))
    with pytest.raises(PermissionDenied):
        sv.task_create(actor=reporter_health, plan=plan, title="x", lead_unit=catalogue["so-yte"],
                       deadline=dt.date(2023, 9, 5))
    with pytest.raises(PermissionDenied):
        sv.plan_create(actor=reporter, year=2023, kind="work_programme", title="Chương trình chung")
    with pytest.raises(ValidationFailed):
        sv.plan_create(actor=reporter, year=2040, kind="member_unit", title="", member_unit=gddt)
