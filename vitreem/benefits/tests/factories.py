"""Test data: children written straight into the register (the registry's own validation refuses
people aged 16+, whom the benefit rules must cover up to 22)."""

from __future__ import annotations

import datetime as dt
import itertools

from vitreem.core.text import fold
from vitreem.registry.codes import nurture_points
from vitreem.registry.models import (
    Child,
    Household,
    HouseholdPoverty,
    PovertyReview,
    Residence,
    SpecialEpisode,
    SpecialGroup,
)

_seq = itertools.count(1)


def make_child(unit, *, birth: dt.date, name: str = "", schooling: str = "unknown", disability: str = "none",
               episodes=(), poverty: dict[int, str] | None = None, ended_on: dt.date | None = None,
               resident_since: dt.date | None = None, village: str = "") -> Child:
    n = next(_seq)
    name = name or f"Nguyễn Văn Bé{n}"
    family, *middle, given = name.split(" ")
    household = None
    if poverty:
        household = Household.objects.create(unit=unit, head_name=f"Chủ hộ {n}", head_key=f"chu ho {n}",
                                             village=village)
        for year, status in poverty.items():
            HouseholdPoverty.objects.create(household=household, year=year, status=status)
            # The commune's list of the year counts once decided (registry.rules.poverty_years_on).
            PovertyReview.objects.get_or_create(unit=unit, year=year,
                                                defaults={"decided_on": dt.date(year - 1, 12, 10)})
    child = Child.objects.create(family_name=family, middle_name=" ".join(middle), given_name=given, full_name=name,
                                 name_key=fold(name), given_key=fold(given), birth_date=birth, sex="M", unit=unit,
                                 household=household, schooling=schooling, disability=disability, ended_on=ended_on,
                                 end_reason="died" if ended_on else "", source="test")
    Residence.objects.create(child=child, unit=unit, start=resident_since or birth)
    for code, start, *rest in episodes:  # (code, start[, end[, Art. 5(1) point]])
        group = SpecialGroup.objects.get(code=code)
        SpecialEpisode.objects.create(child=child, group=group.parent or group,
                                      subgroup=group if group.parent_id else None, start=start,
                                      end=rest[0] if rest else None,
                                      nurture_case=rest[1] if len(rest) > 1 else nurture_points(code)[0])
    return child
