"""Pages: they work, another commune's user cannot see or change them, bad input writes nothing."""

import datetime as dt
import json
import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from conftest import login
from vitreem.activities import services
from vitreem.activities.models import Activity, BudgetAllocation, Participant, PlayPoint, Spending
from vitreem.core.models import AuditEntry

from .helpers import recreation, sheet, talk, training

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    for url in ("/activities/", "/activities/list/", "/activities/budget/", "/activities/new/training/"):
        assert client.get(url).status_code == 302


def test_commune_worker_records_a_school_talk(units, worker_a):
    c = login(worker_a)
    page = c.get("/activities/new/communication/")
    assert page.status_code == 200 and "Xã Đăk Hà" in page.text
    r = c.post("/activities/new/communication/", {
        "title": "Nói chuyện phòng chống đuối nước", "status": "done", "start_date": "2022-05-20",
        "unit": units.commune_a.pk, "topic": "injury", "comm_form": "school_talk", "reached_total": "300",
        "reached_children": "280", "reached_adults": "20", "reached_male": "150", "reached_female": "150"})
    assert r.status_code == 302
    activity = Activity.objects.get()
    assert r["Location"] == f"/activities/{activity.pk}/"
    assert activity.reached_total == 300 and activity.created_by == worker_a
    assert c.get(r["Location"]).status_code == 200


def test_bad_counts_show_the_error_and_write_nothing(units, worker_a):
    c = login(worker_a)
    r = c.post("/activities/new/communication/", {
        "title": "Nói chuyện", "status": "done", "start_date": "2022-05-20", "end_date": "2022-05-01",
        "unit": units.commune_a.pk, "topic": "injury", "comm_form": "school_talk", "reached_total": "300",
        "reached_male": "100", "reached_female": "100"})
    assert r.status_code == 400
    assert "không khớp với tổng số" in r.text and "trước ngày bắt đầu" in r.text
    assert not Activity.objects.exists()


def test_another_communes_unit_cannot_be_chosen(units, worker_a):
    r = login(worker_a).post("/activities/new/recreation/", {
        "title": "Trung thu", "status": "done", "start_date": "2022-09-10", "unit": units.commune_b.pk,
        "occasion": "mid_autumn", "children_total": "10"})
    assert r.status_code == 400 and not Activity.objects.exists()


def test_detail_edit_and_status_are_scoped(units, worker_a, worker_b, outsider, officer):
    activity = talk(worker_a, units.commune_a)
    for user in (worker_b, outsider):
        c = login(user)
        assert c.get(f"/activities/{activity.pk}/").status_code == 404
        assert c.get(f"/activities/{activity.pk}/edit/").status_code == 404
        assert c.post(f"/activities/{activity.pk}/status/", {"status": "cancelled"}).status_code == 404
    assert login(officer).get(f"/activities/{activity.pk}/").status_code == 200
    activity.refresh_from_db()
    assert activity.status == "done"
    c = login(worker_a)
    assert c.get(f"/activities/{activity.pk}/status/").status_code == 405
    assert c.post(f"/activities/{activity.pk}/status/", {"status": "cancelled"}).status_code == 302
    activity.refresh_from_db()
    assert activity.status == "cancelled"


def test_edit_keeps_the_rules(units, worker_a):
    activity = talk(worker_a, units.commune_a)
    c = login(worker_a)
    page = c.get(f"/activities/{activity.pk}/edit/")
    assert page.status_code == 200
    data = {"title": "Nói chuyện (sửa)", "status": "done", "start_date": "2022-03-15", "unit": units.commune_a.pk,
            "topic": "violence", "comm_form": "school_talk", "reached_total": "120", "reached_children": "100",
            "reached_adults": "20", "reached_male": "60", "reached_female": "60", "version": "1"}
    assert c.post(f"/activities/{activity.pk}/edit/", data).status_code == 302
    activity.refresh_from_db()
    assert activity.title == "Nói chuyện (sửa)" and activity.version == 2
    stale = c.post(f"/activities/{activity.pk}/edit/", {**data, "title": "cũ", "version": "1"})
    assert stale.status_code == 400 and "người khác sửa" in stale.text


