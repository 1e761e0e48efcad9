"""Administrative units in two versions.

Until 2025-06-30 Vietnam had three tiers (province → district → commune); from 2025-07-01 two
(province → commune/ward/special zone). Codes were reused with new meanings, so a unit is
identified by (version, code), never by code alone.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _


class Version(models.TextChoices):
    LEGACY = "legacy", _("Trước 01/7/2025 (3 cấp)")
    V2025 = "2025", _("Từ 01/7/2025 (2 cấp)")


# Resolution of the National Assembly Standing Committee on the 2025 reorganisation took effect 2025-07-01.
REFORM_DATE = dt.date(2025, 7, 1)
VERSION_VALIDITY = {
    Version.LEGACY: (None, dt.date(2025, 6, 30)),
    Version.V2025: (REFORM_DATE, None),
}


def version_on(day: dt.date) -> str:
    return Version.V2025 if day >= REFORM_DATE else Version.LEGACY


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/Thành phố")
    DISTRICT = "district", _("Huyện/Quận")
    COMMUNE = "commune", _("Xã/Phường")


class AdminUnit(models.Model):
    version = models.CharField(max_length=8, choices=Version.choices)
    code = models.CharField(max_length=8)
    level = models.CharField(max_length=10, choices=Level.choices)
    name = models.CharField(max_length=120, help_text="Full name with its type, e.g. 'Xã Hà Mòn'")
    short_name = models.CharField(max_length=100)
    unit_type = models.CharField(max_length=40, blank=True, help_text="Tỉnh, Thành phố, Huyện, Xã, Phường…")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    province_code = models.CharField(max_length=4, db_index=True)
    district_code = models.CharField(max_length=4, blank=True)
    search_key = models.CharField(max_length=120, db_index=True, help_text="Folded short name")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="unit_version_code_unique")]
        indexes = [models.Index(fields=["version", "level", "province_code"])]
        ordering = ["version", "code"]
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")

    def __str__(self) -> str:
        return self.name

    @property
    def ref(self) -> str:
        """The unambiguous written form, e.g. 'legacy:23293'."""
        return f"{self.version}:{self.code}"

    @property
    def valid_from(self) -> dt.date | None:
        return VERSION_VALIDITY[Version(self.version)][0]

    @property
    def valid_to(self) -> dt.date | None:
        return VERSION_VALIDITY[Version(self.version)][1]

    def valid_on(self, day: dt.date) -> bool:
        start, end = self.valid_from, self.valid_to
        return (start is None or day >= start) and (end is None or day <= end)


class UnitSuccession(models.Model):
    """Old → new crosswalk of the 2025 reform. A legacy commune may go to several new ones
    (split); `is_default` marks the one the package names as the main successor, and
    `share` (0–1) the part of the old unit when it is known (estimated from areas otherwise)."""

    old = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="successions")
    new = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="predecessions")
    is_default = models.BooleanField(default=True)
    share = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["old", "new"], name="succession_unique")]


class Population(models.Model):
    """Total population and children under 16 of a unit for a year (statistics office / demo)."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField()
    total = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="population_unit_year_unique")]
        verbose_name = _("dân số")
        verbose_name_plural = _("dân số")


class TreeStamp(models.Model):
    """When the unit tree or the crosswalk last changed (one row, written by `places.selectors.tree_changed`).
    What a process keeps derived from them between requests (core.scope's expansion of a user's assigned
    units) is dropped when it moves: the tree changes only when the official list is loaded again
    (`vitreem load_places`) or an administrator edits a unit, and then at once for every process."""

    changed_at = models.DateTimeField()
