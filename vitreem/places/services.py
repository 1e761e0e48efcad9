"""Loading the administrative units from the `vietnamadminunits` package (both versions + crosswalk)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from importlib import resources

from django.db import transaction

from vitreem.core.text import unit_key

from .models import AdminUnit, Level, UnitSuccession, Version

_FIELDS = ("level", "name", "short_name", "unit_type", "parent_id", "province_code", "district_code",
           "search_key", "latitude", "longitude")


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    successions: int = 0
    successions_changed: int = 0  # crosswalk rows created or changed by this load
    unmatched_successions: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _package_data():
    root = resources.files("vietnamadminunits") / "data"
    with resources.as_file(root / "dataset.db") as db_path:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        legacy = [dict(r) for r in con.execute("SELECT * FROM admin_units_legacy")]
        current = [dict(r) for r in con.execute("SELECT * FROM admin_units")]
        con.close()
    crosswalk = json.loads((root / "converter_2025.json").read_text(encoding="utf-8"))
    return legacy, current, crosswalk


def _type_of(full: str, short: str) -> str:
    return full[: len(full) - len(short)].strip() if short and full.endswith(short) else ""


class _Upserter:
    """Create or update units of one version, keeping ids stable so loading twice changes nothing."""

    def __init__(self, version: str, report: LoadReport):
        self.version = version
        self.report = report
        self.existing = {u.code: u for u in AdminUnit.objects.filter(version=version)}
        self.seen: dict[str, AdminUnit] = {}

    def put(self, code: str, **values) -> AdminUnit:
        if code in self.seen:
            return self.seen[code]
        unit = self.existing.get(code)
        if unit is None:
            unit = AdminUnit.objects.create(version=self.version, code=code, **values)
            self.report.created += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(unit, k, v)
            unit.save(update_fields=list(values))
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        self.seen[code] = unit
        return unit


def _unit_values(level, full, short, parent, province_code, district_code, lat, lon):
    return {
        "level": level,
        "name": full,
        "short_name": short,
        "unit_type": _type_of(full, short),
        "parent_id": parent.pk if parent else None,
        "province_code": province_code,
        "district_code": district_code or "",
        "search_key": unit_key(short or full),
        "latitude": lat,
        "longitude": lon,
    }


@transaction.atomic
def places_load() -> LoadReport:
    """Load (or refresh) both versions and the crosswalk. Idempotent: a second run reports 0 created/updated.
    The tree's stamp moves once, at the end (`tree_changes`)."""
    from vitreem.core.audit import audit_change

    from .selectors import tree_changes

    with tree_changes():
        report = _places_load()
        if report.created or report.updated or report.successions_changed:
            # A changed tree changes what every stored figure sums (a commune moved to another district,
            # a crosswalk link): the audit row of the load marks them all stale (stats.rollups'
            # listener), as a unit edited in the admin does, and the task worker recomputes them.
            audit_change(actor=None, action="places.load", object_type="places.adminunit",
                         changes={"created": report.created, "updated": report.updated,
                                  "crosswalk_changed": report.successions_changed})
        return report


def _places_load() -> LoadReport:
    legacy, current, crosswalk = _package_data()
    report = LoadReport()

    old = _Upserter(Version.LEGACY, report)
    legacy_by_key: dict[str, AdminUnit] = {}
    for r in legacy:
        prov = old.put(r["provinceCode"], **_unit_values(
            Level.PROVINCE, r["province"], r["provinceShort"], None, r["provinceCode"], "",
            r["provinceLat"], r["provinceLon"]))
        dist = old.put(r["districtCode"], **_unit_values(
            Level.DISTRICT, r["district"], r["districtShort"], prov, r["provinceCode"], r["districtCode"],
            r["districtLat"], r["districtLon"]))
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["wardCode"]:
            legacy_by_key[key] = old.put(r["wardCode"], **_unit_values(
                Level.COMMUNE, r["ward"], r["wardShort"], dist, r["provinceCode"], r["districtCode"],
                r["wardLat"], r["wardLon"]))
        else:
            # Island districts (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa…) have no communes; they map as a whole.
            legacy_by_key[key] = dist

    new = _Upserter(Version.V2025, report)
    current_by_key: dict[tuple[str, str], AdminUnit] = {}
    for r in current:
        prov = new.put(r["provinceCode"], **_unit_values(
            Level.PROVINCE, r["province"], r["provinceShort"], None, r["provinceCode"], "",
            r["provinceLat"], r["provinceLon"]))
        current_by_key[(r["provinceKey"], r["wardKey"])] = new.put(r["wardCode"], **_unit_values(
            Level.COMMUNE, r["ward"], r["wardShort"], prov, r["provinceCode"], "", r["wardLat"], r["wardLon"]))

    pairs: dict[tuple[int, int], tuple[bool, float | None]] = {}
    for prov_key, wards in crosswalk["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_key, old_keys in wards.items():
            target = current_by_key.get((prov_key, new_key))
            for old_key in old_keys:
                source = legacy_by_key.get(old_key)
                if target is None or source is None:
                    report.unmatched_successions.append(f"{old_key} -> {prov_key}/{new_key}")
                    continue
                pairs[(source.pk, target.pk)] = (True, 1.0)
    for prov_key, olds in crosswalk["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, news in olds.items():
            source = legacy_by_key.get(old_key)
            for item in news:
                target = current_by_key.get((prov_key, item["newWardKey"]))
                if target is None or source is None:
                    report.unmatched_successions.append(f"{old_key} -> {prov_key}/{item['newWardKey']}")
                    continue
                # The package gives no population or area shares for a split, only the default successor.
                pairs[(source.pk, target.pk)] = (bool(item["isDefaultNewWard"]), None)

    existing = {(s.old_id, s.new_id): s for s in UnitSuccession.objects.all()}
    to_create = []
    for (old_id, new_id), (is_default, share) in pairs.items():
        row = existing.get((old_id, new_id))
        if row is None:
            to_create.append(UnitSuccession(old_id=old_id, new_id=new_id, is_default=is_default, share=share))
        elif (row.is_default, row.share) != (is_default, share):
            row.is_default, row.share = is_default, share
            row.save(update_fields=["is_default", "share"])
            report.successions_changed += 1
    UnitSuccession.objects.bulk_create(to_create, batch_size=2000)
    report.successions_changed += len(to_create)
    report.successions = len(pairs)

    for version in Version:
        for level in Level:
            n = AdminUnit.objects.filter(version=version, level=level).count()
            if n:
                report.counts[f"{version.value}:{level.value}"] = n
    return report
