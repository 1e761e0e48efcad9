from django.contrib import admin

from vitreem.core.admin import AuditedAdmin

from .models import DifficultArea, RuleChange


@admin.register(DifficultArea)
class DifficultAreaAdmin(AuditedAdmin):
    """The list of extremely difficult communes and villages (Decree 20/2021, Art. 5(7)); a file is loaded
    with `vitreem difficult_areas_load`."""

    list_display = ("unit", "village", "valid_from", "valid_to", "legal_basis")
    search_fields = ("unit__name", "village")
    raw_id_fields = ("unit", "created_by")


@admin.register(RuleChange)
class RuleChangeAdmin(AuditedAdmin):
    """A correction of how a rule is applied: the payroll reconciles the months locked before it."""

    list_display = ("recorded_at", "affects_from", "description", "legal_basis")
