from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "herald.metrics"
    label = "metrics"
    verbose_name = "Metrics"
    default_auto_field = "django.db.models.BigAutoField"
