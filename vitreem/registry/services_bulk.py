"""Registering many children at once: the registry's bulk-register service, used by the import.

`children_register_bulk` writes what `services.child_register` writes — the child, the residence from
birth, the guardians and the `child.register` audit row with the same snapshot — for a whole list of
children, and with them what a list states beside each child: the household (the first guardian is
its head) and its poverty classification for the year, the special-circumstance episodes and one risk
assessment, each with the audit row its own service (`household_create`, `household_poverty_set`,
`special_episode_open`, `risk_assess`) writes.

Why a second writer of the same records: speed. `child_register` saves model instances one by one
(about 200 children/s with their audit rows); here ids are reserved up front and every table gets one
COPY per call (core.bulk.Copy, through a Writer that on PostgreSQL runs them in a background thread).
What it does not do: validate. The caller has run `child_clean` on each child, resolved its commune
and checked the actor's scope over it, and decided that the child is new (duplicate detection); a
row here is written as given. It runs inside the caller's transaction and never commits.

A module of its own beside `services.py`, as `services_duplicates.py` is. One bulk registration (an
import, chunk after chunk) keeps what later calls need in a `BulkRegisterSession`: the households it
found or made, the poverty status it knows, folded names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils import timezone

from vitreem.accounts.models import User
from vitreem.core.audit import notify_listeners
from vitreem.core.bulk import Copy, Writer, reserve_ids, to_json
from vitreem.core.middleware import request_id_var
from vitreem.core.models import AuditEntry
from vitreem.core.text import fold, nfc
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import province_code_of

from .models import (
    Child,
    ChildRisk,
    Guardian,
    Household,
    HouseholdPoverty,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from .services import CHILD_FIELDS, nurture_case_clean

# The child columns a bulk registration writes: child_register's, but the end of the record (a new child
# is not ended; the other columns take their defaults, version 1). `data` gives all of them but
# ethnicity_id, household_id and unit_id, which come from NewChild.
CHILD_COLUMNS = [f for f in CHILD_FIELDS if f not in ("ended_on", "end_reason")]

HouseholdKey = tuple[int, str, str]  # (commune id, folded village, folded head's name)


@dataclass(frozen=True, slots=True)
class NewChild:
    """One child ready to register, validated by the caller.

    `data`: `child_clean`'s cleaned data (CHILD_COLUMNS but ethnicity_id, household_id, unit_id);
    `unit`: the commune; `guardians`: {"full_name", "relationship"} each, the first the primary one and,
    when `poverty` is given, the head of the household; `poverty`: this year's PovertyStatus of that
    household, or None; `groups`: special-circumstance groups (sub-groups) to open episodes in from
    the session's day; `risks`: risk factors for one assessment on that day.
    """

    data: Mapping[str, Any]
    unit: AdminUnit
    ethnicity_id: int | None = None
    guardians: Sequence[dict[str, str]] = ()
    poverty: str | None = None
    groups: Sequence[SpecialGroup] = ()
    risks: Sequence[RiskFactor] = ()


class HouseholdRef(NamedTuple):
    """A household a bulk registration found or made (all it needs of one)."""

    pk: int
    unit_id: int
    village: str


class BulkRegisterSession:
    """One bulk registration, over one or many calls in one transaction (an import's chunks): who
    writes, the source and day of its records, the Writer its COPYs go through, and what it learnt
    that later calls need — the households found or made, the poverty status known per household,
    folded names and villages."""

    def __init__(self, *, actor: User | None, source: str, today: dt.date, request_id: str | None = None,
                 writer: Writer | None = None):
        self.actor_id: int | None = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        self.source = source
        self.today = today
        self.request_id = request_id if request_id is not None else (request_id_var.get() or "")
        self.writer = writer if writer is not None else Writer(background=False)
        self.households: dict[HouseholdKey, HouseholdRef] = {}
        self.poverty_known: dict[int, str | None] = {}
        # Whether the register held any household before this session: when not, households are never
        # looked up (the session knows the ones it made). Asked at the first need.
        self.had_households: bool | None = None
        self._folded_names: dict[str, str] = {}
        self._folded_villages: dict[str, str] = {}

    def fold_name(self, name: str) -> str:
        """fold() of a guardian's name, once per distinct name (parents of siblings, common names)."""
        key = self._folded_names.get(name)
        if key is None:
            key = self._folded_names[name] = fold(name)
        return key

    def household_key(self, child: NewChild) -> HouseholdKey | None:
        if child.poverty is None or not child.guardians:
            return None
        village = child.data.get("village", "")
        folded = self._folded_villages.get(village)
        if folded is None:
            folded = self._folded_villages[village] = fold(village)
        return (child.unit.pk, folded, self.fold_name(child.guardians[0]["full_name"]))

    def audit(self, audits: list[tuple], action: str, obj_type: str, obj_id: Any, unit_id: int | None,
              changes: dict[str, Any]) -> None:
        """One change row of the audit log, written with the others of the call (same table and columns
        as core.audit.audit_change; the session's source)."""
        audits.append((self.actor_id, AuditEntry.Kind.CHANGE, action, obj_type, str(obj_id), unit_id,
                       to_json(changes), self.source, self.request_id))


def children_register_bulk(*, session: BulkRegisterSession, rows: Sequence[NewChild]) -> list[int]:
    """Register `rows` as new children: the records child_register makes (child, residence from birth,
    guardians, `child.register` audit row with the same snapshot), plus the household and poverty
    status, episodes and risks each row states. Ids are reserved up front, then one COPY per table.
    Returns the new children's ids, in the order of `rows`. Does not validate (see the module)."""
    if not rows:
        return []
    now = timezone.now()
    audits: list[tuple] = []
    actor_id, today, writer = session.actor_id, session.today, session.writer
    # Every id first: once a COPY is sent the connection belongs to the writer until wait().
    writer.wait()
    ids = reserve_ids(Child, len(rows))
    episode_ids = iter(reserve_ids(SpecialEpisode, sum(len(c.groups) for c in rows)))
    assessment_ids = iter(reserve_ids(RiskAssessment, sum(1 for c in rows if c.risks)))
    households = _households(session, rows, audits, now)
    # Every row carries the child's 2025 province (places/fields.py); COPY bypasses the field's filling.
    children = Copy(Child, [*CHILD_COLUMNS, "id", "source", "created_by_id", "province_code"], now=now, writer=writer)
    residences = Copy(Residence, ["child_id", "unit_id", "start", "province_code"], now=now, writer=writer)
    guardians = Copy(Guardian, ["child_id", "full_name", "name_key", "relationship", "is_primary", "province_code"],
                     now=now, writer=writer)
    episodes: list[tuple[int, int, SpecialGroup]] = []
    assessments: list[tuple[int, int, Sequence[RiskFactor]]] = []
    for child_id, c, household in zip(ids, rows, households, strict=True):
        d = c.data
        unit_id = c.unit.pk
        values = {**d, "ethnicity_id": c.ethnicity_id, "household_id": household.pk if household else None,
                  "unit_id": unit_id, "ended_on": None, "end_reason": ""}
        if household is not None and not values.get("village"):
            values["village"] = household.village  # as child_register: the household's village
        pc = province_code_of(unit_id)
        children.add(*(values[k] for k in CHILD_COLUMNS), child_id, session.source, actor_id, pc)
        residences.add(child_id, unit_id, d["birth_date"], pc)
        for i, g in enumerate(c.guardians):
            guardians.add(child_id, g["full_name"], session.fold_name(g["full_name"]), g["relationship"], i == 0, pc)
        session.audit(audits, "child.register", "registry.child", child_id, unit_id,
                      {**{k: values[k] for k in CHILD_FIELDS}, "guardians": c.guardians,
                       "resident_since": d["birth_date"].isoformat()})  # as child_register's
        episodes.extend((child_id, unit_id, group) for group in c.groups)
        if c.risks:
            assessments.append((child_id, unit_id, c.risks))
    children.flush()
    residences.flush()
    guardians.flush()
    if episodes:
        copy = Copy(SpecialEpisode, ["id", "child_id", "group_id", "subgroup_id", "start", "nurture_case",
                                     "recorded_by_id", "province_code"], now=now, writer=writer)
        for pk, (child_id, unit_id, group) in zip(episode_ids, episodes, strict=True):
            top_id = group.parent_id or group.pk
            # A list names the sub-group only: its Art. 5(1) point where the sub-group tells
            # (services.nurture_case_clean, as a worker's entry without a choice).
            copy.add(pk, child_id, top_id, group.pk if group.parent_id else None, today,
                     nurture_case_clean(group.code, None, {}), actor_id, province_code_of(unit_id))
            session.audit(audits, "child.special_open", "registry.child", child_id, unit_id,
                          {"episode": pk, "group": group.code, "start": today, "end": None})
        copy.flush()
    if assessments:
        copy = Copy(RiskAssessment, ["id", "child_id", "assessed_on", "assessed_by_id", "province_code"], now=now,
                    writer=writer)
        links = Copy(ChildRisk, ["child_id", "factor_id", "start", "assessment_id", "province_code"], now=now,
                     writer=writer)
        for pk, (child_id, unit_id, factors) in zip(assessment_ids, assessments, strict=True):
            pc = province_code_of(unit_id)
            copy.add(pk, child_id, today, actor_id, pc)
            for f in factors:
                links.add(child_id, f.pk, today, pk, pc)
            session.audit(audits, "child.risk_assess", "registry.child", child_id, unit_id,
                          {"assessed_on": today, "factors": sorted(f.code for f in factors)})
        copy.flush()
        links.flush()
    _audits_write(session, audits, now)
    return ids


def households_register_bulk(*, session: BulkRegisterSession, rows: Sequence[NewChild]) -> list[HouseholdRef | None]:
    """The household of each row that states a poverty status (None for the others), found or made,
    and its classification for the session's year set, with their audit rows — the part of
    `children_register_bulk` a child already registered without a household needs (the import's
    update of a matched child). Does not validate (see the module)."""
    if not rows:
        return []
    now = timezone.now()
    audits: list[tuple] = []
    out = _households(session, rows, audits, now)
    _audits_write(session, audits, now)
    return out


def _households(session: BulkRegisterSession, rows: Sequence[NewChild], audits: list[tuple],
                now: dt.datetime) -> list[HouseholdRef | None]:
    """The household of each row that states a poverty status (the first guardian is the head), in the
    order of `rows`. Siblings share it; an existing household of the same head and village is reused.
    A few queries per call, whatever its size."""
    keys = [session.household_key(c) for c in rows]
    wanted: dict[HouseholdKey, NewChild] = {}
    for key, c in zip(keys, rows, strict=True):
        if key is not None:
            wanted.setdefault(key, c)
    cache = session.households
    missing = [k for k in wanted if k not in cache]
    if missing:
        session.writer.wait()
        if session.had_households is None:
            session.had_households = Household.objects.exists()
        if session.had_households:
            for pk, unit_id, village, head_key in Household.objects.filter(
                    unit_id__in={k[0] for k in missing}, head_key__in={k[2] for k in missing}).values_list(
                    "pk", "unit_id", "village", "head_key"):
                key = (unit_id, fold(village), head_key)
                if key in wanted:
                    cache.setdefault(key, HouseholdRef(pk, unit_id, village))
    new = [k for k in missing if k not in cache]
    if new:
        copy = Copy(Household, ["id", "unit_id", "head_name", "head_key", "village", "address", "province_code"],
                    now=now, writer=session.writer)
        created_at = now.isoformat()
        for pk, key in zip(reserve_ids(Household, len(new)), new, strict=True):
            c = wanted[key]
            head, village = nfc(c.guardians[0]["full_name"]), c.data.get("village", "")
            copy.add(pk, key[0], head, key[2], village, "", province_code_of(key[0]))
            # household_create's snapshot of the new row
            session.audit(audits, "household.create", "registry.household", pk, key[0],
                          {"id": pk, "unit_id": key[0], "village": village, "head_name": head, "head_key": key[2],
                           "address": "", "created_at": created_at})
            cache[key] = HouseholdRef(pk, key[0], village)
            session.poverty_known[pk] = None  # new: no classification yet
        copy.flush()
    out: list[HouseholdRef | None] = []
    status: dict[int, str] = {}
    units: dict[int, int] = {}
    for key, c in zip(keys, rows, strict=True):
        household = cache[key] if key is not None else None
        out.append(household)
        if household is not None:
            status.setdefault(household.pk, c.poverty)  # type: ignore[arg-type]  # set: the key says so
            units[household.pk] = household.unit_id
    _poverty_set(session, status, units, audits, now)
    return out


def _poverty_set(session: BulkRegisterSession, status: dict[int, str], units: dict[int, int], audits: list[tuple],
                 now: dt.datetime) -> None:
    """This year's classification of each household (Decree 07/2021 standard), as household_poverty_set
    records it, in bulk."""
    if not status:
        return
    year = session.today.year
    known = session.poverty_known
    # This year's status of households this session made or already classified is known here; only
    # households that were in the register before are looked up.
    unknown = [pk for pk in status if pk not in known]
    if unknown or any(known.get(pk) not in (None, s) for pk, s in status.items()):
        session.writer.wait()
    if unknown:
        found = dict(HouseholdPoverty.objects.filter(household_id__in=unknown, year=year)
                     .values_list("household_id", "status"))
        known.update({pk: found.get(pk) for pk in unknown})
    copy = Copy(HouseholdPoverty, ["household_id", "year", "status", "province_code"], now=now, writer=session.writer)
    for pk, s in status.items():
        current = known[pk]
        if current == s:
            continue
        if current is None:
            copy.add(pk, year, s, province_code_of(units.get(pk)))
        else:
            HouseholdPoverty.objects.filter(household_id=pk, year=year).update(status=s)
        known[pk] = s
        session.audit(audits, "household.poverty_set", "registry.household", pk, units.get(pk),
                      {"status": [current, s], "year": [None, year]})
    copy.flush()


def _audits_write(session: BulkRegisterSession, audits: list[tuple], now: dt.datetime) -> None:
    if not audits:
        return
    copy = Copy(AuditEntry, ["actor_id", "kind", "action", "object_type", "object_id", "unit_id", "changes",
                             "source", "request_id"], now=now, writer=session.writer)
    for row in audits:
        copy.add(*row)
    copy.flush()
    # Tell the audit listeners (the statistics rollups) which units changed, as audit_changes_bulk
    # would: one entry per unit stands for all the rows of that unit (new records live in it alone).
    notify_listeners([AuditEntry(kind=AuditEntry.Kind.CHANGE, action="child.register_bulk",
                                 object_type="registry.child", unit_id=unit_id, changes={}, source=session.source)
                      for unit_id in sorted({row[5] for row in audits if row[5] is not None})])
