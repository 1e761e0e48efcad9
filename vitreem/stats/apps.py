from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "vitreem.stats"
    label = "stats"
