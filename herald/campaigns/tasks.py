"""Campaign tasks: thin wrappers that take ids and call the execution services.

Each task is idempotent (see ``herald.campaigns.services.execution``) and carries the
organization id, which the service re-checks against the campaign.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from herald.campaigns.services.execution import (
    campaign_execute_launch,
    campaign_push_budget,
    campaign_push_platform_status,
    campaigns_complete_ended,
    campaigns_launch_due,
)
from herald.core.scheduler import register_periodic_job

__all__ = [
    "campaign_budget_task",
    "campaign_launch_task",
    "campaign_platform_status_task",
    "campaigns_complete_ended_task",
    "campaigns_launch_due_task",
]


@task()
def campaign_launch_task(*, campaign_id: str, organization_id: str) -> None:
    campaign_execute_launch(campaign_id=campaign_id, organization_id=organization_id)


@task()
def campaign_platform_status_task(*, campaign_id: str, organization_id: str) -> None:
    campaign_push_platform_status(campaign_id=campaign_id, organization_id=organization_id)


@task()
def campaign_budget_task(*, campaign_id: str, organization_id: str) -> None:
    campaign_push_budget(campaign_id=campaign_id, organization_id=organization_id)


@task()
def campaigns_launch_due_task() -> int:
    return campaigns_launch_due()


@task()
def campaigns_complete_ended_task() -> int:
    return campaigns_complete_ended()


register_periodic_job(
    "campaigns.launch_due", every=timedelta(minutes=1), task=campaigns_launch_due_task
)
register_periodic_job(
    "campaigns.complete_ended", every=timedelta(minutes=5), task=campaigns_complete_ended_task
)
