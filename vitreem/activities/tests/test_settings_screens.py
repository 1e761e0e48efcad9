"""Edit screens of partners, projects, budget lines and spending: officers only, scoped, audited, and a
bad value names its field and saves nothing."""

import datetime as dt

import pytest
from django.utils.html import escape

from conftest import login
from vitreem.activities import services
from vitreem.activities.models import BudgetAllocation, Partner, Project, Spending
from vitreem.core.errors import PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.testing.factories import UserFactory

from .helpers import talk

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(officer, units):
    partner = services.partner_create(actor=officer, name="Plan International", kind="intl_ngo")
    project = services.project_create(actor=officer, partner=partner, name="Mô hình bảo vệ trẻ em dựa vào cộng đồng",
                                      unit=units.province_legacy, start_date=dt.date(2022, 1, 1),
                                      end_date=dt.date(2023, 12, 31), funding=500_000_000,
                                      communes=[units.commune_a])
    line = services.allocation_create(actor=officer, year=2022, unit=units.province_legacy, source="international",
                                      purpose="communication", amount=100_000_000, project=project)
    spending = services.spending_record(actor=officer, allocation=line, amount=30_000_000,
                                        spent_on=dt.date(2022, 6, 1), description="In tờ rơi")
    return partner, project, line, spending


def _urls(money):
    partner, project, line, spending = money
    return [f"/activities/partners/{partner.pk}/edit/", f"/activities/projects/{project.pk}/edit/",
            f"/activities/budget/lines/{line.pk}/edit/", f"/activities/budget/spendings/{spending.pk}/edit/"]


def test_only_officers_open_or_post_the_edit_screens(money, worker_a, leader, reporter, outsider, officer, admin_user):
    for user in (worker_a, leader, reporter, outsider):
        c = login(user)
        for url in _urls(money):
            assert c.get(url).status_code == 403, (user, url)
            assert c.post(url, {"name": "x", "amount": "1"}).status_code == 403, (user, url)
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE, action__endswith="update").exists()
    for user in (officer, admin_user):
        c = login(user)
        for url in _urls(money):
            assert c.get(url).status_code == 200, (user, url)


def test_another_provinces_officer_cannot_reach_this_provinces_lines(money, units, db):
    from conftest import OTHER_PROVINCE
    from vitreem.accounts.models import Role

    other = UserFactory(username="officer_hn", role=Role.PROVINCE_OFFICER, units=OTHER_PROVINCE)
    c = login(other)
    _partner, project, line, spending = money
    for url in _urls(money)[1:]:
        assert c.get(url).status_code == 404, url
        assert c.post(url, {"amount": "1"}).status_code == 404, url
    page = c.get("/activities/budget/lines/?year=2022")
    assert page.status_code == 200 and f"/budget/lines/{line.pk}/" not in page.text
    with pytest.raises(PermissionDenied):
        services.allocation_update(actor=other, line=line, data={"amount": 1})
    with pytest.raises(PermissionDenied):
        services.project_update(actor=other, project=project, data={"name": "x"})


def test_officer_edits_a_partner_and_the_change_is_audited(money, officer):
    partner = money[0]
    c = login(officer)
    r = c.post(f"/activities/partners/{partner.pk}/edit/", {"name": "Plan International Việt Nam",
                                                             "kind": "intl_ngo", "country": "Anh"})
    assert r.status_code == 302
    partner.refresh_from_db()
    assert partner.name == "Plan International Việt Nam" and partner.country == "Anh" and not partner.active
    row = AuditEntry.objects.get(action="partner.update")
    assert row.actor == officer and "name" in row.changes
    page = c.get(f"/activities/partners/{partner.pk}/edit/").text
    assert "Plan International Việt Nam" in page
    # its history in words, with the form's labels (issue 21 item 6: it showed the raw diff)
    old = row.changes["name"][0]
    assert escape(f"Tên đối tác: {old} → Plan International Việt Nam") in page
    assert "{&#x27;name&#x27;" not in page and "{'name'" not in page


def test_partner_name_taken_is_refused_on_its_field(money, officer):
    services.partner_create(actor=officer, name="UNICEF", kind="un")
    partner = money[0]
    r = login(officer).post(f"/activities/partners/{partner.pk}/edit/", {"name": "unicef", "kind": "un"})
    assert r.status_code == 400 and "Đã có đối tác tên unicef" in r.text
    assert Partner.objects.get(pk=partner.pk).name == "Plan International"


