from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "vitreem.activities"
    label = "activities"
