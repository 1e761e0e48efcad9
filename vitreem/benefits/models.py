"""Monthly social assistance for children (Decree 20/2021/NĐ-CP, amended by Decree 76/2024/NĐ-CP).

The rules are dated data, never constants in code: the base level (*mức chuẩn trợ giúp xã hội*)
by period and the coefficient of each beneficiary group by age band and period. Amounts are
computed (coefficient × base level in force for the month) when a payroll is drawn up; only a
*locked* (paid) payroll keeps a snapshot of its lines, because that is the record of what was paid.

Months are stored as the first day of the month.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vitreem.core.text import LocalName
from vitreem.places.fields import ProvinceCodeField
from vitreem.places.models import AdminUnit


class BaseLevel(models.Model):
    """The base level in force for a period. `unit` empty = the national level; a province may set
    its own higher level (Decree 20/2021, Art. 4(3)). Rows are never edited once a locked payroll
    used them: a new level is a new row (the history)."""

    unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="Province that set its own (higher) level; empty = national")
    amount = models.PositiveIntegerField(help_text="VND per month")
    valid_from = models.DateField(help_text="First day of the first month")
    valid_to = models.DateField(null=True, blank=True, help_text="Last day it applies (empty = still in force)")
    legal_basis = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["valid_from", "pk"]
        constraints = [models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                              name="base_level_dates")]

    def __str__(self) -> str:
        return f"{self.amount} ({self.valid_from:%m/%Y}–)"


class BeneficiaryGroup(LocalName, models.Model):
    """A group of Decree 20/2021 Art. 5 that covers children. The conditions are checked by the
    eligibility service from registry facts (see eligibility.py, keyed by `code`)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    article = models.CharField(max_length=120, help_text="Decree 20/2021, Art. 5 …")
    continues_as = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text="Group that carries on when this one's ages run out (16 → 16–22 in school)")
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=50)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.local_name  # form choices in the request's language


class Coefficient(models.Model):
    """The coefficient of a group for an age band and a period (Decree 20/2021, Art. 6)."""

    group = models.ForeignKey(BeneficiaryGroup, on_delete=models.PROTECT, related_name="coefficients")
    age_from = models.PositiveSmallIntegerField(default=0, help_text="Age in full years, inclusive")
    age_to = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Age in full years, exclusive")
    value = models.DecimalField(max_digits=5, decimal_places=2)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    legal_basis = models.CharField(max_length=200, blank=True)
    confirmed = models.BooleanField(default=True, help_text="False where the legal value is not yet confirmed")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group__order", "age_from", "valid_from"]
        constraints = [models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                              name="coefficient_dates")]


