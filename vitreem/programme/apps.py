from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "vitreem.programme"
    label = "programme"
