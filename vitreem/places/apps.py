from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "vitreem.places"
    label = "places"
    verbose_name = "Đơn vị hành chính"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import AdminUnit, UnitSuccession
        from .selectors import tree_changed

        # A unit or crosswalk row edited (the admin) moves the tree's stamp: the processes drop what they
        # derived from the old tree (core.scope).
        for model in (AdminUnit, UnitSuccession):
            post_save.connect(tree_changed, sender=model, dispatch_uid=f"tree_changed_save_{model.__name__}")
            post_delete.connect(tree_changed, sender=model, dispatch_uid=f"tree_changed_delete_{model.__name__}")
