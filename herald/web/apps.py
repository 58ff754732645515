from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "herald.web"
    label = "web"
    verbose_name = "Web UI"
    default_auto_field = "django.db.models.BigAutoField"
