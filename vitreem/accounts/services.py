from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.audit import audit_change
from vitreem.core.errors import DomainError, NotFound

from .models import ApiToken, MemberUnit, Role, UnitMembership, User


@transaction.atomic
def user_create(*, username: str, password: str, role: str, units: Iterable = (), full_name: str = "",
                member_unit: MemberUnit | None = None, email: str = "", actor: User | None = None,
                is_staff: bool = False) -> User:
    if role not in Role.values:
        raise DomainError(_("Vai trò không hợp lệ: %(r)s") % {"r": role}, field="role")
    if User.objects.filter(username=username).exists():
        raise DomainError(_("Tên đăng nhập %(u)s đã tồn tại.") % {"u": username}, field="username")
    user = User(username=username, role=role, full_name=full_name, member_unit=member_unit, email=email,
                is_staff=is_staff or role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    user.set_password(password)
    user.save()
    UnitMembership.objects.bulk_create([UnitMembership(user=user, unit=u) for u in units])
    audit_change(actor=actor, action="user.create", obj=user,
                 changes={"role": role, "units": [u.ref for u in units]})
    return user


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token. The raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Hãy đặt tên cho mã truy cập (ví dụ: 'Bảng tính báo cáo')."), field="name")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:80], key_hash=ApiToken.hash(raw), hint=raw[:10])
    audit_change(actor=user, action="api_token.create", obj=token, changes={"name": token.name})
    return token, raw


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> ApiToken:
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user, revoked_at__isnull=True)
    except ApiToken.DoesNotExist:
        raise NotFound(_("Không tìm thấy mã truy cập.")) from None
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_change(actor=user, action="api_token.revoke", obj=token)
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user owning this raw token, or None (malformed, unknown, revoked, inactive)."""
    if not raw or not raw.startswith(ApiToken.PREFIX) or len(raw) > 100:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    # Write the last-use time at most once a minute: reads must stay cheap.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def demo_accounts_ensure() -> list[User]:
    """Create the demo member units and accounts if missing (password `vitreem-demo`)."""
    from vitreem.places.selectors import unit_resolve

    from .demo import DEMO_ACCOUNTS, DEMO_MEMBER_UNITS, DEMO_PASSWORD, STANDING_AGENCY_CODE

    for code, name, name_en, kind in DEMO_MEMBER_UNITS:
        MemberUnit.objects.update_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "kind": kind, "is_standing_agency": code == STANDING_AGENCY_CODE})
    users = []
    spec: dict[str, Any]
    for spec in DEMO_ACCOUNTS:
        existing = User.objects.filter(username=spec["username"]).first()
        if existing is not None:
            users.append(existing)
            continue
        member_unit = MemberUnit.objects.get(code=spec["member_unit"]) if spec.get("member_unit") else None
        users.append(user_create(
            username=spec["username"], password=DEMO_PASSWORD, role=spec["role"], full_name=spec["full_name"],
            units=[unit_resolve(ref) for ref in spec["units"]], member_unit=member_unit))
    return users
