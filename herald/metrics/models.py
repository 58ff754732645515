"""The metrics fact store: additive measures per cell and day, whatever measured them.

A cell is (campaign, unit, creative, channel, placement, device); ``source`` says who
measured it — ``first_party`` for Herald's own tracking (rolled up from raw events),
or a provider key for rows synced from an ad platform. One row per (cell, day, source):
a platform re-sync or a rollup rebuild replaces it, an incremental rollup adds to it.
``MetricFactHour`` holds the same measures per hour for the current days, so "today"
reads fresh without scanning raw events.

Derived metrics (CTR, CPC, ROAS …) are never stored: ``herald.metrics.formulas``
computes them from these sums. Reach is not additive: first-party cells carry a
HyperLogLog sketch (``herald.metrics.sketch``) that unions over any range.
"""

from __future__ import annotations

from django.db import models

from herald.core.models import TenantModel
from herald.core.money import AMOUNT_MAX_DIGITS

__all__ = ["COUNT_MEASURES", "MONEY_MEASURES", "MetricFact", "MetricFactHour", "Source"]


class Source(models.TextChoices):
    FIRST_PARTY = "first_party", "Herald tracking"
    GOOGLE_ADS = "google_ads", "Google Ads"
    META_ADS = "meta_ads", "Meta Ads"


COUNT_MEASURES = (
    "impressions_gross",
    "impressions",
    "viewable_impressions",
    "clicks_gross",
    "clicks",
    "billable_clicks",
    "engagements",
    "likes",
    "shares",
    "comments",
    "saves",
    "follows",
)
MONEY_MEASURES = ("conversions", "conversion_value", "spend")


def _count() -> models.BigIntegerField:  # type: ignore[type-arg]
    return models.BigIntegerField(default=0)


def _decimal() -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS + 6, decimal_places=6, default=0)


class _Measures(TenantModel):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        "campaigns.CampaignUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    creative = models.ForeignKey(
        "campaigns.AdCreative", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=40)
    placement = models.CharField(max_length=100, blank=True, default="")
    device = models.CharField(max_length=10, blank=True, default="")
    source = models.CharField(max_length=20, choices=Source.choices)
    cell_key = models.CharField(
        max_length=64, help_text="Hash of the cell's dimensions; unique per day and source."
    )
    currency = models.CharField(max_length=3, blank=True, default="")
    impressions_gross = _count()
    impressions = _count()
    viewable_impressions = _count()
    clicks_gross = _count()
    clicks = _count()
    billable_clicks = _count()
    engagements = _count()
    likes = _count()
    shares = _count()
    comments = _count()
    saves = _count()
    follows = _count()
    conversions = _decimal()
    conversion_value = _decimal()
    spend = _decimal()

    class Meta:
        abstract = True


class MetricFact(_Measures):
    day = models.DateField(help_text="UTC day for first-party rows; account day for platforms.")
    reach_sketch = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell_key", "day", "source"], name="metric_fact_unique")
        ]
        indexes = [
            models.Index(fields=["campaign", "day"], name="metric_fact_campaign_day"),
            models.Index(fields=["organization", "day"], name="metric_fact_org_day"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.channel} {self.day} {self.source}"


class MetricFactHour(_Measures):
    hour = models.DateTimeField(help_text="Start of the UTC hour.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cell_key", "hour", "source"], name="metric_fact_hour_unique"
            )
        ]
        indexes = [models.Index(fields=["campaign", "hour"], name="metric_fact_hour_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.channel} {self.hour:%Y-%m-%d %H}h"
