from django.contrib import admin

from .models import Activity, BudgetAllocation, Partner, PlayPoint, Project, Spending


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "start_date", "unit")
    list_filter = ("kind", "status", "topic")
    search_fields = ("title",)
    raw_id_fields = ("unit", "budget_line", "project", "created_by")
    filter_horizontal = ()
    exclude = ("units_taking_part", "linked_children")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "active")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "partner", "model_type", "start_date", "end_date", "funding")
    raw_id_fields = ("unit", "communes")


@admin.register(PlayPoint)
class PlayPointAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "point_type", "opened_on", "closed_on", "condition")
    raw_id_fields = ("unit", "project")


@admin.register(BudgetAllocation)
class BudgetAllocationAdmin(admin.ModelAdmin):
    list_display = ("year", "unit", "member_unit", "source", "purpose", "amount")
    list_filter = ("year", "source", "purpose")
    raw_id_fields = ("unit", "project")


@admin.register(Spending)
class SpendingAdmin(admin.ModelAdmin):
    list_display = ("allocation", "spent_on", "amount", "description")
    raw_id_fields = ("allocation", "activity", "created_by")
