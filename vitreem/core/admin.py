from django.contrib import admin

from .models import AuditEntry, TaskStatus


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
class TaskStatusAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "owner", "state", "progress", "total")
