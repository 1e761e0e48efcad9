from django.contrib import admin

from vitreem.core.admin import AuditedAdmin

from .models import CaseRules, WorkdayOverride


@admin.register(CaseRules)
class CaseRulesAdmin(AuditedAdmin):
    list_display = ["province_code", "plan_working_days", "due_soon_hours"]


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(AuditedAdmin):
    list_display = ["day", "is_working", "note"]
