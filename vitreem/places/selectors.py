"""Reading administrative units: resolve written references, walk the tree and the crosswalk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError, NotFound
from vitreem.core.text import fold_words, unit_key

from .models import AdminUnit, Level, TreeStamp, UnitSuccession, Version, version_on


def today() -> dt.date:
    return timezone.localdate()


def unit_resolve(ref: str | AdminUnit, *, on: dt.date | None = None) -> AdminUnit:
    """Turn "23293", "legacy:23293" or "2025:23293" into a unit.

    A bare code means the version in force on `on` (today by default). An explicit version that
    is not in force on `on` is refused when `on` is given, so a 2022 record cannot point at a
    2025 unit by mistake.
    """
    if isinstance(ref, AdminUnit):
        unit = ref
    else:
        text = str(ref).strip()
        version, sep, code = text.partition(":")
        if not sep:
            version, code = version_on(on or today()), text
        if version not in Version.values:
            raise DomainError(_("Phiên bản đơn vị hành chính không hợp lệ: %(v)s (dùng legacy hoặc 2025).")
                              % {"v": version}, field="unit", code="unknown_unit_version")
        if not code.isdigit():
            raise DomainError(_("Mã đơn vị hành chính không hợp lệ: %(c)s.") % {"c": code},
                              field="unit", code="unknown_unit")
        try:
            unit = AdminUnit.objects.get(version=version, code=code)
        except AdminUnit.DoesNotExist:
            raise NotFound(_("Không có đơn vị hành chính mã %(c)s (phiên bản %(v)s).") % {"c": code, "v": version},
                           field="unit", code="unknown_unit") from None
    if on is not None and not unit.valid_on(on):
        raise DomainError(
            _("Đơn vị %(name)s (%(ref)s) không còn/chưa có hiệu lực vào ngày %(day)s.")
            % {"name": unit.name, "ref": unit.ref, "day": on.strftime("%d/%m/%Y")},
            field="unit", code="unit_wrong_version",
        )
    return unit


def unit_children(unit: AdminUnit) -> QuerySet[AdminUnit]:
    return AdminUnit.objects.filter(parent=unit).order_by("code")


_suspended: ContextVar[bool] = ContextVar("tree_stamp_suspended")


T = TypeVar("T")

# What the current request has read once (`stamp_read_once`, `read_once`), by name: the unit tree's stamp
# and the statistics' stamps table. None outside a request.
_read_once: ContextVar[dict[str, Any] | None] = ContextVar("request_read_once", default=None)


def read_once(name: str, compute: Callable[[], T]) -> T:
    """`compute()`, once per request under `name` inside `stamp_read_once()` (every call outside one: the
    task worker, a command). For what a request reads several times and only a write of its own changes
    (the writer calls `forget_read(name)`)."""
    box = _read_once.get()
    if box is None:
        return compute()
    if name not in box:
        box[name] = compute()
    return box[name]


def forget_read(name: str) -> None:
    """The request's next `read_once(name, …)` reads again (after this request wrote what it read)."""
    box = _read_once.get()
    if box is not None:
        box.pop(name, None)


def tree_stamp() -> dt.datetime | None:
    """When the unit tree last changed (`TreeStamp`), None before any change was stamped. Inside
    `stamp_read_once()` (a request) it is read once: the scope and the statistics then derive from the
    same stamp, and a request makes the same queries however long it takes."""
    return read_once("tree", lambda: TreeStamp.objects.values_list("changed_at", flat=True).first())


def stamp_is_read_once() -> bool:
    """True inside `stamp_read_once()`: `tree_stamp()` costs at most one query for the whole of it."""
    return _read_once.get() is not None


@contextmanager
def stamp_read_once() -> Iterator[None]:
    """Within the block (a request: core.middleware), the unit tree's stamp and whatever else is read through
    `read_once` are read at most once. Within an open block it opens none of its own: a computation of
    figures (stats.engine) reads the tree's stamp once, in a request as in the task worker, and sees one
    tree from start to end."""
    if _read_once.get() is not None:
        yield
        return
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def kept_while_tree_unchanged(memo: dict, key: Any, compute: Callable[[], Any], *, limit: int = 10_000) -> Any:
    """`compute()`, kept per process in `memo` under `key` while the unit tree's stamp (`tree_stamp()`:
    read once per request) does not move: what is derived from the tree alone (the units under an
    assignment, a scope's unit options) is not derived again on every request. The stamp is a time,
    not a counter: a change rolled back (a test) cannot repeat a stamp. At most `limit` keys (one per
    distinct assignment or scope): bounded all the same."""
    stamp = tree_stamp()
    kept = memo.get(key)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    value = compute()
    if len(memo) > limit:
        memo.clear()
    memo[key] = (stamp, value)
    return value


