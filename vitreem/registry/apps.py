from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "vitreem.registry"
    label = "registry"
