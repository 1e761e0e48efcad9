"""Issue 20 item 9: when the database is down or read-only, a logged-in user gets vitreem's own page
("Hệ thống tạm thời không truy cập được cơ sở dữ liệu"), not a bare "Internal Server Error" because
the error page itself needed the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.urls import reverse

from conftest import login

pytestmark = pytest.mark.django_db

MESSAGE = "Hệ thống tạm thời không truy cập được cơ sở dữ liệu"
ROOT = Path(__file__).resolve().parents[3]

# A browser that holds a session cookie (a logged-in user) asks for a page; the database cannot be reached.
REQUEST = """
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies[settings.SESSION_COOKIE_NAME] = "the-session-of-a-logged-in-user"
response = client.get("/registry/children/")
print(response.status_code)
print(response.content.decode())
"""


def _unreachable_url(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        return f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:1/{params['NAME']}"  # nothing listens on 1
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'vitreem.sqlite3'}"


def test_an_unreachable_database_gives_our_page(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _unreachable_url(tmp_path),
           "VITREEM_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", REQUEST], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    status, _, body = done.stdout.partition("\n")
    assert status == "503"
    assert MESSAGE in body and "Internal Server Error" not in body
    assert 'href="/static/vitreem/site.css"' in body  # in the house style


def _read_only(on: bool) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET transaction_read_only = {'on' if on else 'off'}")
        else:
            cursor.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


def test_a_read_only_database_gives_our_page(worker_a):
    client = login(worker_a)
    client.raise_request_exception = False
    assert client.get("/").status_code == 200  # renews the session now, so the next request reads only
    # In a savepoint: rolling it back ends PostgreSQL's read-only mode, which a transaction cannot leave.
    savepoint = transaction.savepoint()
    _read_only(True)
    try:
        response = client.post(reverse("accounts:token_create"), {"name": "bảng tính"})
    finally:
        if connection.vendor == "sqlite":
            _read_only(False)
        transaction.savepoint_rollback(savepoint)
    assert response.status_code == 503
    body = response.content.decode()
    assert MESSAGE in body and worker_a.username not in body  # no user lookup on the error page


def test_other_errors_keep_the_server_error_page():
    from vitreem.core.views import error_500

    try:
        raise RuntimeError("a bug, not the database")
    except RuntimeError:
        page = error_500(None)  # no request needed at all
    body = page.content.decode()
    assert page.status_code == 500 and "Lỗi hệ thống" in body and MESSAGE not in body
