from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "vitreem.places"
    label = "places"
    verbose_name = "Đơn vị hành chính"
