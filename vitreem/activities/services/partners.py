"""Partners, projects and the budget: the province's money and agreements, edited by the standing agency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import DomainError, PermissionDenied, ValidationFailed
from vitreem.core.scope import require_unit, scope_for
from vitreem.core.text import nfc
from vitreem.places.models import AdminUnit, Level

from ..models import (
    BudgetAllocation,
    ModelType,
    Partner,
    PartnerKind,
    Project,
    Purpose,
    Source,
    Spending,
)
from ._common import _choice, _date, _int, _required_unit, _unit

# ---------------------------------------------------------------- partners and projects

def _require_province(actor: User) -> None:
    if not scope_for(actor).standing_agency:
        raise PermissionDenied(_("Chỉ cán bộ cấp tỉnh được quản lý danh mục đối tác."))


@transaction.atomic
def partner_create(*, actor: User, name: str, kind: str = PartnerKind.INTL_NGO, country: str = "",
                   contact: str = "") -> Partner:
    _require_province(actor)
    errors: dict[str, str] = {}
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên đối tác.")
    elif Partner.objects.filter(name__iexact=name).exists():
        errors["name"] = _("Đã có đối tác tên %(n)s.") % {"n": name}
    _choice(kind, PartnerKind, "kind", errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    partner = Partner.objects.create(name=name, kind=kind, country=nfc(country)[:80], contact=nfc(contact)[:200])
    audit_change(actor=actor, action="partner.create", obj=partner, changes=snapshot(partner))
    return partner


@transaction.atomic
def project_create(*, actor: User, partner: Partner, name: str, unit: AdminUnit | str, start_date: dt.date,
                   end_date: dt.date | None = None, model_type: str = ModelType.OTHER, funding: int = 0,
                   communes: Iterable[AdminUnit | str] = (), results: str = "") -> Project:
    errors: dict[str, str] = {}
    owner = _unit(unit)
    if owner is None:
        errors["unit"] = _("Chọn đơn vị quản lý dự án.")
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên dự án, mô hình.")
    if start_date is None:
        errors["start_date"] = _("Nhập ngày bắt đầu.")
    elif end_date is not None and end_date < start_date:
        errors["end_date"] = _("Ngày kết thúc trước ngày bắt đầu.")
    _choice(model_type, ModelType, "model_type", errors, required=True)
    if funding < 0:
        errors["funding"] = _("Phải là số không âm.")
    covered = [c for c in (_unit(c) for c in communes) if c is not None]
    if any(c.level != Level.COMMUNE for c in covered):
        errors["communes"] = _("Chỉ chọn xã, phường.")
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None  # noqa: S101 — required by the checks above
    require_unit(actor, owner)
    for commune in covered:
        require_unit(actor, commune)
    project = Project.objects.create(partner=partner, name=name, unit=owner, start_date=start_date, end_date=end_date,
                                     model_type=model_type, funding=funding, results=nfc(results))
    project.communes.set(covered)
    audit_change(actor=actor, action="project.create", obj=project, unit=owner,
                 changes={**snapshot(project), "communes": [c.pk for c in covered]})
    return project


@transaction.atomic
def project_results_set(*, actor: User, project: Project, results: str) -> Project:
    require_unit(actor, project.unit)
    before = project.results
    project.results = nfc(results)
    project.save(update_fields=["results"])
    audit_change(actor=actor, action="project.results", obj=project, unit=project.unit_id,
                 changes={"results": [before, project.results]})
    return project


# ---------------------------------------------------------------- budget

@transaction.atomic
def allocation_create(*, actor: User, year: int, unit: AdminUnit | str, source: str, purpose: str, amount: int,
                      member_unit: MemberUnit | None = None, project: Project | None = None,
                      note: str = "") -> BudgetAllocation:
    errors: dict[str, str] = {}
    owner = _unit(unit)
    if owner is None:
        errors["unit"] = _("Chọn đơn vị.")
    if not 2000 <= int(year or 0) <= 2100:
        errors["year"] = _("Năm không hợp lệ.")
    _choice(source, Source, "source", errors, required=True)
    _choice(purpose, Purpose, "purpose", errors, required=True)
    if amount is None or amount <= 0:
        errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if project is not None and "year" not in errors and not _year_in_project(project, int(year)):
        errors["year"] = _("Năm %(y)d nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "y": int(year), "n": project.name, "p": _period_text(project)}
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None  # noqa: S101 — required by the checks above
    require_unit(actor, owner)
    line = BudgetAllocation.objects.create(year=year, unit=owner, source=source, purpose=purpose, amount=amount,
                                           member_unit=member_unit, project=project, note=nfc(note)[:255])
    audit_change(actor=actor, action="budget.allocate", obj=line, unit=owner, changes=snapshot(line))
    return line


def allocation_find(*, year: int, unit: AdminUnit, source: str, purpose: str,
                    member_unit: MemberUnit | None = None) -> BudgetAllocation | None:
    return BudgetAllocation.objects.filter(year=year, unit=unit, source=source, purpose=purpose,
                                           member_unit=member_unit).order_by("pk").first()


@transaction.atomic
def spending_record(*, actor: User, amount: int, spent_on: dt.date, allocation: BudgetAllocation | int | None = None,
                    unit: AdminUnit | str | None = None, source: str = "", purpose: str = "",
                    member_unit: MemberUnit | None = None, description: str = "") -> Spending:
    """Spend from a budget line, named directly or by (year of spent_on, unit, source, purpose).
    Spending with no allocation line is refused: every đồng spent must trace to a budget line."""
    errors: dict[str, str] = {}
    if amount is None or amount <= 0:
        errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if spent_on is None:
        errors["spent_on"] = _("Nhập ngày chi.")
    if errors:
        raise ValidationFailed(errors)
    line: BudgetAllocation | None
    if isinstance(allocation, BudgetAllocation):
        line = allocation
    elif allocation:
        line = BudgetAllocation.objects.filter(pk=allocation).first()
    else:
        owner = _unit(unit)
        line = allocation_find(year=spent_on.year, unit=owner, source=source, purpose=purpose,
                               member_unit=member_unit) if owner else None
    if line is None:
        raise DomainError(_("Không có dòng dự toán kinh phí cho khoản chi này (năm %(y)d, nguồn, mục đích): "
                            "lập dự toán trước khi ghi chi.") % {"y": spent_on.year},
                          field="allocation", code="no_allocation")
    require_unit(actor, line.unit)
    if line.year != spent_on.year:
        raise ValidationFailed({"spent_on": _("Ngày chi thuộc năm %(a)d, dòng dự toán thuộc năm %(y)d.") % {
            "a": spent_on.year, "y": line.year}})
    # the project as stored now (a line object passed in may carry an older copy of it)
    project = Project.objects.filter(pk=line.project_id).first() if line.project_id else None
    if project is not None and not _in_project_period(project, spent_on):
        raise ValidationFailed({"spent_on": _("Ngày chi %(d)s nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "d": spent_on.strftime("%d/%m/%Y"), "n": project.name, "p": _period_text(project)}})
    spending = Spending.objects.create(allocation=line, amount=amount, spent_on=spent_on,
                                       description=nfc(description)[:255],
                                       created_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="budget.spend", obj=spending, unit=line.unit_id, changes=snapshot(spending))
    return spending


# ---------------------------------------------------------------- settings screens: edit partners, projects,
# budget lines and spending. Only the standing agency (province officers, admins) edits them: they are
# the province's money and agreements, kept the same for every commune that reads them.

def require_officer(actor: User) -> None:
    if not scope_for(actor).standing_agency:
        raise PermissionDenied(_("Chỉ cán bộ cấp tỉnh (cơ quan thường trực) được sửa đối tác, dự án và kinh phí."),
                               code="forbidden")


def _period_text(project: Project) -> str:
    end = project.end_date.strftime("%d/%m/%Y") if project.end_date else "…"
    return f"{project.start_date.strftime('%d/%m/%Y')} – {end}"


def _in_project_period(project: Project | None, day: dt.date) -> bool:
    return project is None or (project.start_date <= day and (project.end_date is None or day <= project.end_date))


def _year_in_project(project: Project | None, year: int) -> bool:
    return project is None or (project.start_date.year <= year
                               and (project.end_date is None or year <= project.end_date.year))


@transaction.atomic
def partner_update(*, actor: User, partner: Partner, data: dict[str, Any]) -> Partner:
    require_officer(actor)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    errors: dict[str, str] = {}
    before = snapshot(partner)
    if "name" in data:
        name = nfc(data["name"] or "").strip()
        if not name:
            errors["name"] = _("Nhập tên đối tác.")
        elif Partner.objects.filter(name__iexact=name).exclude(pk=partner.pk).exists():
            errors["name"] = _("Đã có đối tác tên %(n)s.") % {"n": name}
        partner.name = name
    if "kind" in data:
        partner.kind = _choice(data["kind"], PartnerKind, "kind", errors, required=True)
    if "country" in data:
        partner.country = nfc(data["country"] or "").strip()[:80]
    if "contact" in data:
        partner.contact = nfc(data["contact"] or "").strip()[:200]
    if "active" in data:
        partner.active = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    partner.save()
    audit_change(actor=actor, action="partner.update", obj=partner, changes=diff(before, snapshot(partner)))
    return partner


@transaction.atomic
def project_update(*, actor: User, project: Project, data: dict[str, Any]) -> Project:
    """Edit a project. Its period must still hold the budget lines and spending already tied to it."""
    require_officer(actor)
    project = Project.objects.select_for_update().get(pk=project.pk)
    require_unit(actor, project.unit)
    errors: dict[str, str] = {}
    before = {**snapshot(project), "communes": sorted(project.communes.values_list("pk", flat=True))}
    if "partner" in data:
        partner = data["partner"]
        if partner is not None and not isinstance(partner, Partner):
            partner = Partner.objects.filter(pk=partner).first() if str(partner).isdigit() else None
        if partner is None:
            errors["partner"] = _("Chọn đối tác.")
        else:
            project.partner = partner
    if "name" in data:
        project.name = nfc(data["name"] or "").strip()[:200]
        if not project.name:
            errors["name"] = _("Nhập tên dự án, mô hình.")
    if "unit" in data:
        owner = _required_unit(data["unit"], errors, _("Chọn đơn vị quản lý dự án."))
        if owner is not None:
            project.unit = owner
    if "model_type" in data:
        project.model_type = _choice(data["model_type"], ModelType, "model_type", errors, required=True)
    if "start_date" in data:
        project.start_date = _date(data["start_date"], "start_date", errors)  # type: ignore[assignment]
        if project.start_date is None and "start_date" not in errors:
            errors["start_date"] = _("Nhập ngày bắt đầu.")
    if "end_date" in data:
        project.end_date = _date(data["end_date"], "end_date", errors)
    if project.start_date and project.end_date and project.end_date < project.start_date:
        errors["end_date"] = _("Ngày kết thúc trước ngày bắt đầu.")
    if "funding" in data:
        project.funding = _int(data["funding"], "funding", errors, maximum=10**13)
        if "funding" in errors:
            errors["funding"] = _("Kinh phí tài trợ phải là số đồng không âm.")
    covered = None
    if "communes" in data:
        covered = [c for c in (_unit(c) for c in data["communes"] or []) if c is not None]
        if any(c.level != Level.COMMUNE for c in covered):
            errors["communes"] = _("Chỉ chọn xã, phường.")
    if "results" in data:
        project.results = nfc(data["results"] or "")
    if not errors and project.start_date:
        # the lines and payments already booked to the project must stay inside its period
        for line in project.allocations.all():
            if not _year_in_project(project, line.year):
                errors["start_date" if line.year < project.start_date.year else "end_date"] = _(
                    "Dự án có dòng dự toán năm %(y)d, ngoài thời gian %(p)s.") % {"y": line.year,
                                                                              "p": _period_text(project)}
        spent = Spending.objects.filter(allocation__project=project).order_by("spent_on")
        for spending in (spent.first(), spent.last()):
            if spending is not None and not _in_project_period(project, spending.spent_on):
                errors.setdefault("start_date" if spending.spent_on < project.start_date else "end_date", _(
                    "Dự án có khoản chi ngày %(d)s, ngoài thời gian %(p)s.") % {
                    "d": spending.spent_on.strftime("%d/%m/%Y"), "p": _period_text(project)})
    if errors:
        raise ValidationFailed(errors)
    require_unit(actor, project.unit)
    for commune in covered or []:
        require_unit(actor, commune)
    project.save()
    if covered is not None:
        project.communes.set(covered)
    after = {**snapshot(project), "communes": sorted(project.communes.values_list("pk", flat=True))}
    audit_change(actor=actor, action="project.update", obj=project, unit=project.unit, changes=diff(before, after))
    return project


def _line_checks(line: BudgetAllocation, errors: dict[str, str]) -> None:
    """A budget line tied to a project falls in the project's years; its spending stays in its year."""
    if line.project is not None and not _year_in_project(line.project, line.year):
        errors["year"] = _("Năm %(y)d nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "y": line.year, "n": line.project.name, "p": _period_text(line.project)}
    if line.pk:
        other = line.spendings.exclude(spent_on__year=line.year).order_by("spent_on").first()
        if other is not None:
            errors["year"] = _("Dòng dự toán đã có khoản chi ngày %(d)s: không đổi sang năm %(y)d được.") % {
                "d": other.spent_on.strftime("%d/%m/%Y"), "y": line.year}
        if line.project is not None:
            outside = [s for s in line.spendings.all() if not _in_project_period(line.project, s.spent_on)]
            if outside:
                errors["project"] = _("Khoản chi ngày %(d)s nằm ngoài thời gian của dự án (%(p)s).") % {
                    "d": outside[0].spent_on.strftime("%d/%m/%Y"), "p": _period_text(line.project)}


@transaction.atomic
def allocation_update(*, actor: User, line: BudgetAllocation, data: dict[str, Any]) -> BudgetAllocation:
    """Edit a budget line. Spending above the line is not refused (it is shown as "vượt dự toán" in
    the budget table, as in the finance office's own reports); the amount must be a positive number."""
    require_officer(actor)
    line = BudgetAllocation.objects.select_for_update().get(pk=line.pk)
    require_unit(actor, line.unit)
    errors: dict[str, str] = {}
    before = snapshot(line)
    if "year" in data:
        try:
            line.year = int(data["year"])
        except (TypeError, ValueError):
            line.year = 0
        if not 2000 <= line.year <= 2100:
            errors["year"] = _("Năm không hợp lệ.")
    if "unit" in data:
        owner = _required_unit(data["unit"], errors, _("Chọn đơn vị."))
        if owner is not None:
            line.unit = owner
    if "member_unit" in data:
        line.member_unit = data["member_unit"] or None
    if "source" in data:
        line.source = _choice(data["source"], Source, "source", errors, required=True)
    if "purpose" in data:
        line.purpose = _choice(data["purpose"], Purpose, "purpose", errors, required=True)
    if "amount" in data:
        line.amount = _int(data["amount"], "amount", errors, maximum=10**13)
        if "amount" in errors or line.amount <= 0:
            errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if "project" in data:
        project = data["project"]
        if project not in (None, "") and not isinstance(project, Project):
            project = Project.objects.filter(pk=project).first() if str(project).isdigit() else None
            if project is None:
                errors["project"] = _("Không có dự án này.")
        line.project = project or None
    if "note" in data:
        line.note = nfc(data["note"] or "").strip()[:255]
    if "year" not in errors:
        _line_checks(line, errors)
    if errors:
        raise ValidationFailed(errors)
    require_unit(actor, line.unit)
    line.save()
    audit_change(actor=actor, action="budget.allocation.update", obj=line, unit=line.unit,
                 changes=diff(before, snapshot(line)))
    return line


@transaction.atomic
def spending_update(*, actor: User, spending: Spending, data: dict[str, Any]) -> Spending:
    """Edit a payment. The spending of an activity follows the activity's cost and date: edit the activity."""
    require_officer(actor)
    spending = Spending.objects.select_for_update().select_related("allocation").get(pk=spending.pk)
    require_unit(actor, spending.allocation.unit)
    if spending.activity_id:
        raise ValidationFailed({"amount": _("Khoản chi này là chi phí của hoạt động %(t)s: sửa chi phí trong "
                                            "hoạt động.") % {"t": spending.description}})
    errors: dict[str, str] = {}
    before = snapshot(spending)
    if "allocation" in data:
        line = data["allocation"]
        if line not in (None, "") and not isinstance(line, BudgetAllocation):
            line = BudgetAllocation.objects.filter(pk=line).first() if str(line).isdigit() else None
        if not line:
            errors["allocation"] = _("Chọn dòng dự toán.")
        elif not scope_for(actor).sees_unit(line.unit_id):
            errors["allocation"] = _("Dòng dự toán thuộc đơn vị ngoài phạm vi của bạn.")
        else:
            spending.allocation = line
    if "amount" in data:
        spending.amount = _int(data["amount"], "amount", errors, maximum=10**13)
        if "amount" in errors or spending.amount <= 0:
            errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if "spent_on" in data:
        day = _date(data["spent_on"], "spent_on", errors)
        if day is None:
            errors.setdefault("spent_on", _("Nhập ngày chi."))
        else:
            spending.spent_on = day
    if "description" in data:
        spending.description = nfc(data["description"] or "").strip()[:255]
    if "allocation" not in errors and "spent_on" not in errors:
        line = spending.allocation
        if line.year != spending.spent_on.year:
            errors["spent_on"] = _("Ngày chi thuộc năm %(a)d, dòng dự toán thuộc năm %(y)d.") % {
                "a": spending.spent_on.year, "y": line.year}
        elif line.project is not None and not _in_project_period(line.project, spending.spent_on):
            errors["spent_on"] = _("Ngày chi %(d)s nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
                "d": spending.spent_on.strftime("%d/%m/%Y"), "n": line.project.name,
                "p": _period_text(line.project)}
    if errors:
        raise ValidationFailed(errors)
    spending.save()
    audit_change(actor=actor, action="budget.spend.update", obj=spending, unit=spending.allocation.unit_id,
                 changes=diff(before, snapshot(spending)))
    return spending
