from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "vitreem.stats"
    label = "stats"

    def ready(self) -> None:
        from vitreem.core.audit import on_change
        from vitreem.core.nav import register_home_panel, register_nav
        from vitreem.core.scope import scope_for

        from .rollups import invalidate_entries

        # every audited change marks the figures of its units stale (rollups.py)
        on_change(invalidate_entries)
        register_nav("stats:dashboard", _("Thống kê"), order=20, visible=lambda user: scope_for(user).read_children)
        register_home_panel("stats/home_panel.html", "vitreem.stats.views.home_panel_context", order=10)
