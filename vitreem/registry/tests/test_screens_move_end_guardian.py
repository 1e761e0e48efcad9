"""Screens and API endpoints added after registration: move a child, end a record, add a guardian.

Each works for a user whose scope covers the child, refuses bad input by the field and writes
nothing, and answers 404 (another commune) or 403 (read-only role) on GET and POST."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import login
from vitreem.core.errors import PermissionDenied
from vitreem.core.models import AuditEntry
from vitreem.registry import services
from vitreem.registry.models import Child, Guardian, Residence
from vitreem.registry.rules import q_child_on
from vitreem.registry.tests.screens_fixtures import today, world_fixture, years_ago  # noqa: F401

pytestmark = pytest.mark.django_db

API = "/api/registry"


def changes() -> int:
    return AuditEntry.objects.filter(kind="change").count()


def state(child: Child) -> tuple:
    child.refresh_from_db()
    return (child.unit_id, child.household_id, child.village, child.version, child.ended_on, child.end_reason,
            Residence.objects.filter(child=child).count(), Guardian.objects.filter(child=child).count(), changes())


def post_json(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


@pytest.fixture(name="household_b")
def household_b_fixture(units, worker_b):
    return services.household_create(actor=worker_b, unit=units.commune_b_2025, head_name="Phạm Văn Dũng",
                                     village="Thôn Kon Gung")


# ---------------------------------------------------------------- moving a child

def test_move_screen(world, officer, units, household_b):
    client = login(officer)
    url = f"/registry/children/{world.hoa.pk}/move/"
    r = client.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert "Chuyển nơi ở" in body and 'name="version"' in body and units.commune_b_2025.ref in body
    # The commune the child lives in is not offered.
    assert f'value="{units.commune_a_2025.ref}"' not in body
    # htmx reloads the household list of the chosen commune.
    r = client.get(url, {"unit": units.commune_b_2025.ref}, HTTP_HX_REQUEST="true")
    assert f'value="{household_b.pk}"' in r.content.decode()
    before = changes()
    r = client.post(url, {"unit": units.commune_b_2025.ref, "on": ago(10).isoformat(), "household": household_b.pk,
                          "village": "", "version": world.hoa.version})
    assert r.status_code == 302 and r["Location"] == f"/registry/children/{world.hoa.pk}/"
    world.hoa.refresh_from_db()
    assert world.hoa.unit == units.commune_b_2025 and world.hoa.household == household_b
    assert world.hoa.village == "Thôn Kon Gung" and world.hoa.version == 2
    old, new = Residence.objects.filter(child=world.hoa).order_by("start")
    assert (old.unit_id, old.end, new.unit_id, new.start, new.end) == (
        units.commune_a_2025.pk, ago(11), units.commune_b_2025.pk, ago(10), None)
    entry = AuditEntry.objects.filter(kind="change").latest("pk")
    assert changes() == before + 1 and entry.action == "child.move" and entry.actor == officer
    assert entry.changes["unit_id"] == [units.commune_a_2025.pk, units.commune_b_2025.pk]
    # The child page shows the residence history.
    page = client.get(f"/registry/children/{world.hoa.pk}/").content.decode()
    assert "Nơi cư trú theo thời gian" in page and units.commune_a_2025.name in page and ago(11).strftime("%d/%m/%Y") in page
    # The old commune's worker no longer sees the child; the new one does.


def test_move_changes_who_sees_the_child(world, officer, worker_a, worker_b, units):
    login(officer).post(f"/registry/children/{world.binh.pk}/move/", {
        "unit": units.commune_b_2025.ref, "on": ago(3).isoformat(), "version": world.binh.version})
    assert login(worker_a).get(f"/registry/children/{world.binh.pk}/").status_code == 404
    assert login(worker_b).get(f"/registry/children/{world.binh.pk}/").status_code == 200


@pytest.mark.parametrize("over,field", [
    ({"on": (today() + dt.timedelta(days=1)).isoformat()}, "on"),
    ({"on": "31/02/2024"}, "on"),
    ({"on": ""}, "on"),
    ({"on": years_ago(20).isoformat()}, "on"),  # before the birth
    ({"unit": ""}, "unit"),
    ({"unit": "2025:23500"}, "unit"),  # where the child already lives: not offered
    ({"unit": "legacy:23512"}, "unit"),  # no longer in force
    ({"unit": "2025:00004"}, "unit"),  # another province: not offered
    ({"household": "999999"}, "household"),
])
def test_move_bad_input(world, officer, units, over, field):
    before = state(world.hoa)
    data = {"unit": units.commune_b_2025.ref, "on": ago(5).isoformat(), "version": world.hoa.version, **over}
    r = login(officer).post(f"/registry/children/{world.hoa.pk}/move/", data)
    assert r.status_code == 200
    assert field in r.context["form"].errors, r.context["form"].errors
    assert state(world.hoa) == before


def test_move_before_the_current_residence_or_stale(world, officer, units):
    client = login(officer)
    url = f"/registry/children/{world.hoa.pk}/move/"
    assert client.post(url, {"unit": units.commune_b_2025.ref, "on": ago(5).isoformat(),
                             "version": 1}).status_code == 302
    before = state(world.hoa)
    # Back to commune A on a day before the move to B: refused on the date.
    r = client.post(url, {"unit": units.commune_a_2025.ref, "on": ago(6).isoformat(), "version": 2})
    assert "on" in r.context["form"].errors
    # The version seen before someone else's change: refused as a conflict.
    r = client.post(url, {"unit": units.commune_a_2025.ref, "on": ago(1).isoformat(), "version": 1})
    assert r.status_code == 200 and "người khác sửa" in r.content.decode()
    assert state(world.hoa) == before


def test_commune_worker_cannot_move_a_child_out_of_their_scope(world, worker_a, units):
    """The receiving commune must be in the actor's scope (see services.child_move)."""
    before = state(world.an)
    r = login(worker_a).post(f"/registry/children/{world.an.pk}/move/", {
        "unit": units.commune_b_2025.ref, "on": ago(2).isoformat(), "version": world.an.version})
    assert r.status_code == 200 and "unit" in r.context["form"].errors
    assert "do cán bộ cấp tỉnh ghi nhận" in r.content.decode()  # the page says who records such a move
    with pytest.raises(PermissionDenied) as info:
        services.child_move(actor=worker_a, child=world.an, unit=units.commune_b_2025, on=ago(2))
    assert info.value.field == "unit"
    assert state(world.an) == before


