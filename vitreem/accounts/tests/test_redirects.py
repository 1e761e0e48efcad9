"""Issue 20 item 11: `next` after login (and logout, and the second factor) never leaves the site.

`/%2F%2Fevil.example` passed Django's check as a path; decoded, it is `//evil.example`. The other
eight forms already held: they are kept here so that they keep holding."""

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

DECODED_ESCAPES = [
    "/%2F%2Fevil.example",  # the one the attack found
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",  # encoded twice
]
HELD_BEFORE = [
    "//evil.example",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "https:evil.example",
    "///evil.example",
    "/\t/evil.example",
]


@pytest.mark.parametrize("target", DECODED_ESCAPES + HELD_BEFORE)
@pytest.mark.parametrize("where", ["form", "query"])
def test_login_does_not_follow_next_off_the_site(worker_a, target, where):
    """`target` is the value the view receives: in the login form's hidden field, or in the address."""
    data = {"username": "worker_a", "password": PASSWORD}
    url = reverse("accounts:login")
    if where == "form":
        data["next"] = target
    else:
        url += "?" + urlencode({"next": target})
    response = Client().post(url, data)
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", DECODED_ESCAPES + HELD_BEFORE)
def test_logout_and_the_second_factor_do_not_follow_next_off_the_site(officer, target):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD})
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    response = client.post(reverse("accounts:otp"), {"token": f"{totp(device.bin_key):06d}", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post(reverse("accounts:logout"), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")


def test_a_next_inside_the_site_is_followed_with_its_query(worker_a):
    target = "/registry/children/?q=Nguy%E1%BB%85n&page=2"
    response = Client().post(reverse("accounts:login") + "?" + urlencode({"next": target}),
                             {"username": "worker_a", "password": PASSWORD})
    assert response["Location"] == target


def test_the_second_factor_page_keeps_the_whole_address_asked_for(officer):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD})
    response = client.get("/registry/children/?q=an&page=2")
    assert response["Location"] == reverse("accounts:otp") + "?next=%2Fregistry%2Fchildren%2F%3Fq%3Dan%26page%3D2"
