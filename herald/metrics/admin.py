from django.contrib import admin

from herald.metrics.models import DailyFact


@admin.register(DailyFact)
class DailyFactAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "day",
        "campaign",
        "unit",
        "channel",
        "source",
        "impressions",
        "clicks",
        "spend",
    ]
    list_filter = ["channel", "source", "organization"]
    search_fields = ["campaign__name", "unit__name"]
    date_hierarchy = "day"