def test_a_move_to_another_province_is_refused_even_for_someone_who_sees_both(world, units):
    """A child never changes province (places/fields.py): leaving the province ends the record. An
    administrator of two provinces sees both communes, and is told so instead of moving the record."""
    from conftest import OTHER_PROVINCE, PROVINCE
    from vitreem.accounts.models import Role
    from vitreem.core.errors import DomainError
    from vitreem.places.selectors import unit_resolve
    from vitreem.testing.factories import UserFactory

    both = UserFactory(username="two_provinces", role=Role.ADMIN, units=PROVINCE + OTHER_PROVINCE)
    elsewhere = unit_resolve("2025:00004")
    before = state(world.hoa)
    with pytest.raises(DomainError) as info:
        services.child_move(actor=both, child=world.hoa, unit=elsewhere, on=ago(2))
    assert info.value.field == "unit" and info.value.code == "unit_other_province"
    assert "Chuyển khỏi tỉnh" in info.value.message and elsewhere.name in info.value.message
    assert state(world.hoa) == before
    # the same actor still moves a child inside the province
    services.child_move(actor=both, child=world.hoa, unit=units.commune_b_2025, on=ago(2))
    assert state(world.hoa)[0] == units.commune_b_2025.pk


def test_move_scope(world, worker_b, leader, outsider, reporter, units):
    url = f"/registry/children/{world.an.pk}/move/"
    data = {"unit": units.commune_b_2025.ref, "on": ago(2).isoformat(), "version": world.an.version}
    before = state(world.an)
    for user, code in ((worker_b, 404), (outsider, 404), (leader, 403), (reporter, 403)):
        client = login(user)
        assert client.get(url).status_code == code, user
        assert client.post(url, data).status_code == code, user
    assert state(world.an) == before


# ---------------------------------------------------------------- ending a record

