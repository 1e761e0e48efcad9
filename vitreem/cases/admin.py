from django.contrib import admin

from .models import CaseRules, WorkdayOverride


@admin.register(CaseRules)
class CaseRulesAdmin(admin.ModelAdmin):
    list_display = ["province_code", "plan_working_days", "due_soon_hours"]


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ["day", "is_working", "note"]
