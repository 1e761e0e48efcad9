from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "vitreem.activities"
    label = "activities"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from vitreem.core.nav import register_home_panel, register_nav

        def visible(user) -> bool:
            from vitreem.core.scope import scope_for

            return bool(scope_for(user).unit_ids)

        register_nav("activities:index", _("Hoạt động"), order=60, visible=visible)
        register_home_panel("activities/home_panel.html", "vitreem.activities.views.home_panel", order=60)
