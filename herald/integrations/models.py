"""Connections to ad platforms, the ad accounts they reach, and sync history.

A ``Connection`` is one OAuth grant (one person's consent on one platform) for an
organization; its tokens are sealed with ``herald.core.secretbox`` and only opened by
``herald.integrations.services.connections``. ``AdAccount``s are what a sync found
reachable through it. A campaign chooses one ad account per paid channel
(``CampaignAdAccount``). ``OAuthState`` makes each authorization round trip single-use
and bound to the person and organization that started it. ``SyncRun`` records every
account or metrics sync.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from herald.core.models import TenantModel

__all__ = [
    "AdAccount",
    "CampaignAdAccount",
    "Connection",
    "OAuthState",
    "RateLimitBucket",
    "SyncRun",
]


class Connection(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Connected"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        DISCONNECTED = "disconnected", "Disconnected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    is_sandbox = models.BooleanField(
        default=False, help_text="Served by Herald's local fake of the platform."
    )
    name = models.CharField(max_length=200, blank=True, default="")
    sealed_access_token = models.TextField(blank=True, default="")
    sealed_refresh_token = models.TextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["provider", "-created_at"]
        indexes = [
            models.Index(fields=["organization", "provider"], name="connection_org_provider")
        ]

    def __str__(self) -> str:
        sandbox = " (sandbox)" if self.is_sandbox else ""
        return f"{self.provider}{sandbox}: {self.name or self.pk}"


class AdAccount(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"
        CLOSED = "closed", "Closed"
        PENDING = "pending", "Pending"
        GONE = "gone", "No longer reachable"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="ad_accounts")
    provider = models.CharField(max_length=40)
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices)
    is_sandbox = models.BooleanField(default=False)
    # Platform facts the adapter needs (Meta: the Page ads run as).
    settings = models.JSONField(default=dict, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_metrics_sync_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "external_id"], name="ad_account_unique_per_connection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class CampaignAdAccount(TenantModel):
    """The ad account a campaign runs on for one paid channel."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="ad_accounts"
    )
    channel = models.CharField(max_length=40)
    ad_account = models.ForeignKey(AdAccount, on_delete=models.PROTECT, related_name="campaigns")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "channel"], name="campaign_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} on {self.channel}: {self.ad_account_id}"


class OAuthState(TenantModel):
    """One authorization round trip: its ``state`` (stored hashed) may be redeemed once,
    by the person who started it, within its lifetime."""

    provider = models.CharField(max_length=40)
    state_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key_hash = models.CharField(max_length=64, blank=True, default="")
    is_sandbox = models.BooleanField(default=False)
    reconnect = models.ForeignKey(
        Connection, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider} state for {self.user_id}"


class SyncRun(TenantModel):
    class Kind(models.TextChoices):
        ACCOUNTS = "accounts", "Ad accounts"
        METRICS = "metrics", "Metrics"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    ad_account = models.ForeignKey(
        AdAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} sync {self.status} at {self.started_at:%Y-%m-%d %H:%M}"


class RateLimitBucket(models.Model):
    """A token bucket per (provider, ad account), shared by every worker process."""

    key = models.CharField(max_length=200, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
