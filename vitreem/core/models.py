from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One append-only line of the audit log: a change, or a read of sensitive data.

    The application never updates or deletes these rows (see save/delete below).
    """

    class Kind(models.TextChoices):
        CHANGE = "change", _("Thay đổi")
        ACCESS = "access", _("Truy cập")
        AUTH = "auth", _("Đăng nhập")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHANGE)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    unit = models.ForeignKey("places.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="web, api, cli, import…")
    request_id = models.CharField(max_length=36, blank=True)
    # The hash chain (core/audit_chain.py): the row's place in the chain and its link, set once by the
    # sealing step. Every other column is covered by the hash; a column added later must default to
    # an empty value (None, "", {}), which the hash leaves out, or the older rows would stop verifying.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"]),
                   models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed")]
        verbose_name = _("mục nhật ký")
        verbose_name_plural = _("nhật ký kiểm toán")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit entries are append-only")


class AuditChain(models.Model):
    """The head of the audit hash chain (one row): the last sealed position and its hash. Sealers lock
    this row, so one seals at a time; `audit_verify` checks the rows end where the head says."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("đầu chuỗi nhật ký")


class TaskStatus(models.Model):
    """Progress of a long job (import, report) that the UI polls; survives the browser leaving."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Đang chờ")
        RUNNING = "running", _("Đang chạy")
        DONE = "done", _("Hoàn thành")
        FAILED = "failed", _("Lỗi")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    # The django-tasks result that runs it: how a job whose worker died is found (core.jobs.jobs_reap).
    task_id = models.CharField(max_length=64, blank=True)
    # Where the job was asked for ("web", "api", "cli") and by which request: the audit rows the worker
    # writes for it carry them, not the worker's own "cli" (issue 21 item 6).
    source = models.CharField(max_length=40, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.progress / self.total) if self.total else 0
