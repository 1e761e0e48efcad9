from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "vitreem.benefits"
    label = "benefits"
