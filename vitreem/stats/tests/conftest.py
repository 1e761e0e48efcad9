"""A small demo province, seeded once per test module inside a transaction rolled back at the end.

Each test still runs in its own savepoint (pytest-django's `db`), so tests cannot disturb each other,
and nothing is left behind for other apps' tests."""

from __future__ import annotations

import pytest
from django.db import transaction

DEMO_CHILDREN = 4000
DEMO_PARTS = ["registry", "cases", "benefits", "programme", "activities"]


@pytest.fixture(scope="module")
def demo_province(django_db_setup, django_db_blocker):
    from vitreem.demo.services import demo_seed

    with django_db_blocker.unblock(), transaction.atomic():
        demo_seed(children=DEMO_CHILDREN, seed=7, parts=DEMO_PARTS, log=lambda line: None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_province, db):
    from vitreem.accounts.models import User
    from vitreem.places.selectors import unit_resolve

    class Demo:
        province = unit_resolve("legacy:62")
        province_2025 = unit_resolve("2025:51")
        district = unit_resolve("legacy:615")
        commune_a = unit_resolve("legacy:23500")
        commune_a_2025 = unit_resolve("2025:23500")
        commune_b = unit_resolve("legacy:23512")
        # the demo accounts (vitreem/accounts/demo.py): province officer, leader, workers of commune A
        # (Thị trấn Đăk Hà) and B (Xã Đăk Mar), a member-unit reporter
        users = {u.username: u for u in User.objects.filter(
            username__in=["province", "leader", "commune", "commune2", "reporter", "admin"])}

    return Demo


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Kept dashboard pages live in the process cache: start each test without them."""
    from django.core.cache import cache

    cache.clear()
