"""Bad input never gives a 500 (issue 20 item 4): the malformed requests the attack found, replayed.
Each gets a 400 with a message naming the parameter — a page, or on the API JSON with its code."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from conftest import login

HUGE = "99999999999999999999"


def _client(user) -> Client:
    client = login(user)
    client.raise_request_exception = False  # a 500 is an answer to check, not an exception in the test
    return client


def _assert_400(response, name: str, *, api: bool) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    if api:
        body = json.loads(response.content)
        assert body["code"] in ("bad_parameter", "validation_error", "bad_month"), body
        assert name in json.dumps(body, ensure_ascii=False), body
    else:
        assert name.lower() in response.content.decode().lower(), response.content[:500]


PAGES = [
    ("/benefits/eligibility/?unit=x", "unit"),
    ("/benefits/recipients/?unit=x", "unit"),
    ("/benefits/budget/?year=-1", "year"),
    (f"/benefits/budget/?year={HUGE}", "year"),
    ("/benefits/payroll/9999-12-31/", "Tháng"),
    ("/benefits/payroll/0000-00/", "Tháng"),
    (f"/registry/children/?page={HUGE}", "page"),
    (f"/registry/households/?page={HUGE}", "page"),
    (f"/cases/?page={HUGE}", "page"),
    (f"/benefits/recipients/?page={HUGE}", "page"),
    (f"/audit/?page={HUGE}", "page"),
    ("/cases/stats/?year=-1", "year"),
    (f"/cases/stats/?year={HUGE}", "year"),
    ("/activities/calendar/?month=9999-12-31", "month"),
    ("/activities/calendar/?month=2025-13", "month"),
    ("/activities/?year=-1", "year"),
    ("/activities/budget/?year=-1", "year"),
    (f"/activities/list/?partner={HUGE}", "partner"),
]

API = [
    ("/api/registry/children?offset=1e20", "offset"),
    ("/api/registry/children?offset=-1", "offset"),
    (f"/api/registry/children?offset={HUGE}", "offset"),
    (f"/api/registry/households?offset={HUGE}", "offset"),
    ("/api/registry/households?offset=-1", "offset"),
    (f"/api/benefits/recipients?offset={HUGE}", "offset"),
    ("/api/benefits/recipients?offset=1e20", "offset"),
    ("/api/benefits/recipients?offset=-1", "offset"),
    (f"/api/cases/?page={HUGE}", "page"),
    ("/api/benefits/payroll?month=9999-12-31", "month"),
    (f"/api/activities/activities?partner={HUGE}", "partner"),
    ("/api/benefits/eligibility?unit=x", "unit"),
    ("/api/activities/budget?year=-1", "year"),
    (f"/api/activities/budget?year={HUGE}", "year"),
]


@pytest.mark.parametrize("url,name", PAGES)
def test_bad_query_parameters_on_pages_are_400(officer, url, name):
    _assert_400(_client(officer).get(url), name, api=False)


@pytest.mark.parametrize("url,name", API)
def test_bad_query_parameters_on_the_api_are_400_with_a_code(officer, url, name):
    _assert_400(_client(officer).get(url), name, api=True)


def test_a_huge_amount_on_a_budget_allocation_is_400(officer, units):
    client = _client(officer)
    payload = {"year": 2026, "source": "state", "amount": 1e20, "unit": units.province_legacy.ref}
    response = client.post("/api/activities/budget/allocations", json.dumps(payload), content_type="application/json")
    _assert_400(response, "amount", api=True)


def test_a_20_digit_partner_id_on_the_activity_form_is_400(officer, units):
    client = _client(officer)
    response = client.post("/activities/new/training/", {"title": "Tập huấn", "partners": HUGE,
                                                          "start_date": "02/03/2026", "cost": HUGE})
    assert response.status_code == 400, response.status_code
    errors = response.context["form"].errors
    assert "partners" in errors and "cost" in errors, errors


# A NUL character (found by the API fuzzing, issue 15 item 3): PostgreSQL's text cannot hold it, so a search
# holding one was a 500 there; it is a 400 naming the parameter on both databases, before any view.
NUL = [
    ("/api/registry/households?q=0%00", "q"),
    ("/api/registry/children?q=A%00", "q"),
    ("/api/programme/submissions?status=%00&form=x", "status"),
    ("/api/cases/1/documents/%00", "path"),
]


@pytest.mark.parametrize("url,name", NUL)
def test_a_nul_character_in_the_query_or_the_path_is_400_on_the_api(officer, url, name):
    _assert_400(_client(officer).get(url), name, api=True)


def test_a_nul_character_in_a_search_is_400_on_a_page(officer):
    _assert_400(_client(officer).get("/registry/households/?q=0%00"), "q", api=False)


def test_a_nul_character_in_a_json_body_is_400_and_writes_nothing(officer, units):
    from vitreem.registry.models import Household

    payload = {"unit": units.commune_a.ref, "head_name": "Y\u0000Hờ", "village": "Thôn 1"}
    response = _client(officer).post("/api/registry/households", json.dumps(payload), content_type="application/json")
    _assert_400(response, "body.head_name", api=True)
    assert not Household.objects.exists()


def test_a_nul_character_in_a_posted_form_is_400_on_a_page(worker_a, units):
    from vitreem.registry.models import Household

    response = _client(worker_a).post("/registry/households/new/", {
        "unit": units.commune_a.pk, "head_name": "Y\u0000Hờ", "village": "Thôn 1"})
    _assert_400(response, "head_name", api=False)
    assert not Household.objects.exists()


# A number where the API takes a date and time (found by the API fuzzing: `since=2.220446049250313e-16` was
# read as a Unix timestamp, 1970-01-01, and answered 200): the schema says ISO 8601, and only that passes.
def test_a_number_for_the_field_snapshots_cursor_is_400(worker_a):
    client = _client(worker_a)
    _assert_400(client.get("/api/field/snapshot?since=2.220446049250313e-16"), "since", api=True)
    _assert_400(client.get("/api/field/snapshot?since=1700000000"), "since", api=True)
    assert client.get("/api/field/snapshot?since=2025-07-01T08:00:00%2B07:00").status_code == 200


@pytest.mark.parametrize("url", ["/api/registry/poverty-reviews?on=0", "/api/registry/poverty-reviews?on=1e-16",
                                 "/api/activities/play-points?on=1700006400", "/api/benefits/eligibility?on=0"])
def test_a_number_for_a_date_is_400(officer, url):
    """`on=<number>` was read as a Unix timestamp (1970-01-01) and answered 200 (found by the API fuzzing)."""
    _assert_400(_client(officer).get(url), "on", api=True)
    assert _client(officer).get(url.split("=")[0] + "=2025-07-01").status_code == 200


def test_a_number_for_a_cases_received_at_is_400_and_writes_nothing(worker_a, units):
    from vitreem.cases.models import Case

    payload = {"received_at": 1700000000, "channel": "community", "place": "Nhà", "concern": "neglect",
               "summary": "Trẻ bị bỏ mặc", "reporter_anonymous": True,
               "new_child": {"full_name": "Y Hờ", "birth_date": "2016-01-01", "sex": "F", "unit": units.commune_a_2025.ref}}
    good = _client(worker_a).post("/api/cases/", json.dumps({**payload, "received_at": "2025-07-01T08:00:00+07:00"}),
                                  content_type="application/json")
    assert good.status_code == 201, good.content  # the same intake with an ISO date and time is taken
    response = _client(worker_a).post("/api/cases/", json.dumps(payload), content_type="application/json")
    _assert_400(response, "received_at", api=True)
    assert Case.objects.count() == 1


def test_a_time_zone_offset_postgresql_cannot_hold_is_kept_as_its_utc_instant(worker_a):
    """`since=2881-10-12T04:26:42+17:53` was a 500 on PostgreSQL (offsets there stop at ±15:59; found by the
    API fuzzing): the instant goes to the database in UTC; one past the calendar's end is a 400."""
    import datetime as dt

    from pydantic import TypeAdapter

    from vitreem.core.params import DateTime

    read = TypeAdapter(DateTime).validate_python("2881-10-12T04:26:42+17:53")
    assert read.utcoffset() == dt.timedelta(0) and read == dt.datetime(2881, 10, 11, 10, 33, 42, tzinfo=dt.UTC)
    client = _client(worker_a)
    assert client.get("/api/field/snapshot?since=2881-10-12T04:26:42%2B17:53").status_code == 200
    _assert_400(client.get("/api/field/snapshot?since=0001-01-01T00:00:00%2B05:00"), "since", api=True)
