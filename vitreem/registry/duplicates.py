"""Duplicate detection (to be extended): candidates for a record about to be registered."""

from __future__ import annotations

from typing import Any

from .models import Child


def candidates_for_new(data: dict[str, Any], *, unit, user=None, limit: int = 5) -> list[dict[str, Any]]:
    """Existing children that may be the one described by `data` (same personal ID, or same folded
    name and birth date), within the user's scope."""
    from vitreem.core.scope import scope_filter

    qs = scope_filter(Child.objects.filter(ended_on__isnull=True), user) if user is not None else Child.objects.all()
    found = []
    if data.get("personal_id"):
        found += list(qs.filter(personal_id=data["personal_id"])[:limit])
    if data.get("name_key") and data.get("birth_date"):
        found += list(qs.filter(name_key=data["name_key"], birth_date=data["birth_date"])[:limit])
    seen, out = set(), []
    for child in found:
        if child.pk in seen:
            continue
        seen.add(child.pk)
        out.append({"id": child.pk, "full_name": child.full_name, "birth_date": child.birth_date.isoformat(),
                    "unit": child.unit.name, "score": 1.0,
                    "reasons": ["personal_id"] if child.personal_id and child.personal_id == data.get("personal_id")
                    else ["name", "birth_date"]})
    return out[:limit]