# The crosswalk's default successions, kept per process while the unit tree's stamp does not move
# (`default_links`).
_LINKS: dict[str, Any] = {}


def default_links() -> dict[int, frozenset[int]]:
    """{commune: the communes its default succession links it to, either way}: a legacy commune's
    default 2025 successor, and for a 2025 commune the legacy communes whose default successor it is.
    Kept per process while the unit tree's stamp does not move (`kept_while_tree_unchanged`; writing a
    crosswalk row stamps the tree): the 10,000 pairs of the national units are read once, in about
    8 ms, instead of a query of a page's communes' links (about 1 ms) on every page that shows a
    household's poverty (registry.rules.poverty_years_on)."""
    def read() -> dict[int, frozenset[int]]:
        linked: dict[int, set[int]] = {}
        for old, new in UnitSuccession.objects.filter(is_default=True).values_list("old_id", "new_id"):
            linked.setdefault(old, set()).add(new)
            linked.setdefault(new, set()).add(old)
        return {unit_id: frozenset(ids) for unit_id, ids in linked.items()}

    return kept_while_tree_unchanged(_LINKS, "default", read)


# The unit tree's shape, kept per process while the unit tree's stamp does not move (`unit_tree`).
_SHAPE: dict[str, Any] = {}


@dataclass(frozen=True)
class UnitTree:
    """The shape of the unit tree, both versions: every commune's parent and grandparent (a legacy
    commune's district and province, a 2025 commune's province and None), and every unit's communes
    (`communes`: a commune's are itself)."""

    up: dict[int, tuple[int | None, int | None]]
    below: dict[int, frozenset[int]]  # a district's or province's communes (a commune's own is not kept)

    def communes(self, unit_id: int) -> frozenset[int]:
        if unit_id in self.up:
            return frozenset((unit_id,))
        return self.below.get(unit_id, frozenset())


def unit_tree() -> UnitTree:
    """The unit tree's shape (`UnitTree`), read in one query (14,000 communes of both versions nationally)
    and kept per process while the tree's stamp does not move (`kept_while_tree_unchanged`). The one
    place the figures learn which communes make up a unit (stats.engine) and which units lie above a
    commune (activities.selectors): each kept its own copy before, the engine's with a rule of its own
    (the stamp looked at once a second outside a request)."""
    def read() -> UnitTree:
        up: dict[int, tuple[int | None, int | None]] = {}
        below: dict[int, set[int]] = {}
        for pk, parent, grand in AdminUnit.objects.filter(level=Level.COMMUNE).values_list(
                "pk", "parent_id", "parent__parent_id"):
            up[pk] = (parent, grand)
            for unit_id in (parent, grand):
                if unit_id is not None:
                    below.setdefault(unit_id, set()).add(pk)
        return UnitTree(up=up, below={unit_id: frozenset(ids) for unit_id, ids in below.items()})

    return kept_while_tree_unchanged(_SHAPE, "shape", read)


def tree_changed(**_signal) -> None:
    """Stamp the unit tree as changed now (after a unit or a crosswalk row is written; a signal handler)."""
    if _suspended.get(False):
        return
    # one statement (an upsert): two edits at once cannot both try to create the row
    TreeStamp.objects.bulk_create([TreeStamp(pk=1, changed_at=timezone.now())], update_conflicts=True,
                                  unique_fields=["id"], update_fields=["changed_at"])
    box = _read_once.get()
    if box is not None:
        box.clear()  # the rest of the request derives from the new stamp


