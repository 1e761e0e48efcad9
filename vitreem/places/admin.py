from django.contrib import admin

from vitreem.core.admin import AuditedAdmin

from .models import AdminUnit, Population, UnitSuccession


@admin.register(AdminUnit)
class AdminUnitAdmin(AuditedAdmin):
    list_display = ("code", "version", "level", "name", "parent")
    list_filter = ("version", "level")
    search_fields = ("code", "name", "search_key")
    raw_id_fields = ("parent",)


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(AuditedAdmin):
    list_display = ("old", "new", "is_default", "share")
    raw_id_fields = ("old", "new")


@admin.register(Population)
class PopulationAdmin(AuditedAdmin):
    """Editable: the statistics office's figures replace the demo's."""

    list_display = ("unit", "year", "total")
    list_filter = ("year",)
    raw_id_fields = ("unit",)
