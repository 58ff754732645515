"""The campaign domain's tables.

A ``Campaign`` is made of ``CampaignUnit``s (an ad group on Google, an ad set on Meta),
each on exactly one channel, each holding ``AdCreative`` versions. One ``CampaignBudget``
per campaign is split into per-channel ``BudgetAllocation``s. ``Audience``s and
``MediaAsset``s are reusable across campaigns of one organization. Every transition
and every failed lifecycle attempt leaves an ``ExecutionLogEntry``.

Every row carries its organization; services keep a child's organization equal to its
parent's. Writes go through ``herald.campaigns.services``; nothing here has business
logic beyond derived read-only properties.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from herald.campaigns.choices import (
    ActorType,
    BudgetKind,
    CampaignStatus,
    LogOutcome,
    Objective,
    UnitStatus,
)
from herald.core.models import TenantModel
from herald.core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS

__all__ = [
    "AdCreative",
    "Audience",
    "BudgetAllocation",
    "Campaign",
    "CampaignBudget",
    "CampaignChannel",
    "CampaignUnit",
    "ExecutionLogEntry",
    "KpiTarget",
    "MediaAsset",
]


def _money_field(*, null: bool = False, help_text: str = "") -> Any:
    return models.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        null=null,
        blank=null,
        help_text=help_text,
    )


class Campaign(TenantModel):
    """One marketing push with one objective, budget and schedule, across channels."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    objective = models.CharField(max_length=20, choices=Objective.choices)
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3)
    tags = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=500, blank=True, default="")
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status"], name="campaign_org_status_idx"),
            models.Index(fields=["status", "start_at"], name="campaign_status_start_idx"),
            models.Index(fields=["status", "end_at"], name="campaign_status_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CampaignStatus.values), name="campaign_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(objective__in=Objective.values),
                name="campaign_objective_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(start_at__isnull=True)
                | models.Q(end_at__isnull=True)
                | models.Q(end_at__gt=models.F("start_at")),
                name="campaign_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignBudget(TenantModel):
    """The campaign's money: a daily or lifetime amount, split across channels."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="budget")
    kind = models.CharField(max_length=10, choices=BudgetKind.choices)
    amount = _money_field()
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="budget_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(kind__in=BudgetKind.values), name="budget_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class BudgetAllocation(TenantModel):
    """The part of a budget given to one channel; allocations never exceed the budget."""

    budget = models.ForeignKey(CampaignBudget, on_delete=models.CASCADE, related_name="allocations")
    channel = models.CharField(max_length=40)
    amount = _money_field()

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "channel"], name="allocation_unique_channel"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="allocation_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.amount}"


class Audience(TenantModel):
    """Reusable targeting rules; see ``herald.campaigns.audience_rules`` for the schema."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    rules = models.JSONField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="audience_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignUnit(TenantModel):
    """An ad group (Google) or ad set (Meta): one channel, one audience, its creatives.

    The audience is RESTRICTed: it cannot be deleted while a unit uses it, except when
    the unit goes too (deleting the campaign or the organization).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="units")
    channel = models.CharField(max_length=40)
    audience = models.ForeignKey(
        Audience, on_delete=models.RESTRICT, null=True, blank=True, related_name="units"
    )
    name = models.CharField(max_length=200)
    budget_amount = _money_field(null=True, help_text="Optional share of the channel's allocation.")
    status = models.CharField(max_length=20, choices=UnitStatus.choices, default=UnitStatus.DRAFT)
    external_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="unit_unique_name"),
            models.CheckConstraint(
                condition=models.Q(budget_amount__isnull=True) | models.Q(budget_amount__gt=0),
                name="unit_budget_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel})"


def _media_upload_to(instance: MediaAsset, filename: str) -> str:
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
    return f"media/{instance.organization_id}/{instance.id}.{extension[instance.content_type]}"


class MediaAsset(TenantModel):
    """An uploaded image, checked for type, size and dimensions on upload."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(upload_to=_media_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class AdCreative(TenantModel):
    """One version of an ad's content.

    Versions of the same ad share a ``lineage_id``; exactly one is current. A version
    that was ever launched (``launched_at`` set) never changes again: editing it makes a
    new version whose ``parent`` is the old one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(CampaignUnit, on_delete=models.CASCADE, related_name="creatives")
    lineage_id = models.UUIDField(db_index=True)
    version = models.PositiveIntegerField(default=1)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    is_current = models.BooleanField(default=True)
    name = models.CharField(max_length=200, blank=True, default="")
    headlines = models.JSONField(default=list)
    descriptions = models.JSONField(default=list)
    primary_text = models.TextField(blank=True, default="")
    media = models.ForeignKey(
        MediaAsset, on_delete=models.RESTRICT, null=True, blank=True, related_name="creatives"
    )
    destination_url = models.URLField(max_length=2048)
    display_path = models.JSONField(default=list, blank=True)
    call_to_action = models.CharField(max_length=40, blank=True, default="")
    launched_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True, default="")
    # Other platform objects behind the ad (Meta: its ad creative and image hash).
    external_refs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lineage_id", "version"], name="creative_unique_version"
            ),
            models.UniqueConstraint(
                fields=["lineage_id"],
                condition=models.Q(is_current=True),
                name="creative_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Creative'} v{self.version}"

    @property
    def is_launched(self) -> bool:
        return self.launched_at is not None

    def content(self) -> dict[str, Any]:
        """What the ad says and shows (not its identity, version or platform state),
        for a new version or a duplicate to start from."""
        return {
            "name": self.name,
            "headlines": list(self.headlines),
            "descriptions": list(self.descriptions),
            "primary_text": self.primary_text,
            "media_id": self.media_id,
            "destination_url": self.destination_url,
            "display_path": list(self.display_path),
            "call_to_action": self.call_to_action,
        }


class CampaignChannel(TenantModel):
    """Where a campaign stands on one channel's platform: the external campaign id as
    soon as it exists, and how the last push there went. A multi-channel campaign has
    one row per channel it runs on, so a partial launch says exactly which half failed.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        LIVE = "live", "Live"
        PAUSED = "paused", "Paused"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="channels")
    channel = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    last_error = models.TextField(blank=True, default="")
    launched_at = models.DateTimeField(null=True, blank=True)
    # Other platform objects of the campaign (Google: its budget resource).
    external_refs = models.JSONField(default=dict, blank=True)
    # Launch attempts that failed and may be retried automatically.
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "channel"], name="campaign_channel_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} on {self.channel}: {self.state}"


class KpiTarget(TenantModel):
    """A target for one metric of a campaign, e.g. ROAS 3.0 or CPA under 12 EUR."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="kpi_targets")
    metric = models.CharField(max_length=40)
    target_value = models.DecimalField(max_digits=18, decimal_places=4)
    unit = models.CharField(max_length=20)

    class Meta:
        ordering = ["metric"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "metric"], name="kpi_unique_metric")
        ]

    def __str__(self) -> str:
        return f"{self.metric} → {self.target_value} {self.unit}"


class ExecutionLogEntry(TenantModel):
    """An audit row: a lifecycle transition, or an attempt that failed and why.

    Written only by the lifecycle services and the launch task; never edited.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="log_entries")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20, blank=True, default="")
    outcome = models.CharField(max_length=10, choices=LogOutcome.choices)
    message = models.TextField(blank=True, default="")
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_api_key = models.ForeignKey(
        "accounts.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=300)
    unit = models.ForeignKey(
        CampaignUnit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    creative = models.ForeignKey(
        AdCreative, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "execution log entries"

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status or '—'} ({self.outcome})"
