from django.contrib import admin

from vitreem.core.admin import AuditedAdmin

from .models import Activity, BudgetAllocation, Partner, PlayPoint, Project, Spending


@admin.register(Activity)
class ActivityAdmin(AuditedAdmin):
    list_display = ("title", "kind", "status", "start_date", "unit")
    list_filter = ("kind", "status", "topic")
    search_fields = ("title",)
    raw_id_fields = ("unit", "budget_line", "project", "created_by")
    filter_horizontal = ()
    exclude = ("units_taking_part", "linked_children")


@admin.register(Partner)
class PartnerAdmin(AuditedAdmin):
    list_display = ("name", "kind", "country", "active")


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ("name", "partner", "model_type", "start_date", "end_date", "funding")
    raw_id_fields = ("unit", "communes")


@admin.register(PlayPoint)
class PlayPointAdmin(AuditedAdmin):
    list_display = ("name", "unit", "point_type", "opened_on", "closed_on", "condition")
    raw_id_fields = ("unit", "project")


@admin.register(BudgetAllocation)
class BudgetAllocationAdmin(AuditedAdmin):
    list_display = ("year", "unit", "member_unit", "source", "purpose", "amount")
    list_filter = ("year", "source", "purpose")
    raw_id_fields = ("unit", "project")


@admin.register(Spending)
class SpendingAdmin(AuditedAdmin):
    list_display = ("allocation", "spent_on", "amount", "description")
    raw_id_fields = ("allocation", "activity", "created_by")
