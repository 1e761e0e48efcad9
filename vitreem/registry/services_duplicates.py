"""Every write of duplicate review: two records marked as different children, or one merged into the
other. Validated, scoped, one transaction, audited on both records.

Scoring and the scan, which propose the pairs, stay in `duplicates.py`; the review queue's reads are
in `selectors.py`. A module of its own beside `services.py` (as `views_duplicates.py` and
`urls_duplicates.py` are beside theirs): the merge and its helpers would take `services.py` close to
the ~800-line limit of a module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change
from vitreem.core.errors import Conflict, DomainError, NotFound
from vitreem.core.scope import require_unit
from vitreem.places.models import AdminUnit, Version

from .duplicates import _decided_pairs
from .models import (
    Child,
    DuplicateCandidate,
    DuplicateDecision,
    EndReason,
    Guardian,
    Residence,
)


def _today() -> dt.date:
    return timezone.localdate()


def _ordered(a: Child, b: Child) -> tuple[Child, Child]:
    return (a, b) if a.pk < b.pk else (b, a)


def _current_provinces(unit: AdminUnit) -> set[str]:
    """The province code(s) a unit belongs to today: a legacy unit's through its 2025 successors."""
    if unit.version == Version.V2025:
        return {unit.province_code}
    from vitreem.places.selectors import unit_current

    return {u.province_code for u in unit_current(unit)} or {unit.province_code}


def _check_pair(actor: User, a: Child, b: Child) -> None:
    if a.pk == b.pk:
        raise DomainError(_("Không thể gộp hoặc so sánh một hồ sơ với chính nó."), field="survivor", code="same_record")
    for child in (a, b):
        # Out of scope looks like "not found": we do not reveal that the record exists.
        try:
            require_unit(actor, child.unit)
        except DomainError as exc:
            if exc.code == "out_of_scope":
                raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None
            raise
    for child in (a, b):
        if child.ended_on is not None or child.merged_into_id is not None:
            raise Conflict(_("Hồ sơ %(name)s (mã %(id)s) đã kết thúc (%(reason)s), không xử lý được nữa.")
                           % {"name": child.full_name, "id": child.pk,
                              "reason": child.get_end_reason_display() or "—"}, field="survivor",
                           code="record_ended")


def _decided(a: Child, b: Child) -> DuplicateDecision | None:
    lo, hi = _ordered(a, b)
    return DuplicateDecision.objects.filter(Q(child_a=lo, child_b=hi) | Q(child_a=hi, child_b=lo)).first()


def _candidate(a: Child, b: Child) -> DuplicateCandidate | None:
    lo, hi = _ordered(a, b)
    return DuplicateCandidate.objects.filter(Q(child_a=lo, child_b=hi) | Q(child_a=hi, child_b=lo)).first()


def _lock(*children: Child) -> list[Child]:
    locked = Child.objects.select_for_update().select_related("unit").in_bulk([c.pk for c in children])
    missing = [c.pk for c in children if c.pk not in locked]
    if missing:
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem."))
    return [locked[c.pk] for c in children]


@transaction.atomic
def duplicate_mark_distinct(*, actor: User, child_a: Child, child_b: Child, reason: str = "") -> DuplicateDecision:
    """The two records are different children: the pair is never proposed again."""
    a, b = _lock(*_ordered(child_a, child_b))
    _check_pair(actor, a, b)
    if _decided(a, b) is not None:
        raise Conflict(_("Cặp hồ sơ này đã được xử lý."), code="already_decided")
    decision = DuplicateDecision.objects.create(child_a=a, child_b=b, verdict=DuplicateDecision.Verdict.DISTINCT,
                                                decided_by=actor, reason=reason[:255])
    DuplicateCandidate.objects.filter(Q(child_a=a, child_b=b) | Q(child_a=b, child_b=a)).update(
        status=DuplicateCandidate.Status.DISTINCT)
    for child, other in ((a, b), (b, a)):
        audit_change(actor=actor, action="child.duplicate_distinct", obj=child, unit=child.unit,
                     changes={"other": other.pk, "reason": reason})
    return decision


def _related_fields() -> list[models.ForeignObjectRel]:
    """Every relation of another model to Child, except the duplicate bookkeeping and merged_into."""
    skip = {DuplicateCandidate, DuplicateDecision, Child}
    return [rel for rel in Child._meta.related_objects if rel.related_model not in skip]


def _overlaps(start: dt.date, end: dt.date | None, others: list[tuple[dt.date, dt.date | None]]) -> bool:
    far = dt.date.max
    return any(start <= (o_end or far) and o_start <= (end or far) for o_start, o_end in others)


