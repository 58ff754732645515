from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from herald.integrations.models import (
    AdAccount,
    CampaignAdAccount,
    Connection,
    OAuthState,
    RateLimitBucket,
    SyncRun,
)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are sealed and never shown, not even here."""

    list_display = ["provider", "name", "organization", "status", "is_sandbox", "token_expires_at"]
    list_filter = ["provider", "status", "is_sandbox", "organization"]
    search_fields = ["name", "provider"]
    exclude = ["sealed_access_token", "sealed_refresh_token"]
    readonly_fields = ["token_expires_at", "last_refreshed_at", "scopes", "connected_by"]


@admin.register(AdAccount)
class AdAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "provider",
        "external_id",
        "currency",
        "time_zone",
        "status",
        "is_sandbox",
    ]
    list_filter = ["provider", "status", "is_sandbox", "organization"]
    search_fields = ["name", "external_id"]


@admin.register(CampaignAdAccount)
class CampaignAdAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["campaign", "channel", "ad_account", "organization"]
    list_filter = ["channel", "organization"]
    search_fields = ["campaign__name", "ad_account__name"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["started_at", "kind", "status", "ad_account", "rows", "finished_at"]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["error", "ad_account__name"]
    date_hierarchy = "started_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OAuthState)
class OAuthStateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["provider", "user", "organization", "is_sandbox", "expires_at", "used_at"]
    list_filter = ["provider", "is_sandbox"]
    search_fields = ["user__email"]
    exclude = ["state_hash", "session_key_hash"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RateLimitBucket)
class RateLimitBucketAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["key", "tokens", "updated_at"]
    search_fields = ["key"]
