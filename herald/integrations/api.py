"""REST API of connections, ad accounts, sync runs and synced metrics. Tokens never
appear in any response."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.models import Campaign
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.api import Page, PageQuery, paginate, problems, requires
from herald.core.errors import InvalidInput
from herald.integrations import selectors
from herald.integrations.models import AdAccount, CampaignAdAccount, Connection, SyncRun
from herald.integrations.services.accounts import ad_accounts_sync, campaign_ad_account_set
from herald.integrations.services.connections import (
    connection_disconnect,
    connection_get_for_actor,
    connection_start,
)
from herald.integrations.services.metrics import account_days
from herald.integrations.tasks import metrics_sync_account_task

__all__ = ["router"]

router = Router(tags=["integrations"])


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class ConnectionOut(Schema):
    id: UUID
    provider: str
    status: str
    is_sandbox: bool
    name: str
    token_expires_at: datetime | None
    last_refreshed_at: datetime | None
    last_error: str
    created_at: datetime


class ConnectIn(Schema):
    provider: str = Field(description="google_ads or meta_ads")
    sandbox: bool = Field(default=False, description="Connect Herald's sandbox account.")
    reconnect_id: UUID | None = Field(
        default=None, description="A connection to renew (e.g. one that needs_reauth)."
    )


class ConnectOut(Schema):
    authorization_url: str = Field(
        description="Send the person's browser here; the platform returns to Herald's "
        "callback, which finishes the connection."
    )


@router.get("/integrations", response={200: list[ConnectionOut], **problems(401, 403)})
@requires(Permission.INTEGRATION_VIEW)
def list_connections(request: HttpRequest) -> list[Connection]:
    return list(selectors.connection_list(organization=_actor(request).organization))


@router.post("/integrations", response={200: ConnectOut, **problems(400, 401, 403, 404, 409, 422)})
@requires(Permission.INTEGRATION_MANAGE)
def start_connection(request: HttpRequest, payload: ConnectIn) -> ConnectOut:
    session = getattr(request, "session", None)
    url = connection_start(
        actor=_actor(request),
        provider=payload.provider,
        sandbox=payload.sandbox,
        session_key=session.session_key if session is not None else None,
        reconnect_id=payload.reconnect_id,
    )
    return ConnectOut(authorization_url=url)


@router.get(
    "/integrations/{uuid:connection_id}", response={200: ConnectionOut, **problems(401, 403, 404)}
)
@requires(Permission.INTEGRATION_VIEW)
def get_connection(request: HttpRequest, connection_id: UUID) -> Connection:
    return connection_get_for_actor(actor=_actor(request), connection_id=connection_id)


@router.delete(
    "/integrations/{uuid:connection_id}", response={200: ConnectionOut, **problems(401, 403, 404)}
)
@requires(Permission.INTEGRATION_MANAGE)
def disconnect(request: HttpRequest, connection_id: UUID) -> Connection:
    """Revoke Herald's access at the platform and forget the tokens."""
    return connection_disconnect(actor=_actor(request), connection_id=connection_id)


class SyncRunOut(Schema):
    id: UUID
    kind: str
    status: str
    connection_id: UUID
    ad_account_id: UUID | None
    date_from: date | None
    date_to: date | None
    started_at: datetime
    finished_at: datetime | None
    rows: int
    error: str


@router.post(
    "/integrations/{uuid:connection_id}/sync",
    response={200: SyncRunOut, **problems(400, 401, 403, 404)},
    description="Sync the connection's ad accounts now, and queue a metric sync of "
    "each account's last days.",
)
@requires(Permission.INTEGRATION_MANAGE)
def sync_connection(request: HttpRequest, connection_id: UUID) -> SyncRun:
    connection = connection_get_for_actor(actor=_actor(request), connection_id=connection_id)
    run = ad_accounts_sync(connection=connection)
    for account in AdAccount.objects.filter(connection=connection, status=AdAccount.Status.ACTIVE):
        date_from, date_to = account_days(account, days_back=1)
        metrics_sync_account_task.enqueue(
            ad_account_id=str(account.pk),
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
        )
    return run


class AdAccountOut(Schema):
    id: UUID
    provider: str
    connection_id: UUID
    external_id: str
    name: str
    currency: str
    time_zone: str
    status: str
    is_sandbox: bool
    connection_status: str
    last_synced_at: datetime | None
    last_metrics_sync_at: datetime | None

    @staticmethod
    def resolve_connection_status(account: AdAccount) -> str:
        return account.connection.status


class AdAccountFilters(Schema):
    provider: str | None = None


