"""Updating a matched child: through the registry services (the one write path, with its audit),
changing only what the row states."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.text import fold
from vitreem.registry.models import Child, Household, HouseholdPoverty, PovertyStatus, RiskFactor
from vitreem.registry.services_bulk import households_register_bulk

from .cells import CellReader
from .creating import BulkCreator, new_child
from .state import Prepared, RowIssue


class Updater(BulkCreator, CellReader):
    def _update(self, p: Prepared, child_id: int, *, write: bool) -> bool:
        """Bring a registered child in line with the row through the registry services; only what the
        row states is changed (an empty cell never erases anything). True when something changed."""
        from vitreem.registry import services as reg

        child = Child.objects.select_related("household", "unit").get(pk=child_id)
        if p.unit.pk != child.unit_id:
            self.out.warnings.append(RowIssue(
                p.row, self.header("unit"), p.unit.name, "unit_differs",
                _("Trẻ này đang ở %(u)s theo sổ theo dõi; danh sách ghi %(v)s. Chưa chuyển nơi ở: dùng chức năng "
                  "chuyển nơi ở nếu trẻ đã chuyển.") % {"u": child.unit.name, "v": p.unit.name}))
        data: dict[str, Any] = {}
        d = p.data
        if d["name_key"] != child.name_key or d["full_name"] != child.full_name:
            data["full_name"] = d["full_name"]
        if d["birth_date"] != child.birth_date or d["birth_precision"] != child.birth_precision:
            data["birth_date"], data["birth_precision"] = d["birth_date"], d["birth_precision"]
        if d["sex"] != child.sex:
            data["sex"] = d["sex"]
        if "personal_id" in p.given and d.get("personal_id") and d["personal_id"] != child.personal_id:
            data["personal_id"] = d["personal_id"]
        if "schooling" in p.given and (d["schooling"], d["school_level"]) != (child.schooling, child.school_level):
            data["schooling"], data["school_level"] = d["schooling"], d["school_level"]
        for key in ("disability", "village", "note"):
            if key in p.given and d[key] != getattr(child, key):
                data[key] = d[key]
        ethnicity_changed = "ethnicity" in p.given and p.ethnicity_id != child.ethnicity_id
        existing_guardians = set(child.guardians.values_list("name_key", flat=True))
        new_guardians = [g for g in p.guardians if fold(g["full_name"]) not in existing_guardians]
        open_groups = set(child.special_episodes.filter(end__isnull=True).values_list("group_id", flat=True))
        new_groups = [g for g in p.groups if (g.parent_id or g.pk) not in open_groups]
        open_risks = set(child.risks.filter(end__isnull=True).values_list("factor_id", flat=True))
        new_risks = [r for r in p.risks if r.pk not in open_risks]
        household = child.household
        poverty_change = False
        if p.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR):
            current = (HouseholdPoverty.objects.filter(household=household, year=self.today.year)
                       .values_list("status", flat=True).first() if household else None)
            poverty_change = current != p.poverty
        changed = bool(data or ethnicity_changed or new_guardians or new_groups or new_risks or poverty_change)
        if not write or not changed:
            return changed
        if data or ethnicity_changed:
            # The import's ID rule, as at creation: a mismatching ID is flagged, not refused.
            if ethnicity_changed:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today, strict_id=False,
                                 ethnicity=self.codes_code(p.ethnicity_id) if p.ethnicity_id else None)
            else:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today, strict_id=False)
            child.refresh_from_db()
        for g in new_guardians:
            reg.guardian_add(actor=self.actor, child=child, full_name=g["full_name"], relationship=g["relationship"])
        for group in new_groups:
            reg.special_episode_open(actor=self.actor, child=child, group=group, start=self.today)
        if new_risks:
            keep = list(RiskFactor.objects.filter(pk__in=open_risks))
            reg.risk_assess(actor=self.actor, child=child, assessed_on=self.today, factors=keep + new_risks)
        if poverty_change:
            if household is None:
                # The household the row names (found or made, with this year's status) through the
                # registry's bulk register, as for a new child of the same list.
                ref = households_register_bulk(session=self.bulk, rows=[new_child(p)])[0]
                self.writer.wait()
                if ref is not None and ref.unit_id == child.unit_id:
                    reg.child_update(actor=self.actor, child=child, data={}, household=Household.objects.get(pk=ref.pk),
                                     on=self.today, strict_id=False)
            elif household is not None:
                reg.household_poverty_set(actor=self.actor, household=household, year=self.today.year,
                                          status=p.poverty)  # type: ignore[arg-type]
        return True

    def codes_code(self, ethnicity_id: int) -> str:
        from vitreem.registry.models import Ethnicity

        if ethnicity_id not in self._ethnicity_codes:
            self._ethnicity_codes[ethnicity_id] = Ethnicity.objects.only("code").get(pk=ethnicity_id).code
        return self._ethnicity_codes[ethnicity_id]
