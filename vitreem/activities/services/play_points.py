"""Play points (the places children play, Decision 23/QĐ-TTg's target on communes with one)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import ValidationFailed
from vitreem.core.scope import require_unit
from vitreem.core.text import nfc
from vitreem.places.models import AdminUnit, Level

from ..models import (
    Condition,
    PlayPoint,
    PlayPointType,
    Project,
)
from ._common import _choice, _unit

# ---------------------------------------------------------------- play points

@transaction.atomic
def play_point_create(*, actor: User, unit: AdminUnit | str, name: str, opened_on: dt.date,
                      point_type: str = PlayPointType.PLAYGROUND, condition: str = Condition.GOOD,
                      closed_on: dt.date | None = None, project: Project | None = None, note: str = "") -> PlayPoint:
    errors: dict[str, str] = {}
    commune = _unit(unit)
    if commune is None or commune.level != Level.COMMUNE:
        errors["unit"] = _("Điểm vui chơi phải thuộc một xã, phường.")
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên điểm vui chơi.")
    _choice(point_type, PlayPointType, "point_type", errors, required=True)
    _choice(condition, Condition, "condition", errors, required=True)
    if opened_on is None:
        errors["opened_on"] = _("Nhập ngày đưa vào sử dụng.")
    elif closed_on is not None and closed_on < opened_on:
        errors["closed_on"] = _("Ngày ngừng sử dụng trước ngày đưa vào sử dụng.")
    if errors:
        raise ValidationFailed(errors)
    assert commune is not None  # noqa: S101 — checked above, for the type checker
    require_unit(actor, commune)
    point = PlayPoint.objects.create(unit=commune, name=name, opened_on=opened_on, closed_on=closed_on,
                                     point_type=point_type, condition=condition, project=project, note=note[:255])
    audit_change(actor=actor, action="play_point.create", obj=point, unit=commune, changes=snapshot(point))
    return point


@transaction.atomic
def play_point_update(*, actor: User, point: PlayPoint, condition: str | None = None,
                      closed_on: dt.date | None = None, note: str | None = None) -> PlayPoint:
    require_unit(actor, point.unit)
    before = snapshot(point)
    errors: dict[str, str] = {}
    if condition is not None:
        point.condition = _choice(condition, Condition, "condition", errors, required=True)
    if closed_on is not None:
        if closed_on < point.opened_on:
            errors["closed_on"] = _("Ngày ngừng sử dụng trước ngày đưa vào sử dụng.")
        point.closed_on = closed_on
    if note is not None:
        point.note = note[:255]
    if errors:
        raise ValidationFailed(errors)
    point.save()
    audit_change(actor=actor, action="play_point.update", obj=point, unit=point.unit_id,
                 changes=diff(before, snapshot(point)))
    return point
