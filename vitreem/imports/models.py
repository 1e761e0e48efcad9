"""Imports of child lists and exports of them.

The uploaded file is the staging area: it is kept as sent, read again for the preview, the run and
the error report, so nothing half-parsed sits in the database. An import's counts and errors stay
for the history page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vitreem.places.models import AdminUnit


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Đã tải lên, chờ xác nhận")
        RUNNING = "running", _("Đang nhập")
        DONE = "done", _("Đã nhập")
        REJECTED = "rejected", _("Có lỗi, chưa ghi gì")
        CHECKED = "checked", _("Đã kiểm tra (không ghi)")
        FAILED = "failed", _("Không đọc được tệp")

    file = models.FileField(upload_to="imports/%Y/%m/", max_length=255)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="+",
                             help_text="The unit the import was made for; scope filters on it")
    default_unit = models.ForeignKey(AdminUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text="Commune for rows that name none (--unit)")
    sheet = models.CharField(max_length=120, blank=True)
    header_row = models.PositiveIntegerField(null=True, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="column index → field")
    unit_choices = models.JSONField(default=dict, blank=True, help_text="split legacy commune → chosen unit id")
    valid_only = models.BooleanField(default=False)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    result = models.JSONField(default=dict, blank=True, help_text="counts, mapping, encoding, errors")
    task_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lần nhập danh sách")
        verbose_name_plural = _("các lần nhập danh sách")

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%d/%m/%Y})"

    @property
    def source(self) -> str:
        """What created/changed children carry as their source, and audit rows too."""
        return f"import:{self.pk}"

    def count(self, key: str) -> int:
        return int(self.result.get(key) or 0)


class HeaderMapping(models.Model):
    """A mapping the user confirmed for files with these headers; proposed again for the next such file."""

    key = models.CharField(max_length=40, unique=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="column index → field")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)


class ExportFile(models.Model):
    """A large export made in the background, kept for its owner to download."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to="exports/%Y/%m/", max_length=255, blank=True)
    filename = models.CharField(max_length=255)
    filters = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
