"""Changes made in the Django admin go to the audit log like any service's change."""

import datetime as dt

import pytest
from django.contrib import admin

from conftest import login
from vitreem.cases.models import WorkdayOverride
from vitreem.core.admin import AuditedMixin
from vitreem.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_every_model_admin_is_audited():
    ours = {model: m for model, m in admin.site._registry.items() if model.__module__.startswith("vitreem.")}
    plain = [type(m).__name__ for model, m in ours.items() if model is not AuditEntry and not isinstance(m, AuditedMixin)]
    assert plain == [], "admin classes that would change data without an audit row"
    assert len(ours) > 15


def test_admin_add_change_delete_are_audited_with_values(admin_user):
    client = login(admin_user)
    r = client.post("/admin/cases/workdayoverride/add/", {"day": "2026-05-02", "is_working": "on", "note": "Làm bù"})
    assert r.status_code == 302, r.content.decode()[:2000]
    day = WorkdayOverride.objects.get(day=dt.date(2026, 5, 2))
    created = AuditEntry.objects.get(action="workdayoverride.admin_create")
    assert created.actor == admin_user and created.object_id == str(day.pk)
    assert created.changes["note"] == [None, "Làm bù"] and created.changes["is_working"] == [None, True]

    r = client.post(f"/admin/cases/workdayoverride/{day.pk}/change/", {"day": "2026-05-02", "note": "Nghỉ bù"})
    assert r.status_code == 302
    changed = AuditEntry.objects.get(action="workdayoverride.admin_change")
    assert changed.changes == {"is_working": [True, False], "note": ["Làm bù", "Nghỉ bù"]}

    r = client.post(f"/admin/cases/workdayoverride/{day.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not WorkdayOverride.objects.exists()
    deleted = AuditEntry.objects.get(action="workdayoverride.admin_delete")
    assert deleted.changes["note"] == ["Nghỉ bù", None]


def test_admin_user_change_never_logs_the_password_hash(admin_user, worker_a):
    client = login(admin_user)
    page = client.get(f"/admin/accounts/user/{worker_a.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, dict))}
    data.update({"username": worker_a.username, "full_name": "Tên mới", "role": worker_a.role,
                 "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                 "unitmembership_set-TOTAL_FORMS": "0", "unitmembership_set-INITIAL_FORMS": "0"})
    r = client.post(f"/admin/accounts/user/{worker_a.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r.status_code
    entry = AuditEntry.objects.get(action="user.admin_change")
    assert entry.changes["full_name"][1] == "Tên mới"
    assert "pbkdf2" not in str(entry.changes) and "argon2" not in str(entry.changes)
