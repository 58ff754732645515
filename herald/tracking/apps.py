from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "herald.tracking"
    label = "tracking"
    verbose_name = "First-party tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from herald.tracking import tasks  # noqa: F401  (registers the rollup job)
