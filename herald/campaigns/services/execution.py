"""What the worker does for the lifecycle: push launches and status changes to the
platforms through each channel's adapter, and the scheduler's periodic sweeps.

These run in tasks, outside any request. They reload everything by id, re-check the
organization, and are safe to run twice: a launch skips channels already live, a
sweep only touches campaigns still in the status it looks for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.models import Organization
from herald.campaigns.adapters import AdapterError, ChannelAdapter
from herald.campaigns.channels import get_channel
from herald.campaigns.choices import CampaignStatus, LifecycleAction, LogOutcome, UnitStatus
from herald.campaigns.lifecycle import target_status
from herald.campaigns.models import AdCreative, Campaign, CampaignChannel, CampaignUnit
from herald.campaigns.services.lifecycle import (
    campaign_complete,
    campaign_launch,
    execution_log_write,
)
from herald.core.errors import DomainError

__all__ = [
    "campaign_execute_launch",
    "campaign_push_budget",
    "campaign_push_platform_status",
    "campaigns_complete_ended",
    "campaigns_launch_due",
]

logger = logging.getLogger(__name__)


@dataclass
class _ChannelFailure:
    channel: str
    message: str
    unit_id: UUID | None = None
    creative_id: UUID | None = None
    retryable: bool = False
    retry_after: float | None = None
    attempts: int = 0


def _load(campaign_id: str, organization_id: str) -> Campaign | None:
    return (
        Campaign.objects.select_related("organization")
        .filter(pk=campaign_id, organization_id=organization_id)
        .first()
    )


def _adapter_for(channel_key: str) -> ChannelAdapter | None:
    channel = get_channel(channel_key)
    return channel.adapter_factory() if channel.adapter_factory is not None else None


def _channel_is_live(
    state: CampaignChannel, units: list[CampaignUnit], creatives: dict[UUID, list[AdCreative]]
) -> bool:
    return (
        state.state == CampaignChannel.State.LIVE
        and all(unit.external_id for unit in units)
        and all(c.launched_at is not None for unit in units for c in creatives.get(unit.pk, []))
    )


def _launch_channel(
    campaign: Campaign, channel_key: str, units: list[CampaignUnit], now: datetime
) -> _ChannelFailure | None:
    state, _created = CampaignChannel.objects.get_or_create(
        campaign=campaign,
        channel=channel_key,
        defaults={"organization_id": campaign.organization_id},
    )
    creatives: dict[UUID, list[AdCreative]] = {}
    for creative in AdCreative.objects.filter(unit__in=units, is_current=True).select_related(
        "media"
    ):
        creatives.setdefault(creative.unit_id, []).append(creative)
    if _channel_is_live(state, units, creatives):
        return None
    adapter = _adapter_for(channel_key)
    if adapter is None:
        failure = _ChannelFailure(
            channel_key,
            f"No platform connection is installed for {get_channel(channel_key).label} yet.",
        )
    else:
        CampaignChannel.objects.filter(pk=state.pk).update(attempts=F("attempts") + 1)
        state.refresh_from_db(fields=["attempts", "external_id", "external_refs"])
        try:
            result = adapter.launch(campaign=campaign, units=units, creatives=creatives)
        except AdapterError as error:
            failure = _ChannelFailure(
                channel_key,
                error.message,
                unit_id=error.unit_id,
                creative_id=error.creative_id,
                retryable=error.retryable,
                retry_after=error.retry_after,
            )
        except Exception:
            # Anything else is a bug in the adapter; still record a failure, or the
            # campaign would stay launching, where no action (not even cancel) applies.
            logger.exception("Unexpected error launching %s on %s", campaign.pk, channel_key)
            failure = _ChannelFailure(
                channel_key, "The platform connection failed unexpectedly.", retryable=True
            )
        else:
            _record_launched(campaign, state, units, creatives, result, now)
            return None
    failure.attempts = state.attempts
    state.state = CampaignChannel.State.FAILED
    state.last_error = failure.message
    state.save(update_fields=["state", "last_error", "updated_at"])
    return failure


def _record_launched(
    campaign: Campaign,
    state: CampaignChannel,
    units: list[CampaignUnit],
    creatives: dict[UUID, list[AdCreative]],
    result: object,
    now: datetime,
) -> None:
    from herald.campaigns.adapters import ChannelLaunchResult

    assert isinstance(result, ChannelLaunchResult)
    state.external_id = result.campaign_external_id or state.external_id
    state.state = CampaignChannel.State.LIVE
    state.last_error = ""
    state.attempts = 0
    state.launched_at = state.launched_at or now
    state.save()
    for unit in units:
        unit.external_id = result.unit_external_ids.get(unit.pk, unit.external_id)
        unit.status = UnitStatus.ACTIVE
        unit.save(update_fields=["external_id", "status", "updated_at"])
        for creative in creatives.get(unit.pk, []):
            creative.external_id = result.creative_external_ids.get(
                creative.pk, creative.external_id
            )
            creative.launched_at = creative.launched_at or now
            creative.save(update_fields=["external_id", "launched_at", "updated_at"])


def campaign_execute_launch(*, campaign_id: str, organization_id: str) -> None:
    """Push every channel of a launching campaign to its platform, then mark it active,
    or in error with each failing channel's message logged against its unit/creative.

    Channels already live (from an earlier, partly failed attempt) are left alone.
    """
    campaign = _load(campaign_id, organization_id)
    if campaign is None or campaign.status != CampaignStatus.LAUNCHING:
        return
    system = Actor.system(campaign.organization)
    now = timezone.now()
    units_by_channel: dict[str, list[CampaignUnit]] = {}
    for unit in (
        CampaignUnit.objects.filter(campaign=campaign)
        .select_related("audience")
        .order_by("created_at")
    ):
        units_by_channel.setdefault(unit.channel, []).append(unit)
    failures = [
        failure
        for channel_key, units in sorted(units_by_channel.items())
        if (failure := _launch_channel(campaign, channel_key, units, now)) is not None
    ]
    if failures and all(_retry_later(failure) for failure in failures):
        _schedule_launch_retry(campaign, system, failures)
        return
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.LAUNCHING:
            return
        for failure in failures:
            execution_log_write(
                campaign=campaign,
                actor=system,
                action=LifecycleAction.LAUNCH_FAILED.value,
                from_status=campaign.status,
                to_status="",
                outcome=LogOutcome.FAILURE,
                message=f"{get_channel(failure.channel).label}: {failure.message}",
                unit=CampaignUnit.objects.filter(pk=failure.unit_id).first()
                if failure.unit_id
                else None,
                creative=AdCreative.objects.filter(pk=failure.creative_id).first()
                if failure.creative_id
                else None,
                details={"channel": failure.channel, "retryable": failure.retryable},
            )
        action = LifecycleAction.LAUNCH_FAILED if failures else LifecycleAction.LAUNCH_SUCCEEDED
        from_status = campaign.status
        campaign.status = target_status(action, from_status)
        campaign.status_changed_at = timezone.now()
        live = sorted(set(units_by_channel) - {f.channel for f in failures})
        if failures:
            failed = ", ".join(get_channel(f.channel).label for f in failures)
            summary = f"Failed on {failed}."
            if live:
                summary += " Live on " + ", ".join(get_channel(k).label for k in live) + "."
            campaign.error_message = summary + " Retry finishes only what is missing."
        else:
            campaign.error_message = ""
            summary = "Live on " + ", ".join(get_channel(k).label for k in live) + "."
        campaign.save()
        execution_log_write(
            campaign=campaign,
            actor=system,
            action=action.value,
            from_status=from_status,
            to_status=campaign.status,
            outcome=LogOutcome.FAILURE if failures else LogOutcome.SUCCESS,
            message=campaign.error_message or summary,
            details={"live_channels": live, "failed_channels": [f.channel for f in failures]},
        )


def _retry_later(failure: _ChannelFailure) -> bool:
    return failure.retryable and failure.attempts < settings.HERALD_LAUNCH_MAX_ATTEMPTS


def _retry_delay(failure: _ChannelFailure) -> float:
    """The platform's hint when it gave one, else exponential backoff: 30 s, 60 s, …"""
    if failure.retry_after is not None:
        return min(failure.retry_after, 3600.0)
    return min(30.0 * float(2 ** max(failure.attempts - 1, 0)), 3600.0)


