"""Two-factor login is required for administrators and provincial officers (outside the demo); sessions
end after SESSION_COOKIE_AGE of inactivity, and the login page then says why."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .services import two_factor_required

# Only what logging in itself needs is open before the second factor: everything else under /accounts/
# (the profile, API tokens, the password) waits for it (issue 20: a token made from the profile with a
# password alone bypassed the second factor).
_EXEMPT_PREFIXES = ("/static/", "/i18n/")
_EXEMPT_VIEWS = ("accounts:login", "accounts:logout", "accounts:otp")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths = None  # reversed on first use, once the URLconf is loaded

    def _exempt(self, path: str) -> bool:
        if self._exempt_paths is None:
            self._exempt_paths = frozenset(reverse(name) for name in _EXEMPT_VIEWS)
        return path in self._exempt_paths or path.startswith(_EXEMPT_PREFIXES)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and two_factor_required(user)
            and not user.is_verified()
            and not self._exempt(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "two_factor_required",
                                     "message": "Cần xác thực hai lớp (2FA) trước khi dùng API."}, status=401)
            return redirect(reverse("accounts:otp") + "?" + urlencode({"next": request.get_full_path()}))
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
        had_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        # Only a session the request came with: a call with an API token has none, and touching one
        # would create a session row per call (issue 20 item 8).
        if had_cookie and session is not None and session.session_key and user is not None \
                and user.is_authenticated and not session.modified:
            now = int(time.time())
            if now - session.get("_touched", 0) >= SESSION_TOUCH_SECONDS:
                session["_touched"] = now
                # Renewing is bookkeeping: on SQLite while an import holds the write lock it waits for
                # the next request instead of failing this one.
                from vitreem.core.db import write_if_free

                # Saved here, or skipped while busy: either way SessionMiddleware must not save it again
                # (and wait for the lock this avoided).
                write_if_free(session.save)
                session.modified = False
        location = response.get("Location", "")
        # Not on /accounts/ itself: logging out also ends at the login page, and that is no expiry.
        if had_cookie and user is not None and not user.is_authenticated and response.status_code == 302 \
                and not request.path.startswith("/accounts/") \
                and location.startswith(reverse("accounts:login")) and "expired=" not in location:
            response["Location"] = location + ("&" if "?" in location else "?") + "expired=1"
        return response
