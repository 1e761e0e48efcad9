"""Rollups: pre-computed indicator values, so dashboards do not count 200,000 children per request.

A `Rollup` row is one indicator's value for one unit on one as-of date (the key the engine computes
over: `params_for(as_of=...)` fixes the period too). A row is valid while no audited change touched
its unit after the computation *started*: `UnitStamp` keeps, per unit, the time of the last committed
change (written by the audit listener in `rollups.py`). Comparing the two times instead of flagging
rows avoids the race where a computation that read old data writes its row after the change's
invalidation ran.
"""

from __future__ import annotations

from django.db import models


class Rollup(models.Model):
    code = models.CharField(max_length=64)
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    value = models.JSONField(null=True)
    computed_at = models.DateTimeField(help_text="When the computation started")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "unit", "as_of"], name="stats_rollup_key")]
        indexes = [models.Index(fields=["unit", "as_of"])]

    def __str__(self) -> str:
        return f"{self.code} {self.unit_id} {self.as_of}: {self.value}"


class UnitStamp(models.Model):
    """The time of the last committed change that touches a unit's figures. key: "u:<unit id>[:y<year>][:<app>]"
    (`rollups.stamp_units`) or "all" (a change with no unit, e.g. a code table: every figure is stale).

    `unit`, `year` and `app` are the parts of a unit's key, written with it (`rollups.stamp_row`): a page
    reads the stamps of its units by the unit's index. Nationally the table holds a row per unit, year
    and app changed (~600,000 after a year of use); a province's pages read the whole table and parsed
    every key, 3.7 s a page (`make bench BENCH_ARGS=stamps`)."""

    key = models.CharField(max_length=32, unique=True)
    changed_at = models.DateTimeField()
    unit = models.ForeignKey("places.AdminUnit", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The first year the change reaches")
    app = models.CharField(max_length=16, blank=True, help_text="The app whose figures it touches (all if blank)")

    class Meta:
        # the task worker's turn: the stamps changed since its last one
        indexes = [models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.key} {self.changed_at:%Y-%m-%d %H:%M:%S}"
