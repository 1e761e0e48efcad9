"""The standing agency's settings screens: indicators with their targets, report forms, data elements and
validation rules. Officers and admins write, everyone else gets a 403; bad input names its field and
saves nothing; an element or rule used by submitted data is switched off, never deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import login
from vitreem.core.models import AuditEntry
from vitreem.programme import services as sv
from vitreem.programme.models import DataElement, DataValue, Indicator, ReportForm, Target, ValidationRule

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def setup(catalogue, officer):
    form = ReportForm.objects.get(code="yte-tiem-chung")
    element = form.elements.get(code="under1_immunised")
    rule = sv.rule_add(actor=officer, form=form, kind="le", left=element, right=form.elements.get(code="under1"))
    return form, element, rule


def _urls(setup):
    form, element, rule = setup
    return ["/programme/settings/", "/programme/settings/indicators/new/",
            "/programme/settings/indicators/tiem-chung-day-du/", "/programme/settings/forms/new/",
            f"/programme/settings/forms/{form.code}/", f"/programme/settings/forms/{form.code}/elements/{element.pk}/",
            f"/programme/settings/forms/{form.code}/rules/{rule.pk}/"]


def test_only_the_standing_agency_opens_or_posts_the_settings(setup, worker_a, leader, reporter, outsider, officer,
                                                              admin_user):
    before = AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count()
    for user in (worker_a, leader, reporter, outsider):
        c = login(user)
        for url in _urls(setup):
            assert c.get(url).status_code == 403, (user, url)
            assert c.post(url, {"name": "x", "action": "remove", "which": "element", "code": "x"}).status_code == 403
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count() == before
    assert ValidationRule.objects.filter(pk=setup[2].pk).exists() and setup[1].__class__.objects.filter(
        pk=setup[1].pk, active=True).exists()
    for user in (officer, admin_user):
        c = login(user)
        for url in _urls(setup):
            assert c.get(url).status_code == 200, (user, url)
    assert "Thiết lập chỉ tiêu, biểu mẫu" in login(officer).get("/programme/").text
    assert "Thiết lập chỉ tiêu, biểu mẫu" not in login(leader).get("/programme/").text


def _indicator_post(**extra):
    data = {"code": "tre-em-duoi-nuoc", "name": "Số trẻ em tử vong do đuối nước", "objective": "2",
            "measure": "number", "direction": "down", "source": "reported", "order": "10", "active": "on",
            "disaggregations": ["sex", "age"], "baseline_year": "2020", "baseline_value": "12"}
    return {**data, **extra}


def test_officer_creates_an_indicator_with_targets_in_one_save(catalogue, officer):
    c = login(officer)
    r = c.post("/programme/settings/indicators/new/", _indicator_post(target_2022="10", target_2025="8",
                                                                      target_note_2025="Theo kế hoạch"))
    assert r.status_code == 302, r.content.decode()[:2000]
    ind = Indicator.objects.get(code="tre-em-duoi-nuoc")
    assert ind.direction == "down" and ind.disaggregations == ["sex", "age"] and ind.baseline_year == 2020
    assert {t.year: t.value for t in ind.targets.all()} == {2022: D(10), 2025: D(8)}
    assert AuditEntry.objects.filter(action="programme.indicator.create").count() == 1
    assert AuditEntry.objects.filter(action="programme.target.set").count() == 2
    # an unchanged target is not saved again (its history shows only real changes)
    r = c.post(f"/programme/settings/indicators/{ind.code}/", _indicator_post(
        name="Số trẻ em bị tử vong do đuối nước", target_2022="10", target_2025="7", target_note_2025="Theo kế hoạch"))
    assert r.status_code == 302
    ind.refresh_from_db()
    assert ind.name == "Số trẻ em bị tử vong do đuối nước"
    assert AuditEntry.objects.filter(action="programme.target.set").count() == 3
    assert Target.objects.get(indicator=ind, year=2025).value == D(7)
    page = c.get(f"/programme/settings/indicators/{ind.code}/")
    assert "programme.target.set" not in page.text and "Theo kế hoạch" in page.text
    # the indicator's own history in words, with the form's labels (issue 21 item 6)
    assert "Số trẻ em bị tử vong do đuối nước" in page.text and "{&#x27;" not in page.text


@pytest.mark.parametrize("bad,field_text", [
    ({"name": ""}, "Tên chỉ tiêu không được để trống"),
    ({"code": "trẻ em"}, "Mã chỉ tiêu chỉ gồm chữ không dấu"),
    ({"code": "new"}, "dành riêng"),
    ({"objective": "9"}, "Mục tiêu (1–4) phải là số nguyên"),
    ({"baseline_value": "mười"}, "Giá trị không phải là số"),
    ({"target_2023": "-1"}, "Mục tiêu năm 2023: Giá trị mục tiêu không được âm"),
    ({"target_2023": "5", "direction": ""}, "Mục tiêu năm 2023"),
])
def test_bad_indicator_input_names_the_field_and_saves_nothing(catalogue, officer, bad, field_text):
    before = AuditEntry.objects.count()
    r = login(officer).post("/programme/settings/indicators/new/", _indicator_post(target_2022="10", **bad))
    assert r.status_code == 400 and field_text in r.content.decode()
    assert not Indicator.objects.filter(code__in=["tre-em-duoi-nuoc", "trẻ em", "new"]).exists()
    assert not Target.objects.filter(year=2022, value=10).exists()
    assert AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE).count() <= before


def test_a_bad_target_on_edit_keeps_the_indicator_unchanged(catalogue, officer):
    ind = Indicator.objects.get(code="tiem-chung-day-du")
    r = login(officer).post(f"/programme/settings/indicators/{ind.code}/", {
        "name": "Đổi tên", "measure": ind.measure, "direction": ind.direction, "source": ind.source,
        "target_2024": "140"})
    assert r.status_code == 400 and "Tỷ lệ phải trong khoảng 0–100" in r.content.decode()
    ind.refresh_from_db()
    assert ind.name != "Đổi tên" and not Target.objects.filter(indicator=ind, year=2024).exists()


def test_officer_creates_a_form_adds_elements_and_rules(catalogue, officer, member_units):
    c = login(officer)
    r = c.post("/programme/settings/forms/new/", {"which": "form", "code": "ldtbxh-duoi-nuoc",
                                                  "name": "Báo cáo trẻ em đuối nước", "period_type": "half",
                                                  "deadline_days": "20", "remind_days_before": "7",
                                                  "member_units": [member_units["so-yte"].pk]})
    assert r.status_code == 302
    form = ReportForm.objects.get(code="ldtbxh-duoi-nuoc")
    assert form.deadline_days == 20 and form.remind_days_before == 7 and form.member_units.count() == 1
    url = f"/programme/settings/forms/{form.code}/"
    assert c.post(url, {"which": "element", "code": "cases", "name": "Số ca đuối nước", "measure": "number",
                        "required": "on", "disaggregations": ["sex"]}).status_code == 302
    assert c.post(url, {"which": "element", "code": "deaths", "name": "Số ca tử vong", "measure": "number",
                        "part_of": form.elements.get(code="cases").pk}).status_code == 302
    deaths, cases = form.elements.get(code="deaths"), form.elements.get(code="cases")
    assert deaths.part_of == cases and cases.disaggregations == ["sex"] and not deaths.required
    assert c.post(url, {"which": "rule", "kind": "range", "severity": "warning", "left": deaths.pk,
                        "minimum": "0", "maximum": "50"}).status_code == 302
    rule = form.rules.get()
    assert rule.maximum == D(50) and rule.severity == "warning"
    for action in ("programme.form.create", "programme.element.create", "programme.rule.create"):
        assert AuditEntry.objects.filter(action=action, actor=officer).exists()
    page = c.get(url).content.decode()
    assert "Số ca tử vong" in page and f"/rules/{rule.pk}/" in page
    sv.rule_add(actor=officer, form=form, kind="le", left=deaths, right=cases)
    listed = {f.code: (f.n_elements, f.n_rules) for f in c.get("/programme/settings/").context["forms"]}
    assert listed[form.code] == (2, 2)


@pytest.mark.parametrize("post,field_text", [
    ({"which": "element", "code": "under1", "name": "Trùng mã", "measure": "number"}, "đã có chỉ tiêu mã under1"),
    ({"which": "element", "code": "x y", "name": "Mã sai", "measure": "number"}, "chỉ gồm chữ không dấu"),
    ({"which": "element", "code": "ok", "name": "", "measure": "number"}, "Tên chỉ tiêu báo cáo không được để trống"),
    ({"which": "rule", "kind": "le", "severity": "error"}, "Hãy chọn chỉ tiêu được kiểm tra"),
    ({"which": "rule", "kind": "range", "severity": "error", "minimum": "10", "maximum": "5"},
     "Giá trị lớn nhất (5) nhỏ hơn giá trị nhỏ nhất (10)"),
    ({"which": "rule", "kind": "change", "severity": "warning"}, "cần ngưỡng"),
    ({"which": "form", "name": "", "period_type": "quarter", "deadline_days": "15"}, "Tên biểu mẫu không được"),
    ({"which": "form", "name": "X", "period_type": "quarter", "deadline_days": "900"}, "Hạn nộp (số ngày sau kỳ)"),
])
def test_bad_form_element_or_rule_input_names_the_field(setup, officer, post, field_text):
    form, element, _rule = setup
    if post["which"] == "rule" and post["kind"] != "le":
        post = {**post, "left": element.pk}
    n_elements, n_rules = form.elements.count(), form.rules.count()
    name = form.name
    r = login(officer).post(f"/programme/settings/forms/{form.code}/", post)
    assert r.status_code == 400 and field_text in r.content.decode()
    form.refresh_from_db()
    assert (form.elements.count(), form.rules.count(), form.name) == (n_elements, n_rules, name)


def _submit_values(form, officer, catalogue):
    from vitreem.accounts.models import Role
    from vitreem.accounts.services import user_create

    reporter = user_create(username="rep-yte", password="x" * 12, role=Role.REPORTER, full_name="R",
                           units=[], member_unit=catalogue["so-yte"])
    sub = sv.submission_open(actor=reporter, form=form, period="2022Q1", member_unit=catalogue["so-yte"])
    sv.submission_save(actor=reporter, submission=sub, values={"under1": "1000", "under1_immunised": "980"},
                       submit=True)
    return reporter, sub


def test_used_element_and_rule_are_switched_off_not_deleted(setup, officer, catalogue):
    form, element, rule = setup
    _submit_values(form, officer, catalogue)
    c = login(officer)
    # the meaning of reported values stays: code and unit of measure cannot change
    r = c.post(f"/programme/settings/forms/{form.code}/elements/{element.pk}/", {
        "code": "renamed", "name": element.name, "measure": "percent"})
    assert r.status_code == 400 and "Mã không đổi được" in r.content.decode()
    assert DataElement.objects.get(pk=element.pk).code == "under1_immunised"
    # a new name is fine
    assert c.post(f"/programme/settings/forms/{form.code}/elements/{element.pk}/", {
        "code": element.code, "name": "Trẻ dưới 1 tuổi được tiêm đủ", "measure": "number", "required": "on",
        "disaggregations": ["sex"], "part_of": element.part_of_id}
    ).status_code == 302
    assert c.post(f"/programme/settings/forms/{form.code}/rules/{rule.pk}/", {"action": "remove"}).status_code == 302
    assert ValidationRule.objects.get(pk=rule.pk).active is False
    assert c.post(f"/programme/settings/forms/{form.code}/elements/{element.pk}/",
                  {"action": "remove"}).status_code == 302
    element.refresh_from_db()
    assert element.active is False and DataValue.objects.filter(element=element).exists()
    assert AuditEntry.objects.filter(action="programme.element.deactivate").count() == 1
    assert AuditEntry.objects.filter(action="programme.rule.deactivate").count() == 1
    # a new report no longer asks for it; the old one still shows its value
    entry = c.get(f"/programme/forms/{form.code}/2022Q2/?for=mu:{catalogue['so-yte'].pk}").content.decode()
    assert 'name="under1_immunised"' not in entry and 'name="under1"' in entry
    old = c.get(f"/programme/forms/{form.code}/2022Q1/?for=mu:{catalogue['so-yte'].pk}").content.decode()
    assert "980" in old
    # and it can be switched back on
    assert c.post(f"/programme/settings/forms/{form.code}/elements/{element.pk}/",
                  {"action": "restore"}).status_code == 302
    assert DataElement.objects.get(pk=element.pk).active is True


def test_unused_element_and_rule_are_deleted(setup, officer):
    form, _element, _rule = setup
    new = sv.element_add(actor=officer, form=form, code="spare", name="Dự phòng")
    rule = sv.rule_add(actor=officer, form=form, kind="range", left=new, minimum=0, maximum=10)
    c = login(officer)
    assert c.post(f"/programme/settings/forms/{form.code}/rules/{rule.pk}/", {"action": "remove"}).status_code == 302
    assert not ValidationRule.objects.filter(pk=rule.pk).exists()
    assert c.post(f"/programme/settings/forms/{form.code}/elements/{new.pk}/", {"action": "remove"}).status_code == 302
    assert not DataElement.objects.filter(pk=new.pk).exists()
    assert AuditEntry.objects.filter(action__in=["programme.rule.delete", "programme.element.delete"]).count() == 2


def test_switched_off_rule_no_longer_checks_reports(setup, officer):
    from vitreem.programme.models import Submission

    form, _element, _rule = setup
    under1 = form.elements.get(code="under1")
    rule = sv.rule_add(actor=officer, form=form, kind="range", left=under1, maximum=50)
    sub = Submission(form=form, period="2022Q1", assignee_key="mu:0")
    assert "under1" in sv.submission_check(submission=sub, raw={"under1": "100"}, final=False).errors
    ValidationRule.objects.filter(pk=rule.pk).update(active=False)  # as rule_remove does for a used rule
    assert "under1" not in sv.submission_check(submission=sub, raw={"under1": "100"}, final=False).errors


def test_rule_edit_and_form_period_type_locked_once_used(setup, officer, catalogue):
    form, element, rule = setup
    c = login(officer)
    r = c.post(f"/programme/settings/forms/{form.code}/rules/{rule.pk}/", {
        "kind": "range", "severity": "warning", "left": element.pk, "maximum": "5000"})
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.kind == "range" and rule.right is None and rule.maximum == D(5000)
    assert AuditEntry.objects.filter(action="programme.rule.update").count() == 1
    _submit_values(form, officer, catalogue)
    r = c.post(f"/programme/settings/forms/{form.code}/", {"which": "form", "name": form.name, "period_type": "year",
                                                           "deadline_days": "15", "remind_days_before": "5"})
    assert r.status_code == 400 and "không đổi được kỳ báo cáo" in r.content.decode()
    assert ReportForm.objects.get(pk=form.pk).period_type == "quarter"


def test_unknown_records_are_404(setup, officer):
    c = login(officer)
    form = setup[0]
    other = ReportForm.objects.exclude(pk=form.pk).first()
    other_element = other.elements.first()
    assert c.get(f"/programme/settings/forms/{form.code}/elements/{other_element.pk}/").status_code == 404
    assert c.get("/programme/settings/forms/khong-co/").status_code == 404
    assert c.get("/programme/settings/indicators/khong-co/").status_code == 404
    assert c.get(f"/programme/settings/forms/{form.code}/rules/999999/").status_code == 404
