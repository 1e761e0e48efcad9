from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vitreem.cases"
    label = "cases"
