"""Integration tasks: one metric sync per ad account, so a slow or broken account
never holds the others up; the periodic jobs fan out to them."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.tasks import task

from herald.core.scheduler import register_periodic_job
from herald.integrations.models import AdAccount, Connection
from herald.integrations.services.metrics import account_days, metrics_sync_account

__all__ = ["metrics_backfill_task", "metrics_recent_task", "metrics_sync_account_task"]


@task()
def metrics_sync_account_task(*, ad_account_id: str, date_from: str, date_to: str) -> int:
    run = metrics_sync_account(
        ad_account_id=ad_account_id,
        date_from=date.fromisoformat(date_from),
        date_to=date.fromisoformat(date_to),
    )
    return run.rows if run is not None else 0


def _fan_out(days_back: int) -> int:
    accounts = AdAccount.objects.filter(
        status=AdAccount.Status.ACTIVE, connection__status=Connection.Status.ACTIVE
    )
    for account in accounts:
        date_from, date_to = account_days(account, days_back=days_back)
        metrics_sync_account_task.enqueue(
            ad_account_id=str(account.pk),
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
        )
    return accounts.count()


@task()
def metrics_recent_task() -> int:
    """Today and yesterday for every connected account."""
    return _fan_out(days_back=1)


@task()
def metrics_backfill_task() -> int:
    """The last ``HERALD_METRICS_BACKFILL_DAYS`` days, for late platform corrections."""
    return _fan_out(days_back=settings.HERALD_METRICS_BACKFILL_DAYS)


register_periodic_job(
    "integrations.metrics_recent",
    every=timedelta(minutes=settings.HERALD_METRICS_SYNC_MINUTES),
    task=metrics_recent_task,
)
register_periodic_job(
    "integrations.metrics_backfill", every=timedelta(days=1), task=metrics_backfill_task
)
