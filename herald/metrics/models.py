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

``MetricCampaignDay`` is the same store summed per campaign, channel, source and day,
kept equal to the cells by the database itself (triggers on ``MetricFact``, see migration
``0003``): whatever writes a fact — the rollup, a platform sync, the admin, a test —
moves the sums with it in the same statement. Organization-wide reports read it: it has
about a twentieth of the cells' rows (D10M: 30k against 600k). It is never written by the
application.
"""

from __future__ import annotations

from django.db import models

from herald.core.models import TenantModel, TenantQuerySet
from herald.core.money import AMOUNT_MAX_DIGITS

__all__ = [
    "COUNT_MEASURES",
    "FACT_MEASURES",
    "MONEY_MEASURES",
    "MetricCampaignDay",
    "MetricFact",
    "MetricFactHour",
    "Source",
]


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
FACT_MEASURES = (*COUNT_MEASURES, *MONEY_MEASURES)


def _count() -> models.BigIntegerField:  # type: ignore[type-arg]
    return models.BigIntegerField(default=0)


def _decimal() -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS + 6, decimal_places=6, default=0)


class _MeasureColumns(models.Model):
    """The additive measures every fact table holds (``FACT_MEASURES``)."""

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


class _Measures(TenantModel, _MeasureColumns):
    # Neither the organization nor the campaign gets an index of its own: the (campaign,
    # day|hour) and (organization, day) indexes serve their lookups, and every index costs
    # the rollup an insert per cell. Nothing reads facts by creation time either.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False
    )
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


class MetricCampaignDay(_MeasureColumns):
    """``MetricFact`` summed per campaign, channel, source and day (see the module
    docstring). Maintained by triggers; read-only for the application.

    The relations carry no database constraint and no cascade: a row lives exactly as
    long as some fact row sums into it (``fact_rows`` > 0), and the facts' own cascades
    remove it.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    channel = models.CharField(max_length=40)
    source = models.CharField(max_length=20, choices=Source.choices)
    day = models.DateField()
    fact_rows = models.IntegerField(help_text="How many MetricFact rows this row sums.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "channel", "source"], name="metric_campaign_day_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "day"], name="metric_campaign_day_org")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.channel} {self.day} {self.source}"
