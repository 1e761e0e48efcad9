"""Two-factor login is required for administrators and provincial officers (outside the demo); sessions
end after SESSION_COOKIE_AGE of inactivity, and the login page then says why."""

import time

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


# How stale the session's expiry may get before a request renews it.
SESSION_TOUCH_SECONDS = 300


class SessionExpiryMiddleware:
    """The idle timeout, and telling the user about it.

    A session is renewed (saved, so it ends SESSION_COOKIE_AGE after now) at most once every
    SESSION_TOUCH_SECONDS of activity: an idle timeout within five minutes, without an UPDATE and a
    commit on every page as SESSION_SAVE_EVERY_REQUEST would cost (it doubled the dashboard's p95 at
    20 connections, bench/bench_stats.py). A session cookie that no longer opens a session means the
    session expired, not that the user never logged in: the login page says so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and not session.modified:
            now = int(time.time())
            if now - session.get("_touched", 0) >= SESSION_TOUCH_SECONDS:
                session["_touched"] = now
        had_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        location = response.get("Location", "")
        # Not on /accounts/ itself: logging out also ends at the login page, and that is no expiry.
        if had_cookie and user is not None and not user.is_authenticated and response.status_code == 302 \
                and not request.path.startswith("/accounts/") \
                and location.startswith(reverse("accounts:login")) and "expired=" not in location:
            response["Location"] = location + ("&" if "?" in location else "?") + "expired=1"
        return response
