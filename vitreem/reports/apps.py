from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "vitreem.reports"
    label = "reports"
