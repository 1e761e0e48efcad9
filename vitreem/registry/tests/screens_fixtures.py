"""Small registry data for the screen, API, selector and service tests (not a test module itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from vitreem.registry import services
from vitreem.registry.models import Child, Household


def today() -> dt.date:
    return timezone.localdate()


def years_ago(n: int, *, days: int = 0) -> dt.date:
    t = today()
    try:
        return t.replace(year=t.year - n) - dt.timedelta(days=days)
    except ValueError:
        return t.replace(year=t.year - n, day=28) - dt.timedelta(days=days)


def register(actor, name: str, birth: dt.date, sex: str, unit, **kwargs: Any) -> Child:
    data = {"full_name": name, "birth_date": birth, "sex": sex, **kwargs.pop("data", {})}
    kwargs.setdefault("confirm_not_duplicate", True)
    return services.child_register(actor=actor, data=data, unit=unit, **kwargs)


@dataclass
class World:
    household_a: Household
    an: Child  # Nguyễn Văn An, commune A, poor household, in special circumstances
    hoa: Child  # Trần Thị Hoa, commune A, at risk
    binh: Child  # Lê Văn Bình, commune A, nothing special
    b_child: Child  # Phạm Thị Mai, commune B


@pytest.fixture(name="world")
def world_fixture(units, worker_a, worker_b) -> World:
    """Three children in commune A (2025 unit, today's version) and one in commune B."""
    household = services.household_create(actor=worker_a, unit=units.commune_a_2025, head_name="Nguyễn Văn Cường",
                                           village="Thôn 1")
    services.household_poverty_set(actor=worker_a, household=household, year=today().year, status="poor")
    # The commune's list of this year is decided (its first day): the classification is in force.
    services.poverty_review_record(actor=worker_a, unit=units.commune_a_2025, year=today().year,
                                   decided_on=today().replace(month=1, day=1))
    an = register(worker_a, "Nguyễn Văn An", years_ago(8, days=10), "M", units.commune_a_2025, household=household,
                  ethnicity="14", guardians=[{"full_name": "Nguyễn Văn Cường", "relationship": "father"}])
    services.special_episode_open(actor=worker_a, child=an, group="1", start=years_ago(1))
    hoa = register(worker_a, "Trần Thị Hoa", years_ago(4, days=3), "F", units.commune_a_2025,
                   guardians=[{"full_name": "Trần Thị Lan", "relationship": "mother"}])
    services.risk_assess(actor=worker_a, child=hoa, assessed_on=today() - dt.timedelta(days=30),
                         factors=["parents_away"])
    binh = register(worker_a, "Lê Văn Bình", years_ago(13, days=40), "M", units.commune_a_2025,
                    data={"personal_id": f"062{2 if years_ago(13, days=40).year >= 2000 else 0}"
                          f"{years_ago(13, days=40).year % 100:02d}000123"})
    b_child = register(worker_b, "Phạm Thị Mai", years_ago(6), "F", units.commune_b_2025)
    return World(household, an, hoa, binh, b_child)
