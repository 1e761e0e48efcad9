from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from vitreem.core.scope import Scope


class Role(models.TextChoices):
    ADMIN = "admin", _("Quản trị hệ thống")
    PROVINCE_OFFICER = "province_officer", _("Cán bộ cấp tỉnh (cơ quan thường trực)")
    LEADER = "leader", _("Lãnh đạo tỉnh (chỉ xem)")
    COMMUNE_WORKER = "commune_worker", _("Người làm công tác bảo vệ trẻ em cấp xã")
    REPORTER = "reporter", _("Người báo cáo của đơn vị thành viên")
    CHAIRMAN = "chairman", _("Chủ tịch UBND cấp xã")
    CASE_SUPERVISOR = "case_supervisor", _("Giám sát quản lý trường hợp cấp tỉnh")
    REFERRAL_AGENCY = "referral_agency", _("Cơ quan tiếp nhận chuyển gửi")


# Who may do what, by role: the only place roles are grouped. core.scope.Scope turns these sets into
# named abilities, and every check elsewhere asks the Scope (tests/test_role_checks.py keeps it so).
# Roles whose accounts reach the whole province's data.
PROVINCE_WIDE_ROLES = frozenset({Role.ADMIN, Role.PROVINCE_OFFICER, Role.LEADER, Role.CASE_SUPERVISOR})
# The Steering Committee's standing agency: settings, rules' exceptions, budgets, targets, the audit log;
# these accounts must use a second factor.
STANDING_AGENCY_ROLES = frozenset({Role.ADMIN, Role.PROVINCE_OFFICER})
TWO_FACTOR_ROLES = STANDING_AGENCY_ROLES
# The commune's own people: names in full on case lists.
COMMUNE_STAFF_ROLES = frozenset({Role.COMMUNE_WORKER, Role.CHAIRMAN})
# The case workflow's abilities (cases/workflow.py, Decree 56/2017 chapter III).
CASE_WORKER_ROLES = frozenset({Role.COMMUNE_WORKER, Role.ADMIN})  # the administrator stands in
CASE_DECIDER_ROLES = frozenset({Role.CHAIRMAN})
CASELOAD_MANAGER_ROLES = frozenset({Role.CASE_SUPERVISOR, Role.PROVINCE_OFFICER, Role.ADMIN})


class PeriodQuerySet(models.QuerySet):
    """Rows with a valid_from (empty = since always) and a valid_to (the last day; empty = open)."""

    def on(self, day: dt.date) -> PeriodQuerySet:
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day),
                           Q(valid_to__isnull=True) | Q(valid_to__gte=day))

    def overlapping(self, start: dt.date, end: dt.date | None) -> PeriodQuerySet:
        qs = self.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        return qs if end is None else qs.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end))


class MemberUnitQuerySet(PeriodQuerySet):
    def on(self, day: dt.date) -> PeriodQuerySet:
        return super().on(day).filter(active=True)


