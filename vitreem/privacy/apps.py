from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "vitreem.privacy"
    label = "privacy"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from vitreem.core.nav import register_nav

        def visible(user) -> bool:
            from vitreem.core.scope import scope_for

            scope = scope_for(user)
            return scope.read_children and bool(scope.unit_ids)

        register_nav("privacy:index", _("Dữ liệu cá nhân"), order=85, visible=visible)
