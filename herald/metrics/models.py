"""The metrics fact store.

``DailyFact`` holds additive measures per campaign unit, day and source. Platform syncs
upsert one row per (unit, day, source): re-syncing a day replaces the row, never adds
to it. Derived metrics (CTR, CPC, ROAS …) are never stored; they are computed from these
sums through ``herald.metrics.definitions``.
"""

from __future__ import annotations

from django.db import models

from herald.core.models import TenantModel
from herald.core.money import AMOUNT_MAX_DIGITS

__all__ = ["DailyFact"]


class DailyFact(TenantModel):
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="daily_facts"
    )
    unit = models.ForeignKey(
        "campaigns.CampaignUnit", on_delete=models.CASCADE, related_name="daily_facts"
    )
    channel = models.CharField(max_length=40)
    day = models.DateField(help_text="In the ad account's time zone, as the platform reports.")
    source = models.CharField(max_length=40, help_text="Who measured it: a provider key.")
    currency = models.CharField(max_length=3)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    spend = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS + 4, decimal_places=6, default=0)
    conversions = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    conversion_value = models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS + 4, decimal_places=6, default=0
    )
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "day", "source"], name="daily_fact_unique")
        ]
        indexes = [models.Index(fields=["campaign", "day"], name="daily_fact_campaign_day")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.channel} {self.day}"