def test_end_screen(world, worker_a):
    client = login(worker_a)
    url = f"/registry/children/{world.hoa.pk}/end/"
    r = client.get(url)
    assert r.status_code == 200 and "Kết thúc hồ sơ" in r.content.decode()
    assert "merged" not in r.content.decode()  # set only by the duplicate merge
    on = ago(4)
    before = changes()
    r = client.post(url, {"reason": "died", "on": on.isoformat(), "note": "Giấy báo tử số 12/2026",
                          "version": world.hoa.version})
    assert r.status_code == 302
    world.hoa.refresh_from_db()
    assert (world.hoa.ended_on, world.hoa.end_reason, world.hoa.version) == (on, "died", 2)
    assert Residence.objects.get(child=world.hoa).end == on
    entry = AuditEntry.objects.filter(kind="change").latest("pk")
    assert changes() == before + 1 and entry.action == "child.end"
    assert entry.changes == {"ended_on": on.isoformat(), "reason": "died", "note": "Giấy báo tử số 12/2026"}
    # The record stays, shown as ended, without the write buttons; it counts until the day before.
    page = client.get(f"/registry/children/{world.hoa.pk}/").content.decode()
    assert "Hồ sơ đã kết thúc ngày" in page and "Giấy báo tử số 12/2026" in page and "Đã mất" in page
    assert "Sửa thông tin" not in page and "Chuyển nơi ở" not in page
    assert Child.objects.filter(q_child_on(on - dt.timedelta(days=1)), pk=world.hoa.pk).exists()
    assert not Child.objects.filter(q_child_on(on), pk=world.hoa.pk).exists()
    assert "Trần Thị Hoa" not in client.get("/registry/children/").content.decode()
    # Ending it again is refused.
    before = state(world.hoa)
    r = client.post(url, {"reason": "left", "on": today().isoformat(), "version": world.hoa.version})
    assert r.status_code == 200 and "đã kết thúc" in r.content.decode()
    assert state(world.hoa) == before


@pytest.mark.parametrize("over,field", [
    ({"reason": ""}, "reason"),
    ({"reason": "merged"}, "reason"),
    ({"reason": "eaten"}, "reason"),
    ({"on": ""}, "on"),
    ({"on": (today() + dt.timedelta(days=1)).isoformat()}, "on"),
    ({"on": years_ago(20).isoformat()}, "on"),
    ({"note": "x" * 300}, "note"),
    ({"reason": "other", "note": "  "}, "note"),  # another reason must be written out
])
def test_end_bad_input(world, worker_a, over, field):
    before = state(world.binh)
    data = {"reason": "left", "on": ago(1).isoformat(), "note": "", "version": world.binh.version, **over}
    r = login(worker_a).post(f"/registry/children/{world.binh.pk}/end/", data)
    assert r.status_code == 200
    assert field in r.context["form"].errors, r.context["form"].errors
    assert state(world.binh) == before


def test_end_for_another_reason_with_its_note(world, worker_a):
    r = login(worker_a).post(f"/registry/children/{world.binh.pk}/end/", {
        "reason": "other", "on": ago(1).isoformat(), "note": "Đăng ký nhầm: trẻ không có thật",
        "version": world.binh.version})
    assert r.status_code == 302
    world.binh.refresh_from_db()
    assert world.binh.end_reason == "other"
    assert AuditEntry.objects.filter(action="child.end").latest("pk").changes["note"] == "Đăng ký nhầm: trẻ không có thật"


def test_end_before_the_current_residence_and_stale(world, officer, units):
    client = login(officer)
    client.post(f"/registry/children/{world.binh.pk}/move/", {"unit": units.commune_b_2025.ref,
                                                             "on": ago(5).isoformat(), "version": 1})
    before = state(world.binh)
    url = f"/registry/children/{world.binh.pk}/end/"
    r = client.post(url, {"reason": "left", "on": ago(6).isoformat(), "version": 2})
    assert "on" in r.context["form"].errors  # would end the residence before it started
    r = client.post(url, {"reason": "left", "on": ago(1).isoformat(), "version": 1})
    assert "người khác sửa" in r.content.decode()
    assert state(world.binh) == before


def test_end_scope(world, worker_b, leader, outsider):
    url = f"/registry/children/{world.an.pk}/end/"
    before = state(world.an)
    for user, code in ((worker_b, 404), (outsider, 404), (leader, 403)):
        client = login(user)
        assert client.get(url).status_code == code
        assert client.post(url, {"reason": "died", "on": ago(1).isoformat()}).status_code == code
    assert state(world.an) == before


# ---------------------------------------------------------------- adding a guardian

