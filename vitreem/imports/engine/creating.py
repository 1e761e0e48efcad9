"""Creating children in bulk: the records child_register makes (and the episodes, risks, households
and poverty a list states), ids reserved up front, one COPY per table per chunk, with their audit
rows in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from vitreem.core.models import AuditEntry
from vitreem.core.text import fold, nfc
from vitreem.places.selectors import province_code_of
from vitreem.registry.models import (
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
from vitreem.registry.services import CHILD_FIELDS, nurture_case_clean

from ..writing import Copy, reserve_ids, to_json
from .state import HouseholdRef, ImporterState, Prepared

# Child columns the import writes from a row (the rest take their defaults: not ended, version 1).
CHILD_COLUMNS = ["family_name", "middle_name", "given_name", "full_name", "name_key", "given_key", "birth_date",
                 "birth_precision", "sex", "ethnicity_id", "personal_id", "personal_id_mismatch", "birth_registered",
                 "household_id", "unit_id", "village", "schooling", "school_level", "dropout_date", "disability",
                 "note"]


class BulkCreator(ImporterState):
    def _audit(self, audits: list[tuple], action: str, obj_type: str, obj_id: Any, unit_id: int | None,
               changes: dict) -> None:
        """One change row of the audit log, written with the chunk (same table and columns as
        core.audit.audit_change; the import is its source)."""
        audits.append((self._actor_id, AuditEntry.Kind.CHANGE, action, obj_type, str(obj_id), unit_id,
                       to_json(changes), self.source, self._request_id))

    def _write_audits(self, audits: list[tuple], now: dt.datetime) -> None:
        if not audits:
            return
        copy = Copy(AuditEntry, ["actor_id", "kind", "action", "object_type", "object_id", "unit_id", "changes",
                                 "source", "request_id"], now=now, writer=self.writer)
        for row in audits:
            copy.add(*row)
        copy.flush()
        # Tell the audit listeners (the statistics rollups) which units changed, as audit_changes_bulk
        # would: one entry per unit stands for all the rows of that unit (new records live in it alone).
        from vitreem.core.audit import notify_listeners

        notify_listeners([AuditEntry(kind=AuditEntry.Kind.CHANGE, action="import.rows", object_type="registry.child",
                                     unit_id=unit_id, changes={}, source=self.source)
                          for unit_id in sorted({row[5] for row in audits if row[5] is not None})])

    def _fold_name(self, name: str) -> str:
        """fold() of a guardian's name, once per distinct name (parents of siblings, common names)."""
        key = self._folded_names.get(name)
        if key is None:
            key = self._folded_names[name] = fold(name)
        return key

    def _household_key(self, p: Prepared) -> tuple[int, str, str] | None:
        if p.poverty is None or not p.guardians:
            return None
        if p.household_key is None:
            village = p.data.get("village", "")
            folded = self._folded_village.get(village)
            if folded is None:
                folded = self._folded_village[village] = fold(village)
            p.household_key = (p.unit.pk, folded, self._fold_name(p.guardians[0]["full_name"]))
        return p.household_key

    def _households(self, rows: list[Prepared], audits: list[tuple], now: dt.datetime) -> dict[int, HouseholdRef]:
        """Row number → household, for rows that state a poverty status (the first guardian is the
        head). Siblings in one file share it; an existing household of the same head and village is
        reused. A few queries per chunk, whatever its size."""
        wanted: dict[tuple[int, str, str], Prepared] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                wanted.setdefault(key, p)
        missing = [k for k in wanted if k not in self._household_cache]
        self._before()
        if missing and self._had_households:
            for pk, unit_id, village, head_key in Household.objects.filter(
                    unit_id__in={k[0] for k in missing}, head_key__in={k[2] for k in missing}).values_list(
                    "pk", "unit_id", "village", "head_key"):
                key = (unit_id, fold(village), head_key)
                if key in wanted:
                    self._household_cache.setdefault(key, HouseholdRef(pk, unit_id, village))
        new = [k for k in missing if k not in self._household_cache]
        if new:
            copy = Copy(Household, ["id", "unit_id", "head_name", "head_key", "village", "address", "province_code"],
                        now=now, writer=self.writer)
            created_at = now.isoformat()
            for pk, key in zip(reserve_ids(Household, len(new)), new, strict=True):
                p = wanted[key]
                head, village = nfc(p.guardians[0]["full_name"]), p.data.get("village", "")
                copy.add(pk, key[0], head, key[2], village, "", province_code_of(key[0]))
                self._audit(audits, "household.create", "registry.household", pk, key[0],
                            {"id": pk, "unit_id": key[0], "village": village, "head_name": head, "head_key": key[2],
                             "address": "", "created_at": created_at})
                self._household_cache[key] = HouseholdRef(pk, key[0], village)
                self._poverty_known[pk] = None  # new: no classification yet
            copy.flush()
        out = {}
        status: dict[int, str] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                household = self._household_cache[key]
                out[p.row] = household
                status.setdefault(household.pk, p.poverty)  # type: ignore[arg-type]
        self._poverty_set(status, {h.pk: h.unit_id for h in out.values()}, audits, now)
        return out

    def _poverty_set(self, status: dict[int, str], units: dict[int, int], audits: list[tuple],
                     now: dt.datetime) -> None:
        """This year's classification of each household (Decree 07/2021 standard), as household_poverty_set
        records it, in bulk."""
        if not status:
            return
        year = self.today.year
        # This year's status of households this import made or already classified is known here;
        # only households that were in the register before are looked up.
        unknown = [pk for pk in status if pk not in self._poverty_known]
        if unknown or any(self._poverty_known.get(pk) not in (None, s) for pk, s in status.items()):
            self.writer.wait()
        if unknown:
            found = dict(HouseholdPoverty.objects.filter(household_id__in=unknown, year=year)
                         .values_list("household_id", "status"))
            self._poverty_known.update({pk: found.get(pk) for pk in unknown})
        copy = Copy(HouseholdPoverty, ["household_id", "year", "status", "province_code"], now=now, writer=self.writer)
        for pk, s in status.items():
            current = self._poverty_known[pk]
            if current == s:
                continue
            if current is None:
                copy.add(pk, year, s, province_code_of(units.get(pk)))
            else:
                HouseholdPoverty.objects.filter(household_id=pk, year=year).update(status=s)
            self._poverty_known[pk] = s
            self._audit(audits, "household.poverty_set", "registry.household", pk, units.get(pk),
                        {"status": [current, s], "year": [None, year]})
        copy.flush()

    def _create(self, rows: list[Prepared]) -> list[int]:
        """The same records child_register makes (child, residence from birth, guardians, audit row),
        plus the episodes, risks and poverty the list states: ids reserved up front, then one COPY per
        table per chunk. Returns the new children's ids, in the order of `rows`."""
        if not rows:
            return []
        now = timezone.now()
        audits: list[tuple] = []
        actor_id = self._actor_id
        # Every id first: once a COPY is sent the connection belongs to the writer until wait().
        ids = reserve_ids(Child, len(rows))
        episode_ids = iter(reserve_ids(SpecialEpisode, sum(len(p.groups) for p in rows)))
        assessment_ids = iter(reserve_ids(RiskAssessment, sum(1 for p in rows if p.risks)))
        households = self._households(rows, audits, now)
        # Every row carries the child's 2025 province (places/fields.py); COPY bypasses the field's filling.
        children = Copy(Child, [*CHILD_COLUMNS, "id", "source", "created_by_id", "province_code"], now=now,
                        writer=self.writer)
        residences = Copy(Residence, ["child_id", "unit_id", "start", "province_code"], now=now, writer=self.writer)
        guardians = Copy(Guardian, ["child_id", "full_name", "name_key", "relationship", "is_primary", "province_code"],
                         now=now, writer=self.writer)
        episodes: list[tuple[int, int, Prepared, SpecialGroup]] = []
        assessments: list[tuple[int, int, list[RiskFactor]]] = []
        for child_id, p in zip(ids, rows, strict=True):
            d = p.data
            household = households.get(p.row)
            values = {**d, "ethnicity_id": p.ethnicity_id, "household_id": household.pk if household else None,
                      "unit_id": p.unit.pk, "ended_on": None, "end_reason": ""}
            if household is not None and not values.get("village"):
                values["village"] = household.village
            pc = province_code_of(p.unit.pk)
            children.add(*(values[c] for c in CHILD_COLUMNS), child_id, self.source, actor_id, pc)
            residences.add(child_id, p.unit.pk, d["birth_date"], pc)
            for i, g in enumerate(p.guardians):
                guardians.add(child_id, g["full_name"], self._fold_name(g["full_name"]), g["relationship"], i == 0, pc)
            self._audit(audits, "child.register", "registry.child", child_id, p.unit.pk,
                        {**{k: values[k] for k in CHILD_FIELDS}, "guardians": p.guardians})
            episodes.extend((child_id, p.unit.pk, p, group) for group in p.groups)
            if p.risks:
                assessments.append((child_id, p.unit.pk, p.risks))
        children.flush()
        residences.flush()
        guardians.flush()
        if episodes:
            copy = Copy(SpecialEpisode, ["id", "child_id", "group_id", "subgroup_id", "start", "nurture_case",
                                         "recorded_by_id", "province_code"], now=now, writer=self.writer)
            for pk, (child_id, unit_id, _p, group) in zip(episode_ids, episodes,
                                                          strict=True):
                top_id = group.parent_id or group.pk
                # A list names the sub-group only: its Art. 5(1) point where the sub-group tells
                # (registry.services.nurture_case_clean, as a worker's entry without a choice).
                copy.add(pk, child_id, top_id, group.pk if group.parent_id else None, self.today,
                         nurture_case_clean(group.code, None, {}), actor_id, province_code_of(unit_id))
                self._audit(audits, "child.special_open", "registry.child", child_id, unit_id,
                            {"episode": pk, "group": group.code, "start": self.today, "end": None})
            copy.flush()
        if assessments:
            copy = Copy(RiskAssessment, ["id", "child_id", "assessed_on", "assessed_by_id", "province_code"], now=now,
                        writer=self.writer)
            links = Copy(ChildRisk, ["child_id", "factor_id", "start", "assessment_id", "province_code"], now=now,
                         writer=self.writer)
            for pk, (child_id, unit_id, factors) in zip(assessment_ids, assessments,
                                                        strict=True):
                pc = province_code_of(unit_id)
                copy.add(pk, child_id, self.today, actor_id, pc)
                for f in factors:
                    links.add(child_id, f.pk, self.today, pk, pc)
                self._audit(audits, "child.risk_assess", "registry.child", child_id, unit_id,
                            {"assessed_on": self.today, "factors": sorted(f.code for f in factors)})
            copy.flush()
            links.flush()
        self._write_audits(audits, now)
        return ids
