from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "vitreem.programme"
    label = "programme"
    verbose_name = _("Mục tiêu & báo cáo")

    def ready(self) -> None:
        from vitreem.core.nav import register_home_panel, register_nav

        from .permissions import can_use_programme

        register_nav("programme:index", _("Mục tiêu & báo cáo"), order=40, visible=can_use_programme)
        register_home_panel("programme/home_panel.html", "vitreem.programme.views.home_panel_context", order=40)
