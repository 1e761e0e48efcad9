"""URLs: each vitreem app with a urls.py is mounted at /<label>/ (core at /); the API at /api/."""

import importlib

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from vitreem.core.api import api
from vitreem.core.csp import REPORT_PATH, csp_report


def _app_urls():
    patterns = []
    for config in apps.get_app_configs():
        if not config.name.startswith("vitreem.") or config.label in {"core"}:
            continue
        try:
            importlib.import_module(f"{config.name}.urls")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.urls":
                continue
            raise
        patterns.append(path(f"{config.label}/", include(f"{config.name}.urls")))
    return patterns


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(REPORT_PATH.strip("/") + "/", csp_report, name="csp_report"),
    *_app_urls(),
    path("", include("vitreem.core.urls")),
]

handler400 = "vitreem.core.views.error_400"
handler403 = "vitreem.core.views.error_403"
handler404 = "vitreem.core.views.error_404"
handler500 = "vitreem.core.views.error_500"
