from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "herald.core"
    label = "core"
    verbose_name = "Herald core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from herald.core import tasks  # noqa: F401  (registers periodic jobs)
