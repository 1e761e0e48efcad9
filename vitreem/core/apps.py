from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "vitreem.core"
    label = "core"
    verbose_name = "Lõi hệ thống"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import db  # registers the `in_ids` lookup (scope filters, places.descendant_ids)
        from .nav import register_nav
        from .scope import scope_for

        register_nav("core:home", _("Trang chủ"), order=0)
        register_nav("core:audit", _("Nhật ký"), order=90,
                     visible=lambda u: scope_for(u).can_read_audit)
        connection_created.connect(db.iso_timestamptz, dispatch_uid="vitreem.core.db.iso_timestamptz")
