from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _reads_children(user) -> bool:
    from vitreem.core.scope import scope_for

    return scope_for(user).read_children


class BenefitsConfig(AppConfig):
    name = "vitreem.benefits"
    label = "benefits"
    verbose_name = "Trợ cấp xã hội"

    def ready(self) -> None:
        from vitreem.core.nav import register_home_panel, register_nav

        register_nav("benefits:index", _("Trợ cấp xã hội"), order=30, visible=_reads_children)
        register_home_panel("benefits/home_panel.html", "vitreem.benefits.views.home_panel", order=30)
