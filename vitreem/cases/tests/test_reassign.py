"""Reassigning a case (service, screen, API), the overdue notices to supervisors and the chairman,
and the worker loop that schedules the notices without cron."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import COMMUNE_A, OTHER_PROVINCE, PROVINCE, login
from vitreem.accounts.models import Role
from vitreem.cases import services
from vitreem.cases.models import Case, CaseEvent, Notification
from vitreem.cases.selectors import cases_for_user
from vitreem.cases.services import OutOfOrder
from vitreem.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.testing.factories import UserFactory

from .conftest import intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_a2(db):
    user = UserFactory(username="worker_a2", role=Role.COMMUNE_WORKER, units=COMMUNE_A)
    user.email = "a2@example.org"
    user.save()
    return user


@pytest.fixture
def far_supervisor(db):
    return UserFactory(username="far_supervisor", role=Role.CASE_SUPERVISOR, units=OTHER_PROVINCE)


def _state(case: Case):
    case.refresh_from_db()
    return (case.owner_id, case.version, case.events.count(), Notification.objects.count(),
            AuditEntry.objects.filter(action="case.reassign").count())


# ---------------------------------------------------------------- service

def test_supervisor_hands_the_case_to_another_worker_of_the_commune(supervisor, worker_a, worker_a2, case_a,
                                                                    mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=case_a.version,
                                      owner=worker_a2.pk, reason="  Chị Lan nghỉ sinh  ")
    assert case.owner_id == worker_a2.pk and case.version == case_a.version + 1
    event = case.events.get(kind=CaseEvent.Kind.REASSIGN)
    assert event.text == "Chị Lan nghỉ sinh" and event.data["from_id"] == worker_a.pk
    assert event.data["to_id"] == worker_a2.pk and event.actor == supervisor
    entry = AuditEntry.objects.get(action="case.reassign")
    assert entry.changes["owner_id"] == [worker_a.pk, worker_a2.pk]
    notice = Notification.objects.get(user=worker_a2)
    assert notice.kind == "assigned" and case.code in notice.message and notice.emailed
    assert len(mailoutbox) == 1 and "Nguyễn" not in mailoutbox[0].body
    # The new owner now finds it among "my cases"; the old owner does not.
    assert case in cases_for_user(worker_a2).filter(owner=worker_a2)
    assert not Case.objects.filter(owner=worker_a).exists()


def test_provincial_officer_may_reassign(officer, worker_a2, case_a):
    assert services.case_reassign(actor=officer, case=case_a, expected_version=None, owner=worker_a2,
                                  reason="Điều chuyển").owner == worker_a2


@pytest.mark.parametrize(("owner", "field_text"), [
    ("worker_b", "không phụ trách"),          # a worker of another commune
    ("outsider", "không phụ trách"),          # of another province
    ("chairman_a", "không phải người làm"),   # the commune's chairman is no worker
    ("worker_a", "đang do"),                  # already the owner
    (None, "chọn một người"),
    ("nonsense", "chọn một người"),
])
def test_bad_new_owner_is_refused_naming_the_field_and_nothing_is_written(request, supervisor, case_a, owner,
                                                                          field_text):
    value = request.getfixturevalue(owner).pk if owner not in (None, "nonsense") else owner
    before = _state(case_a)
    with pytest.raises(ValidationFailed) as exc:
        services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=case_a.version, owner=value,
                               reason="Điều chuyển")
    assert field_text in exc.value.errors["owner"] and exc.value.errors["owner"].startswith("Người nhận")
    assert _state(case_a) == before


def test_inactive_worker_and_missing_reason_are_refused(supervisor, worker_a2, case_a):
    before = _state(case_a)
    with pytest.raises(ValidationFailed) as exc:
        services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=None, owner=worker_a2.pk,
                               reason="  ")
    assert set(exc.value.errors) == {"reason"}
    worker_a2.is_active = False
    worker_a2.save()
    with pytest.raises(ValidationFailed) as exc:
        services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=None, owner=worker_a2.pk,
                               reason="x")
    assert "owner" in exc.value.errors
    assert _state(case_a) == before


def test_stale_version_conflicts(supervisor, worker_a2, case_a):
    before = _state(case_a)
    with pytest.raises(Conflict):
        services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=case_a.version - 1,
                               owner=worker_a2.pk, reason="x")
    assert _state(case_a) == before


@pytest.mark.parametrize(("persona", "error"), [
    ("worker_a", PermissionDenied), ("chairman_a", PermissionDenied),   # the commune's own: role refused
    ("worker_b", NotFound), ("far_supervisor", NotFound), ("leader", NotFound), ("agency_user", NotFound),
])
def test_only_supervisors_and_officers_of_the_province_reassign(request, persona, error, worker_a2, case_a):
    before = _state(case_a)
    with pytest.raises(error):
        services.case_reassign(actor=request.getfixturevalue(persona), case=case_a.pk, expected_version=None,
                               owner=worker_a2.pk, reason="x")
    assert _state(case_a) == before


def test_closed_case_is_not_reassigned(supervisor, worker_a2, case_a):
    Case.objects.filter(pk=case_a.pk).update(status="closed")
    with pytest.raises(OutOfOrder):
        services.case_reassign(actor=supervisor, case=case_a.pk, expected_version=None, owner=worker_a2.pk,
                               reason="x")


def test_candidates_are_the_active_workers_covering_the_commune(worker_a, worker_a2, worker_b, case_a):
    district_worker = UserFactory(username="district_worker", role=Role.COMMUNE_WORKER, units=PROVINCE)
    names = set(services.owner_candidates(case_a).values_list("username", flat=True))
    assert names == {"worker_a2", district_worker.username}


# ---------------------------------------------------------------- screen

def test_reassign_screen_with_htmx(supervisor, worker_a2, case_a):
    s = login(supervisor)
    page = s.get(f"/cases/{case_a.pk}/").content.decode()
    assert 'id="form-reassign"' in page and "Worker_A2" in page and 'hx-post="/cases/' in page
    url = f"/cases/{case_a.pk}/reassign/"
    assert 'id="form-reassign"' in s.get(url, HTTP_HX_REQUEST="true").content.decode()
    # A refusal comes back as the form with its message (200: htmx swaps only 2xx answers).
    r = s.post(url, {"version": case_a.version, "owner": "", "reason": "x"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Người nhận: chọn" in r.content.decode()
    r = s.post(url, {"version": case_a.version, "owner": worker_a2.pk, "reason": "Nghỉ phép"},
               HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r["HX-Redirect"] == f"/cases/{case_a.pk}/"
    case_a.refresh_from_db()
    assert case_a.owner == worker_a2
    assert "Giao lại vụ việc" in s.get(f"/cases/{case_a.pk}/").content.decode()  # on the timeline


def test_reassign_screen_without_htmx(supervisor, worker_a2, case_a):
    s = login(supervisor)
    url = f"/cases/{case_a.pk}/reassign/"
    r = s.post(url, {"version": case_a.version, "owner": worker_a2.pk, "reason": ""})
    assert r.status_code == 400 and "Lý do: chưa nhập" in r.content.decode()
    r = s.post(url, {"version": case_a.version - 1, "owner": worker_a2.pk, "reason": "x"})
    assert r.status_code == 409
    r = s.post(url, {"version": case_a.version, "owner": worker_a2.pk, "reason": "Nghỉ phép"})
    assert r.status_code == 302 and r["Location"] == f"/cases/{case_a.pk}/"


@pytest.mark.parametrize(("persona", "status"), [("worker_a", 403), ("chairman_a", 403), ("worker_b", 404),
                                                 ("far_supervisor", 404), ("outsider", 404)])
def test_reassign_screen_refused(request, persona, status, worker_a2, case_a):
    client = login(request.getfixturevalue(persona))
    url = f"/cases/{case_a.pk}/reassign/"
    assert client.get(url).status_code == status
    assert client.post(url, {"version": case_a.version, "owner": worker_a2.pk, "reason": "x"}).status_code == status
    case_a.refresh_from_db()
    assert case_a.owner.username == "worker_a"
    if status == 403:
        assert 'id="form-reassign"' not in client.get(f"/cases/{case_a.pk}/").content.decode()


# ---------------------------------------------------------------- API

def _post(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def test_reassign_through_the_api(supervisor, worker_a2, worker_b, case_a):
    s = login(supervisor)
    got = s.get(f"/api/cases/{case_a.pk}/owner-candidates").json()
    assert [c["username"] for c in got] == ["worker_a2"]
    url = f"/api/cases/{case_a.pk}/reassign"
    r = _post(s, url, {"version": case_a.version, "owner_id": worker_b.pk, "reason": "x"})
    assert r.status_code == 400 and "không phụ trách" in r.json()["errors"]["owner"], r.content
    r = _post(s, url, {"version": case_a.version, "owner_id": worker_a2.pk, "reason": "Nghỉ phép"})
    assert r.status_code == 200, r.content
    assert r.json()["owner"] == "Worker_A2" and r.json()["events"][-1]["kind"] == "reassign"
    r = _post(s, url, {"version": case_a.version, "owner_id": worker_a2.pk, "reason": "again"})
    assert r.status_code == 409


@pytest.mark.parametrize(("persona", "status"), [("worker_a", 403), ("worker_b", 404), ("far_supervisor", 404),
                                                 ("outsider", 404), ("leader", 404)])
def test_reassign_api_refused(request, persona, status, worker_a2, case_a):
    client = login(request.getfixturevalue(persona))
    assert client.get(f"/api/cases/{case_a.pk}/owner-candidates").status_code == status
    r = _post(client, f"/api/cases/{case_a.pk}/reassign", {"owner_id": worker_a2.pk, "reason": "x"})
    assert r.status_code == status
    case_a.refresh_from_db()
    assert case_a.owner.username == "worker_a"


# ---------------------------------------------------------------- overdue notices to the overseers

def test_overdue_notices_also_go_to_the_supervisors_of_the_province(worker_a, child_a, supervisor, far_supervisor,
                                                                     chairman_a):
    from vitreem.cases.notifications import deadline_notifications_send

    late = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=13))
    soon = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=1))
    assert deadline_notifications_send() == {"created": 3, "emailed": 0}
    got = set(Notification.objects.values_list("user__username", "case_id", "kind"))
    # Due soon: the owner only. Overdue: the owner and the province's supervisor; not the chairman
    # (the emergency intervention is the worker's step), not another province's supervisor.
    assert got == {("worker_a", late.pk, "overdue"), ("supervisor", late.pk, "overdue"),
                   ("worker_a", soon.pk, "due_soon")}
    message = Notification.objects.get(user=supervisor).message
    assert late.code in message and "Worker_A" in message
    assert deadline_notifications_send() == {"created": 0, "emailed": 0}


def test_a_notice_reads_in_the_readers_language(worker_a, child_a, supervisor):
    """Issue 21 item 5: notices and deadline types were worded once, in the server's Vietnamese."""
    from django.utils import translation

    from vitreem.cases.notifications import deadline_notifications_send

    late = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=13))
    deadline_notifications_send()
    notice = Notification.objects.get(user=supervisor)
    with translation.override("en"):
        text = notice.text
    assert text.startswith(f"Case {late.code} (owner: ") and "is overdue: emergency intervention (12 hours)" in text
    with translation.override("vi"):
        assert notice.text == notice.message and "can thiệp khẩn cấp (12 giờ)" in notice.text
    client = login(supervisor)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert f"Case {late.code} (owner: " in client.get("/").content.decode()


