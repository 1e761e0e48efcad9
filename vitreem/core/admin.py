from django.contrib import admin
from django.db import transaction

from .audit import audit_change, diff, snapshot
from .models import AuditEntry, TaskStatus

# Secrets never go to the log, not even hashed.
SECRET_FIELDS = {"password", "key_hash"}


def _audit(request, obj, verb: str, changes: dict) -> None:
    audit_change(actor=request.user, action=f"{obj._meta.model_name}.admin_{verb}", obj=obj,
                 unit=getattr(obj, "unit_id", None),
                 changes={k: ("***" if k in SECRET_FIELDS else v) for k, v in changes.items()})


class AuditedMixin:
    """Every add, change and delete made in the admin (code tables, case rules, programme settings,
    accounts: things the figures and the access depend on) goes to the audit log with its values,
    like a service's change. Inline rows too. Every ModelAdmin of the project uses it (tested)."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            _audit(request, obj, "change" if change else "create", diff(before, snapshot(obj)))

    def save_formset(self, request, form, formset, change):
        # The forms have already put the new values on their instances: read the old ones back.
        pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        before = {o.pk: snapshot(o) for o in formset.model._default_manager.filter(pk__in=pks)}
        with transaction.atomic():
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            for obj in formset.new_objects:
                _audit(request, obj, "create", diff({}, snapshot(obj)))
            for obj, _fields in formset.changed_objects:
                _audit(request, obj, "change", diff(before.get(obj.pk, {}), snapshot(obj)))
            for obj in formset.deleted_objects:
                _audit(request, obj, "delete", diff(before.get(obj.pk, {}), {}))

    def delete_model(self, request, obj):
        with transaction.atomic():
            _audit(request, obj, "delete", diff(snapshot(obj), {}))
            super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                _audit(request, obj, "delete", diff(snapshot(obj), {}))
            super().delete_queryset(request, queryset)  # type: ignore[misc]


class AuditedAdmin(AuditedMixin, admin.ModelAdmin):
    pass


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, even for administrators."""

    list_display = ("at", "actor", "kind", "action", "object_type", "object_id", "unit", "source")
    list_filter = ("kind", "source")
    search_fields = ("action", "object_type", "object_id", "actor__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaskStatus)
class TaskStatusAdmin(AuditedAdmin):
    list_display = ("created_at", "kind", "owner", "state", "progress", "total")