class MemberUnit(models.Model):
    """A member of the provincial Steering Committee: a department, a mass organisation, a People's Committee."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Sở, ngành")
        MASS_ORGANISATION = "mass_org", _("Tổ chức chính trị - xã hội")
        PEOPLES_COMMITTEE = "peoples_committee", _("UBND cấp huyện/xã")
        PARTNER = "partner", _("Đối tác")
        AGENCY = "agency", _("Cơ quan tiếp nhận chuyển gửi")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    unit = models.ForeignKey("places.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                             help_text="For People's Committees: the district or commune they govern.")
    # Membership is dated (issue 14 item 17): the 2025 reorganisation ended some units' membership
    # (the Department of Labour, Invalids and Social Affairs) and a report of 2022 must still list
    # the units of 2022. valid_to is the last day of membership; empty = open. `active` stays the
    # record's on/off switch (a unit entered by mistake), not the membership: both must hold.
    valid_from = models.DateField(_("thành viên từ ngày"), null=True, blank=True,
                                  help_text=_("Để trống: thành viên từ khi bắt đầu dùng hệ thống."))
    valid_to = models.DateField(_("thành viên đến hết ngày"), null=True, blank=True,
                                help_text=_("Để trống: vẫn là thành viên."))
    active = models.BooleanField(default=True)

    objects = MemberUnitQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("đơn vị thành viên")
        verbose_name_plural = _("đơn vị thành viên")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Ngày kết thúc không được trước ngày bắt đầu.")})

    def member_on(self, day: dt.date) -> bool:
        return (self.active and (self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or self.valid_to >= day))

    @property
    def is_standing_agency(self) -> bool:
        """Whether the unit is the standing agency today: derived from StandingAgencyPeriod, the only
        source (the boolean column of before was replaced by the dated periods, migration 0003)."""
        from django.utils import timezone

        return self.standing_periods.on(timezone.localdate()).exists()


class StandingAgencyPeriod(models.Model):
    """The member unit that is the committee's standing agency (cơ quan thường trực) from a day to a day.

    Dated because the body changed: the Department of Labour, Invalids and Social Affairs until the 2025
    reorganisation, the Department of Health after it (Decree 42/2025/NĐ-CP, Art. 4: "Nghị định này có
    hiệu lực thi hành từ ngày 01 tháng 3 năm 2025"; docs/en/legal-basis.md). A separate table rather than
    two dates on MemberUnit: the same unit may be the standing agency more than once, and each period has
    its own legal basis. Periods never overlap (clean, and accounts.services)."""

    member_unit = models.ForeignKey(MemberUnit, on_delete=models.PROTECT, related_name="standing_periods",
                                    verbose_name=_("đơn vị thành viên"))
    valid_from = models.DateField(_("từ ngày"))
    valid_to = models.DateField(_("đến hết ngày"), null=True, blank=True, help_text=_("Để trống: đến nay."))
    legal_basis = models.CharField(_("căn cứ"), max_length=300, blank=True,
                                   help_text=_("Văn bản giao nhiệm vụ cơ quan thường trực (số, ngày, điều)."))

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["valid_from"]
        verbose_name = _("cơ quan thường trực (theo thời kỳ)")
        verbose_name_plural = _("cơ quan thường trực (theo thời kỳ)")

    def __str__(self) -> str:
        end = self.valid_to.strftime("%d/%m/%Y") if self.valid_to else "…"
        return f"{self.member_unit} ({self.valid_from:%d/%m/%Y} – {end})"

    def clean(self) -> None:
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Ngày kết thúc không được trước ngày bắt đầu.")})
        if self.valid_from and self.member_unit_id:
            clash = StandingAgencyPeriod.objects.overlapping(self.valid_from, self.valid_to).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError(_("Thời kỳ này trùng với thời kỳ cơ quan thường trực %(other)s.")
                                      % {"other": clash.first()})


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COMMUNE_WORKER)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    units = models.ManyToManyField("places.AdminUnit", through="UnitMembership", related_name="members", blank=True)
    member_unit = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="users")
    # Not a column: the user's scope, kept on the object by core.scope.scope_for (computed once per request).
    _vitreem_scope: Scope

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class UnitMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="membership_unique")]


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation.

    A token is worth no more than the login that made it (issue 20: with a password alone an officer's
    token read the whole province). It records the second factor verified when it was made
    (`otp_device`) and the password it was made under (`password_stamp`, Django's session hash of the
    password); it is refused once either no longer holds, once it expires, or once it is revoked.
    `accounts.services.token_authenticate` is the one check."""

    PREFIX = "vtr_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters, to recognise the token")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="VITREEM_API_TOKEN_DAYS after creation")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)
    # The second factor verified in the session that created the token; none for a role that needs none.
    # Deleting (resetting) the device leaves NULL here, and the token of a two-factor role stops working.
    otp_device = models.ForeignKey("otp_totp.TOTPDevice", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    password_stamp = models.CharField(max_length=64, blank=True,
                                      help_text="The user's session hash when the token was made")

    class Meta:
        ordering = ["-created_at"]

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)