def test_guardian_screen(world, worker_a):
    client = login(worker_a)
    url = f"/registry/children/{world.binh.pk}/guardians/new/"
    assert url in client.get(f"/registry/children/{world.binh.pk}/").content.decode()
    assert client.get(url).status_code == 200
    before = changes()
    r = client.post(url, {"full_name": "  Lê Thị Thu ", "relationship": "grandparent", "phone": "0905 123 456"})
    assert r.status_code == 302
    g = Guardian.objects.get(child=world.binh)
    assert (g.full_name, g.relationship, g.phone, g.name_key) == ("Lê Thị Thu", "grandparent", "0905123456",
                                                                  "le thi thu")
    entry = AuditEntry.objects.filter(kind="change").latest("pk")
    assert changes() == before + 1 and entry.action == "child.guardian_add" and entry.object_id == str(world.binh.pk)
    page = client.get(f"/registry/children/{world.binh.pk}/").content.decode()
    assert "Lê Thị Thu" in page and "Ông/bà" in page and "0905123456" in page
    # Found by the list's guardian search.
    assert "Lê Văn Bình" in client.get("/registry/children/", {"guardian": "le thi thu"}).content.decode()


@pytest.mark.parametrize("over,field", [
    ({"full_name": ""}, "full_name"),
    ({"full_name": "   "}, "full_name"),
    ({"relationship": ""}, "relationship"),
    ({"relationship": "neighbour"}, "relationship"),
    ({"phone": "abc123"}, "phone"),
    ({"phone": "12345"}, "phone"),
])
def test_guardian_bad_input(world, worker_a, over, field):
    before = state(world.binh)
    data = {"full_name": "Lê Thị Thu", "relationship": "mother", "phone": "", **over}
    r = login(worker_a).post(f"/registry/children/{world.binh.pk}/guardians/new/", data)
    assert r.status_code == 200
    assert field in r.context["form"].errors, r.context["form"].errors
    assert state(world.binh) == before


def test_guardian_refused_on_an_ended_record(world, worker_a):
    services.child_end(actor=worker_a, child=world.binh, on=ago(1), reason="left")
    before = state(world.binh)
    r = login(worker_a).post(f"/registry/children/{world.binh.pk}/guardians/new/",
                             {"full_name": "Lê Thị Thu", "relationship": "mother"})
    assert r.status_code == 200 and "đã kết thúc" in r.content.decode()
    assert state(world.binh) == before


def test_guardian_scope(world, worker_b, leader, outsider):
    url = f"/registry/children/{world.an.pk}/guardians/new/"
    before = state(world.an)
    for user, code in ((worker_b, 404), (outsider, 404), (leader, 403)):
        client = login(user)
        assert client.get(url).status_code == code
        assert client.post(url, {"full_name": "X", "relationship": "mother"}).status_code == code
    assert state(world.an) == before
    with pytest.raises(PermissionDenied):
        services.guardian_add(actor=worker_b, child=world.an, full_name="X", relationship="mother")


# ---------------------------------------------------------------- the export links on the list

