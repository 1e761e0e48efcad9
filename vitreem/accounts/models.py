from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    is_standing_agency = models.BooleanField(
        default=False, help_text="The committee's standing agency (LĐ-TBXH until 2025, Health from March 2025)."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("đơn vị thành viên")
        verbose_name_plural = _("đơn vị thành viên")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COMMUNE_WORKER)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    units = models.ManyToManyField("places.AdminUnit", through="UnitMembership", related_name="members", blank=True)
    member_unit = models.ForeignKey(MemberUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="users")

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
