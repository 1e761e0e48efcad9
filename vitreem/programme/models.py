"""The committee's programme of work: indicators and targets (National Action Programme for Children
2021–2030, Decision 23/QĐ-TTg), periodic reports of member units and communes, plans and tasks, and
the evaluation of a year.

Values of *computed* indicators are never stored: they come from the one statistics engine
(`vitreem.stats.engine`). Values of *reported* indicators come from accepted submissions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.accounts.models import MemberUnit
from vitreem.core.text import LocalName
from vitreem.places.models import AdminUnit


class Measure(models.TextChoices):
    NUMBER = "number", _("Số lượng")
    PERCENT = "percent", _("Tỷ lệ %")
    PER_1000 = "per_1000", _("Trên 1.000")
    PER_100000 = "per_100000", _("Trên 100.000")


# The factor a rate's numerator/denominator is multiplied by.
MEASURE_SCALE = {Measure.NUMBER: Decimal(1), Measure.PERCENT: Decimal(100), Measure.PER_1000: Decimal(1000),
                 Measure.PER_100000: Decimal(100000)}


class Direction(models.TextChoices):
    UP = "up", _("Càng cao càng tốt")
    DOWN = "down", _("Càng thấp càng tốt")


class Source(models.TextChoices):
    COMPUTED = "computed", _("Tính từ dữ liệu vitreem")
    REPORTED = "reported", _("Đơn vị báo cáo")


class Disaggregation(models.TextChoices):
    SEX = "sex", _("Giới tính")
    AGE = "age", _("Nhóm tuổi")
    ETHNICITY = "ethnicity", _("Dân tộc")
    UNIT = "unit", _("Đơn vị hành chính")


# The options of each disaggregation a data element can be broken down by. The parts of one
# disaggregation must sum to the element's total (checked when a report is saved).
DISAGGREGATION_OPTIONS: dict[str, list[tuple[str, str]]] = {
    "sex": [("M", "Nam"), ("F", "Nữ")],
    "age": [("0-5", "0–5 tuổi"), ("6-10", "6–10 tuổi"), ("11-15", "11–15 tuổi")],
    "ethnicity": [("kinh", "Kinh"), ("dtts", "Dân tộc thiểu số")],
}


class Indicator(LocalName, models.Model):
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    definition = models.TextField(blank=True)
    objective = models.PositiveSmallIntegerField(default=0, help_text="Objective 1–4 of Decision 23/QĐ-TTg, section "
                                                 "II.2: 1 development, health, nutrition; 2 protection; 3 education, "
                                                 "culture, play; 4 participation")
    # Blank measure/direction are allowed in the catalogue (an indicator being drafted) but a target
    # for such an indicator is refused: its status could not be judged.
    measure = models.CharField(max_length=12, choices=Measure.choices, blank=True)
    direction = models.CharField(max_length=4, choices=Direction.choices, blank=True)
    disaggregations = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    owner = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="indicators")
    # computed: engine indicator codes; value = numerator / denominator × scale (no denominator: as is)
    numerator_code = models.CharField(max_length=60, blank=True)
    denominator_code = models.CharField(max_length=60, blank=True)
    # reported: data elements of report forms; value = Σ numerator / Σ denominator × scale over the
    # accepted reports of the year. A reported numerator may have a computed denominator
    # (denominator_code): injuries per 100,000 children use vitreem's count of children.
    numerator_element = models.ForeignKey("DataElement", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    denominator_element = models.ForeignKey("DataElement", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+")
    # One figure, one source: where vitreem computes the value, a member unit's report of the same
    # figure is shown beside it as a cross-check (never instead of it).
    check_numerator_element = models.ForeignKey("DataElement", null=True, blank=True, on_delete=models.SET_NULL,
                                                related_name="+", help_text="Reported cross-check: numerator")
    check_denominator_element = models.ForeignKey("DataElement", null=True, blank=True, on_delete=models.SET_NULL,
                                                  related_name="+", help_text="Reported cross-check: denominator")
    national_2025 = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    national_2030 = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    national_note = models.CharField(max_length=200, blank=True)
    baseline_year = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["objective", "order", "code"]
        verbose_name = _("chỉ tiêu")
        verbose_name_plural = _("chỉ tiêu")

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """The province's target for one indicator in one year (2021–2030). Edits are audited (history)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="target_indicator_year")]
        ordering = ["indicator__objective", "indicator__order", "year"]