@contextmanager
def tree_changes() -> Iterator[None]:
    """A bulk load of the tree (`places_load`): one stamp at the end, not one per unit written."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)
    tree_changed()  # not reached when the load failed: its transaction is rolled back, the tree unchanged


def descendant_ids(units: Iterable[AdminUnit]) -> set[int]:
    """Ids of the units and everything below them (at most three levels). A commune has nothing below
    it: the walk does not ask for its children (for a province, one query of its ~100 communes' ids fewer;
    for a commune, none), and the ids go as one parameter (core.db.InIds)."""
    units = list(units)
    ids = {u.pk for u in units}
    frontier = [u.pk for u in units if u.level != Level.COMMUNE]
    while frontier:
        rows = list(AdminUnit.objects.filter(parent_id__in_ids=frontier).values_list("pk", "level"))
        ids.update(pk for pk, _level in rows)
        frontier = [pk for pk, level in rows if level != Level.COMMUNE]
    return ids


def communes_under(unit: AdminUnit) -> QuerySet[AdminUnit]:
    if unit.level == Level.COMMUNE:
        return AdminUnit.objects.filter(pk=unit.pk)
    return AdminUnit.objects.filter(pk__in=descendant_ids([unit]), level=Level.COMMUNE)


def unit_successors(unit: AdminUnit) -> QuerySet[UnitSuccession]:
    """The 2025 units a legacy unit became (several when it was split)."""
    if unit.level == Level.COMMUNE:
        olds = [unit.pk]
    else:
        olds = list(communes_under(unit).values_list("pk", flat=True))
    return UnitSuccession.objects.filter(old_id__in=olds).select_related("new", "old").order_by("new__code")


def unit_predecessors(unit: AdminUnit) -> QuerySet[UnitSuccession]:
    """The legacy units a 2025 unit was made from."""
    news = [unit.pk] if unit.level == Level.COMMUNE else list(communes_under(unit).values_list("pk", flat=True))
    return UnitSuccession.objects.filter(new_id__in=news).select_related("new", "old").order_by("old__code")


def unit_current(unit: AdminUnit) -> list[AdminUnit]:
    """The unit(s) in force today for a unit of either version (default successor first)."""
    if unit.version == Version.V2025:
        return [unit]
    rows = unit_successors(unit).order_by("-is_default", "new__code")
    seen: dict[int, AdminUnit] = {}
    for row in rows:
        seen.setdefault(row.new_id, row.new)
    return list(seen.values())


def units_search(*, q: str = "", version: str | None = None, parent: AdminUnit | None = None,
                 level: str | None = None) -> QuerySet[AdminUnit]:
    """Search by name ignoring diacritics and the "Xã/Phường/Thị trấn/Huyện/Tỉnh" prefixes, or by code."""
    qs = AdminUnit.objects.all()
    if version:
        qs = qs.filter(version=version)
    if parent is not None:
        qs = qs.filter(pk__in=descendant_ids([parent]) - {parent.pk})
    if level:
        qs = qs.filter(level=level)
    q = (q or "").strip()
    if q.isdigit():
        qs = qs.filter(code=q)
    elif q:
        key = unit_key(q)
        qs = qs.filter(search_key__contains=key)
        typed = fold_words(q)[: -len(key)].strip() if key != fold_words(q) else ""
        if typed:
            # The user wrote the type too ("Thị trấn Đăk Hà"): keep units of that type only.
            qs = qs.filter(unit_type__in=_types_folding_to(typed))
    return qs.order_by("version", "code")


def _types_folding_to(typed: str) -> list[str]:
    aliases = {"tp": "thanh pho", "tt": "thi tran", "tx": "thi xa"}
    typed = aliases.get(typed.rstrip("."), typed)
    types = AdminUnit.objects.values_list("unit_type", flat=True).distinct()
    return [t for t in types if fold_words(t) == typed]


def unit_find_by_name(name: str, *, within: Iterable[AdminUnit], level: str = Level.COMMUNE) -> list[AdminUnit]:
    """Units named `name` (exact key) under the given units — used by import to read "Xã Hà Mòn"."""
    key = unit_key(name)
    ids = descendant_ids(within)
    return list(AdminUnit.objects.filter(pk__in=ids, level=level, search_key=key))


# unit id → the code of its province in the 2025 version (the key child data is kept by; see fields.py).
_PROVINCE_2025: dict[int, str] = {}


def province_map() -> dict[int, str]:
    """Every unit's 2025 province code: its own for a 2025 unit; for a legacy unit, the province its
    communes went to on 2025-07-01 (every legacy province went whole into one 2025 province — the
    crosswalk has no legacy province split between two). Read once per process; reread on a miss."""
    if not _PROVINCE_2025:
        legacy_to_new = dict(UnitSuccession.objects.values_list("old__province_code", "new__province_code")
                             .distinct())
        for pk, version, code in AdminUnit.objects.values_list("pk", "version", "province_code"):
            _PROVINCE_2025[pk] = code if version == Version.V2025 else legacy_to_new.get(code, "")
    return _PROVINCE_2025


def province_code_of(unit_id: int | None) -> str:
    """The 2025 province code of a unit ("" for none)."""
    if unit_id is None:
        return ""
    found = province_map().get(unit_id)
    if found is None:  # units loaded after the map was read
        _PROVINCE_2025.clear()
        found = province_map().get(unit_id, "")
    return found
