"""Changes made on a worker's phone, offline, and synced later.

Each change the phone sends carries its own id (a UUID made on the phone). The first time an id
arrives its change is applied — through the same services as the screens, so the same validation,
scope and audit — and a `FieldChange` row is written in the same transaction; the same id sent again
(a sync cut off half-way and retried) gets the stored answer and changes nothing. Changes the server
refuses (invalid, out of scope, a record ended meanwhile) are not stored: they stay on the phone,
marked failed with the reason, and may be corrected and sent again.

A change that cannot be applied as it stands is held here until a person decides:
- `conflict`: a field the worker changed was also changed on the server since the version she saw;
  she chooses which value stands (`services.conflict_resolve`);
- `review`: a child registered offline looks like a child already in the register; the registration
  waits in the duplicate review queue (`services.review_decide`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.places.fields import ProvinceCodeField
from vitreem.places.models import AdminUnit


class Kind(models.TextChoices):
    CHILD_REGISTER = "child.register", _("Đăng ký trẻ")
    CHILD_ADDRESS = "child.address", _("Sửa nơi ở (thôn)")
    CHILD_SCHOOLING = "child.schooling", _("Sửa tình hình đi học")
    GUARDIAN_UPDATE = "guardian.update", _("Sửa người nuôi dưỡng")
    GUARDIAN_ADD = "guardian.add", _("Thêm người nuôi dưỡng")
    RISK_ASSESS = "risk.assess", _("Đánh giá nguy cơ")
    CASE_INTAKE = "case.intake", _("Tiếp nhận thông tin (mẫu 01)")
    CASE_NOTE = "case.note", _("Thăm gia đình (ghi chú vụ việc)")
    ACTIVITY_ATTEND = "activity.attend", _("Điểm danh hoạt động")


class FieldChange(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Đã ghi vào hệ thống")
        CONFLICT = "conflict", _("Xung đột, chờ người làm chọn")
        REVIEW = "review", _("Chờ xét hồ sơ trùng")
        RESOLVED = "resolved", _("Đã giải quyết")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="Made on the phone")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             help_text="The commune of the record changed; scope filters on it")
    device_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    recorded_at = models.DateTimeField(help_text="When the worker recorded it, by the phone's clock")
    effective_at = models.DateTimeField(help_text="The recorded time, corrected when the phone's clock was off")
    clock_offset_seconds = models.IntegerField(default=0, help_text="Server time minus phone time at the sync")
    clock_suspect = models.BooleanField(default=False, help_text="The phone's clock was off by more than the tolerance")
    synced_at = models.DateTimeField()
    base_version = models.PositiveIntegerField(null=True, blank=True, help_text="The record's version on the phone")
    child = models.ForeignKey("registry.Child", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(default=dict, help_text="The change as the phone sent it")
    result = models.JSONField(default=dict, blank=True, help_text="Ids written; the conflict; the candidates")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    province_code = ProvinceCodeField(source="child")  # the child's 2025 province (places/fields.py)

    class Meta:
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["unit", "status"])]
        ordering = ["synced_at", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id}"
