"""Two-factor login is required for administrators and provincial officers (outside the demo)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import TWO_FACTOR_ROLES

_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.TWO_FACTOR_REQUIRED
            and user is not None
            and user.is_authenticated
            and user.role in TWO_FACTOR_ROLES
            and not user.is_verified()
            and not request.path.startswith(_EXEMPT_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "two_factor_required",
                                     "message": "Cần xác thực hai lớp (2FA) trước khi dùng API."}, status=401)
            return redirect(reverse("accounts:otp") + "?next=" + request.get_full_path())
        return self.get_response(request)


class SessionExpiryMiddleware:
    """Tell the user why they are back at the login page: a session cookie that no longer opens a
    session means the session expired (idle timeout), not that they never logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        had_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        user = getattr(request, "user", None)
        location = response.get("Location", "")
        # Not on /accounts/ itself: logging out also ends at the login page, and that is no expiry.
        if had_cookie and user is not None and not user.is_authenticated and response.status_code == 302 \
                and not request.path.startswith("/accounts/") \
                and location.startswith(reverse("accounts:login")) and "expired=" not in location:
            response["Location"] = location + ("&" if "?" in location else "?") + "expired=1"
        return response
