"""The scheduler's campaign sweeps: launch scheduled campaigns whose start has come,
and complete active or paused campaigns whose end has passed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from herald.accounts.choices import Role
from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.models import Campaign, ExecutionLogEntry
from herald.campaigns.services.execution import campaigns_complete_ended, campaigns_launch_due
from herald.campaigns.tasks import (
    campaign_launch_task,
    campaigns_complete_ended_task,
    campaigns_launch_due_task,
)
from herald.core.scheduler import periodic_jobs, scheduler_tick
from herald.testing.factories import make_actor, make_launchable_campaign

LAUNCH_TASK = "herald.campaigns.tasks.campaign_launch_task"
STATUS_TASK = "herald.campaigns.tasks.campaign_platform_status_task"


def _in_status(owner, status: S, **fields) -> Campaign:
    campaign = make_launchable_campaign(owner, **fields)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    return Campaign.objects.get(pk=campaign.pk)


def _scheduled(owner, *, start_in: timedelta) -> Campaign:
    """A launchable scheduled campaign starting ``start_in`` from now (negative: past)."""
    return _in_status(owner, S.SCHEDULED, start_at=timezone.now() + start_in)


def _ended(owner, status: S, *, ago: timedelta = timedelta(minutes=1)) -> Campaign:
    campaign = _in_status(owner, status)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - ago)
    return Campaign.objects.get(pk=campaign.pk)


def _log_rows(campaign: Campaign) -> list[ExecutionLogEntry]:
    return list(ExecutionLogEntry.objects.filter(campaign=campaign).order_by("created_at", "id"))


def _queued_for(campaign: Campaign) -> list[str]:
    return [
        row.task_path
        for row in DBTaskResult.objects.order_by("enqueued_at", "id")
        if row.args_kwargs["kwargs"].get("campaign_id") == str(campaign.pk)
    ]


# --- launching what is due -----------------------------------------------------------


@pytest.mark.django_db
def test_a_due_scheduled_campaign_is_launched_by_the_system(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a scheduled campaign whose start passed a minute ago, accounts connected
    campaign = _scheduled(owner, start_in=-timedelta(minutes=1))
    start = campaign.start_at

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        acted = campaigns_launch_due()

    # Then it is launching (start untouched) and its launch task is queued
    assert acted == 1
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert campaign.start_at == start
    assert _queued_for(campaign) == [LAUNCH_TASK]
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "launch",
        "scheduled",
        "launching",
        "success",
    )
    assert (row.actor_type, row.actor_label, row.actor_user_id) == ("system", "system", None)
    assert row.message == "Launching on Google Ads, Meta Ads."


@pytest.mark.django_db
def test_a_due_campaign_without_accounts_goes_to_error(owner, django_capture_on_commit_callbacks):
    # Given a scheduled, due campaign whose ad accounts were never connected
    campaign = _scheduled(owner, start_in=-timedelta(seconds=5))

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        acted = campaigns_launch_due()

    # Then it moved to error with a message saying it could not start on time
    assert acted == 1
    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == (
        "Could not start on time: Connect an ad account before launching on: Google Ads, Meta Ads."
    )

    # ...the refused launch and the launch failure are both logged by the system
    refusal, failure = _log_rows(campaign)
    assert (refusal.action, refusal.from_status, refusal.to_status, refusal.outcome) == (
        "launch",
        "scheduled",
        "",
        "failure",
    )
    assert refusal.actor_type == "system"
    assert refusal.message == "Connect an ad account before launching on: Google Ads, Meta Ads."
    assert (failure.action, failure.from_status, failure.to_status, failure.outcome) == (
        "launch_failed",
        "scheduled",
        "error",
        "failure",
    )
    assert failure.actor_type == "system"
    assert failure.message == campaign.error_message
    assert failure.details["problem"] == "account-not-connected"
    assert [e["field"] for e in failure.details["errors"]] == [
        "channels.google_ads.ad_account",
        "channels.meta_ads.ad_account",
    ]
    assert refusal.details == failure.details

    # ...nothing was queued, and a second sweep leaves it alone
    assert DBTaskResult.objects.count() == 0
    assert campaigns_launch_due() == 0
    assert len(_log_rows(campaign)) == 2


@pytest.mark.django_db
def test_a_due_campaign_whose_end_also_passed_goes_to_error(owner, connected_channels):
    campaign = _scheduled(owner, start_in=-timedelta(hours=2))
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - timedelta(hours=1))

    assert campaigns_launch_due() == 1

    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == (
        "Could not start on time: The campaign cannot launch yet: 1 check(s) failed."
    )
    assert _log_rows(campaign)[-1].details["problem"] == "precondition-failed"


@pytest.mark.django_db
def test_the_sweep_leaves_future_and_non_scheduled_campaigns_alone(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a scheduled campaign starting in an hour, and campaigns in other statuses
    # whose start has passed
    future = _scheduled(owner, start_in=timedelta(hours=1))
    others = [
        _in_status(owner, status, start_at=timezone.now() - timedelta(hours=1))
        for status in (S.DRAFT, S.LAUNCHING, S.ACTIVE, S.PAUSED, S.ERROR, S.CANCELLED)
    ]
    before = {c.pk: Campaign.objects.filter(pk=c.pk).values().get() for c in [future, *others]}

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        acted = campaigns_launch_due()

    # Then nothing was touched, logged or queued
    assert acted == 0
    assert {c: Campaign.objects.filter(pk=c).values().get() for c in before} == before
    assert ExecutionLogEntry.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_the_sweep_is_judged_against_the_given_now(owner, connected_channels):
    # Given a campaign scheduled to start in ten minutes
    campaign = _scheduled(owner, start_in=timedelta(minutes=10))
    assert campaign.start_at is not None

    # Then a sweep a second before its start does nothing, one at its start launches it
    assert campaigns_launch_due(now=campaign.start_at - timedelta(seconds=1)) == 0
    assert Campaign.objects.get(pk=campaign.pk).status == S.SCHEDULED
    assert campaigns_launch_due(now=campaign.start_at) == 1
    assert Campaign.objects.get(pk=campaign.pk).status == S.LAUNCHING


@pytest.mark.django_db
def test_the_sweep_launches_due_campaigns_of_every_organization(
    owner, other_org, connected_channels
):
    # Given a due campaign in each of two organizations, one of them failing its checks
    rival = make_actor(other_org, Role.OWNER)
    ours = _scheduled(owner, start_in=-timedelta(minutes=1))
    theirs = _scheduled(rival, start_in=-timedelta(minutes=1))
    Campaign.objects.filter(pk=theirs.pk).update(end_at=timezone.now() - timedelta(seconds=1))

    # When the sweep runs, both are acted on, each logged in its own organization
    assert campaigns_launch_due() == 2
    assert Campaign.objects.get(pk=ours.pk).status == S.LAUNCHING
    assert Campaign.objects.get(pk=theirs.pk).status == S.ERROR
    assert {row.organization_id for row in _log_rows(ours)} == {owner.organization.pk}
    assert {row.organization_id for row in _log_rows(theirs)} == {other_org.pk}


@pytest.mark.django_db(transaction=True)
def test_from_tick_to_live(owner, connected_channels, run_tasks):
    # Given a due scheduled campaign
    campaign = _scheduled(owner, start_in=-timedelta(minutes=1))

    # When the scheduler ticks and the worker runs everything it queued
    enqueued = scheduler_tick()
    assert "campaigns.launch_due" in enqueued
    run_tasks()

    # Then the sweep launched the campaign and the launch task made it live
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert [(r.action, r.actor_type) for r in _log_rows(campaign)] == [
        ("launch", "system"),
        ("launch_succeeded", "system"),
    ]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }
    assert DBTaskResult.objects.filter(task_path=LAUNCH_TASK).count() == 1


# --- completing what has ended ---------------------------------------------------------


@pytest.mark.django_db
def test_active_and_paused_campaigns_past_their_end_are_completed(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given an active and a paused campaign whose end has passed
    active = _ended(owner, S.ACTIVE)
    paused = _ended(owner, S.PAUSED, ago=timedelta(days=3))

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        acted = campaigns_complete_ended()

    # Then both are completed by the system, saying the end was reached
    assert acted == 2
    for campaign, from_status in ((active, "active"), (paused, "paused")):
        campaign.refresh_from_db()
        assert campaign.status == S.COMPLETED
        [row] = _log_rows(campaign)
        assert (row.action, row.from_status, row.to_status, row.outcome) == (
            "complete",
            from_status,
            "completed",
            "success",
        )
        assert (row.actor_type, row.actor_label) == ("system", "system")
        assert row.message == "The end date was reached."
        # ...and each platform is told to stop
        assert _queued_for(campaign) == [STATUS_TASK]

    # A second sweep finds nothing left to do
    assert campaigns_complete_ended() == 0


@pytest.mark.django_db
def test_the_completion_sweep_leaves_the_rest_alone(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given: active and paused campaigns still running, one without end date, and
    # campaigns in other statuses whose end has passed
    running = [_in_status(owner, S.ACTIVE), _in_status(owner, S.PAUSED)]
    endless = _in_status(owner, S.ACTIVE, end_at=None)
    others = [
        _ended(owner, status)
        for status in (S.DRAFT, S.SCHEDULED, S.LAUNCHING, S.ERROR, S.COMPLETED, S.CANCELLED)
    ]
    campaigns = [*running, endless, *others]
    before = {c.pk: Campaign.objects.filter(pk=c.pk).values().get() for c in campaigns}

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        acted = campaigns_complete_ended()

    # Then nothing changed, was logged or queued
    assert acted == 0
    assert {c: Campaign.objects.filter(pk=c).values().get() for c in before} == before
    assert ExecutionLogEntry.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_the_completion_sweep_is_judged_against_the_given_now(owner, connected_channels):
    # Given an active campaign ending in 30 days
    campaign = _in_status(owner, S.ACTIVE)
    assert campaign.end_at is not None

    # Then a sweep a second before the end does nothing, one at the end completes it
    assert campaigns_complete_ended(now=campaign.end_at - timedelta(seconds=1)) == 0
    assert campaigns_complete_ended(now=campaign.end_at) == 1
    campaign.refresh_from_db()
    assert campaign.status == S.COMPLETED


# --- registration --------------------------------------------------------------------


def test_the_campaign_sweeps_are_registered_periodic_jobs():
    jobs = {spec.name: spec for spec in periodic_jobs()}
    assert jobs["campaigns.launch_due"].every == timedelta(minutes=1)
    assert jobs["campaigns.launch_due"].task is campaigns_launch_due_task
    assert jobs["campaigns.complete_ended"].every == timedelta(minutes=5)
    assert jobs["campaigns.complete_ended"].task is campaigns_complete_ended_task
    assert campaign_launch_task.module_path == LAUNCH_TASK


# --- the sweeps judge campaigns at their own `now`, through to the lifecycle services ---


@pytest.mark.django_db
def test_a_sweep_at_a_later_now_says_the_end_was_reached(owner, connected_channels):
    campaign = _in_status(owner, S.ACTIVE)
    assert campaign.end_at is not None

    assert campaigns_complete_ended(now=campaign.end_at + timedelta(minutes=1)) == 1

    assert _log_rows(campaign)[-1].message == "The end date was reached."


@pytest.mark.django_db
def test_a_sweep_at_a_later_now_keeps_the_planned_start(owner, connected_channels):
    campaign = _scheduled(owner, start_in=timedelta(hours=1))
    start = campaign.start_at
    assert start is not None

    assert campaigns_launch_due(now=start + timedelta(minutes=1)) == 1

    campaign.refresh_from_db()
    assert campaign.start_at == start