def test_participants_added_one_by_one_with_htmx(units, worker_a, worker_b):
    course = training(worker_a, units.commune_a)
    c = login(worker_a)
    r = c.post(f"/activities/{course.pk}/participants/", {"full_name": "Y Blin", "sex": "F", "unit_name": "Thôn 2",
                                                          "pre_score": "5,5", "post_score": "9"},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Y Blin" in r.text and "<html" not in r.text
    bad = c.post(f"/activities/{course.pk}/participants/", {"full_name": "A", "sex": "F", "pre_score": "abc"},
                 HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "Điểm phải là số" in bad.text
    assert Participant.objects.count() == 1
    other = login(worker_b).post(f"/activities/{course.pk}/participants/", {"full_name": "X", "sex": "M"})
    assert other.status_code == 404 and Participant.objects.count() == 1
    p = Participant.objects.get()
    assert c.post(f"/activities/{course.pk}/participants/{p.pk}/remove/").status_code == 302
    assert not Participant.objects.exists()


def test_participants_sheet_upload(units, worker_a):
    course = training(worker_a, units.commune_a)
    c = login(worker_a)
    template = c.get("/activities/participants-template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    bad = sheet([["Nguyễn Văn A", "Thôn 1", "CTV", "Nam", "Kinh", "", ""], ["Lê Thị B", "", "", "X", "", "", ""]])
    r = c.post(f"/activities/{course.pk}/participants/upload/",
               {"file": SimpleUploadedFile("ds.xlsx", bad)})
    assert r.status_code == 400 and "chưa lưu người nào" in r.text
    assert re.search(r"<td>3</td><td>sex</td>", r.text)
    assert not Participant.objects.exists()
    good = sheet([["Nguyễn Văn A", "Thôn 1", "CTV", "Nam", "Kinh", "", ""], ["Lê Thị B", "", "", "Nữ", "", "7", "9"]])
    r = c.post(f"/activities/{course.pk}/participants/upload/", {"file": SimpleUploadedFile("ds.xlsx", good)})
    assert r.status_code == 302 and Participant.objects.count() == 2
    assert AuditEntry.objects.filter(action="activity.participants_import").count() == 1


def test_list_filters_scope_and_queries(units, worker_a, worker_b, officer, django_assert_max_num_queries):
    for i in range(5):
        talk(worker_a, units.commune_a, day=dt.date(2022, 3, 1 + i))
    training(worker_a, units.commune_a)
    talk(worker_b, units.commune_b)
    talk(worker_a, units.commune_a, day=dt.date(2021, 3, 1))
    c = login(worker_a)
    with django_assert_max_num_queries(12):
        r = c.get("/activities/list/?year=2022")
    assert r.status_code == 200 and r.text.count("/activities/") >= 6
    assert "Xã Đăk Mar" not in r.text.split("<table>")[1]
    r = c.get("/activities/list/?year=2022&kind=training")
    assert "Tập huấn kỹ năng" in r.text and "Nói chuyện" not in r.text.split("<table>")[1]
    r = login(officer).get("/activities/list/?year=2022&unit=legacy:23512")
    assert r.text.count("Xã Đăk Mar") >= 1 and "Thị trấn Đăk Hà" not in r.text.split("<table>")[1]


def test_calendar_shows_planned_activities(units, worker_a, worker_b):
    talk(worker_a, units.commune_a, day=dt.date(2022, 6, 10), status="planned", title="Hội thi tìm hiểu Luật")
    r = login(worker_a).get("/activities/calendar/?month=2022-06")
    assert r.status_code == 200 and "Hội thi tìm hiểu Luật" in r.text
    assert "Hội thi tìm hiểu Luật" not in login(worker_b).get("/activities/calendar/?month=2022-06").text


def test_play_points_page(units, worker_a, worker_b):
    c = login(worker_a)
    r = c.post("/activities/play-points/", {"name": "Sân chơi thôn Kon Klốc", "unit": units.commune_a.pk,
                                            "point_type": "playground", "opened_on": "2022-04-30",
                                            "condition": "good"})
    assert r.status_code == 302 and PlayPoint.objects.count() == 1
    r = c.post("/activities/play-points/", {"name": "X", "unit": units.commune_a.pk, "point_type": "playground",
                                            "opened_on": "2022-04-30", "closed_on": "2022-01-01", "condition": "good"})
    assert r.status_code == 400 and PlayPoint.objects.count() == 1
    assert "Kon Klốc" in c.get("/activities/play-points/?on=2022-12-31").text
    assert "Kon Klốc" not in c.get("/activities/play-points/?on=2022-01-31").text
    assert "Kon Klốc" not in login(worker_b).get("/activities/play-points/").text


def test_partners_page(units, officer, worker_a):
    c = login(officer)
    assert c.post("/activities/partners/", {"form": "partner", "name": "Plan International",
                                            "kind": "intl_ngo"}).status_code == 302
    from vitreem.activities.models import Partner

    plan = Partner.objects.get()
    r = c.post("/activities/partners/", {"form": "project", "partner": plan.pk, "name": "Điểm tư vấn cộng đồng",
                                         "model_type": "counselling_point", "unit": units.province_legacy.pk,
                                         "start_date": "2022-01-01", "funding": "500000000",
                                         "communes": [units.commune_a.pk]})
    assert r.status_code == 302
    page = login(worker_a).get("/activities/partners/")
    assert "Điểm tư vấn cộng đồng" in page.text and "Thêm đối tác" not in page.text
    r = login(worker_a).post("/activities/partners/", {"form": "partner", "name": "X", "kind": "other"})
    assert r.status_code == 403 and Partner.objects.count() == 1


def test_budget_page_table_and_refusals(units, officer, worker_a, worker_b):
    c = login(worker_a)
    r = c.post("/activities/budget/?year=2022", {"form": "spending", "spent_on": "2022-05-01", "amount": "100000"})
    assert r.status_code == 400 and "dòng dự toán" in r.text and not Spending.objects.exists()
    r = c.post("/activities/budget/?year=2022", {"form": "allocation", "year": "2022", "unit": units.commune_a.pk,
                                                 "source": "commune", "purpose": "recreation", "amount": "5000000"})
    assert r.status_code == 302
    line = BudgetAllocation.objects.get()
    r = c.post("/activities/budget/?year=2022", {"form": "spending", "allocation": line.pk, "spent_on": "2022-06-01",
                                                 "amount": "6000000"})
    assert r.status_code == 302
    page = c.get("/activities/budget/?year=2022")
    assert "5.000.000" in page.text and "6.000.000" in page.text and "vượt dự toán" in page.text
    assert "5.000.000" not in login(worker_b).get("/activities/budget/?year=2022").text
    r = login(worker_b).post("/activities/budget/?year=2022", {"form": "spending", "allocation": line.pk,
                                                               "spent_on": "2022-06-01", "amount": "1"})
    assert r.status_code == 400 and Spending.objects.count() == 1


def test_recreation_links_named_children_in_scope(units, worker_a, worker_b):
    from vitreem.registry.services import child_register

    event = recreation(worker_a, units.commune_a)
    child = child_register(actor=worker_a, unit=units.commune_a_2025, data={
        "full_name": "Y Nhi", "birth_date": dt.date(2015, 2, 3), "sex": "F"})
    c = login(worker_a)
    r = c.post(f"/activities/{event.pk}/children/", {"child_id": child.pk, "gift": "Học bổng", "gift_value": "500000"})
    assert r.status_code == 302
    assert "Y Nhi" in c.get(f"/activities/{event.pk}/").text
    event_b = recreation(worker_b, units.commune_b)
    r = login(worker_b).post(f"/activities/{event_b.pk}/children/", {"child_id": child.pk})
    assert r.status_code == 400 and "Không tìm thấy trẻ em" in r.text


def test_cli_and_page_agree_for_2022(units, officer, worker_a):
    talk(worker_a, units.commune_a, total=1500, children=1200, male=700)
    course = training(worker_a, units.commune_a)
    services.participant_add(actor=worker_a, activity=course, data={"full_name": "Y Blin", "sex": "F"})
    recreation(worker_a, units.commune_a, total=240)
    services.allocation_create(actor=officer, year=2022, unit=units.province_legacy, source="provincial",
                               purpose="training", amount=1_250_000_000)
    out = StringIO()
    call_command("activities", "--year", "2022", "--json", stdout=out)
    cli = json.loads(out.getvalue())
    page = login(officer).get("/activities/?year=2022")
    assert page.status_code == 200
    figures = page.context["figures"]
    for code in ("communication_events", "people_reached", "training_courses", "trainees", "campaigns",
                 "recreation_events", "children_in_recreation", "budget_allocated", "budget_spent",
                 "budget_by_source"):
        assert figures[code] == cli[code], code
    # `play_points` is the count in the CLI (the activities issue's integer); the rest is beside it.
    assert cli["play_points"] == figures["play_points"]["points"] and cli["play_points_detail"] == figures["play_points"]
    assert re.search(r'<div class="card" data-code="people_reached">\s*<div class="value">\s*<a href', page.text)
    assert "1.500" in page.text and "1.250.000.000" in page.text


def test_nav_home_panel_and_allowance_row(units, officer, worker_a, outsider):
    from vitreem.activities.selectors import allowance_indicator

    home = login(worker_a).get("/")
    assert 'href="/activities/"' in home.text and "Hoạt động năm" in home.text
    services.allocation_create(actor=officer, year=2022, unit=units.province_legacy, source="provincial",
                               purpose="allowances", amount=9_000_000_000)
    page = login(officer).get("/activities/budget/?year=2022")
    code = allowance_indicator()
    # The benefits payroll cost appears in the budget table exactly when its indicator is registered.
    assert ('id="allowance-row"' in page.text) == bool(code)
    assert page.context["table"]["allocated"] == 9_000_000_000
    assert "9.000.000.000" not in login(outsider).get("/activities/budget/?year=2022").text


def test_overview_and_budget_pages_query_budget(units, officer, worker_a, django_assert_max_num_queries):
    for i in range(3):
        talk(worker_a, units.commune_a, day=dt.date(2022, 3, 1 + i))
        training(worker_a, units.commune_a, day=dt.date(2022, 4, 1 + i))
    line = services.allocation_create(actor=officer, year=2022, unit=units.district, source="district",
                                      purpose="training", amount=50_000_000)
    services.spending_record(actor=officer, allocation=line, amount=1_000_000, spent_on=dt.date(2022, 5, 5))
    c = login(officer)
    c.get("/activities/?year=2022&unit=legacy:62")  # warm the unit caches of the engine
    with django_assert_max_num_queries(45):
        assert c.get("/activities/?year=2022&unit=legacy:62").status_code == 200
    with django_assert_max_num_queries(35):
        assert c.get("/activities/budget/?year=2022&unit=legacy:62").status_code == 200


def test_the_overview_of_a_scope_is_kept_and_follows_every_change(units, officer, worker_a,
                                                                 django_capture_on_commit_callbacks,
                                                                 django_assert_max_num_queries):
    """The overview without a unit (the whole of the user's scope) is kept like a rollup under the units
    the user is assigned: the second visit reads it (a few queries, however many activities), and a change
    anywhere in the scope — a commune below the province, a legacy commune merged into the worker's 2025
    commune — is seen on the next visit. The partners' projects, counted by the communes they cover, are
    computed on each visit."""
    from vitreem.activities.selectors import ACTIVITY_CODES
    from vitreem.places.models import UnitSuccession
    from vitreem.stats.engine import compute, params_for

    merged = (UnitSuccession.objects.filter(new=units.commune_a_2025, is_default=True)
              .exclude(old=units.commune_a).select_related("old").first().old)  # another commune of Xã Đăk Hà

    def shown(client) -> dict:
        r = client.get("/activities/?year=2022")
        assert r.status_code == 200
        return {c["code"]: c["value"] for c in r.context["cards"]}

    def computed(user) -> dict:
        return compute(params_for(year=2022, user=user), ACTIVITY_CODES)

    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            talk(worker_a, units.commune_a, day=dt.date(2022, 3, 1 + i))
        talk(officer, units.commune_b)
    o, w = login(officer), login(worker_a)
    assert shown(o)["communication_events"] == 4 and shown(w)["communication_events"] == 3
    with django_assert_max_num_queries(13):
        o.get("/activities/?year=2022")
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(5):
            talk(worker_a, units.commune_a, day=dt.date(2022, 6, 1 + i))
    o.get("/activities/?year=2022")  # recomputed once after the change
    with django_assert_max_num_queries(13):
        assert shown(o)["communication_events"] == 9
    assert shown(w)["communication_events"] == 8
    with django_capture_on_commit_callbacks(execute=True):
        talk(officer, merged, total=150)  # stamps Xã Đăk Hà (2025), not the worker's legacy commune
    assert shown(w)["communication_events"] == 9
    assert w.get("/activities/?year=2022").context["figures"] == computed(worker_a)
    assert shown(o)["communication_events"] == 10
    with django_capture_on_commit_callbacks(execute=True):
        talk(officer, units.district)  # stamps the legacy province, not the 2025 one
    assert shown(o)["communication_events"] == 11
    with django_capture_on_commit_callbacks(execute=True):
        unicef = services.partner_create(actor=officer, name="UNICEF")
        project = services.project_create(actor=officer, partner=unicef, name="Mô hình", unit=units.province_legacy,
                                          start_date=dt.date(2022, 1, 1), communes=[units.commune_a])
    assert w.get("/activities/?year=2022").context["figures"] == computed(worker_a)
    assert computed(worker_a)["projects_active"] == 1
    # the project's change names only its unit (the province), not the commune it covers: still seen
    services.project_update(actor=officer, project=project, data={"end_date": "2021-12-31",
                                                                  "start_date": "2021-01-01"})
    assert w.get("/activities/?year=2022").context["figures"] == computed(worker_a)
    assert computed(worker_a)["projects_active"] == 0
    assert o.get("/activities/?year=2022").context["figures"] == computed(officer)


def test_a_reporters_unit_figures_are_kept_and_follow_changes(units, reporter, worker_a,
                                                              django_capture_on_commit_callbacks,
                                                              django_assert_max_num_queries):
    """A member unit's reporter counts no child, so the stored figures (limited by the children a user may
    count) were computed for her on every visit: they are kept for her scope, and follow its changes."""
    from vitreem.activities.selectors import ACTIVITY_CODES
    from vitreem.stats.engine import compute, params_for

    with django_capture_on_commit_callbacks(execute=True):
        talk(worker_a, units.commune_a)
    c = login(reporter)
    url = "/activities/?year=2022&unit=legacy:62"
    c.get(url)
    # the scope (6), the unit (1), the kept figures (3), the partners' projects: the unit's units (3) and
    # both counts (2)
    with django_assert_max_num_queries(15):
        r = c.get(url)
    assert r.context["figures"] == compute(params_for(year=2022, unit=units.province_legacy, user=reporter),
                                           ACTIVITY_CODES)
    with django_capture_on_commit_callbacks(execute=True):
        talk(worker_a, units.commune_a, day=dt.date(2022, 9, 1))
    assert c.get(url).context["figures"]["communication_events"] == 2
