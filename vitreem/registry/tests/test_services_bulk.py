"""The registry's bulk-register service (services_bulk): what child_register writes, for many children
at once, with the household, poverty, episodes and risks each states, and one audit row per record."""

from __future__ import annotations

from typing import Any

import pytest

from vitreem.core.audit import snapshot
from vitreem.core.models import AuditEntry
from vitreem.registry import services
from vitreem.registry.models import (
    Child,
    ChildRisk,
    Ethnicity,
    Guardian,
    Household,
    HouseholdPoverty,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from vitreem.registry.services import CHILD_FIELDS
from vitreem.registry.services_bulk import BulkRegisterSession, NewChild, children_register_bulk
from vitreem.registry.tests.screens_fixtures import today, years_ago
from vitreem.registry.validation import child_clean

pytestmark = pytest.mark.django_db

SOURCE = "bulk-test"


def cleaned(**raw: Any) -> dict[str, Any]:
    result = child_clean(raw, on=today())
    assert not result.errors, result.errors
    return result.data


def children(units) -> list[NewChild]:
    """One child of a poor household, one in special circumstances, one at risk."""
    kinh = Ethnicity.objects.get(code="01")
    return [
        NewChild(data=cleaned(full_name="A Thắng", birth_date=years_ago(9), sex="M", village="Thôn 3"),
                 unit=units.commune_a_2025, ethnicity_id=kinh.pk,
                 guardians=[{"full_name": "A Phơi", "relationship": "father"}], poverty="poor"),
        NewChild(data=cleaned(full_name="Y Duyên", birth_date=years_ago(6, days=20), sex="F", village="Thôn 1"),
                 unit=units.commune_a_2025, guardians=[{"full_name": "Y Hlim", "relationship": "mother"}],
                 groups=[SpecialGroup.objects.get(code="4.2")]),
        NewChild(data=cleaned(full_name="Trần Minh Khang", birth_date=years_ago(12), sex="M"),
                 unit=units.commune_b_2025, risks=list(RiskFactor.objects.filter(code="parents_away"))),
    ]


def test_bulk_register_writes_the_records_and_one_audit_row_each(units, officer):
    rows = children(units)
    session = BulkRegisterSession(actor=officer, source=SOURCE, today=today())
    ids = children_register_bulk(session=session, rows=rows)

    assert len(ids) == 3 and Child.objects.filter(pk__in=ids).count() == 3
    thang, duyen, khang = (Child.objects.get(pk=pk) for pk in ids)
    assert (thang.full_name, duyen.full_name, khang.full_name) == ("A Thắng", "Y Duyên", "Trần Minh Khang")
    assert all(c.source == SOURCE and c.created_by_id == officer.pk and c.ended_on is None for c in (thang, duyen,
                                                                                                     khang))
    # child_register's records: the residence from birth, the guardians (the first primary)
    assert [(r.child_id, r.unit_id, r.start) for r in Residence.objects.filter(child_id__in=ids).order_by("child_id")] \
        == [(c.pk, c.unit_id, c.birth_date) for c in (thang, duyen, khang)]
    assert list(Guardian.objects.filter(child_id__in=ids).order_by("child_id")
                .values_list("child_id", "full_name", "name_key", "is_primary")) \
        == [(thang.pk, "A Phơi", "a phoi", True), (duyen.pk, "Y Hlim", "y hlim", True)]
    # the household of the poor child (its first guardian the head) and this year's classification
    household = Household.objects.get()
    assert (household.head_name, household.village, household.unit_id) == ("A Phơi", "Thôn 3", units.commune_a_2025.pk)
    assert thang.household_id == household.pk and duyen.household_id is None and khang.household_id is None
    assert list(HouseholdPoverty.objects.values_list("household_id", "year", "status")) \
        == [(household.pk, today().year, "poor")]
    # the episode (group 4, sub-group 4.2) and the risk assessment
    episode = SpecialEpisode.objects.get()
    assert (episode.child_id, episode.group.code, episode.subgroup.code, episode.start, episode.end) \
        == (duyen.pk, "4", "4.2", today(), None)
    assessment = RiskAssessment.objects.get()
    assert (assessment.child_id, assessment.assessed_on) == (khang.pk, today())
    assert list(ChildRisk.objects.values_list("child_id", "factor__code", "assessment_id")) \
        == [(khang.pk, "parents_away", assessment.pk)]

    entries = AuditEntry.objects.filter(source=SOURCE)
    registered = list(entries.filter(action="child.register").values_list("object_id", flat=True))
    assert sorted(registered) == sorted(str(pk) for pk in ids)  # exactly one per child
    assert sorted(entries.values_list("action", flat=True)) == sorted(
        ["child.register"] * 3 + ["household.create", "household.poverty_set", "child.special_open",
                                  "child.risk_assess"])
    assert all(e.actor_id == officer.pk and e.kind == AuditEntry.Kind.CHANGE for e in entries)
    assert entries.get(action="household.poverty_set").changes == {"status": [None, "poor"],
                                                                   "year": [None, today().year]}

    # A later call of the same session (an import's next chunk): a sibling shares the household, whose
    # status is already known; nothing is written twice.
    sibling = NewChild(data=cleaned(full_name="Y Hoa", birth_date=years_ago(4), sex="F", village="Thôn 3"),
                       unit=units.commune_a_2025, guardians=[{"full_name": "A Phơi", "relationship": "father"}],
                       poverty="poor")
    [hoa] = children_register_bulk(session=session, rows=[sibling])
    assert Child.objects.get(pk=hoa).household_id == household.pk
    assert Household.objects.count() == 1 and HouseholdPoverty.objects.count() == 1
    assert entries.filter(action__startswith="household.").count() == 2
    assert entries.filter(action="child.register", object_id=str(hoa)).count() == 1


def test_bulk_register_gives_the_fields_child_register_gives(units, officer):
    """The same data through child_register and through the bulk service: the same CHILD_FIELDS, the
    same residence and guardians, the same `child.register` snapshot."""
    rows = children(units)
    session = BulkRegisterSession(actor=officer, source=SOURCE, today=today())
    ids = children_register_bulk(session=session, rows=rows)
    household = Household.objects.get()
    for pk, row in zip(ids, rows, strict=True):
        bulk = Child.objects.get(pk=pk)
        ethnicity = Ethnicity.objects.get(pk=row.ethnicity_id).code if row.ethnicity_id else None
        raw = {k: row.data[k] for k in ("full_name", "birth_date", "sex", "village")}
        form = services.child_register(actor=officer, data=raw, unit=row.unit, ethnicity=ethnicity,
                                       household=household if row.poverty else None, guardians=list(row.guardians),
                                       confirm_not_duplicate=True, source=SOURCE)
        assert snapshot(bulk, CHILD_FIELDS) == snapshot(form, CHILD_FIELDS)
        assert list(bulk.residences.values_list("unit_id", "start", "end")) \
            == list(form.residences.values_list("unit_id", "start", "end"))
        assert list(bulk.guardians.values_list("full_name", "name_key", "relationship", "is_primary")) \
            == list(form.guardians.values_list("full_name", "name_key", "relationship", "is_primary"))
        audit = AuditEntry.objects.filter(action="child.register")
        bulk_changes = audit.get(object_id=str(bulk.pk)).changes
        form_changes = audit.get(object_id=str(form.pk)).changes
        assert bulk_changes == form_changes


def test_households_register_bulk_finds_an_existing_household_and_sets_its_status(units, officer):
    """A new session finds the household of the same head and village already in the register and moves
    this year's classification, audited as household_poverty_set would; a row without poverty has none."""
    from vitreem.registry.services_bulk import households_register_bulk

    existing = services.household_create(actor=officer, unit=units.commune_a_2025, head_name="A Phơi", village="Thôn 3")
    services.household_poverty_set(actor=officer, household=existing, year=today().year, status="near_poor")
    rows = [NewChild(data=cleaned(full_name="A Thắng", birth_date=years_ago(9), sex="M", village="Thôn 3"),
                     unit=units.commune_a_2025, guardians=[{"full_name": "A Phơi", "relationship": "father"}],
                     poverty="poor"),
            NewChild(data=cleaned(full_name="Y Duyên", birth_date=years_ago(6), sex="F"), unit=units.commune_a_2025,
                     guardians=[{"full_name": "Y Hlim", "relationship": "mother"}])]
    session = BulkRegisterSession(actor=officer, source=SOURCE, today=today())
    found, none = households_register_bulk(session=session, rows=rows)
    assert none is None and found is not None
    assert (found.pk, found.unit_id, found.village) == (existing.pk, units.commune_a_2025.pk, "Thôn 3")
    assert Household.objects.count() == 1
    assert list(HouseholdPoverty.objects.values_list("household_id", "year", "status")) \
        == [(existing.pk, today().year, "poor")]
    entries = AuditEntry.objects.filter(source=SOURCE)
    assert [(e.action, e.object_id, e.changes) for e in entries] == [
        ("household.poverty_set", str(existing.pk), {"status": ["near_poor", "poor"], "year": [None, today().year]})]