@router.get("/ad-accounts", response={200: list[AdAccountOut], **problems(401, 403)})
@requires(Permission.INTEGRATION_VIEW)
def list_ad_accounts(request: HttpRequest, filters: Query[AdAccountFilters]) -> list[AdAccount]:
    return list(
        selectors.ad_account_list(
            organization=_actor(request).organization, provider=filters.provider
        )
    )


class SyncRunFilters(Schema):
    kind: str | None = None
    ad_account_id: UUID | None = None


@router.get("/sync-runs", response={200: Page[SyncRunOut], **problems(401, 403, 422)})
@requires(Permission.INTEGRATION_VIEW)
def list_sync_runs(
    request: HttpRequest, filters: Query[SyncRunFilters], page: Query[PageQuery]
) -> dict[str, Any]:
    runs = selectors.sync_run_list(
        organization=_actor(request).organization,
        kind=filters.kind,
        ad_account_id=filters.ad_account_id,
    )
    return paginate(runs, page)


class CampaignAccountsIn(Schema):
    accounts: dict[str, UUID | None] = Field(
        description="Channel → ad account id (null clears the choice)."
    )


class CampaignAccountOut(Schema):
    channel: str
    ad_account_id: UUID
    name: str
    external_id: str
    is_sandbox: bool


def _campaign_accounts(campaign: Campaign) -> list[CampaignAccountOut]:
    return [
        CampaignAccountOut(
            channel=link.channel,
            ad_account_id=link.ad_account.pk,
            name=link.ad_account.name,
            external_id=link.ad_account.external_id,
            is_sandbox=link.ad_account.is_sandbox,
        )
        for link in CampaignAdAccount.objects.filter(campaign=campaign)
        .select_related("ad_account")
        .order_by("channel")
    ]


@router.get(
    "/campaigns/{uuid:campaign_id}/ad-accounts",
    response={200: list[CampaignAccountOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def get_campaign_accounts(request: HttpRequest, campaign_id: UUID) -> list[CampaignAccountOut]:
    return _campaign_accounts(
        campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    )


@router.put(
    "/campaigns/{uuid:campaign_id}/ad-accounts",
    response={200: list[CampaignAccountOut], **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.CAMPAIGN_EDIT)
def set_campaign_accounts(
    request: HttpRequest, campaign_id: UUID, payload: CampaignAccountsIn
) -> list[CampaignAccountOut]:
    actor = _actor(request)
    for channel, ad_account_id in payload.accounts.items():
        campaign_ad_account_set(
            actor=actor, campaign_id=campaign_id, channel=channel, ad_account_id=ad_account_id
        )
    return _campaign_accounts(campaign_get_for_actor(actor=actor, campaign_id=campaign_id))


class PlatformStateOut(Schema):
    channel: str
    state: str
    external_id: str
    external_refs: dict[str, str]
    last_error: str
    attempts: int
    launched_at: datetime | None
    ad_account_id: UUID | None
    connection_status: str | None


@router.get(
    "/campaigns/{uuid:campaign_id}/platforms",
    response={200: list[PlatformStateOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_platforms(request: HttpRequest, campaign_id: UUID) -> list[PlatformStateOut]:
    """Each platform the campaign runs on (or is set to): its external ids, its state,
    and the state of the connection behind it."""
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    return [
        PlatformStateOut(**{key: row[key] for key in PlatformStateOut.model_fields})
        for row in selectors.campaign_platforms(campaign=campaign)
    ]


class MetricsQuery(Schema):
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    granularity: str = Field(default="day", description="Only 'day' for now.")


class DailyMetricOut(Schema):
    day: date
    channel: str
    source: str
    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal
    conversion_value: Decimal


class CampaignMetricsOut(Schema):
    campaign_id: UUID
    currency: str
    granularity: str
    rows: list[DailyMetricOut]


@router.get(
    "/campaigns/{uuid:campaign_id}/metrics",
    response={200: CampaignMetricsOut, **problems(401, 403, 404, 422)},
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_metrics(
    request: HttpRequest, campaign_id: UUID, query: Query[MetricsQuery]
) -> CampaignMetricsOut:
    """Daily measures per channel in one vocabulary, as synced from the platforms."""
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    if query.granularity != "day":
        raise InvalidInput.single("granularity", "choice", "Only 'day' is available.")
    rows = selectors.campaign_daily_metrics(
        campaign=campaign, date_from=query.date_from, date_to=query.date_to
    )
    return CampaignMetricsOut(
        campaign_id=campaign.pk,
        currency=campaign.currency,
        granularity="day",
        rows=[DailyMetricOut(**row) for row in rows],
    )
