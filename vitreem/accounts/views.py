from io import BytesIO
from urllib.parse import unquote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from vitreem.core.audit import audit_change
from vitreem.core.errors import DomainError

from . import services
from .demo import DEMO_ACCOUNTS, DEMO_PASSWORD


def is_safe_next(request, url: str | None) -> bool:
    """Whether a `next` address leads back into this site.

    Checked as sent and again after each round of percent-decoding: `/%2F%2Fevil.example` passes
    Django's check as a path, but is `//evil.example` to any proxy or browser that decodes it
    (issue 20)."""
    if not url:
        return False
    allowed = {request.get_host()}
    secure = request.is_secure()
    seen = url
    for _round in range(5):
        if not url_has_allowed_host_and_scheme(seen, allowed, require_https=secure):
            return False
        decoded = unquote(seen)
        if decoded == seen:
            return True
        seen = decoded
    return False  # still encoded after five rounds: no honest link looks like that


class SafeNextMixin(auth_views.RedirectURLMixin):
    """Django's login and logout views follow `next` after their own check; ours also decodes it."""

    request: HttpRequest

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        request = self.request
        url = request.POST.get(self.redirect_field_name, request.GET.get(self.redirect_field_name))
        return url if url and is_safe_next(request, url) else ""


class LoginView(SafeNextMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if settings.DEMO_MODE:
            ctx["demo_accounts"] = DEMO_ACCOUNTS
            ctx["demo_password"] = DEMO_PASSWORD
        if self.request.GET.get("expired"):  # set by SessionExpiryMiddleware
            ctx["expired"] = True
        return ctx


class LogoutView(SafeNextMixin, auth_views.LogoutView):
    http_method_names = ["post", "options"]

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The browser erases what this site stored on the device (the field notebook's encrypted data,
        # its cache, the service worker): nothing of her work stays on a phone after she logs out.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/accounts/profile/"

    def form_valid(self, form):
        response = super().form_valid(form)
        with transaction.atomic():
            audit_change(actor=self.request.user, action="user.password_change", obj=self.request.user)
            # The old tokens no longer match the password (token_authenticate refuses them); mark them.
            revoked = services.tokens_revoke_all(user=self.request.user, reason="password_change")
        messages.success(self.request, _("Đã đổi mật khẩu."))
        if revoked:
            messages.info(self.request, _("%(n)s mã truy cập API đã bị thu hồi vì mật khẩu thay đổi.") % {"n": revoked})
        return response


@login_required
def profile(request):
    new_token = request.session.pop("new_token", None)
    return render(request, "accounts/profile.html", {
        "tokens": services.tokens_active_for(user=request.user),
        "token_limit": settings.VITREEM_API_TOKENS_PER_USER,
        "token_days": settings.VITREEM_API_TOKEN_DAYS,
        "new_token": new_token,
        "has_otp": TOTPDevice.objects.filter(user=request.user, confirmed=True).exists(),
    })


@login_required
@require_POST
def token_create(request):
    try:
        # The second factor this session passed (django-otp sets it); the token carries it.
        _token, raw = services.token_create(user=request.user, name=request.POST.get("name", ""),
                                            otp_device=getattr(request.user, "otp_device", None))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        request.session["new_token"] = raw
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        services.token_revoke(user=request.user, token_id=token_id)
        messages.success(request, _("Đã thu hồi mã truy cập."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:profile")


def _safe_next(request) -> str:
    nxt = request.GET.get("next") or request.POST.get("next") or "/"
    return nxt if is_safe_next(request, nxt) else "/"


@login_required
def otp(request):
    """Set up (first time) or verify a TOTP second factor."""
    device = TOTPDevice.objects.filter(user=request.user).order_by("-confirmed", "id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="vitreem", confirmed=False)
    error = ""
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip().replace(" ", "")
        if token.isdigit() and device.verify_token(token):
            with transaction.atomic():
                if not device.confirmed:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    audit_change(actor=request.user, action="user.otp_enrol", obj=request.user)
            otp_login(request, device)
            return redirect(_safe_next(request))
        error = _("Mã xác thực không đúng hoặc đã hết hạn. Hãy nhập mã 6 chữ số đang hiện trên ứng dụng.")
    qr_svg = ""
    if not device.confirmed:
        buf = BytesIO()
        qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage).save(buf)
        qr_svg = buf.getvalue().decode()
    return render(request, "accounts/otp.html", {
        "device": device, "qr_svg": qr_svg, "error": error, "next": _safe_next(request),
    }, status=400 if error else 200)
