"""Metric syncs: fetch an ad account's daily rows and upsert them into the fact store.

One run per ad account, recorded as a ``SyncRun``. Rows are matched to Herald's units
through the external ids recorded at launch; rows of platform objects Herald did not
create are ignored. Each (unit, day, source) row replaces what an earlier sync stored,
so re-syncing a day never adds to it. Calls wait for the account's token bucket
(``HERALD_PLATFORM_CALLS_PER_SECOND``), shared by every worker.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from herald.campaigns.models import CampaignUnit
from herald.integrations.models import AdAccount, Connection, RateLimitBucket, SyncRun
from herald.integrations.providers import get_adapter
from herald.integrations.providers.base import DailyMetricRow, ProviderError, ProviderSession
from herald.integrations.services.connections import connection_call, connection_endpoints
from herald.metrics.cells import cell_key
from herald.metrics.models import MetricFact

__all__ = ["account_days", "metrics_sync_account", "rate_limit_acquire"]

_BURST = 10.0


def rate_limit_acquire(
    key: str, *, per_second: float | None = None, now: datetime | None = None
) -> float:
    """Take one token from the bucket ``key``; return the seconds the caller must wait
    first (0 when a token was available). The wait is reserved: the bucket may go
    negative, so concurrent callers queue up instead of all waiting the same time."""
    rate = per_second or settings.HERALD_PLATFORM_CALLS_PER_SECOND
    moment = now or timezone.now()
    with transaction.atomic():
        bucket, _created = RateLimitBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tokens": _BURST, "updated_at": moment}
        )
        elapsed = max((moment - bucket.updated_at).total_seconds(), 0.0)
        tokens = min(_BURST, bucket.tokens + elapsed * rate) - 1.0
        bucket.tokens, bucket.updated_at = tokens, moment
        bucket.save(update_fields=["tokens", "updated_at"])
    return 0.0 if tokens >= 0 else -tokens / rate


def account_days(
    account: AdAccount, *, days_back: int, today: date | None = None
) -> tuple[date, date]:
    """``days_back`` + 1 days ending today, in the account's own time zone."""
    end = today or datetime.now(ZoneInfo(account.time_zone)).date()
    return end - timedelta(days=days_back), end


def _store(account: AdAccount, rows: list[DailyMetricRow]) -> int:
    units = {
        unit.external_id: unit
        for unit in CampaignUnit.objects.filter(
            organization_id=account.organization_id,
            channel=account.provider,
            external_id__in={row.unit_external_id for row in rows if row.unit_external_id},
        )
    }
    now = timezone.now()
    facts = [
        MetricFact(
            organization_id=account.organization_id,
            campaign_id=unit.campaign_id,
            unit=unit,
            channel=account.provider,
            source=account.provider,
            cell_key=cell_key(
                campaign_id=unit.campaign_id,
                unit_id=unit.pk,
                creative_id=None,
                channel=account.provider,
                placement="",
                device="",
            ),
            day=row.day,
            currency=account.currency,
            impressions_gross=row.impressions,
            impressions=row.impressions,
            clicks_gross=row.clicks,
            clicks=row.clicks,
            billable_clicks=row.clicks,
            spend=row.spend,
            conversions=row.conversions,
            conversion_value=row.conversion_value,
            created_at=now,
            updated_at=now,
        )
        for row in rows
        if row.unit_external_id and (unit := units.get(row.unit_external_id)) is not None
    ]
    # A platform's numbers for a day replace what an earlier sync stored for it.
    MetricFact.objects.bulk_create(
        facts,
        update_conflicts=True,
        unique_fields=["cell_key", "day", "source"],
        update_fields=[
            "impressions_gross",
            "impressions",
            "clicks_gross",
            "clicks",
            "billable_clicks",
            "spend",
            "conversions",
            "conversion_value",
            "currency",
            "updated_at",
        ],
    )
    return len(facts)


def metrics_sync_account(
    *, ad_account_id: object, date_from: date, date_to: date
) -> SyncRun | None:
    """Sync one account's metrics for the days ``date_from``..``date_to``; ``None`` when
    the account or its connection is not in a state to sync."""
    account = (
        AdAccount.objects.select_related("connection")
        .filter(pk=ad_account_id, status=AdAccount.Status.ACTIVE)
        .first()
    )
    if account is None or account.connection.status != Connection.Status.ACTIVE:
        return None
    run = SyncRun.objects.create(
        organization_id=account.organization_id,
        kind=SyncRun.Kind.METRICS,
        connection=account.connection,
        ad_account=account,
        date_from=date_from,
        date_to=date_to,
        started_at=timezone.now(),
    )
    wait = rate_limit_acquire(f"{account.provider}:{account.external_id}")
    if wait:
        time.sleep(min(wait, 60.0))
    adapter = get_adapter(account.provider)

    def fetch(token: str) -> list[DailyMetricRow]:
        session = ProviderSession(
            endpoints=connection_endpoints(account.connection),
            access_token=token,
            account_external_id=account.external_id,
            account_currency=account.currency,
            account_time_zone=account.time_zone,
            extra={key: str(value) for key, value in account.settings.items()},
        )
        return adapter.fetch_metrics(session=session, date_from=date_from, date_to=date_to)

    try:
        rows = connection_call(account.connection, fetch)
        with transaction.atomic():
            run.rows = _store(account, rows)
            run.status = SyncRun.Status.SUCCEEDED
    except ProviderError as error:
        run.status, run.error = SyncRun.Status.FAILED, error.message
    run.finished_at = timezone.now()
    run.save()
    AdAccount.objects.filter(pk=account.pk).update(last_metrics_sync_at=run.finished_at)
    return run
