from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "herald.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Periodic jobs (launch due campaigns, complete ended ones) register here.
        from herald.campaigns import tasks  # noqa: F401
