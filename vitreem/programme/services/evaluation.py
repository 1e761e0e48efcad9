"""The year's evaluation: explanations of missed targets, finalisation, member units' ratings."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, PermissionDenied, ValidationFailed

from ..models import (
    Explanation,
    Indicator,
    MemberUnitEvaluation,
    Rating,
    YearEvaluation,
)
from ..permissions import is_manager, require_manager, require_member_unit_write
from ._common import _text

# ---------------------------------------------------------------- evaluation


def _finalised(year: int) -> bool:
    return YearEvaluation.objects.filter(year=year, finalised_at__isnull=False).exists()


@transaction.atomic
def explanation_write(*, actor: User, indicator: Indicator, year: int, causes: str, solutions: str) -> Explanation:
    """Why a target was not met and what will be done: by the indicator's owner unit or the standing agency."""
    if not is_manager(actor):
        if indicator.owner_id is None:
            raise PermissionDenied(_("Chỉ tiêu chưa có đơn vị phụ trách; cơ quan thường trực giải trình."))
        require_member_unit_write(actor, indicator.owner_id)
    errors = {}
    if not _text(causes):
        errors["causes"] = _("Hãy nêu nguyên nhân không đạt chỉ tiêu.")
    if not _text(solutions):
        errors["solutions"] = _("Hãy nêu giải pháp khắc phục.")
    if errors:
        raise ValidationFailed(errors)
    if _finalised(year):
        raise Conflict(_("Đánh giá năm %(y)s đã hoàn tất; không sửa được giải trình.") % {"y": year},
                       code="finalised")
    explanation = Explanation.objects.filter(indicator=indicator, year=year).first() or Explanation(
        indicator=indicator, year=year)
    before = snapshot(explanation, ["causes", "solutions"]) if explanation.pk else {}
    explanation.causes, explanation.solutions = _text(causes), _text(solutions)
    explanation.member_unit = actor.member_unit if actor.member_unit_id else indicator.owner
    explanation.written_by = actor
    explanation.save()
    audit_change(actor=actor, action="programme.explanation.write", obj=explanation,
                 changes={"indicator": indicator.code, "year": year,
                          **diff(before, snapshot(explanation, ["causes", "solutions"]))})
    return explanation


@transaction.atomic
def evaluation_finalise(*, actor: User, year: int, summary: str = "") -> YearEvaluation:
    """Close the year's evaluation. Every not-achieved target must carry an explanation."""
    require_manager(actor)
    from ..selectors import evaluation_for_year

    evaluation = evaluation_for_year(year=year, with_trend=False)
    missing = [row["name"] for row in evaluation["targets"] if row["status"] == "not_achieved"
               and not row["explanation"]]
    if missing:
        raise ValidationFailed({"explanations": _(
            "Còn %(n)s chỉ tiêu không đạt chưa có giải trình: %(names)s.") % {
            "n": len(missing), "names": "; ".join(missing)}})
    row, _created = YearEvaluation.objects.select_for_update().get_or_create(year=year)
    if row.finalised_at:
        raise Conflict(_("Đánh giá năm %(y)s đã hoàn tất.") % {"y": year}, code="finalised")
    row.finalised_at, row.finalised_by, row.summary = timezone.now(), actor, _text(summary)
    row.save()
    audit_change(actor=actor, action="programme.evaluation.finalise", obj=row, changes={"year": year})
    return row


@transaction.atomic
def member_evaluation_confirm(*, actor: User, year: int, member_unit: MemberUnit, rating: str,
                              comment: str = "") -> MemberUnitEvaluation:
    """The standing agency confirms (or changes) a member unit's rating for the year."""
    require_manager(actor)
    if rating not in Rating.values:
        raise ValidationFailed({"rating": _("Mức xếp loại không hợp lệ.")})
    row = MemberUnitEvaluation.objects.filter(year=year, member_unit=member_unit).first() or MemberUnitEvaluation(
        year=year, member_unit=member_unit)
    before = snapshot(row, ["rating", "comment"]) if row.pk else {}
    row.rating, row.comment = rating, _text(comment)
    row.confirmed_at, row.confirmed_by = timezone.now(), actor
    row.save()
    audit_change(actor=actor, action="programme.member_evaluation.confirm", obj=row,
                 changes={"member_unit": member_unit.code, "year": year,
                          **diff(before, snapshot(row, ["rating", "comment"]))})
    return row
