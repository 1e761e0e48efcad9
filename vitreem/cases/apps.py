from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "vitreem.cases"
    label = "cases"
    verbose_name = _("Vụ việc bảo vệ trẻ em")

    def ready(self) -> None:
        from vitreem.core.nav import register_home_panel, register_nav

        register_nav("cases:list", _("Vụ việc"), order=30, visible=lambda user: bool(getattr(user, "is_authenticated", False)))
        register_home_panel("cases/home_panel.html", "vitreem.cases.views.home_panel_context", order=20)
