from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "herald.accounts"
    label = "accounts"
    verbose_name = "Organizations and access"
    default_auto_field = "django.db.models.BigAutoField"
