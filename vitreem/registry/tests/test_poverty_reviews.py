"""The communes' decided poverty lists: page, API, scope (issue 21 item 1)."""

from __future__ import annotations

import datetime as dt
import json

from conftest import login
from vitreem.core.models import AuditEntry
from vitreem.registry.models import PovertyReview
from vitreem.registry.tests.screens_fixtures import today, world_fixture  # noqa: F401

PAGE = "/registry/poverty-reviews/"
API = "/api/registry/poverty-reviews"


def _decided_last_year() -> dt.date:
    return dt.date(today().year - 1, 12, 12)


def test_the_page_lists_her_communes_lists_in_force_and_records_one(world, worker_a, worker_b, units):
    body = login(worker_a).get(PAGE).content.decode()
    assert "Xã Đăk Hà" in body and f"Năm {today().year}, công nhận ngày 01/01/{today().year}" in body
    assert units.commune_b_2025.name not in body  # another commune's list is not hers to see

    r = login(worker_b).get(PAGE)
    assert r.status_code == 200 and units.commune_b_2025.name in r.content.decode()
    assert "Xã Đăk Hà" not in r.content.decode()
    assert "Chưa có danh sách được công nhận" in r.content.decode()

    # She records her own commune's; the other commune's worker cannot record hers.
    form = {"unit": units.commune_b_2025.ref, "year": today().year, "decided_on": _decided_last_year().strftime("%d/%m/%Y"),
            "decision_number": "31/QĐ-UBND"}
    refused = login(worker_a).post(PAGE, form)
    assert refused.status_code == 200 and not PovertyReview.objects.filter(unit=units.commune_b_2025).exists()
    r = login(worker_b).post(PAGE, form)
    assert r.status_code == 302
    review = PovertyReview.objects.get(unit=units.commune_b_2025)
    assert (review.year, review.decided_on, review.decision_number) == (today().year, _decided_last_year(), "31/QĐ-UBND")
    assert AuditEntry.objects.filter(action="poverty_review.record", actor=worker_b, object_id=str(review.pk)).exists()


def test_a_bad_date_is_named_and_nothing_is_written(world, worker_b, units):
    form = {"unit": units.commune_b_2025.ref, "year": today().year, "decided_on": "12/12/2001"}
    r = login(worker_b).post(PAGE, form)
    assert r.status_code == 200
    assert "Ngày quyết định phải thuộc năm" in r.content.decode()
    assert not PovertyReview.objects.filter(unit=units.commune_b_2025).exists()


def test_a_reporter_does_not_see_the_page(world, reporter):
    assert login(reporter).get(PAGE).status_code == 403


def test_the_household_page_says_which_list_is_in_force(world, worker_a):
    body = login(worker_a).get(f"/registry/households/{world.household_a.pk}/").content.decode()
    assert f"Danh sách đang áp dụng ở xã: năm {today().year}, công nhận ngày 01/01/{today().year}." in body


def test_api_lists_and_records_in_scope_only(world, worker_a, worker_b, units):
    mine = login(worker_a).get(API).json()
    assert [(r["unit"], r["in_force"]["year"]) for r in mine] == [("2025:23500", today().year)]
    theirs = login(worker_b).get(API).json()
    assert [r["unit"] for r in theirs] == ["2025:23512"] and theirs[0]["in_force"] is None

    body = {"unit": "2025:23512", "year": today().year, "decided_on": _decided_last_year().isoformat()}
    refused = login(worker_a).post(API, json.dumps(body), content_type="application/json")
    assert refused.status_code == 403 and not PovertyReview.objects.filter(unit=units.commune_b_2025).exists()
    r = login(worker_b).post(API, json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and r.json()["decided_on"] == _decided_last_year().isoformat()
    assert login(worker_b).get(API).json()[0]["in_force"]["year"] == today().year
