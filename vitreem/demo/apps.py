from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "vitreem.demo"
    label = "demo"
    verbose_name = "Tỉnh mẫu"