class DifficultArea(models.Model):
    """A commune, or a village of it, on the list of extremely difficult communes and villages of the
    ethnic-minority and mountainous areas for a period (dated data the province loads from the lists
    in force: for 2021–2025 Decision 861/QĐ-TTg of 04/6/2021 for communes of region III and Decision
    612/QĐ-UBDT of 16/9/2021 for villages, as amended). Decree 20/2021 Art. 5(7) pays children under 3 of
    poor and near-poor households living there (rules.check_group "under3_difficult_area").

    `village` empty = the whole commune; otherwise the household's village of that name (names compared
    folded, so "Thôn Kon Gung" and "thon kon gung" are one). `unit` is the commune of the list's version:
    a list of legacy communes ends on 30/6/2025 and the province loads the 2025 communes' list from 1/7/2025."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")
    village = models.CharField(max_length=120, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    legal_basis = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit__code", "village", "valid_from"]
        indexes = [models.Index(fields=["unit", "valid_from"])]
        constraints = [models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                              name="difficult_area_dates")]

    def __str__(self) -> str:
        return f"{self.unit} {self.village}".strip()


class RuleChange(models.Model):
    """A correction of how the rules are applied that changes what months already paid should have been
    (issue 14 item 8): a fix of the code's reading of a clause, recorded by the migration that ships it,
    or by an administrator. The payroll then reconciles every locked month from `affects_from` that was
    locked before `recorded_at`: the difference appears as an adjustment or arrears in the next open month
    of each commune, never as a silent change, until a payroll locked after the change has paid it.
    (The rule tables themselves cannot change for paid months: services refuse.)"""

    affects_from = models.DateField(help_text="First month whose amounts the change affects")
    recorded_at = models.DateTimeField(default=timezone.now)
    description = models.CharField(max_length=255)
    legal_basis = models.CharField(max_length=200)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return self.description


class AllowanceStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hưởng")
    SUSPENDED = "suspended", _("Tạm dừng")
    STOPPED = "stopped", _("Thôi hưởng")


class StopReason(models.TextChoices):
    AGED_3 = "aged_3", _("Đủ 3 tuổi")
    AGED_16 = "aged_16", _("Đủ 16 tuổi và không đi học")
    AGED_22 = "aged_22", _("Đủ 22 tuổi")
    DIED = "died", _("Đã mất")
    MOVED_OUT = "moved_out", _("Chuyển khỏi tỉnh")
    NOT_ELIGIBLE = "not_eligible", _("Không còn đủ điều kiện")
    OTHER = "other", _("Lý do khác")


class SingleReason(models.TextChoices):
    """Why a parent is single (Decree 20/2021, Art. 5(4): "chưa có chồng hoặc chưa có vợ; đã có chồng hoặc
    vợ nhưng đã chết hoặc mất tích theo quy định của pháp luật")."""

    UNMARRIED = "unmarried", _("Chưa có chồng hoặc chưa có vợ")
    SPOUSE_DIED = "spouse_died", _("Vợ hoặc chồng đã chết")
    SPOUSE_MISSING = "spouse_missing", _("Vợ hoặc chồng mất tích theo quy định của pháp luật")


class Allowance(models.Model):
    """One person's monthly allowance (an enrolment): a child's own, at most one active or suspended per
    child; or a single parent's (Decree 20/2021, Art. 5(4)), `parent_name` set — the parent's own
    allowance, 1.0 × the base level for each of `children` still raised that month (Art. 6(1)(d)), paid
    in addition to any allowance the children receive themselves (Art. 6(2)). `child` is then the
    eldest child raised: the family's residence (scope, the commune that pays) follows that child."""

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="allowances")
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="Commune that decided it (scope); payrolls follow the residence")
    status = models.CharField(max_length=10, choices=AllowanceStatus.choices, default=AllowanceStatus.ACTIVE,
                              db_index=True)
    stop_reason = models.CharField(max_length=12, choices=StopReason.choices, blank=True)
    transfer_to = models.CharField(max_length=255, blank=True, help_text="New place of residence (moved out)")
    exception_reason = models.TextField(blank=True, help_text="Officer's recorded exception to the conditions")
    # A single parent's enrolment (Art. 5(4)): the parent, why single, and the children raised.
    parent_name = models.CharField(max_length=150, blank=True)
    guardian = models.ForeignKey("registry.Guardian", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="The parent's entry on the eldest child's record")
    single_reason = models.CharField(max_length=16, choices=SingleReason.choices, blank=True)
    children = models.ManyToManyField("registry.Child", blank=True, related_name="+", through="AllowanceChild",
                                      help_text="The children a single parent raises (Art. 5(4))")
    # Decree 20/2021, Art. 9(1): a recipient of the monthly allowance is given a health insurance card.
    health_card_issued_on = models.DateField(null=True, blank=True)
    health_card_number = models.CharField(max_length=15, blank=True)
    source = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child"], condition=~Q(status="stopped") & Q(parent_name=""),
                                               name="one_open_allowance_per_child"),
                       models.UniqueConstraint(fields=["child"], condition=~Q(status="stopped") & ~Q(parent_name=""),
                                               name="one_open_parent_allowance_per_family")]

    def __str__(self) -> str:
        return f"{self.recipient_name} ({self.get_status_display()})"

    @property
    def recipient_name(self) -> str:
        """Who is paid: the child, or the single parent."""
        return self.parent_name or self.child.full_name


class AllowanceChild(models.Model):
    """A child a single parent raises, linked to the parent's allowance (Art. 5(4)). The table Django
    made for the many-to-many link, now a model of its own so that it carries the child's province code
    like every row of a child's data (issue 13 item 6, places/fields.py)."""

    allowance = models.ForeignKey(Allowance, on_delete=models.CASCADE)
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        db_table = "benefits_allowance_children"
        unique_together = [("allowance", "child")]  # as the table Django made has it


