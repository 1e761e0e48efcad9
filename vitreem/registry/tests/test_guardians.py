"""Correcting and removing a parent or caregiver after registration: screens, API, scope, audit."""

from __future__ import annotations

import json

import pytest

from conftest import login
from vitreem.core.models import AuditEntry
from vitreem.registry import services
from vitreem.registry.models import Guardian
from vitreem.registry.tests.screens_fixtures import world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def guardian_of(world) -> Guardian:
    return Guardian.objects.get(child=world.an)  # Nguyễn Văn Cường, father


def test_edit_screen_corrects_and_records_the_change(world, worker_a):
    guardian = guardian_of(world)
    client = login(worker_a)
    page = client.get(f"/registry/children/{world.an.pk}/").content.decode()
    assert f"/registry/guardians/{guardian.pk}/edit/" in page and f"/registry/guardians/{guardian.pk}/remove/" in page
    url = f"/registry/guardians/{guardian.pk}/edit/"
    assert "Nguyễn Văn Cường" in client.get(url).content.decode()
    r = client.post(url, {"full_name": "Nguyễn Văn Cương", "relationship": "father", "phone": "0905 123 456"})
    assert r.status_code == 302
    guardian.refresh_from_db()
    assert (guardian.full_name, guardian.name_key, guardian.phone) == ("Nguyễn Văn Cương", "nguyen van cuong",
                                                                       "0905123456")
    entry = AuditEntry.objects.filter(action="child.guardian_update").get()
    assert entry.object_id == str(world.an.pk) and entry.actor == worker_a
    assert entry.changes["full_name"] == ["Nguyễn Văn Cường", "Nguyễn Văn Cương"]
    assert entry.changes["phone"] == ["", "0905123456"]


@pytest.mark.parametrize("data,field", [
    ({"full_name": "", "relationship": "father"}, "full_name"),
    ({"full_name": "X", "relationship": "boss"}, "relationship"),
    ({"full_name": "X", "relationship": "mother", "phone": "12ab"}, "phone"),
])
def test_edit_bad_input_changes_nothing(world, worker_a, data, field):
    guardian = guardian_of(world)
    r = login(worker_a).post(f"/registry/guardians/{guardian.pk}/edit/", data)
    assert r.status_code == 200 and field in r.context["form"].errors
    guardian.refresh_from_db()
    assert guardian.full_name == "Nguyễn Văn Cường" and guardian.relationship == "father"
    assert not AuditEntry.objects.filter(action="child.guardian_update").exists()


def test_remove_keeps_what_was_removed_in_the_history(world, worker_a):
    guardian = guardian_of(world)
    client = login(worker_a)
    url = f"/registry/guardians/{guardian.pk}/remove/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"reason": "Ghi nhầm người"})
    assert r.status_code == 302 and not Guardian.objects.filter(pk=guardian.pk).exists()
    entry = AuditEntry.objects.get(action="child.guardian_remove")
    assert entry.changes == {"guardian": {"full_name": "Nguyễn Văn Cường", "relationship": "father", "phone": ""},
                             "reason": "Ghi nhầm người"}
    page = client.get(f"/registry/children/{world.an.pk}/").content.decode()
    history = page[page.index("Bỏ người nuôi dưỡng"):]  # the change history shows the removal and its reason
    assert "Ghi nhầm người" in history[:400]


def test_another_commune_and_read_only_roles_are_refused(world, worker_b, leader):
    guardian = guardian_of(world)
    for url in (f"/registry/guardians/{guardian.pk}/edit/", f"/registry/guardians/{guardian.pk}/remove/"):
        assert login(worker_b).get(url).status_code == 404
        assert login(worker_b).post(url, {"full_name": "X", "relationship": "father", "reason": "x"}).status_code == 404
        assert login(leader).post(url, {"full_name": "X", "relationship": "father"}).status_code == 403
    assert Guardian.objects.get(pk=guardian.pk).full_name == "Nguyễn Văn Cường"


def test_an_ended_record_is_not_changed(world, worker_a):
    guardian = guardian_of(world)
    services.child_end(actor=worker_a, child=world.an, on=world.an.birth_date.replace(year=world.an.birth_date.year + 1),
                       reason="left")
    r = login(worker_a).post(f"/registry/guardians/{guardian.pk}/remove/", {"reason": ""})
    assert r.status_code == 200 and Guardian.objects.filter(pk=guardian.pk).exists()


def test_api_update_and_delete(world, worker_a, worker_b):
    guardian = guardian_of(world)
    client = login(worker_a)
    listed = client.get(f"/api/registry/children/{world.an.pk}/guardians").json()
    assert listed[0]["id"] == guardian.pk
    url = f"/api/registry/guardians/{guardian.pk}"
    body = {"full_name": "Nguyễn Văn Cường", "relationship": "foster", "phone": ""}
    assert login(worker_b).put(url, json.dumps(body), content_type="application/json").status_code == 404
    r = client.put(url, json.dumps({**body, "full_name": ""}), content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "full_name"
    r = client.put(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 200 and r.json()["relationship"] == "foster"
    assert login(worker_b).delete(url).status_code == 404
    assert client.delete(url + "?reason=ghi%20nh%E1%BA%A7m").status_code == 204
    assert not Guardian.objects.filter(pk=guardian.pk).exists()
    assert AuditEntry.objects.get(action="child.guardian_remove").changes["reason"] == "ghi nhầm"
