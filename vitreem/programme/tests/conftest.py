"""Fixtures of the programme tests: the committee's member units, the seed catalogue, more reporters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from conftest import PASSWORD, PROVINCE
from vitreem.accounts.models import Role
from vitreem.accounts.services import demo_member_units_ensure, user_create
from vitreem.places.selectors import unit_resolve


@pytest.fixture
def member_units(db):
    return demo_member_units_ensure()


@pytest.fixture
def catalogue(member_units):
    from vitreem.programme.catalogue import catalogue_load

    catalogue_load()
    return member_units


@pytest.fixture
def reporter_health(member_units):
    return user_create(username="reporter-so-yte", password=PASSWORD, role=Role.REPORTER, full_name="Báo cáo viên Y tế",
                       units=[unit_resolve(r) for r in PROVINCE], member_unit=member_units["so-yte"])


@pytest.fixture
def reporter_edu(member_units, reporter):
    """The conftest `reporter` persona: the education department's reporter."""
    return reporter


def at(year, month, day, hour=10):
    from django.utils import timezone

    return timezone.make_aware(dt.datetime(year, month, day, hour))


D = Decimal