def _schedule_launch_retry(
    campaign: Campaign, system: Actor, failures: list[_ChannelFailure]
) -> None:
    """Every failure may pass by itself: stay launching and try again later."""
    from herald.campaigns.tasks import campaign_launch_task

    delay = max(_retry_delay(failure) for failure in failures)
    for failure in failures:
        execution_log_write(
            campaign=campaign,
            actor=system,
            action="launch_retry",
            from_status=campaign.status,
            to_status="",
            outcome=LogOutcome.FAILURE,
            message=f"{get_channel(failure.channel).label}: {failure.message} "
            f"Trying again in {delay:.0f} s (attempt {failure.attempts} of "
            f"{settings.HERALD_LAUNCH_MAX_ATTEMPTS}).",
            details={"channel": failure.channel, "retryable": True, "retry_in": delay},
        )
    run_after = timezone.now() + timedelta(seconds=delay)
    transaction.on_commit(
        lambda: campaign_launch_task.using(run_after=run_after).enqueue(
            campaign_id=str(campaign.pk), organization_id=str(campaign.organization_id)
        )
    )


def campaign_push_budget(*, campaign_id: str, organization_id: str) -> None:
    """Send the campaign's current budget to every platform it is live or paused on.
    Failures are logged, not raised, so one platform's outage does not stop others."""
    campaign = _load(campaign_id, organization_id)
    if campaign is None:
        return
    system = Actor.system(campaign.organization)
    for state in CampaignChannel.objects.filter(
        campaign=campaign, state__in=[CampaignChannel.State.LIVE, CampaignChannel.State.PAUSED]
    ):
        adapter = _adapter_for(state.channel)
        units = list(CampaignUnit.objects.filter(campaign=campaign, channel=state.channel))
        try:
            if adapter is None:
                raise AdapterError("No platform connection is installed.", retryable=False)
            adapter.update_budget(campaign=campaign, units=units)
        except AdapterError as error:
            _log_platform_failure(campaign, system, state.channel, error, action="budget_sync")
            continue
        execution_log_write(
            campaign=campaign,
            actor=system,
            action="budget_sync",
            from_status=campaign.status,
            to_status="",
            outcome=LogOutcome.SUCCESS,
            message=f"{get_channel(state.channel).label}: budget updated.",
            details={"channel": state.channel},
        )