class PeriodType(models.TextChoices):
    QUARTER = "quarter", _("Quý")
    HALF = "half", _("6 tháng")
    YEAR = "year", _("Năm")


class ReportForm(LocalName, models.Model):
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    period_type = models.CharField(max_length=8, choices=PeriodType.choices)
    deadline_days = models.PositiveSmallIntegerField(
        default=15, help_text="Days after the end of the period by which the report is due")
    remind_days_before = models.PositiveSmallIntegerField(default=5)
    member_units = models.ManyToManyField(MemberUnit, blank=True, related_name="report_forms")
    for_communes = models.BooleanField(default=False, help_text="Every commune of the province reports it")
    province = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="The province whose communes report (when for_communes)")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataElement(LocalName, models.Model):
    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="elements")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    measure = models.CharField(max_length=12, choices=Measure.choices, default=Measure.NUMBER)
    disaggregations = models.JSONField(default=list, blank=True)
    part_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="parts",
                                help_text="The whole this element is a part of (it may not exceed it)")
    required = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    # An element with values in reports is never deleted (the values keep it); it is switched off:
    # new reports no longer ask for it, old ones still show it.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["form", "code"], name="element_form_code")]

    def __str__(self) -> str:
        return self.name

    def field_name(self, category: str = "") -> str:
        """The form/API field name of one cell — "<code>" for the total, "<code>.sex:F" for a part; the
        entry page, the validation and the audit's before/after all name cells this way."""
        return f"{self.code}.{category}" if category else self.code


class Severity(models.TextChoices):
    ERROR = "error", _("Lỗi (không được nộp)")
    WARNING = "warning", _("Cảnh báo (cần xác nhận và giải thích)")


class ValidationRule(models.Model):
    class Kind(models.TextChoices):
        LE = "le", _("Không vượt quá")  # left ≤ right
        RANGE = "range", _("Trong khoảng")
        CHANGE = "change", _("Khác nhiều so với kỳ trước")

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ERROR)
    left = models.ForeignKey(DataElement, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(DataElement, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    minimum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    threshold = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True,
                                    help_text="For 'change': relative change (0.5 = ±50%)")
    message = models.CharField(max_length=300, blank=True)
    # A rule that has checked submitted reports is switched off, not deleted, so the warnings confirmed
    # on those reports ("rule:<id>") still name it.
    active = models.BooleanField(default=True)


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("Nháp")
    SUBMITTED = "submitted", _("Đã nộp")
    RETURNED = "returned", _("Trả lại")
    ACCEPTED = "accepted", _("Đã chấp nhận")


# What each step of a report's history is called on its page (the audit row keeps the action's code).
SUBMISSION_ACTIONS = {
    "programme.submission.open": _("Mở báo cáo"),
    "programme.submission.save": _("Lưu số liệu"),
    "programme.submission.submit": _("Nộp báo cáo"),
    "programme.submission.accept": _("Đã chấp nhận"),
    "programme.submission.return": _("Trả lại để sửa"),
    "programme.submission.reopen": _("Mở lại để sửa"),
}


class Submission(models.Model):
    """One report: a form, a period, and who reports (a member unit or a commune)."""

    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="submissions")
    period = models.CharField(max_length=8, help_text="2022Q1, 2022H2, 2022")
    period_start = models.DateField()
    period_end = models.DateField()
    due_on = models.DateField()
    member_unit = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="submissions")
    unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "mu:<id>" or "unit:<id>": a unique key that, unlike two nullable columns, a constraint can hold.
    assignee_key = models.CharField(max_length=24)
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT)
    confirmations = models.JSONField(default=dict, blank=True, help_text="warning key -> explanation")
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    review_comment = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "form__name"]
        constraints = [models.UniqueConstraint(fields=["form", "period", "assignee_key"], name="submission_unique")]
        indexes = [models.Index(fields=["period_start", "status"])]

    @property
    def locked(self) -> bool:
        return self.status == SubmissionStatus.ACCEPTED

    @property
    def editable(self) -> bool:
        return self.status in {SubmissionStatus.DRAFT, SubmissionStatus.RETURNED}

    @property
    def assignee_name(self) -> str:
        return str(self.member_unit or self.unit or "")

    @property
    def on_time(self) -> bool | None:
        if self.first_submitted_at is None:
            return None
        from django.utils import timezone

        return timezone.localtime(self.first_submitted_at).date() <= self.due_on


