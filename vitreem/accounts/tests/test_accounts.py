import json

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, login
from vitreem.accounts.models import ApiToken
from vitreem.accounts.services import demo_accounts_ensure
from vitreem.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_login_page_lists_demo_accounts_only_in_demo_mode():
    with override_settings(DEMO_MODE=True):
        body = Client().get(reverse("accounts:login")).content.decode()
    assert "vitreem-demo" in body and "commune2" in body
    body = Client().get(reverse("accounts:login")).content.decode()
    assert "vitreem-demo" not in body and "Đăng nhập" in body


def test_demo_accounts_are_created_once_with_their_units():
    users = {u.username: u for u in demo_accounts_ensure()}
    assert set(users) == {"admin", "province", "leader", "commune", "commune2", "reporter", "chairman", "supervisor"}
    assert {u.ref for u in users["commune"].units.all()} == {"legacy:23500", "2025:23500"}
    assert users["reporter"].member_unit.code == "so-gddt"
    assert users["commune"].check_password("vitreem-demo")
    assert len(demo_accounts_ensure()) == 8  # idempotent


def test_login_logout_and_home_shows_the_commune(worker_a):
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "worker_a", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert "Thị trấn Đăk Hà" in response.content.decode()
    assert client.get(reverse("accounts:logout")).status_code == 405  # logout is POST only
    client.post(reverse("accounts:logout"))
    assert client.get("/").status_code == 302


def test_wrong_password_gets_a_clear_message_and_repeated_failures_lock_out(worker_a):
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "worker_a", "password": "wrong"})
    assert "không đúng" in response.content.decode()
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": "worker_a", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "worker_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "tạm thời bị khoá" in response.content.decode()


def test_pages_require_login_and_redirect_to_it():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_password_change_is_audited(worker_a):
    client = login(worker_a)
    new = "another-long-password-42"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    worker_a.refresh_from_db()
    assert worker_a.check_password(new)
    assert AuditEntry.objects.filter(action="user.password_change", actor=worker_a).exists()


def test_officer_must_pass_a_second_factor(officer):
    client = Client()
    client.force_login(officer)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/")
    assert client.get("/api/places/units").status_code == 401
    page = client.get(reverse("accounts:otp"))
    assert b"<svg" in page.content  # enrolment shows the QR code
    device = TOTPDevice.objects.get(user=officer)
    bad = client.post(reverse("accounts:otp"), {"token": "000000", "next": "/"})
    assert bad.status_code == 400 and "không đúng" in bad.content.decode()
    assert client.get("/").status_code == 302  # still not through
    device.refresh_from_db()
    device.throttle_reset()  # django-otp throttles after a failure; a user would wait a few seconds
    good = client.post(reverse("accounts:otp"), {"token": f"{totp(device.bin_key):06d}", "next": "/"})
    assert good.status_code == 302
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_commune_worker_needs_no_second_factor(worker_a):
    client = Client()
    client.force_login(worker_a)
    assert client.get("/").status_code == 200


def test_api_token_create_use_revoke(worker_a):
    client = login(worker_a)
    client.post(reverse("accounts:token_create"), {"name": "Bảng tính"})
    page = client.get(reverse("accounts:profile")).content.decode()
    raw = page.split('id="new-token">')[1].split("<")[0]
    token = ApiToken.objects.get(user=worker_a)
    assert token.key_hash == ApiToken.hash(raw) and raw not in token.key_hash  # only the hash is stored
    api = Client()
    ok = api.get("/api/places/units?version=2025&parent=51&q=dak ha", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200 and any(u["name"] == "Xã Đăk Hà" for u in ok.json())
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    revoked = api.get("/api/places/units", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_token"
    assert AuditEntry.objects.filter(action__in=["api_token.create", "api_token.revoke"]).count() == 2


def test_token_without_a_name_is_refused_and_nothing_is_created(worker_a):
    client = login(worker_a)
    response = client.post(reverse("accounts:token_create"), {"name": "  "}, follow=True)
    assert "Hãy đặt tên" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_another_users_token_cannot_be_revoked(worker_a, worker_b):
    from vitreem.accounts.services import token_create

    token, _raw = token_create(user=worker_b, name="b")
    client = login(worker_a)
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer vtr_" + "x" * 40, "Token abc"])
def test_malformed_or_unknown_token_is_401_json(header):
    response = Client().get("/api/places/units", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = json.loads(response.content)
    assert body["code"] in {"invalid_token", "unauthorized"} and body["message"]


def test_an_expired_session_says_so_on_the_login_page(worker_a):
    client = login(worker_a)
    assert client.get("/").status_code == 200
    client.session.flush()  # what the idle timeout does on the server side
    client.cookies[settings.SESSION_COOKIE_NAME] = "expired-session-key"
    response = client.get("/", follow=True)
    assert "hết hạn" in response.content.decode()
    api = client.get("/api/places/units")
    assert api.status_code == 401 and "hết hạn" in api.json()["message"]


def test_activity_renews_the_session_at_most_every_five_minutes(worker_a, monkeypatch):
    """The idle timeout: a request renews the session's expiry, but saves it only when the last renewal
    is five minutes old, not on every page."""
    import time as time_module

    from django.contrib.sessions.models import Session

    from vitreem.accounts import middleware

    client = login(worker_a)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    now = [1_800_000_000.0]
    monkeypatch.setattr(time_module, "time", lambda: now[0])
    client.get("/")
    first = Session.objects.get(session_key=key).expire_date
    now[0] += 60
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date == first  # a minute later: not written again
    now[0] += middleware.SESSION_TOUCH_SECONDS
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date > first  # renewed: 8 hours from this request