class DecisionKind(models.TextChoices):
    ENROL = "enrol", _("Hưởng trợ cấp")
    SUSPEND = "suspend", _("Tạm dừng")
    RESUME = "resume", _("Tiếp tục hưởng")
    CHANGE_GROUP = "change_group", _("Thay đổi nhóm/hệ số")
    STOP = "stop", _("Thôi hưởng")


class Decision(models.Model):
    """A decision on an allowance (number, date) and what it did — the district chairman's until
    30/6/2025, the commune chairman's from 1/7/2025 (rules.deciding_authority)."""

    allowance = models.ForeignKey(Allowance, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=12, choices=DecisionKind.choices)
    number = models.CharField(max_length=60)
    decided_on = models.DateField()
    signed_by = models.CharField(max_length=150, blank=True)
    group = models.ForeignKey(BeneficiaryGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    effective_month = models.DateField(help_text="First month affected")
    arrears_from = models.DateField(null=True, blank=True)
    # Decree 20/2021, Art. 8(1): a person with a disability is paid from the month of this certificate.
    disability_certified_on = models.DateField(null=True, blank=True,
                                               help_text="Date of the certificate of the disability's degree")
    reason = models.TextField(blank=True)
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="allowance")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["-decided_on", "-pk"]
        indexes = [models.Index(fields=["unit", "decided_on"])]

    @property
    def authority(self) -> str:
        """Who decided, by the decision's date (rules.deciding_authority_label)."""
        from .rules import deciding_authority_label

        return deciding_authority_label(self.decided_on)


class AllowancePeriod(models.Model):
    """A run of months paid in one group: [start, end] inclusive (end empty = open)."""

    allowance = models.ForeignKey(Allowance, on_delete=models.CASCADE, related_name="periods")
    group = models.ForeignKey(BeneficiaryGroup, on_delete=models.PROTECT, related_name="+")
    start = models.DateField(help_text="First month")
    end = models.DateField(null=True, blank=True, help_text="Last month paid")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="periods")
    province_code = ProvinceCodeField(source="allowance")  # the child's 2025 province (places/fields.py)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["start", "end"])]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                                              name="allowance_period_dates")]


class PayrollStatus(models.TextChoices):
    LOCKED = "locked", _("Đã chi trả (khóa)")


class Payroll(models.Model):
    """A commune's payroll for a month once it is paid and locked. Open months have no row: they are
    computed on demand. A locked payroll is never changed; corrections go to a later month."""

    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    status = models.CharField(max_length=10, choices=PayrollStatus.choices, default=PayrollStatus.LOCKED)
    base_level = models.PositiveIntegerField()
    recipients = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    arrears = models.BigIntegerField(default=0)
    adjustments = models.BigIntegerField(default=0)
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    locked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="payroll_unit_month")]


class LineKind(models.TextChoices):
    REGULAR = "regular", _("Trợ cấp tháng")
    ARREARS = "arrears", _("Truy lĩnh")
    ADJUSTMENT = "adjustment", _("Điều chỉnh")
    MANUAL = "manual", _("Điều chỉnh ghi tay")


class PaidLine(models.Model):
    """What a locked payroll paid: one line per recipient and month paid for."""

    payroll = models.ForeignKey(Payroll, on_delete=models.PROTECT, related_name="lines")
    allowance = models.ForeignKey(Allowance, on_delete=models.PROTECT, related_name="paid_lines")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="+")
    for_month = models.DateField()
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    group_code = models.CharField(max_length=40, blank=True)
    coefficient = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    base_level = models.PositiveIntegerField(null=True, blank=True)
    amount = models.BigIntegerField()
    note = models.CharField(max_length=255, blank=True)
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        indexes = [models.Index(fields=["allowance", "for_month"])]


class Adjustment(models.Model):
    """A manual correction of a paid month (e.g. cash not handed over), paid in the next open month."""

    allowance = models.ForeignKey(Allowance, on_delete=models.PROTECT, related_name="adjustments")
    for_month = models.DateField(help_text="The paid month being corrected")
    amount = models.BigIntegerField(help_text="VND, negative to recover")
    reason = models.CharField(max_length=255)
    settled_in = models.ForeignKey(Payroll, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    province_code = ProvinceCodeField(source="allowance")  # the child's 2025 province (places/fields.py)


