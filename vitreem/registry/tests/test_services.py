"""The registry's write services and child_clean: the bad input of issue 3, each refused with the
field named and nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest

from vitreem.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.registry import services
from vitreem.registry.models import Child, Guardian, Residence, SpecialEpisode
from vitreem.registry.tests.screens_fixtures import register, today, world_fixture, years_ago  # noqa: F401
from vitreem.registry.validation import child_clean

pytestmark = pytest.mark.django_db


def state():
    return (Child.objects.count(), Residence.objects.count(), Guardian.objects.count(),
            SpecialEpisode.objects.count(), AuditEntry.objects.filter(kind="change").count())


def girl_id(birth: dt.date) -> str:
    # Digit 4: century and sex (2 = boy born 2000–2099, 3 = girl); digits 5–6: year of birth.
    return f"0623{birth.year % 100:02d}004567"


@pytest.mark.parametrize("over,field,code", [
    ({"birth_date": today() + dt.timedelta(days=1)}, "birth_date", "birth_in_future"),
    ({"birth_date": dt.date(2008, 1, 1)}, "birth_date", "too_old"),  # 16 on the day
    ({"birth_date": None}, "birth_date", "required"),
    ({"personal_id": "06231500456"}, "personal_id", "id_format"),
    ({"personal_id": "0623150045678"}, "personal_id", "id_format"),
    ({"personal_id": "06231500456O"}, "personal_id", "id_format"),
    ({"personal_id": "062215004567"}, "personal_id", "id_sex_mismatch"),
    ({"personal_id": "062399004567"}, "personal_id", "id_year_mismatch"),
    ({"full_name": "  "}, "full_name", "required"),
    ({"sex": "N"}, "sex", "required"),
])
def test_child_clean_refuses(over, field, code):
    birth = dt.date(2015, 4, 30)
    raw = {"full_name": "Y Nhi", "birth_date": birth, "sex": "F", "personal_id": girl_id(birth), **over}
    cleaned = child_clean(raw, on=dt.date(2024, 1, 1))
    assert field in cleaned.errors and cleaned.codes[field] == code, cleaned.errors
    assert cleaned.errors[field]


def test_child_clean_accepts_and_folds():
    birth = dt.date(2015, 4, 30)
    cleaned = child_clean({"full_name": "  Hồ  Thị Ngọc Ánh ", "birth_date": birth, "sex": "F",
                           "personal_id": girl_id(birth)}, on=dt.date(2024, 1, 1))
    assert not cleaned.errors
    d = cleaned.data
    assert (d["family_name"], d["middle_name"], d["given_name"]) == ("Hồ", "Thị Ngọc", "Ánh")
    assert d["name_key"] == "ho thi ngoc anh" and d["given_key"] == "anh" and not d["personal_id_mismatch"]
    loose = child_clean({"full_name": "Y Nhi", "birth_date": birth, "sex": "M", "personal_id": girl_id(birth)},
                        on=dt.date(2024, 1, 1), strict_id=False)
    assert not loose.errors and loose.data["personal_id_mismatch"] and "personal_id" in loose.warnings


@pytest.mark.parametrize("over,unit,field", [
    ({"birth_date": today() + dt.timedelta(days=1)}, "2025:23500", "birth_date"),
    ({"birth_date": years_ago(16, days=-1) - dt.timedelta(days=1)}, "2025:23500", "birth_date"),
    ({"personal_id": "1234"}, "2025:23500", "personal_id"),
    ({"personal_id": "06231x004567"}, "2025:23500", "personal_id"),
    ({"personal_id": "062200004567"}, "2025:23500", "personal_id"),
    ({}, "legacy:23500", "unit"),  # a legacy unit after the 2025 reform: wrong version
    ({}, "2025:51", "unit"),  # a province, not a commune
    ({}, "2025:23512", "unit"),  # commune B: outside the worker's scope
])
def test_register_refuses(units, worker_a, over, unit, field):
    before = state()
    data = {"full_name": "Y Nhi", "birth_date": years_ago(3), "sex": "F", **over}
    with pytest.raises(DomainError) as info:
        services.child_register(actor=worker_a, data=data, unit=unit,
                                guardians=[{"full_name": "Y Blô", "relationship": "mother"}])
    err = info.value
    assert (err.errors if isinstance(err, ValidationFailed) else {err.field: err.message}).get(field), err.as_dict()
    assert state() == before


def test_register_out_of_scope_is_permission_denied(units, worker_b, leader):
    before = state()
    for user in (worker_b, leader):
        with pytest.raises(PermissionDenied):
            register(user, "Y Nhi", years_ago(3), "F", units.commune_a_2025)
    assert state() == before


def test_register_in_the_past_with_the_legacy_unit(units, worker_a):
    child = register(worker_a, "Y Nhi", dt.date(2019, 5, 1), "F", units.commune_a, on=dt.date(2023, 3, 1))
    assert child.residences.get().unit == units.commune_a
    with pytest.raises(DomainError) as info:
        register(worker_a, "Y Nhà", dt.date(2019, 5, 1), "F", units.commune_a_2025, on=dt.date(2023, 3, 1))
    assert info.value.field == "unit" and info.value.code == "unit_wrong_version"


def test_register_bad_guardian_rolls_back(units, worker_a):
    before = state()
    with pytest.raises(ValidationFailed) as info:
        register(worker_a, "Y Nhi", years_ago(3), "F", units.commune_a_2025,
                 guardians=[{"full_name": "Y Blô", "relationship": "neighbour"}])
    assert info.value.field == "relationship"
    assert state() == before


def test_register_warns_of_duplicates(world, worker_a, units):
    before = state()
    with pytest.raises(services.PossibleDuplicate) as info:
        services.child_register(actor=worker_a, data={"full_name": "nguyễn văn an", "birth_date": world.an.birth_date,
                                                      "sex": "M"}, unit=units.commune_a_2025)
    assert world.an.pk in [c["id"] for c in info.value.candidates]
    assert info.value.as_dict()["code"] == "possible_duplicate"
    assert state() == before


def test_update_optimistic_lock(world, worker_a):
    services.child_update(actor=worker_a, child=world.hoa, data={"note": "một"}, expected_version=1)
    with pytest.raises(Conflict):
        services.child_update(actor=worker_a, child=world.hoa, data={"note": "hai"}, expected_version=1)
    world.hoa.refresh_from_db()
    assert world.hoa.note == "một" and world.hoa.version == 2


def test_update_refuses_bad_input(world, worker_a, worker_b):
    before = state()
    with pytest.raises(ValidationFailed) as info:
        services.child_update(actor=worker_a, child=world.hoa, data={"personal_id": "99"}, expected_version=1)
    assert info.value.field == "personal_id"
    with pytest.raises(PermissionDenied):
        services.child_update(actor=worker_b, child=world.hoa, data={"note": "x"})
    assert state() == before


def test_episode_refuses(world, worker_a, worker_b):
    before = state()
    for kwargs, field in (
        ({"group": "2", "start": today(), "end": today() - dt.timedelta(days=1)}, "end"),
        ({"group": "2", "start": today() + dt.timedelta(days=1)}, "start"),
        ({"group": "2", "start": world.binh.birth_date - dt.timedelta(days=1)}, "start"),
        ({"group": "0", "start": today()}, "group"),
    ):
        with pytest.raises(ValidationFailed) as info:
            services.special_episode_open(actor=worker_a, child=world.binh, **kwargs)
        assert info.value.field == field
    with pytest.raises(ValidationFailed):  # already open in group 1
        services.special_episode_open(actor=worker_a, child=world.an, group="1", start=today())
    with pytest.raises(PermissionDenied):
        services.special_episode_open(actor=worker_b, child=world.binh, group="2", start=today())
    episode = world.an.special_episodes.get()
    with pytest.raises(ValidationFailed) as info:
        services.special_episode_close(actor=worker_a, episode=episode, end=episode.start - dt.timedelta(days=1))
    assert info.value.field == "end"
    assert state() == before


def test_poverty_and_household_refuse(world, worker_a, worker_b, units):
    for kwargs, field in (({"year": 2024, "status": "rich"}, "status"), ({"year": 1980, "status": "poor"}, "year"),
                          ({"year": 2024, "status": "poor", "decision_date": dt.date(2021, 1, 1)}, "decision_date")):
        with pytest.raises(ValidationFailed) as info:
            services.household_poverty_set(actor=worker_a, household=world.household_a, **kwargs)
        assert info.value.field == field
    with pytest.raises(PermissionDenied):
        services.household_poverty_set(actor=worker_b, household=world.household_a, year=2024, status="poor")
    with pytest.raises(ValidationFailed):
        services.household_create(actor=worker_a, unit=units.commune_a_2025, head_name="")
    with pytest.raises(PermissionDenied):
        services.household_create(actor=worker_a, unit=units.commune_b_2025, head_name="X")
    assert world.household_a.poverty.count() == 1


def test_the_database_refuses_two_residences_of_a_child_that_overlap(units, worker_a):
    """A child lives in one place at a time (migration registry/0010): the grouped counts count a
    child's residence row once per day without de-duplicating it. A move's residences touch, they do
    not overlap; a row written around the services that overlaps is refused by the database itself,
    on insert and on update, and nothing is written."""
    from django.db import IntegrityError, transaction

    child = register(worker_a, "Y Nhi", dt.date(2019, 5, 1), "F", units.commune_a, on=dt.date(2023, 3, 1),
                     resident_since=dt.date(2021, 1, 1))
    services.child_move(actor=worker_a, child=child, unit=units.commune_a_2025, on=dt.date(2025, 9, 1))
    old, new = child.residences.order_by("start")
    assert (old.end, new.start, new.end) == (dt.date(2025, 8, 31), dt.date(2025, 9, 1), None)
    rows = Residence.objects.count()
    for start, end in [(dt.date(2025, 8, 31), dt.date(2025, 8, 31)),  # the last day of the old one
                       (dt.date(2024, 1, 1), None),  # open, across both
                       (dt.date(2026, 1, 1), dt.date(2026, 2, 1))]:  # inside the open one
        with pytest.raises(IntegrityError), transaction.atomic():
            Residence.objects.create(child=child, unit=units.commune_b_2025, start=start, end=end)
    with pytest.raises(IntegrityError), transaction.atomic():
        Residence.objects.filter(pk=old.pk).update(end=dt.date(2025, 9, 1))  # one day into the new one
    assert Residence.objects.count() == rows and Residence.objects.get(pk=old.pk).end == dt.date(2025, 8, 31)
    # before the first one: no overlap, accepted
    Residence.objects.create(child=child, unit=units.commune_a, start=dt.date(2019, 5, 1), end=dt.date(2020, 12, 31))


def test_a_mass_insert_sets_the_overlap_check_aside_and_the_demo_checks_after(units, worker_a):
    """On SQLite a mass insert drops the tables' indexes and triggers and builds them once after
    (core.bulk.indexes_deferred): the no-overlap trigger would scan the table for every row without its
    index (the demo's registry grew with the square: 356 s for 50,000 children, 3.8 s after). What such
    a load writes is checked once, after (`residences_overlapping`); the triggers are back at the end.
    PostgreSQL's COPY keeps its exclusion constraint (nothing is set aside there)."""
    from django.db import IntegrityError, connection, transaction

    from vitreem.core.bulk import indexes_deferred
    from vitreem.registry.selectors import residences_overlapping

    child = register(worker_a, "Y Nhi", dt.date(2019, 5, 1), "F", units.commune_a_2025)
    assert residences_overlapping() == []
    if connection.vendor == "sqlite":
        with indexes_deferred(Residence):
            Residence.objects.create(child=child, unit=units.commune_a_2025, start=dt.date(2020, 1, 1))
        assert residences_overlapping() == [child.pk]
        Residence.objects.filter(child=child, start=dt.date(2020, 1, 1)).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Residence.objects.create(child=child, unit=units.commune_a_2025, start=dt.date(2020, 1, 1))
    assert residences_overlapping() == []
