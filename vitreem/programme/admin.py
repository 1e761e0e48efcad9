from django.contrib import admin

from vitreem.core.admin import AuditedAdmin

from .models import (
    DataElement,
    Indicator,
    MemberUnitEvaluation,
    Plan,
    ReportForm,
    Submission,
    Target,
    Task,
    ValidationRule,
)


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    list_display = ("code", "name", "measure", "direction", "source", "owner", "national_2025", "national_2030")
    list_filter = ("source", "objective", "owner")
    search_fields = ("code", "name", "name_en")


class DataElementInline(admin.TabularInline):
    model = DataElement
    fk_name = "form"
    extra = 0


class RuleInline(admin.TabularInline):
    model = ValidationRule
    extra = 0


@admin.register(ReportForm)
class ReportFormAdmin(AuditedAdmin):
    list_display = ("code", "name", "period_type", "deadline_days", "for_communes", "active")
    filter_horizontal = ("member_units",)
    inlines = [DataElementInline, RuleInline]


@admin.register(Target)
class TargetAdmin(AuditedAdmin):
    list_display = ("indicator", "year", "value")
    list_filter = ("year",)
    # Targets change through the pages or the API so that every change is audited.
    readonly_fields = ("indicator", "year", "value", "note", "updated_by")

    def has_add_permission(self, request):
        return False


@admin.register(Submission)
class SubmissionAdmin(AuditedAdmin):
    list_display = ("form", "period", "assignee_key", "status", "due_on", "first_submitted_at")
    list_filter = ("status", "form")

    def has_change_permission(self, request, obj=None):  # reviewed through the services only (audited)
        return False


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0


@admin.register(Plan)
class PlanAdmin(AuditedAdmin):
    list_display = ("title", "year", "kind", "member_unit")
    list_filter = ("year", "kind")
    inlines = [TaskInline]


admin.site.register(MemberUnitEvaluation, AuditedAdmin)
