import os
import subprocess
import sys

import pytest
from django.test import Client

from conftest import login
from vitreem.core.jobs import job_progress
from vitreem.core.models import AuditEntry, TaskStatus

pytestmark = pytest.mark.django_db


def test_unauthenticated_api_call_is_401_json():
    response = Client().get("/api/places/units")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_openapi_schema_and_docs_need_a_login_and_use_no_cdn(worker_a):
    # Issue 20 item 7: the API's description is not public, and its page loads no third-party script.
    for url in ("/api/openapi.json", "/api/docs"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client = login(worker_a)
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/places/units" in schema.json()["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "https://" not in html
    # ninja is not an installed app (process start): its files are found through STATICFILES_DIRS
    from django.contrib.staticfiles import finders

    assert all(finders.find(f"ninja/{name}") for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"))
    assert 'data-csrf-token="' in html and 'data-api-csrf="true"' in html  # the session's API needs the token


def test_every_response_carries_a_permissions_policy(worker_a):
    for response in (Client().get("/accounts/login/"), login(worker_a).get("/"), Client().get("/api/places/units")):
        policy = response["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_units_endpoint_filters_by_version_parent_and_text(worker_a):
    client = login(worker_a)
    rows = client.get("/api/places/units", {"version": "legacy", "parent": "615"}).json()
    assert len(rows) == 11 and all(r["parent"] == "615" and r["version"] == "legacy" for r in rows)
    rows = client.get("/api/places/units", {"version": "2025", "parent": "51", "q": "Đăk Mar"}).json()
    assert [r["ref"] for r in rows] == ["2025:23512"]


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"version": "2030"}, 400, "unknown_unit_version"),
    ({"version": "2025", "parent": "99"}, 404, "unknown_unit"),
    ({"version": "2025", "parent": "legacy:62"}, 400, "invalid"),
    ({"version": "2025", "limit": "many"}, 400, "validation_error"),
])
def test_units_endpoint_bad_input(worker_a, params, status, code):
    response = login(worker_a).get("/api/places/units", params)
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]


def test_units_endpoint_wrong_method(worker_a):
    assert login(worker_a).post("/api/places/units").status_code == 405


def test_error_pages_in_the_house_style(worker_a):
    response = login(worker_a).get("/no-such-page/")
    assert response.status_code == 404 and "Không tìm thấy" in response.content.decode()


def test_english_switch(worker_a):
    client = login(worker_a)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").content.decode()


def test_audit_page_is_for_officers_only_and_scoped(officer, worker_a, outsider, units):
    from django.db import transaction

    from vitreem.core.audit import audit_change

    with transaction.atomic():
        audit_change(actor=worker_a, action="child.update", object_type="registry.child", object_id=1,
                     unit=units.commune_a)
        audit_change(actor=outsider, action="child.update", object_type="registry.child", object_id=2,
                     unit=units.other_commune)
    assert login(worker_a).get("/audit/").status_code == 403
    body = login(officer).get("/audit/?action=child.update").content.decode()
    assert "registry.child #1" in body and "registry.child #2" not in body


def test_task_status_is_polled_by_its_owner_only(worker_a, worker_b):
    status = TaskStatus.objects.create(kind="import", owner=worker_a, total=10)
    job_progress(status.pk, progress=4)
    response = login(worker_a).get(f"/tasks/{status.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "40%" in response.content.decode()
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert login(worker_b).get(f"/tasks/{status.pk}/").status_code == 404


def test_background_task_runs_after_commit_and_reports_progress(worker_a, django_capture_on_commit_callbacks):
    from vitreem.core.jobs import job_start
    from vitreem.core.tasks import ping

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        status = job_start(kind="ping", owner=worker_a, task=ping, total=3)
        assert status.state == TaskStatus.State.QUEUED  # nothing runs before the commit
    assert len(callbacks) == 1
    status.refresh_from_db()
    assert status.state == TaskStatus.State.DONE and status.result == {"steps": 3}
    assert not AuditEntry.objects.filter(action="ping").exists()


def test_production_settings_pass_the_deploy_check():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x7!kq" + "a9Zr3Lm2Pq8Vt5Wn1Yb6Hc4Jd0Fe" * 2, "ALLOWED_HOSTS": "vitreem.example.vn"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "vitreem.cli", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "ALLOWED_HOSTS": "x"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-m", "vitreem.cli", "check"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_a_web_process_loads_its_urls_before_the_first_request():
    """The first visitor of a fresh web worker waited for the URLconf's import (every view and API
    module: 0.9 s of a 1.4 s dashboard); the WSGI module loads it when the process starts."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x7!kq" + "a9Zr3Lm2Pq8Vt5Wn1Yb6Hc4Jd0Fe" * 2, "ALLOWED_HOSTS": "vitreem.example.vn"}
    code = ("import gc, sys, config.wsgi; "
            "print(all(m in sys.modules for m in ('config.urls', 'vitreem.stats.views', 'vitreem.core.api')), "
            "gc.get_freeze_count() > 100_000, len(gc.get_objects()) < 10_000)")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # ... and sets what it loaded aside from the garbage collector's generations (gc.freeze): a full
    # collection then walks the objects made since, not the whole process.
    assert result.stdout.split() == ["True", "True", "True"]


def test_every_api_schema_name_is_unique():
    """The OpenAPI document keys request/response schemas by class name: two apps' `ReviewIn` once made
    /api/docs show the programme's body for the case review endpoint."""
    import inspect
    import sys

    from ninja import Schema

    from vitreem.core.api import api

    api.get_openapi_schema()  # every router is imported by now
    seen: dict[str, str] = {}
    clashes = []
    for name, module in list(sys.modules.items()):
        if not (name.startswith("vitreem.") and name.endswith(".api")):
            continue
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and cls.__module__ == name:
                if cls_name in seen and seen[cls_name] != name:
                    clashes.append(f"{cls_name}: {seen[cls_name]} and {name}")
                seen[cls_name] = name
    assert len(seen) > 20 and not clashes
