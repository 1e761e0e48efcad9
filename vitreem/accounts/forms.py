"""Form helpers shared by the apps whose forms pick a member unit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .selectors import member_unit_choices


def _pks(value: Any) -> list[int]:
    values = value if isinstance(value, (list, tuple, set)) else [value]
    out = []
    for v in values:
        pk = getattr(v, "pk", v)
        if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit()):
            out.append(int(pk))
    return out


def limit_member_units(form: Any, *names: str, day: dt.date | None = None) -> None:
    """Offer in `names` only the units that are members on `day` (today by default), plus the units the
    record being edited already names (its `initial`): an activity organised by a unit that has since left
    the committee keeps its organiser, a new one cannot pick it."""
    day = day or timezone.localdate()
    for name in names:
        field = form.fields.get(name)
        if field is not None:
            field.queryset = member_unit_choices(day=day, keep=_pks(form.initial.get(name)))