def test_list_export_links_carry_the_filters(world, worker_a):
    from urllib.parse import parse_qs, urlsplit

    from django.urls import reverse

    client = login(worker_a)
    r = client.get("/registry/children/", {"q": "hoa", "sex": "F", "page": "1"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    export = reverse("imports:export")
    links = [part.split('"', 1)[0].replace("&amp;", "&") for part in body.split('href="')[1:]
             if part.startswith(export)]
    assert len(links) == 2
    queries = [parse_qs(urlsplit(link).query) for link in links]
    assert [q["format"] for q in queries] == [["xlsx"], ["csv"]]
    assert all(q["q"] == ["hoa"] and q["sex"] == ["F"] and "page" not in q for q in queries)
    r = client.get(links[1])
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "Trần Thị Hoa" in text and "Nguyễn Văn An" not in text
    # No rows, no links.
    assert export not in client.get("/registry/children/", {"q": "zzz"}).content.decode()


# ---------------------------------------------------------------- API

def test_api_move(world, officer, worker_a, units, household_b):
    client = login(officer)
    url = f"{API}/children/{world.an.pk}/move"
    before = state(world.an)
    for body, field in (({"unit": units.commune_b_2025.ref, "on": ago(3), "version": 9}, None),
                        ({"unit": units.commune_b_2025.ref, "on": today() + dt.timedelta(days=1), "version": 1}, "on"),
                        ({"unit": "legacy:23512", "on": ago(3), "version": 1}, "unit"),
                        ({"unit": units.commune_a_2025.ref, "on": ago(3), "version": 1}, "unit"),
                        ({"unit": units.commune_b_2025.ref, "on": ago(3), "version": 1, "household_id": 999999},
                         "household_id")):
        r = post_json(client, url, body)
        if field:
            assert r.status_code == 400 and r.json()["field"] == field, (body, r.json())
        else:  # a stale version
            assert r.status_code == 409 and r.json()["code"] == "conflict"
    # A household of the commune the child leaves, not of the receiving one.
    r = post_json(client, url, {"unit": units.commune_b_2025.ref, "on": ago(3), "version": 1,
                                "household_id": world.household_a.pk})
    assert r.status_code == 400 and r.json()["field"] == "household_id"
    assert state(world.an) == before
    r = post_json(client, url, {"unit": units.commune_b_2025.ref, "on": ago(3), "version": 1,
                                "household_id": household_b.pk})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["unit"] == units.commune_b_2025.ref and body["household_id"] == household_b.pk and body["version"] == 2
    assert [res["unit"] for res in body["residences"]] == [units.commune_a_2025.ref, units.commune_b_2025.ref]
    assert AuditEntry.objects.filter(kind="change").latest("pk").action == "child.move"
    # A commune worker cannot move a child into a commune outside their scope.
    before = state(world.hoa)
    r = post_json(login(worker_a), f"{API}/children/{world.hoa.pk}/move",
                  {"unit": units.commune_b_2025.ref, "on": ago(3), "version": 1})
    assert r.status_code == 403 and r.json()["field"] == "unit"
    assert state(world.hoa) == before


def test_api_end(world, worker_a):
    client = login(worker_a)
    url = f"{API}/children/{world.binh.pk}/end"
    before = state(world.binh)
    for body, field in (({"reason": "merged", "on": ago(1), "version": 1}, "reason"),
                        ({"reason": "left", "on": today() + dt.timedelta(days=1), "version": 1}, "on"),
                        ({"reason": "left", "on": ago(1)}, None)):
        r = post_json(client, url, body)
        assert r.status_code == 400, r.json()
        if field:
            assert r.json()["field"] == field
    assert state(world.binh) == before
    r = post_json(client, url, {"reason": "left", "on": ago(1), "version": 1, "note": "Chuyển vào TP.HCM"})
    assert r.status_code == 200
    assert (r.json()["ended_on"], r.json()["end_reason"]) == (ago(1).isoformat(), "left")
    entry = AuditEntry.objects.filter(kind="change").latest("pk")
    assert entry.action == "child.end" and entry.changes["note"] == "Chuyển vào TP.HCM"
    r = post_json(client, url, {"reason": "died", "on": ago(1), "version": 2})
    assert r.status_code == 400  # already ended


def test_api_guardians(world, worker_a):
    client = login(worker_a)
    url = f"{API}/children/{world.binh.pk}/guardians"
    assert client.get(url).json() == []
    before = state(world.binh)
    for body, code, field in (({"full_name": "", "relationship": "mother"}, 400, "full_name"),
                              ({"full_name": "Lê Thị Thu", "relationship": "mother", "phone": "abc"}, 400, "phone"),
                              ({"full_name": "Lê Thị Thu", "relationship": "neighbour"}, 400, "relationship")):
        r = post_json(client, url, body)
        assert r.status_code == code, r.json()
        if field:
            assert r.json()["field"] == field
    assert state(world.binh) == before
    r = post_json(client, url, {"full_name": "Lê Thị Thu", "relationship": "mother", "phone": "+84905123456"})
    assert r.status_code == 201 and r.json()["phone"] == "+84905123456"
    assert [g["full_name"] for g in client.get(url).json()] == ["Lê Thị Thu"]
    assert AuditEntry.objects.filter(kind="change").latest("pk").action == "child.guardian_add"


def test_api_scope(world, worker_b, leader, outsider, units):
    child = world.an
    before = state(child)
    calls = [("post", f"{API}/children/{child.pk}/move", {"unit": units.commune_b_2025.ref, "on": ago(1), "version": 1}),
             ("post", f"{API}/children/{child.pk}/end", {"reason": "left", "on": ago(1), "version": 1}),
             ("post", f"{API}/children/{child.pk}/guardians", {"full_name": "X", "relationship": "mother"}),
             ("get", f"{API}/children/{child.pk}/guardians", None)]
    for user, code in ((worker_b, 404), (outsider, 404), (leader, 403)):
        client = login(user)
        for method, url, body in calls:
            r = client.get(url) if method == "get" else post_json(client, url, body)
            expected = 200 if (method == "get" and user is leader) else code
            assert r.status_code == expected, (user, url, r.status_code)
    assert state(child) == before
