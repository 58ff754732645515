"""Lifecycle services: one guarded function per action, each leaving a log row.

Every action locks the campaign, checks the transition table (409 naming both states
when it is not allowed), runs its checks (422 listing every failed check), changes the
status and writes an execution-log row in the same transaction. A refused or failed
attempt by someone allowed to act is logged too, in its own transaction, after the
attempt's changes were rolled back. Platform work (launching, pausing on the platform)
is queued with ``transaction.on_commit`` and done by tasks, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.capabilities import Severity
from herald.campaigns.channels import AccountUnavailable, Channel, get_channel
from herald.campaigns.choices import (
    ActorType,
    BudgetKind,
    CampaignStatus,
    LifecycleAction,
    LogOutcome,
)
from herald.campaigns.lifecycle import target_status
from herald.campaigns.models import (
    AdCreative,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    ExecutionLogEntry,
)
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.campaigns.services.creatives import creative_findings
from herald.core.errors import DomainError, FieldError, NotFound, PreconditionFailed

__all__ = [
    "AccountNotConnected",
    "campaign_cancel",
    "campaign_complete",
    "campaign_launch",
    "campaign_launch_checks",
    "campaign_pause",
    "campaign_resume",
    "campaign_retry",
    "campaign_schedule",
    "execution_log_write",
]

ACCOUNT_RULE = "account_not_connected"
ACCOUNT_UNAVAILABLE_RULE = "account_unavailable"


class AccountNotConnected(PreconditionFailed):
    """Every failed launch check is a paid channel without a connected ad account."""

    code = "account-not-connected"
    title = "Connect an ad account"


def execution_log_write(
    *,
    campaign: Campaign,
    actor: Actor,
    action: str,
    from_status: str,
    to_status: str,
    outcome: str,
    message: str = "",
    unit: CampaignUnit | None = None,
    creative: AdCreative | None = None,
    details: dict[str, Any] | None = None,
) -> ExecutionLogEntry:
    return ExecutionLogEntry.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        action=action,
        from_status=from_status,
        to_status=to_status,
        outcome=outcome,
        message=message,
        actor_type=ActorType(actor.kind.value),
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:300],
        unit=unit,
        creative=creative,
        details=details or {},
    )


def campaign_launch_checks(
    campaign: Campaign, *, now: datetime, include_accounts: bool
) -> list[FieldError]:
    """Everything that must hold before the campaign may reach its platforms.

    Budget present with an allocation for each channel in use; at least one unit, each
    with an audience and at least one current creative per channel free of ``error``
    findings; an end date still ahead; and (``include_accounts``) an ad account
    connected for every channel that needs one.
    """
    errors: list[FieldError] = []
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    if budget is None:
        errors.append(FieldError("budget", "required", "Set a budget before launching."))
    elif budget.kind == BudgetKind.LIFETIME and campaign.end_at is None:
        errors.append(
            FieldError(
                "end_at", "required_for_lifetime_budget", "A lifetime budget needs an end date."
            )
        )
    units = list(
        CampaignUnit.objects.filter(campaign=campaign)
        .select_related("audience")
        .order_by("created_at")
    )
    if not units:
        errors.append(
            FieldError("units", "required", "Add at least one ad group or ad set to launch.")
        )
    channels_in_use = sorted({unit.channel for unit in units})
    allocations = (
        {a.channel: a.amount for a in budget.allocations.all()} if budget is not None else {}
    )
    creatives_by_unit: dict[Any, list[AdCreative]] = {}
    for creative in AdCreative.objects.filter(
        unit__campaign=campaign, is_current=True
    ).select_related("unit", "media"):
        creatives_by_unit.setdefault(creative.unit_id, []).append(creative)

    for channel_key in channels_in_use:
        errors += _channel_checks(
            campaign,
            channel_key,
            units=[unit for unit in units if unit.channel == channel_key],
            allocated=allocations.get(channel_key, Decimal(0)) if budget is not None else None,
            creatives_by_unit=creatives_by_unit,
            include_accounts=include_accounts,
        )
    if campaign.end_at is not None and campaign.end_at <= now:
        errors.append(FieldError("end_at", "future", "The end date has passed; move it later."))
    return errors


def _channel_checks(
    campaign: Campaign,
    channel_key: str,
    *,
    units: list[CampaignUnit],
    allocated: Decimal | None,
    creatives_by_unit: dict[Any, list[AdCreative]],
    include_accounts: bool,
) -> list[FieldError]:
    """The launch checks of one channel; ``allocated`` is None when there is no budget
    (reported once for the whole campaign)."""
    channel = get_channel(channel_key)
    errors: list[FieldError] = []
    if allocated is not None and allocated <= 0:
        errors.append(
            FieldError(
                f"budget.allocations.{channel_key}",
                "required",
                f"Allocate part of the budget to {channel.label}.",
            )
        )
    launchable = False
    for unit in units:
        if unit.audience_id is None:
            errors.append(
                FieldError(
                    f"units.{unit.pk}.audience",
                    "required",
                    f"Choose an audience for {channel.unit_label} {unit.name!r}.",
                )
            )
        for creative in creatives_by_unit.get(unit.pk, []):
            blocking = [f for f in creative_findings(creative) if f.severity is Severity.ERROR]
            errors.extend(
                FieldError(
                    f"creatives.{creative.pk}.{finding.field}", finding.code, finding.message
                )
                for finding in blocking
            )
            launchable = launchable or not blocking
    if not launchable:
        errors.append(
            FieldError(
                f"channels.{channel_key}",
                "creative_required",
                f"{channel.label} needs at least one {channel.unit_label} with a creative "
                "that has no errors.",
            )
        )
    if include_accounts and channel.requires_ad_account:
        errors.extend(_account_check(campaign, channel))
    return errors


def _account_check(campaign: Campaign, channel: Channel) -> list[FieldError]:
    field = f"channels.{channel.key}.ad_account"
    try:
        account = channel.ad_account_resolver(campaign) if channel.ad_account_resolver else None
    except AccountUnavailable as unavailable:
        return [FieldError(field, ACCOUNT_UNAVAILABLE_RULE, str(unavailable))]
    if account is None:
        return [
            FieldError(
                field,
                ACCOUNT_RULE,
                f"Connect a {channel.label} account and choose it for this campaign "
                "before launching.",
            )
        ]
    return []


def _raise_failed_checks(errors: list[FieldError]) -> None:
    if not errors:
        return
    if all(error.rule == ACCOUNT_RULE for error in errors):
        labels = ", ".join(get_channel(error.field.split(".")[1]).label for error in errors)
        raise AccountNotConnected(
            detail=f"Connect an ad account before launching on: {labels}.", errors=errors
        )
    raise PreconditionFailed(
        detail=f"The campaign cannot launch yet: {len(errors)} check(s) failed.", errors=errors
    )


# A step decides the final status (it may differ from the table's, e.g. a future start
# turns a launch into a schedule), may change other fields, and returns the log message.
Step = Callable[[Campaign, CampaignStatus, datetime], tuple[CampaignStatus, str]]


def _perform(
    *,
    actor: Actor,
    campaign_id: object,
    action: LifecycleAction,
    step: Step | None = None,
    after_commit: Callable[[Campaign], None] | None = None,
    now: datetime | None = None,
    only_from: frozenset[str] | None = None,
) -> Campaign:
    """Run one lifecycle action. ``now`` is the time the action is judged at (the real
    clock unless a sweep passes its own). With ``only_from``, a campaign no longer in
    one of those statuses (another sweep got there first) is left alone, unlogged."""
    actor.require(Permission.CAMPAIGN_OPERATE)
    try:
        with transaction.atomic():
            campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
            if only_from is not None and campaign.status not in only_from:
                return campaign
            from_status = campaign.status
            now = now or timezone.now()
            to_status = target_status(action, from_status)
            message = ""
            if step is not None:
                to_status, message = step(campaign, to_status, now)
            campaign.status = to_status
            campaign.status_changed_at = now
            campaign.save()
            execution_log_write(
                campaign=campaign,
                actor=actor,
                action=action.value,
                from_status=from_status,
                to_status=to_status,
                outcome=LogOutcome.SUCCESS,
                message=message,
            )
            if after_commit is not None:
                transaction.on_commit(lambda: after_commit(campaign))
            return campaign
    except NotFound:
        raise
    except DomainError as error:
        _log_refusal(actor=actor, campaign_id=campaign_id, action=action, error=error)
        raise


def _log_refusal(
    *, actor: Actor, campaign_id: object, action: LifecycleAction, error: DomainError
) -> None:
    campaign = Campaign.objects.for_org(actor.organization).filter(pk=campaign_id).first()
    if campaign is None:
        return
    execution_log_write(
        campaign=campaign,
        actor=actor,
        action=action.value,
        from_status=campaign.status,
        to_status="",
        outcome=LogOutcome.FAILURE,
        message=error.detail,
        details={"problem": error.code, "errors": [e.as_dict() for e in error.errors]},
    )


def _enqueue_launch(campaign: Campaign) -> None:
    from herald.campaigns.tasks import campaign_launch_task

    campaign_launch_task.enqueue(
        campaign_id=str(campaign.pk), organization_id=str(campaign.organization_id)
    )


def _enqueue_platform_status(campaign: Campaign) -> None:
    from herald.campaigns.tasks import campaign_platform_status_task

    campaign_platform_status_task.enqueue(
        campaign_id=str(campaign.pk), organization_id=str(campaign.organization_id)
    )


def campaign_schedule(*, actor: Actor, campaign_id: object) -> Campaign:
    """Draft → scheduled: the content checks pass and the start is in the future.

    Ad accounts are checked again at the start time, not now: an account may be
    connected in between. The scheduler launches the campaign when it starts.
    """

    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        errors = campaign_launch_checks(campaign, now=now, include_accounts=False)
        if campaign.start_at is None or campaign.start_at <= now:
            errors.insert(
                0,
                FieldError("start_at", "future", "Set a start time in the future to schedule."),
            )
        _raise_failed_checks(errors)
        pending = campaign_launch_checks(campaign, now=now, include_accounts=True)
        note = " Before then: " + " ".join(error.message for error in pending) if pending else ""
        assert campaign.start_at is not None
        return to_status, f"Scheduled to start at {campaign.start_at.isoformat()}.{note}"

    return _perform(
        actor=actor, campaign_id=campaign_id, action=LifecycleAction.SCHEDULE, step=step
    )


def campaign_launch(
    *,
    actor: Actor,
    campaign_id: object,
    now: datetime | None = None,
    only_from: frozenset[str] | None = None,
) -> Campaign:
    """Launch now (draft or scheduled → launching), or schedule a draft whose start is
    in the future. On commit, a task pushes every channel's units to its platform.
    ``now`` and ``only_from`` are for the scheduler's sweeps (see ``_perform``)."""

    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        scheduling = (
            campaign.status == CampaignStatus.DRAFT
            and campaign.start_at is not None
            and campaign.start_at > now
        )
        _raise_failed_checks(
            campaign_launch_checks(campaign, now=now, include_accounts=not scheduling)
        )
        if scheduling:
            assert campaign.start_at is not None
            return (
                CampaignStatus.SCHEDULED,
                f"Starts in the future: scheduled for {campaign.start_at.isoformat()}.",
            )
        if campaign.start_at is None or campaign.start_at > now:
            campaign.start_at = now
        campaign.error_message = ""
        return to_status, "Launching on " + ", ".join(_channels_of(campaign)) + "."

    def after(campaign: Campaign) -> None:
        if campaign.status == CampaignStatus.LAUNCHING:
            _enqueue_launch(campaign)

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.LAUNCH,
        step=step,
        after_commit=after,
        now=now,
        only_from=only_from,
    )


