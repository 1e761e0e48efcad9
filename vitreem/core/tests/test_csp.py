"""The Content-Security-Policy header and its report endpoint (the browser side is tests/test_e2e_csp.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _policy(response) -> str:
    return response.get("Content-Security-Policy") or response.get("Content-Security-Policy-Report-Only") or ""


def test_every_page_carries_a_policy_without_inline_or_eval(client):
    response = client.get("/accounts/login/")
    policy = _policy(response)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert directives["report-uri"] == "/csp-report/"


def test_base_template_turns_off_htmx_inline_style_and_eval(client):
    html = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html
    assert "<script>" not in html and " style=" not in html


@pytest.mark.parametrize(("mode", "enforced", "reported"), [
    ("enforce", True, False), ("report-only", False, True), ("off", False, False)])
def test_mode_from_the_environment(mode, enforced, reported):
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(bool(s.CONTENT_SECURITY_POLICY), bool(s.CONTENT_SECURITY_POLICY_REPORT_ONLY))")
    env = {**os.environ, "VITREEM_CSP": mode, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(enforced), str(reported)]


def test_a_wrong_mode_stops_the_start():
    env = {**os.environ, "VITREEM_CSP": "maybe", "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "VITREEM_CSP" in run.stderr


def test_production_sends_the_policy_by_default():
    env = {k: v for k, v in os.environ.items() if k != "VITREEM_CSP"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="x" * 60, ALLOWED_HOSTS="a.example")
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.CSP_MODE, bool(s.CONTENT_SECURITY_POLICY or s.CONTENT_SECURITY_POLICY_REPORT_ONLY))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    # Enforced: the browser sweep found no violation while it was report-only (issue 15 item 2).
    assert out.split() == ["enforce", "True"]


def test_report_endpoint_logs_a_violation_and_refuses_junk(caplog):
    client = Client(enforce_csrf_checks=True)
    report = {"csp-report": {"document-uri": "https://x/registry/", "violated-directive": "script-src-elem",
                             "blocked-uri": "inline"}}
    response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "script-src-elem" in caplog.text
    assert client.post("/csp-report/", "not json", content_type="application/csp-report").status_code == 400
    assert client.post("/csp-report/", "x" * 20000, content_type="application/csp-report").status_code == 413
    assert client.get("/csp-report/").status_code == 405
