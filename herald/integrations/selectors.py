"""Reads of the integrations app, within one organization."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from herald.accounts.models import Organization
from herald.campaigns.models import Campaign, CampaignChannel
from herald.core.errors import InvalidInput
from herald.integrations.models import AdAccount, CampaignAdAccount, Connection, SyncRun
from herald.metrics.models import MetricFact, Source

__all__ = [
    "ad_account_list",
    "campaign_daily_metrics",
    "campaign_platforms",
    "connection_list",
    "sync_run_list",
]

MAX_METRIC_DAYS = 400
PLATFORM_SOURCES = (Source.GOOGLE_ADS, Source.META_ADS)


def connection_list(*, organization: Organization) -> QuerySet[Connection]:
    return Connection.objects.for_org(organization).order_by("provider", "-created_at")


def ad_account_list(
    *, organization: Organization, provider: str | None = None
) -> QuerySet[AdAccount]:
    accounts = AdAccount.objects.for_org(organization).select_related("connection")
    if provider:
        accounts = accounts.filter(provider=provider)
    ordered: QuerySet[AdAccount] = accounts.order_by("provider", "name", "id")
    return ordered


def sync_run_list(
    *, organization: Organization, kind: str | None = None, ad_account_id: object | None = None
) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.for_org(organization).select_related("ad_account")
    if kind:
        runs = runs.filter(kind=kind)
    if ad_account_id:
        runs = runs.filter(ad_account_id=ad_account_id)
    ordered: QuerySet[SyncRun] = runs.order_by("-started_at", "id")
    return ordered


def campaign_daily_metrics(
    *, campaign: Campaign, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    """Per day and channel, the additive measures in the normalized vocabulary (spend
    in the campaign's currency). Days without data are absent."""
    if date_to < date_from:
        raise InvalidInput.single("to", "after_start", "'to' must not be before 'from'.")
    if (date_to - date_from).days > MAX_METRIC_DAYS:
        raise InvalidInput.single("to", "max_range", f"Ask for {MAX_METRIC_DAYS} days at most.")
    rows = (
        MetricFact.objects.filter(
            campaign=campaign, day__range=(date_from, date_to), source__in=PLATFORM_SOURCES
        )
        .values("day", "channel", "source")
        .annotate(
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            spend=Sum("spend"),
            conversions=Sum("conversions"),
            conversion_value=Sum("conversion_value"),
        )
        .order_by("day", "channel")
    )
    return [
        {
            **row,
            "spend": Decimal(row["spend"]).quantize(Decimal("0.01")),
            "conversion_value": Decimal(row["conversion_value"]).quantize(Decimal("0.01")),
            "conversions": Decimal(row["conversions"]).normalize(),
        }
        for row in rows
    ]


def campaign_platforms(*, campaign: Campaign) -> list[dict[str, Any]]:
    """Each platform the campaign runs on or is set to (a launch state, a chosen ad
    account, or both), by channel key: its state (``pending`` until a launch says
    otherwise), external ids, last error, launch attempts, and the ad account and
    connection behind it (``None`` when no account is chosen). Two queries."""
    states = {state.channel: state for state in CampaignChannel.objects.filter(campaign=campaign)}
    links = {
        link.channel: link
        for link in CampaignAdAccount.objects.filter(campaign=campaign).select_related(
            "ad_account__connection"
        )
    }
    rows = []
    for channel in sorted(set(states) | set(links)):
        state, link = states.get(channel), links.get(channel)
        account = link.ad_account if link else None
        rows.append(
            {
                "channel": channel,
                "state": state.state if state else CampaignChannel.State.PENDING.value,
                "external_id": state.external_id if state else "",
                "external_refs": {
                    key: str(value) for key, value in (state.external_refs if state else {}).items()
                },
                "last_error": state.last_error if state else "",
                "attempts": state.attempts if state else 0,
                "launched_at": state.launched_at if state else None,
                "ad_account": account,
                "ad_account_id": account.pk if account else None,
                "connection_status": account.connection.status if account else None,
            }
        )
    return rows