def test_overdue_isolation_also_goes_to_the_commune_chairman(worker_a, chairman_a, chairman_b, supervisor, child_a):
    today = timezone.localdate()
    case_a = intake(worker_a, child_a, received_at=timezone.now() - dt.timedelta(days=10))
    services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=today - dt.timedelta(days=5),
                          until=today - dt.timedelta(days=1), place="Nhà tạm lánh", decision_number="5/QĐ")
    case_a.refresh_from_db()
    assert case_a.next_due_kind == "isolation"
    from vitreem.cases.notifications import deadline_notifications_send

    deadline_notifications_send()
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        "worker_a", "supervisor", "chairman_a"}


# ---------------------------------------------------------------- scheduling without cron

@pytest.fixture
def db_tasks(settings):
    # The production backend (django-tasks resets its backends when the setting changes).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_run_worker_sends_the_notices_once_a_day(db_tasks, worker_a, child_a, monkeypatch):
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    from vitreem.cases.management.commands import run_worker

    # The worker drops stale connections between tasks; inside the test's transaction (PostgreSQL)
    # that would close the connection holding the test data.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)

    case = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=13))
    call_command("run_worker", "--once", verbosity=0)
    runs = DBTaskResult.objects.filter(task_path="vitreem.cases.tasks.deadlines_notify")
    assert runs.count() == 1 and runs.get().status == "SUCCESSFUL"
    assert Notification.objects.filter(case=case, kind="overdue").count() == 1
    # The same day: nothing enqueued again, nothing sent again.
    call_command("run_worker", "--once", verbosity=0)
    assert runs.count() == 1 and Notification.objects.count() == 1


