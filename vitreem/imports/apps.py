from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _can_import(user) -> bool:
    from vitreem.core.scope import scope_for

    return scope_for(user).read_children


class ImportsConfig(AppConfig):
    name = "vitreem.imports"
    label = "imports"
    verbose_name = _("Nhập/xuất danh sách")

    def ready(self) -> None:
        from vitreem.core.nav import register_nav

        register_nav("imports:list", _("Nhập/xuất Excel"), order=25, visible=_can_import)
