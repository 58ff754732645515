"""Reads of the campaign domain, always within one organization."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch, Q, QuerySet

from herald.accounts.models import Organization
from herald.campaigns.channels import validate_channel
from herald.campaigns.choices import CampaignStatus, Objective
from herald.campaigns.models import (
    AdCreative,
    Audience,
    Campaign,
    CampaignUnit,
    ExecutionLogEntry,
    KpiTarget,
    MediaAsset,
)
from herald.core.errors import InvalidInput, NotFound

__all__ = [
    "CAMPAIGN_ORDERINGS",
    "audience_list",
    "campaign_kpi_get",
    "campaign_list",
    "campaign_log",
    "creative_versions",
    "media_list",
    "unit_creatives",
]

CAMPAIGN_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "start_at": ("start_at", "id"),
    "-start_at": ("-start_at", "-id"),
    "end_at": ("end_at", "id"),
    "-end_at": ("-end_at", "-id"),
    "status": ("status", "name", "id"),
}


def campaign_list(
    *,
    organization: Organization,
    status: str | None = None,
    channel: str | None = None,
    objective: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    search: str | None = None,
    ordering: str = "-created_at",
) -> QuerySet[Campaign]:
    """Campaigns of ``organization`` matching every given filter.

    ``date_from``/``date_to`` keep campaigns whose run overlaps that range of days in
    the organization's time zone (an unset start or end is open-ended). ``search``
    matches the name, case-insensitively.
    """
    campaigns: QuerySet[Campaign] = Campaign.objects.for_org(organization)
    if status:
        if status not in CampaignStatus.values:
            raise InvalidInput.single("status", "choice", f"{status!r} is not a status.")
        campaigns = campaigns.filter(status=status)
    if objective:
        if objective not in Objective.values:
            raise InvalidInput.single("objective", "choice", f"{objective!r} is not an objective.")
        campaigns = campaigns.filter(objective=objective)
    if channel:
        validate_channel(channel)
        campaigns = campaigns.filter(
            pk__in=CampaignUnit.objects.filter(channel=channel).values("campaign_id")
        )
    campaigns = _running_between(campaigns, organization.time_zone, date_from, date_to)
    if search:
        campaigns = campaigns.filter(name__icontains=search.strip())
    if ordering not in CAMPAIGN_ORDERINGS:
        raise InvalidInput.single(
            "ordering", "choice", f"Order by one of: {', '.join(CAMPAIGN_ORDERINGS)}."
        )
    return (
        campaigns.select_related("budget", "created_by")
        .prefetch_related(
            "budget__allocations",
            Prefetch("units", queryset=CampaignUnit.objects.only("id", "campaign_id", "channel")),
        )
        .order_by(*CAMPAIGN_ORDERINGS[ordering])
    )


def _running_between(
    campaigns: QuerySet[Campaign], time_zone: str, date_from: date | None, date_to: date | None
) -> QuerySet[Campaign]:
    """Keep campaigns whose run overlaps the days ``date_from``..``date_to``."""
    zone = ZoneInfo(time_zone)
    if date_from and date_to and date_to < date_from:
        raise InvalidInput.single("date_to", "after_start", "date_to must not be before date_from.")
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=zone)
        campaigns = campaigns.filter(Q(end_at__isnull=True) | Q(end_at__gt=start))
    if date_to:
        end = datetime.combine(date_to, time.max, tzinfo=zone)
        campaigns = campaigns.filter(Q(start_at__isnull=True) | Q(start_at__lte=end))
    return campaigns


def campaign_log(*, campaign: Campaign) -> QuerySet[ExecutionLogEntry]:
    return ExecutionLogEntry.objects.filter(campaign=campaign).order_by("-created_at", "-id")


def unit_creatives(*, unit: CampaignUnit, include_history: bool = False) -> QuerySet[AdCreative]:
    creatives = AdCreative.objects.filter(unit=unit).select_related("media", "unit")
    if not include_history:
        creatives = creatives.filter(is_current=True)
    return creatives.order_by("created_at")


def creative_versions(*, creative: AdCreative) -> QuerySet[AdCreative]:
    """Every version of the creative's lineage, newest first."""
    return (
        AdCreative.objects.filter(
            organization_id=creative.organization_id, lineage_id=creative.lineage_id
        )
        .select_related("media", "unit")
        .order_by("-version")
    )


def audience_list(*, organization: Organization, search: str | None = None) -> QuerySet[Audience]:
    audiences = Audience.objects.for_org(organization).annotate(units_using=Count("units"))
    if search:
        audiences = audiences.filter(name__icontains=search.strip())
    ordered: QuerySet[Audience] = audiences.order_by("name", "id")
    return ordered


def media_list(*, organization: Organization) -> QuerySet[MediaAsset]:
    return MediaAsset.objects.for_org(organization).order_by("-created_at", "id")


def campaign_kpi_get(*, campaign: Campaign, kpi_id: UUID) -> KpiTarget:
    kpi: KpiTarget | None = KpiTarget.objects.filter(campaign=campaign, pk=kpi_id).first()
    if kpi is None:
        raise NotFound(detail="No such KPI target on this campaign.")
    return kpi