def test_project_period_must_hold_its_budget_lines_and_spending(money, officer, units):
    _partner, project, _line, _spending = money
    c = login(officer)
    data = {"partner": project.partner_id, "name": project.name, "model_type": "community_protection",
            "unit": units.province_legacy.pk, "start_date": "2022-07-01", "end_date": "2023-12-31",
            "funding": "500000000", "communes": [units.commune_a.pk]}
    r = c.post(f"/activities/projects/{project.pk}/edit/", data)
    assert r.status_code == 400 and "Dự án có khoản chi ngày 01/06/2022" in r.text
    assert Project.objects.get(pk=project.pk).start_date == dt.date(2022, 1, 1)
    r = c.post(f"/activities/projects/{project.pk}/edit/", {**data, "start_date": "2023-01-01"})
    assert r.status_code == 400 and "dòng dự toán năm 2022" in r.text
    r = c.post(f"/activities/projects/{project.pk}/edit/", {**data, "funding": "-5"})
    assert r.status_code == 400 and Project.objects.get(pk=project.pk).funding == 500_000_000
    r = c.post(f"/activities/projects/{project.pk}/edit/", {**data, "start_date": "2022-01-01",
                                                           "end_date": "2021-12-31"})
    assert r.status_code == 400 and "Ngày kết thúc trước ngày bắt đầu" in r.text
    r = c.post(f"/activities/projects/{project.pk}/edit/", {**data, "start_date": "2021-06-01",
                                                           "funding": "600000000"})
    assert r.status_code == 302
    project.refresh_from_db()
    assert project.start_date == dt.date(2021, 6, 1) and project.funding == 600_000_000
    assert AuditEntry.objects.filter(action="project.update", object_id=str(project.pk)).count() == 1


def test_budget_line_edit_rules(money, officer, units):
    _partner, project, line, _spending = money
    c = login(officer)
    data = {"year": "2022", "unit": units.province_legacy.pk, "source": "international", "purpose": "communication",
            "amount": "120000000", "project": project.pk, "note": "Bổ sung"}
    url = f"/activities/budget/lines/{line.pk}/edit/"
    r = c.post(url, {**data, "amount": "-1"})
    assert r.status_code == 400 and BudgetAllocation.objects.get(pk=line.pk).amount == 100_000_000
    r = c.post(url, {**data, "year": "2023"})
    assert r.status_code == 400 and "đã có khoản chi ngày 01/06/2022" in r.text
    r = c.post(url, {**data, "source": "lottery"})
    assert r.status_code == 400
    r = c.post(url, data)
    assert r.status_code == 302
    line.refresh_from_db()
    assert line.amount == 120_000_000 and line.note == "Bổ sung"
    assert AuditEntry.objects.get(action="budget.allocation.update").changes["amount"] == [100_000_000, 120_000_000]
    # a line of a project falls in the project's years (new lines too)
    with pytest.raises(ValidationFailed) as exc:
        services.allocation_create(actor=officer, year=2025, unit=units.province_legacy, source="international",
                                   purpose="training", amount=1, project=project)
    assert "year" in exc.value.errors
    listing = c.get("/activities/budget/lines/?year=2022")
    assert listing.status_code == 200 and f"/activities/budget/lines/{line.pk}/edit/" in listing.text


def test_spending_edit_rules(money, officer, units):
    _partner, _project, line, spending = money
    c = login(officer)
    url = f"/activities/budget/spendings/{spending.pk}/edit/"
    data = {"allocation": line.pk, "spent_on": "2022-06-02", "amount": "35000000", "description": "In tờ rơi, áp phích"}
    for bad, field_text in (({"amount": "0"}, "Số tiền"), ({"spent_on": "2023-01-05"}, "năm 2022"),
                            ({"amount": "-3"}, "Số tiền")):
        r = c.post(url, {**data, **bad})
        assert r.status_code == 400 and field_text in r.text, bad
    assert Spending.objects.get(pk=spending.pk).amount == 30_000_000
    assert c.post(url, data).status_code == 302
    spending.refresh_from_db()
    assert spending.amount == 35_000_000 and spending.spent_on == dt.date(2022, 6, 2)
    assert AuditEntry.objects.filter(action="budget.spend.update", actor=officer).count() == 1


def test_spending_outside_the_project_period_is_refused(money, officer, units):
    _partner, project, line, spending = money
    services.project_update(actor=officer, project=project, data={"end_date": dt.date(2022, 9, 30)})
    with pytest.raises(ValidationFailed) as exc:
        services.spending_record(actor=officer, allocation=line, amount=1, spent_on=dt.date(2022, 11, 1))
    assert "spent_on" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.spending_update(actor=officer, spending=spending, data={"spent_on": dt.date(2022, 10, 1)})
    assert "ngoài thời gian của dự án" in exc.value.errors["spent_on"]


def test_an_activitys_spending_is_edited_through_the_activity(officer, units):
    line = services.allocation_create(actor=officer, year=2022, unit=units.commune_a, source="commune",
                                      purpose="communication", amount=5_000_000)
    activity = talk(officer, units.commune_a, cost=2_000_000, budget_line=line.pk)
    spending = Spending.objects.get(activity=activity)
    c = login(officer)
    page = c.get(f"/activities/budget/spendings/{spending.pk}/edit/")
    assert page.status_code == 200 and f"/activities/{activity.pk}/" in page.text
    r = c.post(f"/activities/budget/spendings/{spending.pk}/edit/",
               {"allocation": line.pk, "spent_on": "2022-03-15", "amount": "9"})
    assert r.status_code == 400 and "sửa chi phí trong hoạt động" in r.text
    assert Spending.objects.get(pk=spending.pk).amount == 2_000_000
