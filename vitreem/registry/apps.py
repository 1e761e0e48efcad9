from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _reads_children(user) -> bool:
    from vitreem.core.scope import scope_for

    return scope_for(user).read_children


def _merges_children(user) -> bool:
    from vitreem.core.scope import scope_for

    return scope_for(user).write_children


class RegistryConfig(AppConfig):
    name = "vitreem.registry"
    label = "registry"
    verbose_name = "Sổ theo dõi trẻ em"

    def ready(self) -> None:
        from vitreem.core.nav import register_nav

        register_nav("registry:children", _("Trẻ em"), order=10, visible=_reads_children)
        register_nav("registry:duplicates:list", _("Hồ sơ trùng"), order=12, visible=_merges_children)
