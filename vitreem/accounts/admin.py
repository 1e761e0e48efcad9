from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from vitreem.core.admin import AuditedAdmin, AuditedMixin

from .models import ApiToken, MemberUnit, UnitMembership, User


class MembershipInline(admin.TabularInline):
    model = UnitMembership
    raw_id_fields = ("unit",)
    extra = 0


@admin.register(User)
class UserAdmin(AuditedMixin, BaseUserAdmin):
    list_display = ("username", "full_name", "role", "member_unit", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("vitreem", {"fields": ("role", "full_name", "phone", "member_unit")}))
    inlines = [MembershipInline]


@admin.register(MemberUnit)
class MemberUnitAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "is_standing_agency", "active")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("user", "name", "hint", "created_at", "expires_at", "revoked_at", "revoked_reason")
    readonly_fields = ("key_hash", "hint")
