"""Issue 20 item 1: the second factor cannot be bypassed with an API token.

Each test is one step of the attack as it was found: with only an officer's password, open the
profile, make a token, read the register and a case document, write a household; then the token
survived a password change, and tokens had no limit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, login
from vitreem.accounts.models import ApiToken
from vitreem.accounts.services import token_create, tokens_active_for
from vitreem.core.models import AuditEntry
from vitreem.registry.models import Household

pytestmark = pytest.mark.django_db


def password_only(user) -> Client:
    """What the attacker has: the login form passed with the password, no second factor."""
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def legacy_token(user) -> str:
    """A token as the profile made it before the fix: no second factor recorded."""
    raw = ApiToken.generate()
    ApiToken.objects.create(user=user, name="old", key_hash=ApiToken.hash(raw), hint=raw[:10],
                            expires_at=timezone.now() + dt.timedelta(days=30),
                            password_stamp=user.get_session_auth_hash())
    return raw


def verified_token(user) -> tuple[ApiToken, str]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return token_create(user=user, name="bảng tính", otp_device=device)


@pytest.fixture
def case_a(worker_a, units):
    from vitreem.cases.services import case_intake
    from vitreem.registry.services import child_register

    child = child_register(actor=worker_a, data={"full_name": "Nguyễn Thị Hoa", "birth_date": dt.date(2014, 3, 2),
                                                 "sex": "F"},
                           unit=units.commune_a_2025, confirm_not_duplicate=True, on=dt.date(2025, 8, 1))
    return case_intake(actor=worker_a, child=child, received_at=timezone.now() - dt.timedelta(hours=1),
                       channel="hotline_111", place="Thôn 3", concern="physical_violence", summary="Trẻ bị đánh",
                       reporter_name="Bà Lan", reporter_phone="0900000000", perpetrator="step_parent",
                       in_danger=False)


# ------------------------------------------------------------- step 1: the profile

@pytest.mark.parametrize("enrolled", [False, True])
def test_step1_the_profile_asks_for_the_second_factor_first(officer, admin_user, enrolled):
    for user in (officer, admin_user):
        if enrolled:
            TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        response = password_only(user).get(reverse("accounts:profile"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp"))


def test_only_login_logout_and_the_otp_page_are_open_before_the_second_factor(officer):
    client = password_only(officer)
    assert client.get(reverse("accounts:otp")).status_code == 200
    assert client.get(reverse("accounts:login")).status_code == 302  # an authenticated user is sent on
    for name in ("accounts:profile", "accounts:password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp")), name
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile"))["Location"].startswith(reverse("accounts:login"))


# ------------------------------------------------------------- step 2: making a token

def test_step2_a_token_cannot_be_made_with_the_password_alone(officer):
    response = password_only(officer).post(reverse("accounts:token_create"), {"name": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:otp"))
    assert not ApiToken.objects.exists()


def test_step2_the_service_refuses_a_token_without_a_verified_device(officer):
    from vitreem.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        token_create(user=officer, name="x")
    unconfirmed = TOTPDevice.objects.create(user=officer, name="phone", confirmed=False)
    with pytest.raises(PermissionDenied):
        token_create(user=officer, name="x", otp_device=unconfirmed)
    assert not ApiToken.objects.exists()


def test_step2_after_the_second_factor_the_token_is_made_and_carries_it(officer):
    client = password_only(officer)
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    good = client.post(reverse("accounts:otp"), {"token": f"{totp(device.bin_key):06d}", "next": "/"})
    assert good.status_code == 302
    client.post(reverse("accounts:token_create"), {"name": "bảng tính"})
    token = ApiToken.objects.get(user=officer)
    assert token.otp_device == device and token.password_stamp == officer.get_session_auth_hash()
    assert token.expires_at > timezone.now() + dt.timedelta(days=89)


# ------------------------------------------------------------- step 3: reading with a token

def test_step3_a_token_without_the_second_factor_reads_nothing(officer, case_a):
    raw = legacy_token(officer)
    api = Client()
    children = api.get("/api/registry/children?limit=500", **bearer(raw))
    assert children.status_code == 401 and children.json()["code"] == "two_factor_required"
    document = api.get(f"/api/cases/{case_a.pk}/documents/01", **bearer(raw))
    assert document.status_code == 401 and document.json()["code"] == "two_factor_required"


def test_step3_the_same_reads_work_with_a_token_made_after_the_second_factor(officer, case_a):
    _token, raw = verified_token(officer)
    api = Client()
    children = api.get("/api/registry/children?limit=500", **bearer(raw))
    assert children.status_code == 200 and children.json()["total"] == 1
    assert api.get(f"/api/cases/{case_a.pk}/documents/01", **bearer(raw)).status_code == 200


def test_step3_a_commune_worker_needs_no_second_factor_for_a_token(worker_a):
    _token, raw = token_create(user=worker_a, name="bảng tính")
    assert Client().get("/api/registry/children", **bearer(raw)).status_code == 200


def test_a_worker_promoted_to_officer_loses_her_tokens_made_without_the_second_factor(worker_a):
    _token, raw = token_create(user=worker_a, name="bảng tính")
    worker_a.role = "province_officer"
    worker_a.save(update_fields=["role"])
    response = Client().get("/api/registry/children", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "two_factor_required"


# ------------------------------------------------------------- step 4: writing with a token

def test_step4_a_token_without_the_second_factor_writes_nothing(officer):
    raw = legacy_token(officer)
    response = Client().post("/api/registry/households", {"unit": "2025:23500", "head_name": "A Ring"},
                             content_type="application/json", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "two_factor_required"
    assert not Household.objects.exists()


# ------------------------------------------------------------- step 5: the password changes

def test_step5_changing_the_password_revokes_the_tokens(officer):
    token, raw = verified_token(officer)
    api = Client()
    assert api.get("/api/places/units", **bearer(raw)).status_code == 200
    client = login(officer)
    new = "another-long-password-42"
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    refused = api.get("/api/places/units", **bearer(raw))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_reason == "password_change"
    assert AuditEntry.objects.filter(action="api_token.revoke_all", actor=officer).exists()


def test_step5_a_password_set_elsewhere_also_stops_the_token(worker_a):
    """The admin or `vitreem changepassword` set the password without the profile: still refused."""
    _token, raw = token_create(user=worker_a, name="x")
    worker_a.set_password("reset-by-the-admin-2026")
    worker_a.save()
    response = Client().get("/api/places/units", **bearer(raw))
    assert response.status_code == 401 and "mật khẩu" in response.json()["message"]


def test_step5_resetting_the_second_factor_stops_the_token(officer):
    token, raw = verified_token(officer)
    token.otp_device.delete()
    response = Client().get("/api/places/units", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "two_factor_required"


# ------------------------------------------------------------- step 6: tokens are limited and dated

def test_step6_tokens_are_limited_in_number(worker_a, settings):
    settings.VITREEM_API_TOKENS_PER_USER = 3
    client = login(worker_a)
    for i in range(5):
        client.post(reverse("accounts:token_create"), {"name": f"t{i}"})
    assert ApiToken.objects.filter(user=worker_a).count() == 3
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "tối đa 3" in page
    response = client.post(reverse("accounts:token_create"), {"name": "again"}, follow=True)
    assert "thu hồi một mã" in response.content.decode()
    # Revoking one makes room for one.
    client.post(reverse("accounts:token_revoke", args=[ApiToken.objects.filter(user=worker_a).first().pk]))
    client.post(reverse("accounts:token_create"), {"name": "new"})
    assert ApiToken.objects.filter(user=worker_a, revoked_at__isnull=True).count() == 3


def test_step6_tokens_expire_after_the_configured_days(worker_a):
    with override_settings(VITREEM_API_TOKEN_DAYS=7):
        token, raw = token_create(user=worker_a, name="x")
    assert dt.timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= dt.timedelta(days=7)
    api = Client()
    assert api.get("/api/places/units", **bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api.get("/api/places/units", **bearer(raw))
    assert response.status_code == 401 and response.json()["code"] == "token_expired"
    # An expired token no longer counts against the limit, and the profile no longer lists it.
    assert tokens_active_for(user=worker_a) == []
