from django.conf import settings

from .nav import nav_for


def site(request):
    user = getattr(request, "user", None)
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "nav_items": nav_for(user, request.path) if user is not None and user.is_authenticated else [],
    }
