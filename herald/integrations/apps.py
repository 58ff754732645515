from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "herald.integrations"
    label = "integrations"
    verbose_name = "Ad platform connections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Plugs the paid channels into the campaign registry (adapters and account
        # resolution) and registers the metric-sync periodic jobs.
        from herald.integrations import channels, tasks  # noqa: F401
