"""Shared test fixtures: the administrative units (loaded once per test database) and the personas.

Personas (healthchecks style): a provincial officer, a leader, a worker of commune A, a worker of
commune B (same district), a member-unit reporter, and an outsider from another province.
"""

from __future__ import annotations

import pytest
from django.test import Client

from vitreem.accounts.models import MemberUnit, Role
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import unit_resolve
from vitreem.places.services import places_load
from vitreem.testing.factories import PASSWORD, UserFactory

COMMUNE_A = ("legacy:23500", "2025:23500")  # Thị trấn Đăk Hà → Xã Đăk Hà
COMMUNE_B = ("legacy:23512", "2025:23512")  # Xã Đăk Mar → Xã Đăk Mar
PROVINCE = ("legacy:62", "2025:51")  # Kon Tum → Quảng Ngãi
OTHER_PROVINCE = ("legacy:01", "2025:01")  # Hà Nội


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real administrative units (both versions) once for the whole test run."""
    with django_db_blocker.unblock():
        if not AdminUnit.objects.exists():
            places_load()
    yield
    # A connection some thread of a test left open (the live server's, a progress reporter's) would
    # stop PostgreSQL from dropping the test database at the end ("being accessed by other users").
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def ensure_places() -> None:
    """Transactional tests (the browser tests) flush the tables: reload the units and the code tables
    that data migrations load (registry codes, benefit rules) when they are gone."""
    from vitreem.benefits.defaults import rules_load
    from vitreem.privacy.catalogue import catalogue_load
    from vitreem.registry.codes import codes_load
    from vitreem.registry.models import Ethnicity

    if not AdminUnit.objects.exists():
        places_load()
    if not Ethnicity.objects.exists():
        codes_load()
        rules_load()
        catalogue_load()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (Vietnamese). A request by a user who reads English
    leaves English active in the thread (the locale middleware activates it; nothing deactivates it),
    and a test that ran after it read English texts: the duplicate-reason tests failed or passed with
    the order the apps' tests ran in."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _code_tables_after_a_flush(request):
    """A transactional test flushes every table when it ends, so the next one would find no units for
    its personas: reload them before any other fixture of a transactional test runs."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (marker is not None and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
        ensure_places()


@pytest.fixture
def units(db):
    class Units:
        province_legacy = unit_resolve("legacy:62")
        province_2025 = unit_resolve("2025:51")
        district = unit_resolve("legacy:615")
        commune_a = unit_resolve("legacy:23500")
        commune_a_2025 = unit_resolve("2025:23500")
        commune_b = unit_resolve("legacy:23512")
        commune_b_2025 = unit_resolve("2025:23512")
        other_commune = unit_resolve("legacy:00001")

    return Units


@pytest.fixture
def officer(db):
    return UserFactory(username="officer", role=Role.PROVINCE_OFFICER, units=PROVINCE)


@pytest.fixture
def leader(db):
    return UserFactory(username="leader", role=Role.LEADER, units=PROVINCE)


@pytest.fixture
def worker_a(db):
    return UserFactory(username="worker_a", role=Role.COMMUNE_WORKER, units=COMMUNE_A)


@pytest.fixture
def worker_b(db):
    return UserFactory(username="worker_b", role=Role.COMMUNE_WORKER, units=COMMUNE_B)


@pytest.fixture
def reporter(db):
    unit, _ = MemberUnit.objects.get_or_create(code="so-gddt", defaults={"name": "Sở Giáo dục và Đào tạo"})
    return UserFactory(username="reporter", role=Role.REPORTER, units=PROVINCE, member_unit=unit)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", role=Role.COMMUNE_WORKER, units=OTHER_PROVINCE)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role=Role.ADMIN, units=PROVINCE)


def login(user, *, verified: bool = True) -> Client:
    """A test client logged in as `user`; officers are marked as having passed the second factor."""
    client = Client()
    client.force_login(user)
    if verified and user.role in {Role.ADMIN, Role.PROVINCE_OFFICER}:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for():
    return login


@pytest.fixture
def demo_world(db):
    """A small demo province (every app's part, seed 5): the privacy sweep and the API fuzzing run on it."""
    from vitreem.demo.services import demo_seed

    demo_seed(children=3000, seed=5, log=lambda *_: None)


# ---------------------------------------------------------------- end-to-end tests in a real browser

@pytest.fixture
def browser_page(live_server, transactional_db):
    """A Playwright page in the Chromium `vitreem.testing.browser` names (VITREEM_CHROMIUM, default Debian's;
    Playwright's own browser download is unreachable here).

    Marked tests run in their own pytest pass (see Makefile) because a transactional test flushes
    the database afterwards. The units are reloaded when a previous browser test flushed them."""
    import os

    from playwright.sync_api import sync_playwright

    from vitreem.testing.browser import chromium_path, launch_args

    # Playwright's sync API runs an event loop in this thread; Django's ORM guard would refuse
    # the fixtures' queries without this (the live server itself runs in another thread).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ensure_places()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=launch_args())
        context = browser.new_context(base_url=live_server.url, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def browser_login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
