from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vitreem.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"