@transaction.atomic
def child_merge(*, actor: User, survivor: Child, merged: Child, reason: str = "") -> Child:
    """Merge the record `merged` into `survivor`: everything that points at `merged` (guardians,
    episodes, risk assessments, residences, rows of other apps) moves to the survivor; `merged`
    ends (end_reason "merged") and keeps a pointer to the survivor. Audited on both records.

    Kept on the merged record, so nothing is lost or doubled: guardians whose name and relationship
    the survivor already has, and residences overlapping the survivor's own (two places at once)."""
    survivor, merged = _lock(survivor, merged)
    _check_pair(actor, survivor, merged)
    if _current_provinces(survivor.unit).isdisjoint(_current_provinces(merged.unit)):
        raise DomainError(_("Không thể gộp hai hồ sơ thuộc hai tỉnh khác nhau (%(a)s và %(b)s).")
                          % {"a": survivor.unit.name, "b": merged.unit.name}, field="survivor",
                          code="other_province")
    decision = _decided(survivor, merged)
    if decision is not None:
        raise Conflict(_("Cặp hồ sơ này đã được đánh dấu là %(v)s.") % {"v": decision.get_verdict_display()},
                       code="already_decided")
    moved: dict[str, int] = {}

    have = set(survivor.guardians.values_list("name_key", "relationship"))
    dup_guardians = [g.pk for g in merged.guardians.all() if (g.name_key, g.relationship) in have]
    moved["registry.guardian"] = merged.guardians.exclude(pk__in=dup_guardians).update(child=survivor)

    spans = list(survivor.residences.values_list("start", "end"))
    movable = [r.pk for r in merged.residences.all() if not _overlaps(r.start, r.end, spans)]
    moved["registry.residence"] = Residence.objects.filter(pk__in=movable).update(child=survivor)
    merged.residences.filter(end__isnull=True).update(end=_today())

    for rel in _related_fields():
        model: Any = rel.related_model
        field = rel.field
        label = model._meta.label_lower
        if model in (Guardian, Residence):
            continue
        try:
            with transaction.atomic():
                if rel.many_to_many:
                    owners = list(model.objects.filter(**{field.name: merged}))
                    for obj in owners:
                        manager = getattr(obj, field.name)
                        manager.remove(merged)
                        manager.add(survivor)
                    count = len(owners)
                elif rel.one_to_one and model.objects.filter(**{field.name: survivor}).exists():
                    continue  # the survivor has its own; the merged record keeps its one
                else:
                    count = model.objects.filter(**{field.name: merged}).update(**{field.name: survivor})
        except IntegrityError:
            raise Conflict(_("Không gộp được: dữ liệu \"%(what)s\" của hai hồ sơ trùng nhau; hãy xử lý phần đó trước.")
                           % {"what": model._meta.verbose_name}, code="merge_conflict") from None
        if count:
            moved[label] = moved.get(label, 0) + count

    today = _today()
    merged.ended_on, merged.end_reason, merged.merged_into = today, EndReason.MERGED, survivor
    merged.version += 1
    merged.save(update_fields=["ended_on", "end_reason", "merged_into", "version", "updated_at"])
    survivor.version += 1
    survivor.save(update_fields=["version", "updated_at"])

    lo, hi = _ordered(survivor, merged)
    DuplicateDecision.objects.create(child_a=lo, child_b=hi, verdict=DuplicateDecision.Verdict.MERGED,
                                     decided_by=actor, reason=reason[:255])
    candidate = _candidate(survivor, merged)
    if candidate is not None:
        candidate.status = DuplicateCandidate.Status.MERGED
        candidate.save(update_fields=["status"])
    _repoint_open_candidates(merged, survivor)

    moved = {k: v for k, v in moved.items() if v}
    audit_change(actor=actor, action="child.merge", obj=survivor, unit=survivor.unit,
                 changes={"merged": merged.pk, "moved": moved, "reason": reason})
    audit_change(actor=actor, action="child.merged_into", obj=merged, unit=merged.unit,
                 changes={"merged_into": survivor.pk, "ended_on": today, "end_reason": EndReason.MERGED,
                          "moved": moved, "reason": reason})
    return survivor


def _repoint_open_candidates(merged: Child, survivor: Child) -> None:
    """Open candidates of the merged record become candidates of the survivor (a triplicate stays
    in the queue), unless that pair is already queued or decided."""
    stale = list(DuplicateCandidate.objects.filter(Q(child_a=merged) | Q(child_b=merged),
                                                   status=DuplicateCandidate.Status.OPEN))
    if not stale:
        return
    queued = {(min(a, b), max(a, b)) for a, b in DuplicateCandidate.objects.filter(
        Q(child_a=survivor) | Q(child_b=survivor)).values_list("child_a_id", "child_b_id")}
    decided = _decided_pairs()
    for cand in stale:
        other = cand.child_b_id if cand.child_a_id == merged.pk else cand.child_a_id
        pair = (min(other, survivor.pk), max(other, survivor.pk))
        cand.delete()
        if other != survivor.pk and pair not in queued and pair not in decided:
            queued.add(pair)
            unit_id = survivor.unit_id if pair[0] == survivor.pk else Child.objects.values_list(
                "unit_id", flat=True).get(pk=other)
            DuplicateCandidate.objects.create(child_a_id=pair[0], child_b_id=pair[1], score=cand.score,
                                              reasons=cand.reasons, source=cand.source or "merge",
                                              unit_id=unit_id)
