from django.contrib import admin

from herald.metrics.models import MetricFact, MetricFactHour


@admin.register(MetricFact)
class MetricFactAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "day",
        "campaign",
        "channel",
        "source",
        "placement",
        "device",
        "impressions",
        "clicks",
        "spend",
    ]
    list_filter = ["source", "channel", "device", "organization"]
    search_fields = ["campaign__name", "placement"]
    date_hierarchy = "day"
    exclude = ["reach_sketch"]


@admin.register(MetricFactHour)
class MetricFactHourAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["hour", "campaign", "channel", "source", "impressions", "clicks"]
    list_filter = ["source", "channel", "organization"]
    search_fields = ["campaign__name"]
