from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from herald.campaigns.models import (
    AdCreative,
    Audience,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignChannel,
    CampaignUnit,
    ExecutionLogEntry,
    KpiTarget,
    MediaAsset,
)


class CampaignUnitInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CampaignUnit
    extra = 0
    fields = ["name", "channel", "audience", "budget_amount", "status", "external_id"]
    show_change_link = True


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "organization",
        "status",
        "objective",
        "start_at",
        "end_at",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "objective", "organization", "currency"]
    search_fields = ["name", "description", "id"]
    date_hierarchy = "created_at"
    readonly_fields = ["status", "status_changed_at", "created_at", "updated_at"]
    inlines = [CampaignUnitInline]


class BudgetAllocationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BudgetAllocation
    extra = 0
    fields = ["channel", "amount"]


@admin.register(CampaignBudget)
class CampaignBudgetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["campaign", "kind", "amount", "currency", "organization"]
    list_filter = ["kind", "currency", "organization"]
    search_fields = ["campaign__name"]
    inlines = [BudgetAllocationInline]


@admin.register(BudgetAllocation)
class BudgetAllocationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["budget", "channel", "amount", "organization"]
    list_filter = ["channel", "organization"]
    search_fields = ["budget__campaign__name"]


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "organization", "created_at", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["name", "description"]


@admin.register(CampaignUnit)
class CampaignUnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "campaign",
        "channel",
        "audience",
        "budget_amount",
        "status",
        "external_id",
    ]
    list_filter = ["channel", "status", "organization"]
    search_fields = ["name", "campaign__name", "external_id"]


@admin.register(AdCreative)
class AdCreativeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "__str__",
        "unit",
        "version",
        "is_current",
        "launched_at",
        "call_to_action",
        "created_at",
    ]
    list_filter = ["is_current", ("launched_at", admin.EmptyFieldListFilter), "organization"]
    search_fields = ["name", "destination_url", "unit__name", "lineage_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A launched version never changes, not even here.
        if obj is not None and obj.launched_at is not None:
            return [field.name for field in self.model._meta.fields]
        return ["lineage_id", "version", "parent", "launched_at"]


@admin.register(MediaAsset)
class MediaAssetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "original_name",
        "organization",
        "content_type",
        "width",
        "height",
        "size_bytes",
        "created_at",
    ]
    list_filter = ["content_type", "organization"]
    search_fields = ["original_name", "sha256"]
    readonly_fields = ["content_type", "size_bytes", "width", "height", "sha256"]


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["campaign", "metric", "target_value", "unit", "organization"]
    list_filter = ["metric", "organization"]
    search_fields = ["campaign__name"]


@admin.register(CampaignChannel)
class CampaignChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["campaign", "channel", "state", "external_id", "launched_at"]
    list_filter = ["channel", "state", "organization"]
    search_fields = ["campaign__name", "external_id"]


@admin.register(ExecutionLogEntry)
class ExecutionLogEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit trail: readable, never editable."""

    list_display = [
        "created_at",
        "campaign",
        "action",
        "from_status",
        "to_status",
        "outcome",
        "actor_label",
    ]
    list_filter = ["outcome", "action", "actor_type", "organization"]
    search_fields = ["campaign__name", "message", "actor_label"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
