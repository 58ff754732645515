"""The launch path end to end: the service queues a task after commit, the worker
pushes every channel through its adapter, and the campaign lands active, or in error
saying which platform failed; a retry finishes only what is missing. Status changes
(pause, resume, complete, cancel) are pushed to the platforms the same way.

These tests run the real django-tasks-db worker (``run_tasks``), which manages its own
database connection, so they use a transactional database.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from herald.campaigns import channels
from herald.campaigns.adapters import AdapterError
from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.choices import UnitStatus
from herald.campaigns.models import (
    AdCreative,
    Campaign,
    CampaignChannel,
    CampaignUnit,
    ExecutionLogEntry,
)
from herald.campaigns.services.creatives import creative_update
from herald.campaigns.services.execution import (
    campaign_execute_launch,
    campaign_push_platform_status,
)
from herald.campaigns.services.lifecycle import (
    campaign_cancel,
    campaign_complete,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_retry,
)
from herald.core.errors import Conflict
from herald.testing.factories import make_launchable_campaign

pytestmark = pytest.mark.django_db(transaction=True)

LAUNCH_TASK = "herald.campaigns.tasks.campaign_launch_task"
STATUS_TASK = "herald.campaigns.tasks.campaign_platform_status_task"


# --- helpers ----------------------------------------------------------------------


def _unit(campaign: Campaign, channel: str) -> CampaignUnit:
    return CampaignUnit.objects.get(campaign=campaign, channel=channel)


def _creative(campaign: Campaign, channel: str) -> AdCreative:
    return AdCreative.objects.get(unit__campaign=campaign, unit__channel=channel)


def _log(campaign: Campaign) -> list[tuple[str, str, str, str, str]]:
    return [
        (row.action, row.from_status, row.to_status, row.outcome, row.actor_type)
        for row in ExecutionLogEntry.objects.filter(campaign=campaign).order_by("created_at", "id")
    ]


def _log_rows(campaign: Campaign) -> list[ExecutionLogEntry]:
    return list(ExecutionLogEntry.objects.filter(campaign=campaign).order_by("created_at", "id"))


def _tasks() -> list[tuple[str, str]]:
    return [(r.task_path, r.status) for r in DBTaskResult.objects.order_by("enqueued_at", "id")]


def _states(campaign: Campaign) -> dict[str, str]:
    return {c.channel: c.state for c in CampaignChannel.objects.filter(campaign=campaign)}


def _launch_calls(adapter: Any) -> list[Any]:
    return [call for call in adapter.calls if call[0] == "launch"]


@pytest.fixture
def active_campaign(owner, connected_channels, run_tasks) -> Campaign:
    """A two-channel campaign launched for real and live on both platforms."""
    campaign = make_launchable_campaign(owner)
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    for adapter in connected_channels.values():
        adapter.calls.clear()
    return campaign


# --- a launch that succeeds ---------------------------------------------------------


def test_launch_queues_one_task_only_after_commit(owner, connected_channels):
    # Given a launchable campaign
    campaign = make_launchable_campaign(owner)

    # When it is launched inside a caller's transaction
    with transaction.atomic():
        campaign_launch(actor=owner, campaign_id=campaign.pk)
        # Then nothing is queued while the transaction is open...
        assert DBTaskResult.objects.count() == 0

    # ...and exactly one launch task once it committed, carrying the ids as strings
    [task] = DBTaskResult.objects.all()
    assert task.task_path == LAUNCH_TASK
    assert task.status == TaskResultStatus.READY
    assert task.args_kwargs == {
        "args": [],
        "kwargs": {
            "campaign_id": str(campaign.pk),
            "organization_id": str(campaign.organization_id),
        },
    }
    # No platform was touched by the request itself
    assert all(adapter.calls == [] for adapter in connected_channels.values())
    assert CampaignChannel.objects.count() == 0


def test_a_rolled_back_launch_queues_nothing(owner, connected_channels):
    campaign = make_launchable_campaign(owner)

    with pytest.raises(RuntimeError), transaction.atomic():
        campaign_launch(actor=owner, campaign_id=campaign.pk)
        raise RuntimeError("the caller failed after launching")

    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT
    assert DBTaskResult.objects.count() == 0
    assert ExecutionLogEntry.objects.count() == 0


def test_launch_goes_live_on_every_channel(owner, connected_channels, run_tasks):
    # Given a launchable Google + Meta campaign
    campaign = make_launchable_campaign(owner)
    google_unit, meta_unit = _unit(campaign, "google_ads"), _unit(campaign, "meta_ads")
    google_ad, meta_ad = _creative(campaign, "google_ads"), _creative(campaign, "meta_ads")

    # When it is launched, it is launching with one task queued
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert _tasks() == [(LAUNCH_TASK, TaskResultStatus.READY)]

    # And when the worker runs
    run_tasks()

    # Then the task succeeded and the campaign is active
    assert _tasks() == [(LAUNCH_TASK, TaskResultStatus.SUCCESSFUL)]
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert campaign.error_message == ""

    # ...each adapter was asked once, with its own channel's units
    assert connected_channels["google_ads"].calls == [("launch", [google_unit.pk])]
    assert connected_channels["meta_ads"].calls == [("launch", [meta_unit.pk])]

    # ...each channel is live with the platform's campaign id
    rows = list(CampaignChannel.objects.filter(campaign=campaign).order_by("channel"))
    assert [(r.channel, r.state, r.external_id, r.last_error) for r in rows] == [
        ("google_ads", "live", f"ext-{campaign.pk}", ""),
        ("meta_ads", "live", f"ext-{campaign.pk}", ""),
    ]
    assert all(r.launched_at is not None for r in rows)
    assert all(r.organization_id == campaign.organization_id for r in rows)

    # ...units and creatives carry their external ids
    for unit in (google_unit, meta_unit):
        unit.refresh_from_db()
        assert (unit.external_id, unit.status) == (f"unit-{unit.pk}", UnitStatus.ACTIVE)
    for creative in (google_ad, meta_ad):
        creative.refresh_from_db()
        assert creative.external_id == f"ad-{creative.pk}"
        assert creative.launched_at is not None
        assert creative.version == 1
        assert creative.is_current

    # ...and the log shows the request by the owner, then the outcome by the system
    assert _log(campaign) == [
        ("launch", "draft", "launching", "success", "user"),
        ("launch_succeeded", "launching", "active", "success", "system"),
    ]
    outcome = _log_rows(campaign)[-1]
    assert outcome.message == "Live on Google Ads, Meta Ads."
    assert outcome.details == {"live_channels": ["google_ads", "meta_ads"], "failed_channels": []}
    assert outcome.actor_label == "system"
    assert outcome.actor_user_id is None
    assert (outcome.unit_id, outcome.creative_id) == (None, None)


def test_running_the_launch_twice_does_nothing_the_second_time(owner, connected_channels):
    # Given a launching campaign (the task was queued but we run the service directly)
    campaign = make_launchable_campaign(owner)
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    ids = {"campaign_id": str(campaign.pk), "organization_id": str(campaign.organization_id)}

    # When the launch is executed twice (e.g. a task delivered twice)
    campaign_execute_launch(**ids)
    snapshot = (
        list(CampaignChannel.objects.values().order_by("channel")),
        list(CampaignUnit.objects.values().order_by("id")),
        list(AdCreative.objects.values().order_by("id")),
    )
    campaign_execute_launch(**ids)

    # Then the platforms were called once, and the second run changed nothing
    assert len(_launch_calls(connected_channels["google_ads"])) == 1
    assert len(_launch_calls(connected_channels["meta_ads"])) == 1
    assert snapshot == (
        list(CampaignChannel.objects.values().order_by("channel")),
        list(CampaignUnit.objects.values().order_by("id")),
        list(AdCreative.objects.values().order_by("id")),
    )
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert _log(campaign) == [
        ("launch", "draft", "launching", "success", "user"),
        ("launch_succeeded", "launching", "active", "success", "system"),
    ]


def test_a_launch_interrupted_after_the_platforms_finishes_without_calling_them(
    owner, connected_channels
):
    # Given a campaign whose channels all went live, but which is still launching
    # (the worker died before recording the outcome)
    campaign = make_launchable_campaign(owner)
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    ids = {"campaign_id": str(campaign.pk), "organization_id": str(campaign.organization_id)}
    campaign_execute_launch(**ids)
    Campaign.objects.filter(pk=campaign.pk).update(status=S.LAUNCHING)
    for adapter in connected_channels.values():
        adapter.calls.clear()

    # When the task runs again
    campaign_execute_launch(**ids)

    # Then no platform is called again and the campaign is active
    assert all(adapter.calls == [] for adapter in connected_channels.values())
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert _log(campaign)[-1] == ("launch_succeeded", "launching", "active", "success", "system")


def test_the_launch_ignores_another_organizations_id_and_non_launching_campaigns(
    owner, other_org, connected_channels
):
    # Given a launching campaign
    campaign = make_launchable_campaign(owner)
    campaign_launch(actor=owner, campaign_id=campaign.pk)

    # When the task arrives with the wrong organization, it does nothing
    campaign_execute_launch(campaign_id=str(campaign.pk), organization_id=str(other_org.pk))
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert all(adapter.calls == [] for adapter in connected_channels.values())

    # And when the campaign is no longer launching (cancelled meanwhile), nothing either
    Campaign.objects.filter(pk=campaign.pk).update(status=S.CANCELLED)
    campaign_execute_launch(
        campaign_id=str(campaign.pk), organization_id=str(campaign.organization_id)
    )
    assert all(adapter.calls == [] for adapter in connected_channels.values())
    assert CampaignChannel.objects.count() == 0
    assert [row[0] for row in _log(campaign)] == ["launch"]


# --- a launch that fails halfway, and its retry ----------------------------------------


def test_partial_failure_then_retry_finishes_only_what_is_missing(
    owner, connected_channels, run_tasks
):
    google, meta = connected_channels["google_ads"], connected_channels["meta_ads"]
    campaign = make_launchable_campaign(owner)
    google_unit, meta_unit = _unit(campaign, "google_ads"), _unit(campaign, "meta_ads")
    meta_ad = _creative(campaign, "meta_ads")

    # Given Meta rejects the ad's image
    meta.fail_with = AdapterError("Invalid image", retryable=False, creative_id=meta_ad.pk)

    # When the campaign is launched and the worker runs
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    # Then the task itself succeeded (the failure is the campaign's, not the worker's)
    assert _tasks() == [(LAUNCH_TASK, TaskResultStatus.SUCCESSFUL)]

    # ...the campaign is in error, saying Meta failed and Google is live
    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == (
        "Failed on Meta Ads. Live on Google Ads. Retry finishes only what is missing."
    )

    # ...Google is live, Meta failed with the platform's message and no external id
    google_state = CampaignChannel.objects.get(campaign=campaign, channel="google_ads")
    meta_state = CampaignChannel.objects.get(campaign=campaign, channel="meta_ads")
    assert (google_state.state, google_state.external_id) == ("live", f"ext-{campaign.pk}")
    assert (meta_state.state, meta_state.external_id, meta_state.last_error) == (
        "failed",
        "",
        "Invalid image",
    )
    assert meta_state.launched_at is None
    google_unit.refresh_from_db()
    meta_unit.refresh_from_db()
    meta_ad.refresh_from_db()
    assert (google_unit.status, google_unit.external_id) == ("active", f"unit-{google_unit.pk}")
    assert (meta_unit.status, meta_unit.external_id) == ("draft", "")
    assert (meta_ad.launched_at, meta_ad.external_id) == (None, "")

    # ...and the log has the channel's failure attached to the creative, then the outcome
    assert _log(campaign) == [
        ("launch", "draft", "launching", "success", "user"),
        ("launch_failed", "launching", "", "failure", "system"),
        ("launch_failed", "launching", "error", "failure", "system"),
    ]
    _request, channel_failure, outcome = _log_rows(campaign)
    assert channel_failure.message == "Meta Ads: Invalid image"
    assert channel_failure.creative_id == meta_ad.pk
    assert channel_failure.unit_id is None
    assert channel_failure.details == {"channel": "meta_ads", "retryable": False}
    assert outcome.message == campaign.error_message
    assert outcome.details == {"live_channels": ["google_ads"], "failed_channels": ["meta_ads"]}
    google_launched_at = google_state.launched_at

    # When the image is fixed and the launch retried
    meta.fail_with = None
    campaign_retry(actor=owner, campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.error_message) == (S.LAUNCHING, "")
    run_tasks()

    # Then the campaign is active; Google was not launched a second time, Meta was
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert campaign.error_message == ""
    assert google.calls == [("launch", [google_unit.pk])]
    assert meta.calls == [("launch", [meta_unit.pk]), ("launch", [meta_unit.pk])]
    assert _states(campaign) == {"google_ads": "live", "meta_ads": "live"}
    meta_state = CampaignChannel.objects.get(campaign=campaign, channel="meta_ads")
    google_state = CampaignChannel.objects.get(campaign=campaign, channel="google_ads")
    assert meta_state.last_error == ""
    assert meta_state.launched_at is not None
    assert google_state.launched_at == google_launched_at
    meta_ad = AdCreative.objects.get(pk=meta_ad.pk)
    assert meta_ad.external_id == f"ad-{meta_ad.pk}"
    assert meta_ad.launched_at is not None
    assert [(t, s) for t, s in _tasks()] == [
        (LAUNCH_TASK, TaskResultStatus.SUCCESSFUL),
        (LAUNCH_TASK, TaskResultStatus.SUCCESSFUL),
    ]
    assert _log(campaign)[3:] == [
        ("retry", "error", "launching", "success", "user"),
        ("launch_succeeded", "launching", "active", "success", "system"),
    ]
    assert _log_rows(campaign)[-1].message == "Live on Google Ads, Meta Ads."


def test_every_channel_failing_leaves_nothing_live(owner, connected_channels, run_tasks, settings):
    # Given both platforms down, and no automatic retry left
    settings.HERALD_LAUNCH_MAX_ATTEMPTS = 1
    for adapter in connected_channels.values():
        adapter.fail_with = AdapterError("Service unavailable", retryable=True)
    campaign = make_launchable_campaign(owner)

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == (
        "Failed on Google Ads, Meta Ads. Retry finishes only what is missing."
    )
    assert _states(campaign) == {"google_ads": "failed", "meta_ads": "failed"}
    failures = [r for r in _log_rows(campaign) if r.to_status == ""]
    assert [(r.message, r.details) for r in failures] == [
        ("Google Ads: Service unavailable", {"channel": "google_ads", "retryable": True}),
        ("Meta Ads: Service unavailable", {"channel": "meta_ads", "retryable": True}),
    ]
    assert _log_rows(campaign)[-1].details == {
        "live_channels": [],
        "failed_channels": ["google_ads", "meta_ads"],
    }


def test_a_failure_naming_a_unit_is_logged_against_it(owner, connected_channels, run_tasks):
    campaign = make_launchable_campaign(owner, channels=("google_ads",))
    unit = _unit(campaign, "google_ads")
    connected_channels["google_ads"].fail_with = AdapterError(
        "Ad group budget too low", retryable=False, unit_id=unit.pk
    )

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    channel_failure = _log_rows(campaign)[1]
    assert (channel_failure.action, channel_failure.unit_id, channel_failure.creative_id) == (
        "launch_failed",
        unit.pk,
        None,
    )
    assert channel_failure.message == "Google Ads: Ad group budget too low"


def test_an_unexpected_adapter_exception_is_a_retryable_failure_not_a_stuck_launch(
    owner, connected_channels, run_tasks, settings
):
    # Given Meta's adapter crashes with something other than an AdapterError, and no
    # automatic retry is left
    settings.HERALD_LAUNCH_MAX_ATTEMPTS = 1
    connected_channels["meta_ads"].fail_with = RuntimeError("connection reset by peer")
    campaign = make_launchable_campaign(owner)

    # When the campaign is launched and the worker runs
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    # Then the campaign is in error (where retry and cancel are possible), not stuck in
    # launching; Google is live, Meta failed with a generic message (no internals)
    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == (
        "Failed on Meta Ads. Live on Google Ads. Retry finishes only what is missing."
    )
    assert _states(campaign) == {"google_ads": "live", "meta_ads": "failed"}
    assert CampaignChannel.objects.get(campaign=campaign, channel="meta_ads").last_error == (
        "The platform connection failed unexpectedly."
    )
    channel_failure = _log_rows(campaign)[1]
    assert channel_failure.message == "Meta Ads: The platform connection failed unexpectedly."
    assert channel_failure.details == {"channel": "meta_ads", "retryable": True}
    assert _tasks() == [(LAUNCH_TASK, TaskResultStatus.SUCCESSFUL)]

    # And once the adapter behaves, a retry finishes the launch
    connected_channels["meta_ads"].fail_with = None
    campaign_retry(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert len(_launch_calls(connected_channels["google_ads"])) == 1


def test_a_channel_without_an_installed_adapter_fails_with_a_clear_message(
    owner, monkeypatch, run_tasks
):
    # Given Google with an account but no platform adapter installed yet
    google = channels.get_channel("google_ads")
    monkeypatch.setitem(
        channels._REGISTRY,
        "google_ads",
        dataclasses.replace(google, adapter_factory=None, ad_account_resolver=lambda c: "acct"),
    )
    campaign = make_launchable_campaign(owner, channels=("google_ads",))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert campaign.error_message == "Failed on Google Ads. Retry finishes only what is missing."
    state = CampaignChannel.objects.get(campaign=campaign)
    assert (state.state, state.last_error) == (
        "failed",
        "No platform connection is installed for Google Ads yet.",
    )
    assert _log_rows(campaign)[1].message == (
        "Google Ads: No platform connection is installed for Google Ads yet."
    )


# --- status changes pushed to the platforms --------------------------------------------


def test_pause_then_resume_reach_each_platform_once(
    owner, active_campaign, connected_channels, run_tasks
):
    campaign = active_campaign
    google, meta = connected_channels["google_ads"], connected_channels["meta_ads"]

    # When the campaign is paused and the worker runs
    campaign_pause(actor=owner, campaign_id=campaign.pk, reason="Out of stock")
    assert DBTaskResult.objects.filter(task_path=STATUS_TASK, status="READY").count() == 1
    run_tasks()

    # Then each platform was paused once; channels and units are paused
    assert google.calls == [("pause", campaign.pk)]
    assert meta.calls == [("pause", campaign.pk)]
    assert _states(campaign) == {"google_ads": "paused", "meta_ads": "paused"}
    assert set(CampaignUnit.objects.filter(campaign=campaign).values_list("status", flat=True)) == {
        UnitStatus.PAUSED
    }

    # When it is resumed
    campaign_resume(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    # Then each platform was resumed once; everything is live again
    assert google.calls == [("pause", campaign.pk), ("resume", campaign.pk)]
    assert meta.calls == [("pause", campaign.pk), ("resume", campaign.pk)]
    assert _states(campaign) == {"google_ads": "live", "meta_ads": "live"}
    assert set(CampaignUnit.objects.filter(campaign=campaign).values_list("status", flat=True)) == {
        UnitStatus.ACTIVE
    }
    assert [path for path, _ in _tasks()] == [LAUNCH_TASK, STATUS_TASK, STATUS_TASK]
    assert all(status == TaskResultStatus.SUCCESSFUL for _, status in _tasks())
    # Pushing a status writes no log rows of its own when it succeeds
    assert [row[0] for row in _log(campaign)] == ["launch", "launch_succeeded", "pause", "resume"]


@pytest.mark.parametrize("stop", [campaign_cancel, campaign_complete], ids=["cancel", "complete"])
def test_cancel_and_complete_stop_every_platform(
    owner, active_campaign, connected_channels, run_tasks, stop
):
    campaign = active_campaign

    stop(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    assert connected_channels["google_ads"].calls == [("pause", campaign.pk)]
    assert connected_channels["meta_ads"].calls == [("pause", campaign.pk)]
    assert _states(campaign) == {"google_ads": "paused", "meta_ads": "paused"}


def test_pushing_a_status_twice_calls_the_platforms_once(
    owner, active_campaign, connected_channels
):
    campaign = active_campaign
    campaign_pause(actor=owner, campaign_id=campaign.pk)
    ids = {"campaign_id": str(campaign.pk), "organization_id": str(campaign.organization_id)}

    campaign_push_platform_status(**ids)
    campaign_push_platform_status(**ids)

    assert connected_channels["google_ads"].calls == [("pause", campaign.pk)]
    assert connected_channels["meta_ads"].calls == [("pause", campaign.pk)]


def test_cancelling_after_a_partial_failure_stops_only_the_live_platform(
    owner, connected_channels, run_tasks
):
    # Given Google live and Meta failed
    connected_channels["meta_ads"].fail_with = AdapterError("Invalid image", retryable=False)
    campaign = make_launchable_campaign(owner)
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.ERROR

    # When it is cancelled
    campaign_cancel(actor=owner, campaign_id=campaign.pk, reason="Give up")
    run_tasks()

    # Then Google is paused; Meta, which never went live, is left alone
    assert connected_channels["google_ads"].calls[-1] == ("pause", campaign.pk)
    assert [c for c in connected_channels["meta_ads"].calls if c[0] != "launch"] == []
    assert _states(campaign) == {"google_ads": "paused", "meta_ads": "failed"}
    campaign.refresh_from_db()
    assert (campaign.status, campaign.cancel_reason) == (S.CANCELLED, "Give up")


def test_a_platform_refusing_to_pause_is_logged_and_the_others_still_pause(
    owner, active_campaign, connected_channels, run_tasks
):
    campaign = active_campaign

    # Given Google's pause call fails
    def refuse(*, campaign: Any, units: Any) -> None:
        raise AdapterError("Token expired", retryable=False, needs_reauth=True)

    connected_channels["google_ads"].pause = refuse

    # When the campaign is paused
    campaign_pause(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    # Then Meta is paused, Google stays live, and a platform_sync failure row says why
    assert _states(campaign) == {"google_ads": "live", "meta_ads": "paused"}
    assert connected_channels["meta_ads"].calls == [("pause", campaign.pk)]
    sync = _log_rows(campaign)[-1]
    assert (sync.action, sync.from_status, sync.to_status, sync.outcome, sync.actor_type) == (
        "platform_sync",
        "paused",
        "",
        "failure",
        "system",
    )
    assert sync.message == "Google Ads: Token expired"
    assert sync.details == {"channel": "google_ads", "retryable": False}
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED
    assert _tasks()[-1] == (STATUS_TASK, TaskResultStatus.SUCCESSFUL)


# --- launched creatives are immutable ---------------------------------------------------


def test_editing_a_launched_creative_makes_version_two(owner, active_campaign):
    # Given the Google creative that went live
    v1 = _creative(active_campaign, "google_ads")
    v1_before = AdCreative.objects.filter(pk=v1.pk).values().get()
    assert v1.launched_at is not None

    # When its headlines are edited
    new_headlines = ["Spicy Jalapeño Chips", "25% Off This Week", "Organic Potato Chips"]
    v2 = creative_update(actor=owner, creative_id=v1.pk, headlines=new_headlines)

    # Then a second version exists, current, child of v1, not launched yet
    assert v2.pk != v1.pk
    v2.refresh_from_db()
    assert (v2.version, v2.parent_id, v2.lineage_id, v2.is_current) == (
        2,
        v1.pk,
        v1.lineage_id,
        True,
    )
    assert v2.headlines == new_headlines
    assert v2.descriptions == v1.descriptions
    assert (v2.launched_at, v2.external_id) == (None, "")
    assert v2.unit_id == v1.unit_id

    # ...and v1 is exactly as it was, except no longer current
    v1_after = AdCreative.objects.filter(pk=v1.pk).values().get()
    assert v1_after["is_current"] is False
    assert {k: v for k, v in v1_after.items() if k not in {"is_current", "updated_at"}} == {
        k: v for k, v in v1_before.items() if k not in {"is_current", "updated_at"}
    }
    assert AdCreative.objects.filter(lineage_id=v1.lineage_id).count() == 2

    # ...and the old version can no longer be edited
    with pytest.raises(Conflict) as caught:
        creative_update(actor=owner, creative_id=v1.pk, name="again")
    assert caught.value.extra == {"current_version_id": str(v2.pk)}
    assert caught.value.detail == "This is version 1; edit the current version 2 instead."


def test_editing_a_never_launched_creative_changes_it_in_place(owner, connected_channels):
    campaign = make_launchable_campaign(owner)
    creative = _creative(campaign, "google_ads")

    edited = creative_update(actor=owner, creative_id=creative.pk, name="Renamed")

    assert edited.pk == creative.pk
    edited.refresh_from_db()
    assert (edited.version, edited.name, edited.is_current) == (1, "Renamed", True)
    assert AdCreative.objects.filter(lineage_id=creative.lineage_id).count() == 1


def test_a_retryable_failure_is_tried_again_by_itself_after_the_platforms_hint(
    owner, connected_channels, run_tasks, settings
):
    # Given Meta rate-limits the launch and asks to wait 120 s
    settings.HERALD_LAUNCH_MAX_ATTEMPTS = 3
    connected_channels["meta_ads"].fail_with = AdapterError(
        "Too many calls", retryable=True, retry_after=120
    )
    campaign = make_launchable_campaign(owner)

    # When the campaign is launched and the worker runs
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    # Then it is still launching: Google is live, a retry is queued 120 s ahead
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert _states(campaign) == {"google_ads": "live", "meta_ads": "failed"}
    retry_row = _log_rows(campaign)[-1]
    assert (retry_row.action, retry_row.outcome) == ("launch_retry", "failure")
    assert retry_row.message == ("Meta Ads: Too many calls Trying again in 120 s (attempt 1 of 3).")
    deferred = DBTaskResult.objects.filter(status=TaskResultStatus.READY).get()
    assert deferred.run_after > timezone.now() + timedelta(seconds=110)

    # When the platform recovers and the deferred task comes due
    connected_channels["meta_ads"].fail_with = None
    DBTaskResult.objects.filter(pk=deferred.pk).update(
        run_after=timezone.now() - timedelta(seconds=1)
    )
    run_tasks()

    # Then the launch finishes, without launching Google a second time
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert [call for call in connected_channels["google_ads"].calls if call[0] == "launch"] == [
        (
            "launch",
            [
                unit.pk
                for unit in CampaignUnit.objects.filter(campaign=campaign, channel="google_ads")
            ],
        )
    ]


def test_retryable_failures_give_up_after_the_last_attempt(
    owner, connected_channels, run_tasks, settings
):
    settings.HERALD_LAUNCH_MAX_ATTEMPTS = 2
    connected_channels["meta_ads"].fail_with = AdapterError("Service unavailable", retryable=True)
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(
        run_after=timezone.now() - timedelta(seconds=1)
    )
    run_tasks()

    campaign.refresh_from_db()
    assert campaign.status == S.ERROR
    assert [row.action for row in _log_rows(campaign)] == [
        "launch",
        "launch_retry",
        "launch_failed",
        "launch_failed",
    ]
    assert CampaignChannel.objects.get(campaign=campaign).attempts == 2
