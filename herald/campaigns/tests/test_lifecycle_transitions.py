"""The campaign state machine, exercised through the lifecycle services.

Every user action is tried from every status: allowed pairs (per ``TRANSITIONS``) land in
the table's status with exactly one success log row and the right task queued; refused
pairs raise ``InvalidTransition`` naming both the action and the status, and leave
exactly one failure log row and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Role
from herald.accounts.services import api_key_create
from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.choices import LifecycleAction as A
from herald.campaigns.lifecycle import (
    EDITABLE_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    USER_ACTIONS,
    allowed_actions,
    can,
    target_status,
)
from herald.campaigns.models import Campaign, CampaignChannel, ExecutionLogEntry
from herald.campaigns.services.lifecycle import (
    campaign_cancel,
    campaign_complete,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry,
    campaign_schedule,
)
from herald.core.errors import InvalidTransition, NotFound, PermissionDenied, PreconditionFailed
from herald.testing.factories import make_actor, make_launchable_campaign

pytestmark = pytest.mark.django_db

LAUNCH_TASK = "herald.campaigns.tasks.campaign_launch_task"
STATUS_TASK = "herald.campaigns.tasks.campaign_platform_status_task"

PAUSE_REASON = "Stock runs out until Monday"
CANCEL_REASON = "The promotion was withdrawn"


def _call(action: A, actor: Actor, campaign_id: object) -> Campaign:
    """Run the service for ``action``; pause and cancel get a reason to record."""
    services: dict[A, Callable[[], Campaign]] = {
        A.SCHEDULE: lambda: campaign_schedule(actor=actor, campaign_id=campaign_id),
        A.LAUNCH: lambda: campaign_launch(actor=actor, campaign_id=campaign_id),
        A.PAUSE: lambda: campaign_pause(
            actor=actor, campaign_id=campaign_id, reason=f"  {PAUSE_REASON}  "
        ),
        A.RESUME: lambda: campaign_resume(actor=actor, campaign_id=campaign_id),
        A.COMPLETE: lambda: campaign_complete(actor=actor, campaign_id=campaign_id),
        A.CANCEL: lambda: campaign_cancel(
            actor=actor, campaign_id=campaign_id, reason=f"  {CANCEL_REASON}  "
        ),
        A.RETRY: lambda: campaign_retry(actor=actor, campaign_id=campaign_id),
    }
    return services[action]()


def _start_for(action: A, status: S) -> Any:
    """A start that satisfies the action's checks: schedule needs a future start, and a
    scheduled campaign has one; a draft launched now has none (else it is scheduled)."""
    if action is A.SCHEDULE or status is S.SCHEDULED:
        return timezone.now() + timedelta(days=2)
    return None


def _campaign_in(owner: Actor, status: S, *, start_at: Any = None) -> Campaign:
    """A campaign passing every launch check (accounts via ``connected_channels``),
    forced into ``status``."""
    campaign = make_launchable_campaign(owner, start_at=start_at)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    return Campaign.objects.get(pk=campaign.pk)


def _start_iso(campaign: Campaign) -> str:
    return campaign.start_at.isoformat() if campaign.start_at is not None else "(no start)"


def _log_rows(campaign: Campaign) -> list[ExecutionLogEntry]:
    return list(ExecutionLogEntry.objects.filter(campaign=campaign).order_by("created_at", "id"))


def _queued() -> list[tuple[str, dict[str, Any]]]:
    return [
        (row.task_path, row.args_kwargs) for row in DBTaskResult.objects.order_by("enqueued_at")
    ]


ALLOWED = [
    (action, status) for action in USER_ACTIONS for status in S if status in TRANSITIONS[action]
]
FORBIDDEN = [
    (action, status) for action in USER_ACTIONS for status in S if status not in TRANSITIONS[action]
]

# Written out by hand (not derived from TRANSITIONS) so a change to the table is noticed.
EXPECTED_TARGET = {
    (A.SCHEDULE, S.DRAFT): S.SCHEDULED,
    (A.LAUNCH, S.DRAFT): S.LAUNCHING,
    (A.LAUNCH, S.SCHEDULED): S.LAUNCHING,
    (A.PAUSE, S.ACTIVE): S.PAUSED,
    (A.RESUME, S.PAUSED): S.ACTIVE,
    (A.COMPLETE, S.ACTIVE): S.COMPLETED,
    (A.COMPLETE, S.PAUSED): S.COMPLETED,
    (A.CANCEL, S.DRAFT): S.CANCELLED,
    (A.CANCEL, S.SCHEDULED): S.CANCELLED,
    (A.CANCEL, S.ACTIVE): S.CANCELLED,
    (A.CANCEL, S.PAUSED): S.CANCELLED,
    (A.CANCEL, S.ERROR): S.CANCELLED,
    (A.RETRY, S.ERROR): S.LAUNCHING,
}

ALLOWED_FROM_TEXT = {
    A.SCHEDULE: "draft",
    A.LAUNCH: "draft, scheduled",
    A.PAUSE: "active",
    A.RESUME: "paused",
    A.COMPLETE: "active, paused",
    A.CANCEL: "active, draft, error, paused, scheduled",
    A.RETRY: "error",
}


def test_the_parametrized_grid_covers_every_user_action_from_every_status():
    assert len(ALLOWED) + len(FORBIDDEN) == len(USER_ACTIONS) * len(S) == 56
    assert set(ALLOWED) == set(EXPECTED_TARGET)
    assert len(FORBIDDEN) == 43


@pytest.mark.parametrize(("action", "status"), ALLOWED, ids=lambda v: str(v))
def test_allowed_action_lands_in_the_table_status_with_one_success_row(
    owner, connected_channels, django_capture_on_commit_callbacks, action, status
):
    # Given a campaign in `status` that passes every check the action runs
    campaign = _campaign_in(owner, status, start_at=_start_for(action, status))
    before = timezone.now()

    # When the owner performs the action (and the transaction commits)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        returned = _call(action, owner, campaign.pk)
    after = timezone.now()

    # Then the campaign is in the table's status, stamped with the change time
    expected = EXPECTED_TARGET[(action, status)]
    campaign.refresh_from_db()
    assert returned.status == expected
    assert campaign.status == expected
    assert campaign.status_changed_at is not None
    assert before <= campaign.status_changed_at <= after

    # ...with exactly one success row, by the owner, from `status` to the target
    [row] = _log_rows(campaign)
    assert row.action == action.value
    assert row.from_status == status.value
    assert row.to_status == expected.value
    assert row.outcome == "success"
    assert row.actor_type == "user"
    assert row.actor_user_id == owner.user.pk
    assert row.actor_api_key_id is None
    assert row.actor_label == owner.user.get_username()
    assert row.organization_id == owner.organization.pk
    assert row.unit_id is None
    assert row.creative_id is None
    assert row.details == {}

    # ...a message saying what happened
    expected_message = {
        A.SCHEDULE: f"Scheduled to start at {_start_iso(campaign)}.",
        A.LAUNCH: "Launching on Google Ads, Meta Ads.",
        A.PAUSE: PAUSE_REASON,
        A.RESUME: "",
        A.COMPLETE: "Completed early.",
        A.CANCEL: CANCEL_REASON,
        A.RETRY: "Retrying the launch of what did not reach its platform.",
    }[action]
    assert row.message == expected_message

    # ...and the platform work queued after commit: a launch, a status push, or nothing
    task = {
        A.SCHEDULE: None,
        A.LAUNCH: LAUNCH_TASK,
        A.RETRY: LAUNCH_TASK,
        A.PAUSE: STATUS_TASK,
        A.RESUME: STATUS_TASK,
        A.COMPLETE: STATUS_TASK,
        A.CANCEL: STATUS_TASK,
    }[action]
    payload = {
        "args": [],
        "kwargs": {
            "campaign_id": str(campaign.pk),
            "organization_id": str(campaign.organization_id),
        },
    }
    assert _queued() == ([(task, payload)] if task else [])
    assert len(callbacks) == (0 if action is A.SCHEDULE else 1)
    # Nothing reached a platform: that is the worker's job.
    assert not CampaignChannel.objects.filter(campaign=campaign).exists()
    assert all(adapter.calls == [] for adapter in connected_channels.values())


@pytest.mark.parametrize(("action", "status"), FORBIDDEN, ids=lambda v: str(v))
def test_forbidden_action_raises_invalid_transition_and_logs_one_failure(
    owner, connected_channels, django_capture_on_commit_callbacks, action, status
):
    # Given a launchable campaign in a status the action is not allowed from
    campaign = _campaign_in(owner, status, start_at=_start_for(action, status))
    fields_before = Campaign.objects.filter(pk=campaign.pk).values().get()

    # When the owner tries it
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(InvalidTransition) as caught,
    ):
        _call(action, owner, campaign.pk)

    # Then the 409 names the action and the current status, and where it is allowed from
    error = caught.value
    assert error.status == 409
    assert error.code == "invalid-transition"
    assert error.detail == (
        f"Cannot {action.value} a campaign that is {status.value}; "
        f"{action.value} is allowed from: {ALLOWED_FROM_TEXT[action]}."
    )
    assert error.extra == {"action": action.value, "current_status": status.value}
    assert error.errors == []

    # ...the campaign did not change at all
    assert Campaign.objects.filter(pk=campaign.pk).values().get() == fields_before

    # ...exactly one failure row records the attempt, with no target status
    [row] = _log_rows(campaign)
    assert row.action == action.value
    assert row.from_status == status.value
    assert row.to_status == ""
    assert row.outcome == "failure"
    assert row.actor_type == "user"
    assert row.actor_user_id == owner.user.pk
    assert row.message == error.detail
    assert row.details == {"problem": "invalid-transition", "errors": []}

    # ...and nothing was queued
    assert callbacks == []
    assert _queued() == []


def test_launching_a_draft_whose_start_is_in_the_future_schedules_it(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a launchable draft starting in three days
    start = timezone.now() + timedelta(days=3)
    campaign = make_launchable_campaign(owner, start_at=start)

    # When it is launched
    with django_capture_on_commit_callbacks(execute=True):
        returned = campaign_launch(actor=owner, campaign_id=campaign.pk)

    # Then it is scheduled (not launching), its start untouched, and no launch is queued
    campaign.refresh_from_db()
    assert returned.status == campaign.status == S.SCHEDULED
    assert campaign.start_at == start
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "launch",
        "draft",
        "scheduled",
        "success",
    )
    assert row.message == f"Starts in the future: scheduled for {campaign.start_at.isoformat()}."
    assert _queued() == []


def test_launching_a_scheduled_campaign_moves_its_start_to_now(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a scheduled campaign due in a week
    campaign = _campaign_in(owner, S.SCHEDULED, start_at=timezone.now() + timedelta(days=7))
    before = timezone.now()

    # When it is launched early
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(actor=owner, campaign_id=campaign.pk)
    after = timezone.now()

    # Then it is launching, and starts now rather than next week
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert campaign.start_at is not None
    assert before <= campaign.start_at <= after
    assert campaign.start_at == campaign.status_changed_at
    assert [task for task, _ in _queued()] == [LAUNCH_TASK]


def test_launching_a_draft_whose_start_has_passed_keeps_that_start(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a draft whose planned start was yesterday
    start = timezone.now() - timedelta(days=1)
    campaign = make_launchable_campaign(owner, start_at=start)

    # When it is launched
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(actor=owner, campaign_id=campaign.pk)

    # Then it is launching and its start is not rewritten
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert campaign.start_at == start


def test_launch_and_retry_clear_the_previous_error_message(
    owner, connected_channels, django_capture_on_commit_callbacks
):
    # Given a campaign in error with a message from a failed launch
    campaign = _campaign_in(owner, S.ERROR)
    Campaign.objects.filter(pk=campaign.pk).update(error_message="Failed on Meta Ads.")

    # When it is retried
    with django_capture_on_commit_callbacks(execute=True):
        campaign_retry(actor=owner, campaign_id=campaign.pk)

    # Then the message is gone and its start is now
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert campaign.error_message == ""
    assert campaign.start_at == campaign.status_changed_at


def test_resume_refuses_a_campaign_whose_end_has_passed(owner, connected_channels):
    # Given a paused campaign whose end date went by while it was paused
    campaign = _campaign_in(owner, S.PAUSED)
    Campaign.objects.filter(pk=campaign.pk).update(
        end_at=timezone.now() - timedelta(minutes=1), pause_reason="Paused"
    )

    # When it is resumed
    with pytest.raises(PreconditionFailed) as caught:
        campaign_resume(actor=owner, campaign_id=campaign.pk)

    # Then it stays paused with its reason, and one failure row says why
    assert caught.value.detail == "The end date has passed; move it later or complete the campaign."
    assert [e.as_dict() for e in caught.value.errors] == [
        {"field": "end_at", "rule": "future", "message": "The end date has passed."}
    ]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED, "Paused")
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "resume",
        "paused",
        "",
        "failure",
    )
    assert row.details["problem"] == "precondition-failed"


def test_resume_clears_the_pause_reason(owner, connected_channels):
    campaign = _campaign_in(owner, S.ACTIVE)
    campaign_pause(actor=owner, campaign_id=campaign.pk, reason="x" * 600)
    campaign.refresh_from_db()
    assert campaign.pause_reason == "x" * 500  # capped at the column's length

    campaign_resume(actor=owner, campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")


def test_complete_after_the_end_date_says_the_end_was_reached(owner, connected_channels):
    campaign = _campaign_in(owner, S.ACTIVE)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - timedelta(seconds=1))

    campaign_complete(actor=owner, campaign_id=campaign.pk)

    [row] = _log_rows(campaign)
    assert (row.action, row.to_status, row.message) == (
        "complete",
        "completed",
        "The end date was reached.",
    )


# --- who may act --------------------------------------------------------------------


def _allowed_status_for(action: A) -> S:
    return next(iter(TRANSITIONS[action]))


@pytest.mark.parametrize("action", USER_ACTIONS, ids=str)
def test_a_viewer_is_denied_every_action_and_nothing_is_logged(
    owner, viewer, connected_channels, django_capture_on_commit_callbacks, action
):
    # Given a campaign in a status the action is allowed from
    status = _allowed_status_for(action)
    campaign = _campaign_in(owner, status, start_at=_start_for(action, status))
    fields_before = Campaign.objects.filter(pk=campaign.pk).values().get()

    # When a viewer tries it
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(PermissionDenied) as caught,
    ):
        _call(action, viewer, campaign.pk)

    # Then it is a 403 naming the missing permission; nothing changed, logged or queued
    assert caught.value.status == 403
    assert caught.value.detail == (
        "Your role (viewer) does not allow this action (needs the campaign.operate permission)."
    )
    assert Campaign.objects.filter(pk=campaign.pk).values().get() == fields_before
    assert _log_rows(campaign) == []
    assert callbacks == []
    assert _queued() == []


@pytest.mark.parametrize("action", USER_ACTIONS, ids=str)
def test_an_editor_may_perform_every_action(
    owner, editor, connected_channels, django_capture_on_commit_callbacks, action
):
    status = _allowed_status_for(action)
    campaign = _campaign_in(owner, status, start_at=_start_for(action, status))

    with django_capture_on_commit_callbacks(execute=True):
        _call(action, editor, campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == EXPECTED_TARGET[(action, status)]
    [row] = _log_rows(campaign)
    assert (row.actor_type, row.actor_user_id, row.outcome) == ("user", editor.user.pk, "success")


def test_another_organizations_campaign_is_not_found_and_not_logged(
    owner, other_org, connected_channels
):
    # Given an active campaign of another organization
    outsider = make_actor(other_org, Role.OWNER)
    campaign = _campaign_in(owner, S.ACTIVE)

    # When its owner-in-another-org tries to pause it
    with pytest.raises(NotFound):
        campaign_pause(actor=outsider, campaign_id=campaign.pk)

    # Then nothing happens, and no log row leaks into either organization
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert ExecutionLogEntry.objects.count() == 0


def test_an_api_key_and_the_system_are_recorded_as_such(owner, connected_channels):
    # Given an API key of the owner, and the system actor
    api_key, _secret = api_key_create(
        user=owner.user, organization=owner.organization, name="automation"
    )
    by_key = Actor(
        organization=owner.organization,
        kind=ActorKind.API_KEY,
        role=Role.OWNER,
        user=owner.user,
        api_key=api_key,
    )
    system = Actor.system(owner.organization)
    campaign = _campaign_in(owner, S.ACTIVE)

    # When the key pauses the campaign and the system resumes it
    campaign_pause(actor=by_key, campaign_id=campaign.pk)
    campaign_resume(actor=system, campaign_id=campaign.pk)

    # Then each row names its actor
    pause_row, resume_row = _log_rows(campaign)
    assert (pause_row.action, pause_row.actor_type) == ("pause", "api_key")
    assert pause_row.actor_api_key_id == api_key.pk
    assert pause_row.actor_user_id == owner.user.pk
    assert pause_row.actor_label == f"{owner.user.get_username()} (API key {api_key.prefix})"
    assert (resume_row.action, resume_row.actor_type) == ("resume", "system")
    assert resume_row.actor_user_id is None
    assert resume_row.actor_api_key_id is None
    assert resume_row.actor_label == "system"


def test_each_refused_attempt_is_logged(owner, connected_channels):
    # Given a completed campaign
    campaign = _campaign_in(owner, S.COMPLETED)

    # When it is paused twice (both refused)
    for _ in range(2):
        with pytest.raises(InvalidTransition):
            campaign_pause(actor=owner, campaign_id=campaign.pk)

    # Then two failure rows, one per attempt
    rows = _log_rows(campaign)
    assert [(r.action, r.from_status, r.to_status, r.outcome) for r in rows] == [
        ("pause", "completed", "", "failure"),
        ("pause", "completed", "", "failure"),
    ]


# --- the table itself ----------------------------------------------------------------

EXPECTED_ALLOWED_ACTIONS = {
    S.DRAFT: ["schedule", "launch", "cancel"],
    S.SCHEDULED: ["launch", "cancel"],
    S.LAUNCHING: [],
    S.ACTIVE: ["pause", "complete", "cancel"],
    S.PAUSED: ["resume", "complete", "cancel"],
    S.COMPLETED: [],
    S.CANCELLED: [],
    S.ERROR: ["cancel", "retry"],
}


@pytest.mark.parametrize("status", list(S), ids=str)
def test_allowed_actions_per_status(status):
    assert allowed_actions(status) == EXPECTED_ALLOWED_ACTIONS[status]
    assert allowed_actions(status.value) == EXPECTED_ALLOWED_ACTIONS[status]


@pytest.mark.parametrize("status", list(S), ids=str)
def test_can_agrees_with_allowed_actions(status):
    assert [a.value for a in USER_ACTIONS if can(a, status)] == EXPECTED_ALLOWED_ACTIONS[status]


def test_allowed_actions_of_an_unknown_status_is_empty():
    assert allowed_actions("archived") == []


def test_user_actions_exclude_what_only_the_system_reports():
    assert USER_ACTIONS == (
        A.SCHEDULE,
        A.LAUNCH,
        A.PAUSE,
        A.RESUME,
        A.COMPLETE,
        A.CANCEL,
        A.RETRY,
    )
    assert A.LAUNCH_SUCCEEDED not in USER_ACTIONS
    assert A.LAUNCH_FAILED not in USER_ACTIONS
    assert set(TRANSITIONS) == set(A)


@pytest.mark.parametrize(
    ("action", "status", "expected"),
    [
        (A.LAUNCH_SUCCEEDED, S.LAUNCHING, S.ACTIVE),
        (A.LAUNCH_FAILED, S.LAUNCHING, S.ERROR),
        (A.LAUNCH_FAILED, S.SCHEDULED, S.ERROR),
    ],
)
def test_target_status_of_system_reported_outcomes(action, status, expected):
    assert target_status(action, status) is expected
    assert target_status(action, status.value) is expected


def test_target_status_refuses_a_system_outcome_outside_a_launch():
    with pytest.raises(InvalidTransition) as caught:
        target_status(A.LAUNCH_SUCCEEDED, S.ACTIVE)
    assert caught.value.detail == (
        "Cannot launch_succeeded a campaign that is active; "
        "launch_succeeded is allowed from: launching."
    )


def test_target_status_refuses_an_unknown_status_naming_it():
    with pytest.raises(InvalidTransition) as caught:
        target_status(A.PAUSE, "archived")
    assert caught.value.detail == (
        "Cannot pause a campaign that is archived; pause is allowed from: active."
    )
    assert caught.value.extra == {"action": "pause", "current_status": "archived"}


def test_terminal_statuses_allow_nothing_and_are_not_editable():
    assert sorted(TERMINAL_STATUSES) == [S.CANCELLED, S.COMPLETED]
    assert sorted(EDITABLE_STATUSES) == [S.DRAFT, S.ERROR, S.SCHEDULED]
    for status in TERMINAL_STATUSES:
        assert all(status not in targets for targets in TRANSITIONS.values())
