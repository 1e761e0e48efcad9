from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from vitreem.core.errors import DomainError

from .models import Version
from .selectors import unit_resolve, units_search

router = Router(tags=["places"])


class UnitOut(Schema):
    version: str
    code: str
    ref: str
    level: str
    name: str
    short_name: str
    parent: str | None
    latitude: float | None
    longitude: float | None


@router.get("/units", response=list[UnitOut])
def list_units(request, version: str = "2025", parent: str = "", q: str = "", level: str = "", limit: int = 100) -> list[UnitOut]:
    """Administrative units; `parent` is a code of the same version (or "legacy:62"), `q` ignores diacritics."""
    if version not in Version.values:
        raise DomainError(_("Phiên bản không hợp lệ: %(v)s (dùng legacy hoặc 2025).") % {"v": version},
                          field="version", code="unknown_unit_version")
    parent_unit = None
    if parent:
        ref = parent if ":" in parent else f"{version}:{parent}"
        parent_unit = unit_resolve(ref)
        if parent_unit.version != version:
            raise DomainError(_("Đơn vị cha phải cùng phiên bản %(v)s.") % {"v": version}, field="parent")
    qs = units_search(q=q, version=version, parent=parent_unit, level=level or None).select_related("parent")
    return [
        UnitOut(version=u.version, code=u.code, ref=u.ref, level=u.level, name=u.name, short_name=u.short_name,
                parent=u.parent.code if u.parent else None, latitude=u.latitude, longitude=u.longitude)
        for u in qs[: max(1, min(limit, 1000))]
    ]
