"""Generated reports (kept with their parameters and time, downloadable) and the province's Word templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Format(models.TextChoices):
    DOCX = "docx", "Word (.docx)"
    PDF = "pdf", "PDF"
    XLSX = "xlsx", _("Bảng thống kê Excel (.xlsx)")


class GeneratedReport(models.Model):
    kind = models.CharField(max_length=20, default="annual")
    year = models.PositiveSmallIntegerField()
    unit = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=4, choices=Format.choices)
    params = models.JSONField(default=dict, blank=True, help_text="Everything the report was generated from")
    file = models.FileField(upload_to="reports/generated/%Y/", blank=True)
    template = models.ForeignKey("ReportTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.year} {self.unit_id} {self.format}"


class ReportTemplate(models.Model):
    """A Word template uploaded by the province. Only a template that passed the check is ever used;
    the newest valid one is in use, otherwise the default shipped with vitreem."""

    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="reports/templates/")
    valid = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.name
