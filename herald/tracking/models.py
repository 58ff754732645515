"""First-party tracking: the append-only event store and what hangs off it.

``TrackingEvent`` is the single source of truth for Herald's own measurements. Its
table is created by a migration of its own (on PostgreSQL: partitioned by day, loaded
with COPY; on SQLite: a plain table) and is never updated or deleted through the ORM:
rows are appended by ``herald.tracking.ingest`` and read by the rollup. A repeated
(organization, event id) on the same day is stored once.

``TrackingClick`` keeps each click id for attribution and the duplicate-click window;
``TrackingComment`` holds comment threads; ``RollupWatermark`` is how far the rollup
has read; ``PostbackSecret`` signs server-to-server conversion postbacks.
"""

from __future__ import annotations

import uuid

from django.db import models

from herald.core.models import TenantModel

__all__ = [
    "EventKind",
    "PostbackSecret",
    "RollupWatermark",
    "TrackingClick",
    "TrackingComment",
    "TrackingEvent",
]


class EventKind(models.IntegerChoices):
    IMPRESSION = 1, "Impression"
    VIEWABLE = 2, "Viewable impression"
    CLICK = 3, "Click"
    CONVERSION = 4, "Conversion"
    ENGAGEMENT = 5, "Engagement"


class TrackingEvent(models.Model):
    """One raw event. Read-only through the ORM (see the module docstring)."""

    seq = models.BigIntegerField(primary_key=True)
    day = models.DateField()
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    organization_id = models.UUIDField()
    campaign_id = models.UUIDField()
    unit_id = models.UUIDField(null=True)
    creative_id = models.UUIDField(null=True)
    channel = models.CharField(max_length=40)
    placement = models.CharField(max_length=100)
    device = models.CharField(max_length=10)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=100)
    kind = models.SmallIntegerField(choices=EventKind.choices)
    engagement_type = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    visitor = models.CharField(max_length=32)
    session_id = models.CharField(max_length=100)
    click_id = models.CharField(max_length=64)
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    currency = models.CharField(max_length=3)
    valid = models.BooleanField()
    billable = models.BooleanField()
    invalid_reason = models.CharField(max_length=30)
    utm_source = models.CharField(max_length=200)
    utm_medium = models.CharField(max_length=200)
    utm_campaign = models.CharField(max_length=200)
    utm_content = models.CharField(max_length=200)
    utm_term = models.CharField(max_length=200)
    order_id = models.CharField(max_length=100)
    ip_prefix = models.CharField(max_length=50)

    class Meta:
        managed = False
        db_table = "tracking_event"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_id}"


class TrackingClick(TenantModel):
    """A click, by its click id: what a later conversion is attributed to."""

    click_id = models.CharField(max_length=64, unique=True)
    campaign_id = models.UUIDField()
    unit_id = models.UUIDField(null=True)
    creative_id = models.UUIDField(null=True)
    channel = models.CharField(max_length=40)
    placement = models.CharField(max_length=100, blank=True, default="")
    device = models.CharField(max_length=10, blank=True, default="")
    visitor = models.CharField(max_length=32, blank=True, default="")
    occurred_at = models.DateTimeField()
    valid = models.BooleanField(default=True)
    billable = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["creative_id", "visitor", "occurred_at"], name="click_dup_window")
        ]

    def __str__(self) -> str:
        return self.click_id


class TrackingComment(TenantModel):
    """A comment on an ad (seed 002's engagement threads); replies point at a parent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    creative = models.ForeignKey(
        "campaigns.AdCreative", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    event_id = models.CharField(max_length=100)
    visitor = models.CharField(max_length=32, blank=True, default="")
    author_name = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField(max_length=5000)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="comment_event_unique"
            )
        ]

    def __str__(self) -> str:
        return self.body[:50]


class RollupWatermark(models.Model):
    """The last event ``seq`` a rollup has applied; moved in the same transaction as the
    rollup rows, so a rollup killed midway applies nothing and is redone."""

    name = models.CharField(max_length=50, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seq}"


class PostbackSecret(TenantModel):
    """Secrets that sign an organization's conversion postbacks; two may be valid while
    a rotation is under way. Sealed at rest."""

    sealed_secret = models.TextField()
    label = models.CharField(max_length=20)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.label}"
