"""The request of a page behind @login_required, as the type checker should see it.

django-stubs types `HttpRequest.user` as an account or AnonymousUser; once `login_required` has let the
request through it is an account, which is what the services and selectors take. This class is never
instantiated: Django still passes its own request object, annotated with this type."""

from __future__ import annotations

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