def _log_platform_failure(
    campaign: Campaign, system: Actor, channel: str, error: AdapterError, *, action: str
) -> None:
    execution_log_write(
        campaign=campaign,
        actor=system,
        action=action,
        from_status=campaign.status,
        to_status="",
        outcome=LogOutcome.FAILURE,
        message=f"{get_channel(channel).label}: {error.message}",
        details={"channel": channel, "retryable": error.retryable},
    )


def campaign_push_platform_status(*, campaign_id: str, organization_id: str) -> None:
    """Make every platform the campaign runs on match its status: running when active,
    stopped when paused, completed or cancelled. Failures are logged, not raised, so
    one platform's outage does not stop the others."""
    campaign = _load(campaign_id, organization_id)
    if campaign is None:
        return
    system = Actor.system(campaign.organization)
    should_run = campaign.status == CampaignStatus.ACTIVE
    for state in CampaignChannel.objects.filter(campaign=campaign).exclude(
        state__in=[CampaignChannel.State.PENDING, CampaignChannel.State.FAILED]
    ):
        wanted = CampaignChannel.State.LIVE if should_run else CampaignChannel.State.PAUSED
        if state.state == wanted:
            continue
        adapter = _adapter_for(state.channel)
        units = list(CampaignUnit.objects.filter(campaign=campaign, channel=state.channel))
        try:
            if adapter is None:
                raise AdapterError("No platform connection is installed.", retryable=False)
            if should_run:
                adapter.resume(campaign=campaign, units=units)
            else:
                adapter.pause(campaign=campaign, units=units)
        except AdapterError as error:
            _log_platform_failure(campaign, system, state.channel, error, action="platform_sync")
            continue
        state.state = wanted
        state.save(update_fields=["state", "updated_at"])
        CampaignUnit.objects.filter(campaign=campaign, channel=state.channel).update(
            status=UnitStatus.ACTIVE if should_run else UnitStatus.PAUSED
        )


def campaigns_launch_due(*, now: datetime | None = None) -> int:
    """Launch every scheduled campaign whose start has come. A campaign whose checks
    fail at that moment moves to error with the reasons logged. Returns how many
    campaigns were acted on."""
    now = now or timezone.now()
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, start_at__lte=now).values_list(
        "pk", "organization_id"
    )
    acted = 0
    for campaign_id, organization_id in due:
        organization = Organization.objects.get(pk=organization_id)
        system = Actor.system(organization)
        try:
            campaign_launch(
                actor=system,
                campaign_id=campaign_id,
                now=now,
                only_from=frozenset({CampaignStatus.SCHEDULED}),
            )
        except DomainError as error:
            _fail_scheduled(system, campaign_id, error)
        acted += 1
    return acted


def _fail_scheduled(system: Actor, campaign_id: UUID, error: DomainError) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status != CampaignStatus.SCHEDULED:
            return
        from_status = campaign.status
        campaign.status = target_status(LifecycleAction.LAUNCH_FAILED, from_status)
        campaign.status_changed_at = timezone.now()
        campaign.error_message = f"Could not start on time: {error.detail}"
        campaign.save()
        execution_log_write(
            campaign=campaign,
            actor=system,
            action=LifecycleAction.LAUNCH_FAILED.value,
            from_status=from_status,
            to_status=campaign.status,
            outcome=LogOutcome.FAILURE,
            message=campaign.error_message,
            details={"problem": error.code, "errors": [e.as_dict() for e in error.errors]},
        )


def campaigns_complete_ended(*, now: datetime | None = None) -> int:
    """Complete every active or paused campaign whose end has passed."""
    now = now or timezone.now()
    ended = Campaign.objects.filter(
        status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED], end_at__lte=now
    ).values_list("pk", "organization_id")
    acted = 0
    for campaign_id, organization_id in ended:
        system = Actor.system(Organization.objects.get(pk=organization_id))
        try:
            campaign_complete(
                actor=system,
                campaign_id=campaign_id,
                now=now,
                only_from=frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED}),
            )
            acted += 1
        except DomainError:
            logger.warning("Campaign %s could not be completed", campaign_id, exc_info=True)
    return acted
