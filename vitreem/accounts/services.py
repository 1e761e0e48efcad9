from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.db import write_if_free
from vitreem.core.errors import DomainError, NotFound, PermissionDenied

from .models import TWO_FACTOR_ROLES, ApiToken, MemberUnit, Role, StandingAgencyPeriod, UnitMembership, User


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


def two_factor_required(user: User) -> bool:
    """Whether this user's role must pass a second factor (administrators and provincial officers,
    outside the demo). The login middleware and the API tokens both ask here."""
    return bool(settings.TWO_FACTOR_REQUIRED) and getattr(user, "role", None) in TWO_FACTOR_ROLES


class TokenRefused(DomainError):
    """The API token cannot be used (malformed, unknown, revoked, expired, stale or missing 2FA)."""

    code = "invalid_token"
    status = 401


def _token_problem(token: ApiToken, now: dt.datetime) -> tuple[str, str] | None:
    """Why `token` may not be used now, as (code, message), or None when it may."""
    user = token.user
    if token.revoked_at is not None or not user.is_active:
        return "invalid_token", _("Mã truy cập API đã bị thu hồi.")
    if token.expires_at <= now:
        return "token_expired", _("Mã truy cập API đã hết hạn ngày %(d)s: hãy tạo mã mới trên trang Tài khoản.") % {
            "d": timezone.localtime(token.expires_at).strftime("%d/%m/%Y")}
    # The password changed since the token was made (on any path: the profile, the admin, a command).
    if not constant_time_compare(token.password_stamp, user.get_session_auth_hash()):
        return "invalid_token", _("Mã truy cập API không còn hiệu lực vì mật khẩu đã được đổi.")
    if two_factor_required(user) and (token.otp_device is None or not token.otp_device.confirmed):
        return "two_factor_required", _("Mã truy cập API này không được tạo sau khi xác thực hai lớp (hoặc "
                                        "xác thực hai lớp đã được đặt lại): hãy xác thực hai lớp rồi tạo mã mới.")
    return None


def tokens_active_for(*, user: User) -> list[ApiToken]:
    """The user's tokens that work now (the profile lists them; the limit counts them)."""
    now = timezone.now()
    tokens = (ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
              .select_related("user", "otp_device"))
    return [t for t in tokens if _token_problem(t, now) is None]


@transaction.atomic
def token_create(*, user: User, name: str, otp_device: TOTPDevice | None = None) -> tuple[ApiToken, str]:
    """Create a personal API token. The raw token is returned once and never stored.

    `otp_device` is the second factor verified in the creating session (`request.user.otp_device`);
    a role that needs two-factor login cannot make a token without one. The token expires after
    VITREEM_API_TOKEN_DAYS; a user holds at most VITREEM_API_TOKENS_PER_USER working tokens."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Hãy đặt tên cho mã truy cập (ví dụ: 'Bảng tính báo cáo')."), field="name")
    if otp_device is not None and (otp_device.user_id != user.pk or not otp_device.confirmed):
        otp_device = None
    if two_factor_required(user) and otp_device is None:
        raise PermissionDenied(_("Cần xác thực hai lớp trước khi tạo mã truy cập API."), code="two_factor_required")
    limit = settings.VITREEM_API_TOKENS_PER_USER
    # Locking the user row makes two simultaneous creations count each other.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if len(tokens_active_for(user=user)) >= limit:
        raise DomainError(_("Bạn đã có %(n)s mã truy cập đang dùng (tối đa %(n)s): hãy thu hồi một mã trước khi "
                            "tạo mã mới.") % {"n": limit}, field="name", code="token_limit")
    raw = ApiToken.generate()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, name=name[:80], key_hash=ApiToken.hash(raw), hint=raw[:10],
        expires_at=now + dt.timedelta(days=settings.VITREEM_API_TOKEN_DAYS),
        otp_device=otp_device, password_stamp=user.get_session_auth_hash())
    audit_change(actor=user, action="api_token.create", obj=token,
                 changes={"name": token.name, "expires_at": token.expires_at, "two_factor": otp_device is not None})
    return token, raw


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> ApiToken:
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id, user=user, revoked_at__isnull=True)
    except ApiToken.DoesNotExist:
        raise NotFound(_("Không tìm thấy mã truy cập.")) from None
    token.revoked_at = timezone.now()
    token.revoked_reason = "user"
    token.save(update_fields=["revoked_at", "revoked_reason"])
    audit_change(actor=user, action="api_token.revoke", obj=token)
    return token


@transaction.atomic
def tokens_revoke_all(*, user: User, reason: str, actor: User | None = None) -> int:
    """Revoke every token of `user` (the password changed, the second factor was reset). The check in
    token_authenticate already refuses them; this marks them, with an audit row."""
    ids = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).values_list("pk", flat=True))
    if ids:
        ApiToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_reason=reason[:40])
        audit_change(actor=actor or user, action="api_token.revoke_all", obj=user,
                     changes={"tokens": ids, "reason": reason})
    return len(ids)


# Write a token's last-use time at most this often: reads must stay cheap.
TOKEN_TOUCH_SECONDS = 60


def token_authenticate(raw: str) -> User:
    """The active user owning this raw token; TokenRefused (401) says why not."""
    if not raw or not raw.startswith(ApiToken.PREFIX) or len(raw) > 100:
        raise TokenRefused(_("Mã truy cập API không hợp lệ, đã bị thu hồi hoặc sai định dạng."))
    token = (ApiToken.objects.select_related("user", "otp_device")
             .filter(key_hash=ApiToken.hash(raw)).first())
    if token is None:
        raise TokenRefused(_("Mã truy cập API không hợp lệ, đã bị thu hồi hoặc sai định dạng."))
    now = timezone.now()
    problem = _token_problem(token, now)
    if problem is not None:
        raise TokenRefused(problem[1], code=problem[0])
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        # Bookkeeping, never worth a failed request: skipped when the database is busy (on SQLite an
        # import holds the one write lock for its whole transaction).
        write_if_free(lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now))
    return token.user


@transaction.atomic
def demo_member_units_ensure() -> dict[str, MemberUnit]:
    """The demo committee: its member units with their periods and the dated standing agency. Periods
    are written only where none exist, so an administrator's corrections survive a re-run."""
    from .demo import DEMO_MEMBER_UNITS, DEMO_MEMBERSHIP, DEMO_STANDING_AGENCY

    units = {}
    for code, name, name_en, kind in DEMO_MEMBER_UNITS:
        start, end = DEMO_MEMBERSHIP[code]
        unit, created = MemberUnit.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "kind": kind, "valid_from": start, "valid_to": end})
        if not created and unit.valid_from is None:
            MemberUnit.objects.filter(pk=unit.pk).update(valid_from=start, valid_to=end)
            unit.refresh_from_db()
        units[code] = unit
    if not StandingAgencyPeriod.objects.exists():
        StandingAgencyPeriod.objects.bulk_create([
            StandingAgencyPeriod(member_unit=units[code], valid_from=start, valid_to=end, legal_basis=basis)
            for code, start, end, basis in DEMO_STANDING_AGENCY])
    return units


