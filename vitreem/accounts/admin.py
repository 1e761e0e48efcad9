from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from vitreem.core.admin import AuditedAdmin, AuditedMixin

from .models import ApiToken, MemberUnit, StandingAgencyPeriod, UnitMembership, User


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


class StandingPeriodFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        # Each row's clean() checks the saved periods; rows added together are checked against each other
        # here. A standing agency is one body at a time.
        super().clean()
        rows = sorted(((f.cleaned_data["valid_from"], f.cleaned_data.get("valid_to")) for f in self.forms
                       if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("valid_from")),
                      key=lambda r: r[0])
        for (_start, end), (nxt, _e) in zip(rows, rows[1:], strict=False):
            if end is None or end >= nxt:
                raise ValidationError(_("Hai thời kỳ cơ quan thường trực trùng nhau."))


class StandingPeriodInline(admin.TabularInline):
    model = StandingAgencyPeriod
    formset = StandingPeriodFormSet
    extra = 0


@admin.register(MemberUnit)
class MemberUnitAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "valid_from", "valid_to", "standing_agency_now", "active")
    list_filter = ("kind", "active")
    inlines = [StandingPeriodInline]

    @admin.display(boolean=True, description=_("Cơ quan thường trực hôm nay"))
    def standing_agency_now(self, obj: MemberUnit) -> bool:
        return obj.is_standing_agency


@admin.register(StandingAgencyPeriod)
class StandingAgencyPeriodAdmin(AuditedAdmin):
    """All the periods in one list: who was the standing agency when, and on what basis."""

    list_display = ("member_unit", "valid_from", "valid_to", "legal_basis")
    list_select_related = ("member_unit",)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("user", "name", "hint", "created_at", "expires_at", "revoked_at", "revoked_reason")
    readonly_fields = ("key_hash", "hint")