class DataValue(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="values")
    element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="values")
    # "" = the total; "sex:F", "age:0-5"… = one part of a disaggregation
    category = models.CharField(max_length=24, blank=True, default="")
    value = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["submission", "element", "category"], name="value_unique")]


class Reminder(models.Model):
    """A reminder sent for a report not yet submitted (before or after its deadline); one per kind."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("Sắp đến hạn")
        AFTER = "after", _("Quá hạn")

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8)
    assignee_key = models.CharField(max_length=24)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_on = models.DateField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["form", "period", "assignee_key", "kind"],
                                               name="reminder_unique")]


class Plan(models.Model):
    class Kind(models.TextChoices):
        WORK_PROGRAMME = "work_programme", _("Chương trình công tác năm")
        TARGET_PLAN = "target_plan", _("Kế hoạch thực hiện chỉ tiêu")
        MEMBER_UNIT = "member_unit", _("Kế hoạch của đơn vị thành viên")

    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=300)
    member_unit = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="plans")
    document_ref = models.CharField(max_length=200, blank=True, help_text="Số, ký hiệu văn bản")
    adopted_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "kind", "title"]

    def __str__(self) -> str:
        return self.title


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Chưa thực hiện")
    IN_PROGRESS = "in_progress", _("Đang thực hiện")
    DONE = "done", _("Hoàn thành")
    CANCELLED = "cancelled", _("Huỷ")


class Task(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=400)
    lead_unit = models.ForeignKey(MemberUnit, on_delete=models.PROTECT, related_name="led_tasks")
    supporting_units = models.ManyToManyField(MemberUnit, blank=True, related_name="supported_tasks")
    deadline = models.DateField()
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED)
    done_on = models.DateField(null=True, blank=True)
    result = models.TextField(blank=True)

    class Meta:
        ordering = ["deadline", "pk"]

    def __str__(self) -> str:
        return self.title

    def overdue(self, today: dt.date) -> bool:
        return self.status not in {TaskStatus.DONE, TaskStatus.CANCELLED} and today > self.deadline

    @property
    def done_on_time(self) -> bool:
        return self.status == TaskStatus.DONE and self.done_on is not None and self.done_on <= self.deadline


class Explanation(models.Model):
    """Why a target was not achieved in a year, and what will be done: written by the responsible unit."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="explanations")
    year = models.PositiveSmallIntegerField()
    causes = models.TextField()
    solutions = models.TextField()
    member_unit = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["indicator", "year"], name="explanation_indicator_year")]


class YearEvaluation(models.Model):
    year = models.PositiveSmallIntegerField(unique=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    summary = models.TextField(blank=True)


class Rating(models.TextChoices):
    EXCELLENT = "excellent", _("Hoàn thành xuất sắc nhiệm vụ")
    GOOD = "good", _("Hoàn thành tốt nhiệm vụ")
    DONE = "done", _("Hoàn thành nhiệm vụ")
    NOT_DONE = "not_done", _("Không hoàn thành nhiệm vụ")


class MemberUnitEvaluation(models.Model):
    year = models.PositiveSmallIntegerField()
    member_unit = models.ForeignKey(MemberUnit, on_delete=models.PROTECT, related_name="evaluations")
    rating = models.CharField(max_length=10, choices=Rating.choices)
    comment = models.TextField(blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "member_unit"], name="mu_evaluation_unique")]