@transaction.atomic
def demo_accounts_ensure() -> list[User]:
    """Create the demo member units and accounts if missing (password `vitreem-demo`)."""
    from vitreem.places.selectors import unit_resolve

    from .demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    demo_member_units_ensure()
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


def _period_check(*, member_unit: MemberUnit, valid_from: dt.date, valid_to: dt.date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(_("Ngày kết thúc không được trước ngày bắt đầu."), field="valid_to")
    if not member_unit.member_on(valid_from):
        raise DomainError(_("%(unit)s không là đơn vị thành viên vào ngày %(day)s.")
                          % {"unit": member_unit.name, "day": valid_from.strftime("%d/%m/%Y")}, field="valid_from")


@transaction.atomic
def standing_agency_switch(*, actor: User | None, member_unit: MemberUnit, valid_from: dt.date,
                           legal_basis: str = "") -> StandingAgencyPeriod:
    """Make `member_unit` the standing agency from `valid_from` on: the period in force that day ends the
    day before, a later period is refused (correct it in the admin). Audited like every setting."""
    _period_check(member_unit=member_unit, valid_from=valid_from, valid_to=None)
    if StandingAgencyPeriod.objects.filter(valid_from__gte=valid_from).exists():
        raise DomainError(_("Đã có cơ quan thường trực ghi từ ngày %(day)s trở về sau; sửa thời kỳ đó trước.")
                          % {"day": valid_from.strftime("%d/%m/%Y")}, field="valid_from")
    for current in StandingAgencyPeriod.objects.select_for_update().on(valid_from):
        before = snapshot(current)
        current.valid_to = valid_from - dt.timedelta(days=1)
        current.save(update_fields=["valid_to"])
        audit_change(actor=actor, action="accounts.standing_agency.end", obj=current,
                     changes=diff(before, snapshot(current)))
    period = StandingAgencyPeriod.objects.create(member_unit=member_unit, valid_from=valid_from,
                                                 legal_basis=legal_basis)
    audit_change(actor=actor, action="accounts.standing_agency.start", obj=period, changes=snapshot(period))
    return period


@transaction.atomic
def member_unit_membership_set(*, actor: User | None, member_unit: MemberUnit, valid_from: dt.date | None,
                               valid_to: dt.date | None) -> MemberUnit:
    """Date a unit's membership. A unit may not stop being a member while it is the standing agency."""
    if valid_from and valid_to and valid_to < valid_from:
        raise DomainError(_("Ngày kết thúc không được trước ngày bắt đầu."), field="valid_to")
    standing = StandingAgencyPeriod.objects.filter(member_unit=member_unit)
    outside = standing.filter(valid_from__lt=valid_from) if valid_from else standing.none()
    if valid_to is not None:
        outside = outside | standing.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_to))
    if outside.exists():
        raise DomainError(_("%(unit)s là cơ quan thường trực ngoài thời gian này; sửa thời kỳ cơ quan thường "
                            "trực trước.") % {"unit": member_unit.name}, field="valid_to")
    before = snapshot(member_unit)
    member_unit.valid_from, member_unit.valid_to = valid_from, valid_to
    member_unit.save(update_fields=["valid_from", "valid_to"])
    audit_change(actor=actor, action="accounts.member_unit.period", obj=member_unit,
                 changes=diff(before, snapshot(member_unit)))
    return member_unit
