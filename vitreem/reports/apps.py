from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "vitreem.reports"
    label = "reports"

    def ready(self) -> None:
        from vitreem.core.nav import register_nav
        from vitreem.core.scope import scope_for

        register_nav("reports:list", _("Báo cáo"), order=21, visible=lambda user: scope_for(user).read_children)