def campaign_retry(*, actor: Actor, campaign_id: object) -> Campaign:
    """Error → launching: run the checks again and finish only what is missing."""

    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        _raise_failed_checks(campaign_launch_checks(campaign, now=now, include_accounts=True))
        campaign.error_message = ""
        if campaign.start_at is None or campaign.start_at > now:
            campaign.start_at = now
        return to_status, "Retrying the launch of what did not reach its platform."

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.RETRY,
        step=step,
        after_commit=_enqueue_launch,
    )


def campaign_pause(*, actor: Actor, campaign_id: object, reason: str = "") -> Campaign:
    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        campaign.pause_reason = reason.strip()[:500]
        return to_status, campaign.pause_reason

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.PAUSE,
        step=step,
        after_commit=_enqueue_platform_status,
    )


def campaign_resume(*, actor: Actor, campaign_id: object) -> Campaign:
    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        if campaign.end_at is not None and campaign.end_at <= now:
            raise PreconditionFailed(
                detail="The end date has passed; move it later or complete the campaign.",
                errors=[FieldError("end_at", "future", "The end date has passed.")],
            )
        campaign.pause_reason = ""
        return to_status, ""

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.RESUME,
        step=step,
        after_commit=_enqueue_platform_status,
    )


def campaign_complete(
    *,
    actor: Actor,
    campaign_id: object,
    now: datetime | None = None,
    only_from: frozenset[str] | None = None,
) -> Campaign:
    """Active or paused → completed; ``now``/``only_from`` as for ``campaign_launch``."""

    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        ended = campaign.end_at is not None and campaign.end_at <= now
        return to_status, "The end date was reached." if ended else "Completed early."

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.COMPLETE,
        step=step,
        after_commit=_enqueue_platform_status,
        now=now,
        only_from=only_from,
    )


def campaign_cancel(*, actor: Actor, campaign_id: object, reason: str = "") -> Campaign:
    def step(
        campaign: Campaign, to_status: CampaignStatus, now: datetime
    ) -> tuple[CampaignStatus, str]:
        campaign.cancel_reason = reason.strip()[:500]
        return to_status, campaign.cancel_reason

    return _perform(
        actor=actor,
        campaign_id=campaign_id,
        action=LifecycleAction.CANCEL,
        step=step,
        after_commit=_enqueue_platform_status,
    )


def _channels_of(campaign: Campaign) -> list[str]:
    keys = CampaignUnit.objects.filter(campaign=campaign).values_list("channel", flat=True)
    return sorted({get_channel(key).label for key in keys})
