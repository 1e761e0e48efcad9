from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "vitreem.field"
    label = "field"
    verbose_name = _("Làm việc tại thực địa")

    def ready(self) -> None:
        from django.templatetags.static import static
        from django.urls import reverse

        from vitreem.core.nav import register_nav, register_page_asset

        from .selectors import field_enabled

        register_nav("field:app", _("Sổ tay thực địa"), order=5, visible=field_enabled)
        # Installable: every page names the manifest and the icon; the worker's pages also load the
        # script that registers the service worker and empties the phone's store at logout.
        register_page_asset("manifest", lambda: reverse("field:manifest"))
        register_page_asset("icon", lambda: static("field/icons/icon-192.png"))
        register_page_asset("apple-touch-icon", lambda: static("field/icons/icon-192.png"))
        register_page_asset("script", lambda: static("field/register.js"), visible=field_enabled)
