from django.conf import settings

from .nav import nav_for, page_assets


def site(request):
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    scripts, links = page_assets(user if authenticated else None)
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "nav_items": nav_for(user, request.path) if authenticated else [],
        "page_scripts": scripts,
        "page_links": links,
    }