def test_schedule_enqueues_again_in_the_next_period(db_tasks, settings, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from vitreem.cases.schedule import notify_period_hours, notify_schedule, period_start

    assert notify_schedule() is True and notify_schedule() is False
    # Yesterday's run does not count for today.
    DBTaskResult.objects.update(enqueued_at=period_start() - dt.timedelta(minutes=1))
    assert notify_schedule() is True
    settings.VITREEM_CASE_NOTIFY_EVERY_HOURS = 6
    start = period_start()
    assert start.hour % 6 == 0 and start <= timezone.localtime() < start + dt.timedelta(hours=6)
    del settings.VITREEM_CASE_NOTIFY_EVERY_HOURS
    monkeypatch.setenv("VITREEM_CASE_NOTIFY_EVERY_HOURS", "24")
    assert notify_period_hours() == 24
    monkeypatch.delenv("VITREEM_CASE_NOTIFY_EVERY_HOURS")
    assert notify_period_hours() == 1  # hourly by default: the 12-hour emergency deadline


def test_run_worker_s_figures_turn_beside_a_long_task(monkeypatch):
    """On PostgreSQL the figures' turns run in a thread of their own: a long task (a 500-row import)
    in the loop no longer holds them back; the thread stops when asked."""
    import threading
    import time

    from vitreem.cases.management.commands.run_worker import _Figures, _FiguresThread

    figures = _Figures()
    figures.every = 0.05
    turns: list[float] = []

    def turn() -> None:
        turns.append(time.monotonic())
        figures.refreshed_at = time.monotonic()

    monkeypatch.setattr(figures, "turn", turn)
    beside = _FiguresThread(figures)
    beside.start()
    busy = threading.Event()
    busy.wait(1.5)  # the loop's long task
    assert len(turns) >= 3
    beside.stopping.set()
    beside.join(timeout=5)
    assert not beside.is_alive()
    count = len(turns)
    time.sleep(0.5)
    assert len(turns) == count  # no turn after it stopped
