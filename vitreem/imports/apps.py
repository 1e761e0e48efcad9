from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "vitreem.imports"
    label = "imports"
