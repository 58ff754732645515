"""The checks a campaign must pass before it may reach its platforms.

Each check is tried on its own (everything else satisfied) for its exact field path,
rule and message; then how the failures are reported: ``AccountNotConnected`` when the
only problem is missing ad accounts, ``PreconditionFailed`` listing everything
otherwise, and a failure log row either way. Scheduling runs the same checks without
the account one, but needs a future start.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from herald.campaigns import channels
from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.models import AdCreative, Campaign, CampaignUnit, ExecutionLogEntry
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.lifecycle import (
    AccountNotConnected,
    campaign_launch,
    campaign_launch_checks,
    campaign_retry,
    campaign_schedule,
)
from herald.core.errors import FieldError, PreconditionFailed
from herald.testing.factories import (
    GOOGLE_CREATIVE,
    make_campaign,
    make_creative,
    make_launchable_campaign,
    make_unit,
)

pytestmark = pytest.mark.django_db

BUDGET_REQUIRED = FieldError("budget", "required", "Set a budget before launching.")
UNITS_REQUIRED = FieldError("units", "required", "Add at least one ad group or ad set to launch.")
END_PASSED = FieldError("end_at", "future", "The end date has passed; move it later.")
START_FUTURE = FieldError("start_at", "future", "Set a start time in the future to schedule.")
GOOGLE_NO_ACCOUNT = FieldError(
    "channels.google_ads.ad_account",
    "account_not_connected",
    "Connect a Google Ads account and choose it for this campaign before launching.",
)
META_NO_ACCOUNT = FieldError(
    "channels.meta_ads.ad_account",
    "account_not_connected",
    "Connect a Meta Ads account and choose it for this campaign before launching.",
)
GOOGLE_NEEDS_CREATIVE = FieldError(
    "channels.google_ads",
    "creative_required",
    "Google Ads needs at least one ad group with a creative that has no errors.",
)
META_NEEDS_CREATIVE = FieldError(
    "channels.meta_ads",
    "creative_required",
    "Meta Ads needs at least one ad set with a creative that has no errors.",
)


def _checks(
    campaign: Campaign, *, include_accounts: bool = True, now: Any = None
) -> list[FieldError]:
    return campaign_launch_checks(
        campaign, now=now or timezone.now(), include_accounts=include_accounts
    )


def _planned(owner, *, allocations: dict[str, str] | None = None, **fields: Any) -> Campaign:
    """A campaign ending in a month with a daily budget split as given (or no budget)."""
    fields.setdefault("end_at", timezone.now() + timedelta(days=30))
    campaign = make_campaign(owner, **fields)
    if allocations is not None:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("500.00"),
            allocations={channel: Decimal(amount) for channel, amount in allocations.items()},
        )
    return campaign


def _unit_with_creative(owner, campaign: Campaign, channel: str, **unit_fields: Any):
    unit = make_unit(owner, campaign, channel, **unit_fields)
    return unit, make_creative(owner, unit)


def _log_rows(campaign: Campaign) -> list[ExecutionLogEntry]:
    return list(ExecutionLogEntry.objects.filter(campaign=campaign).order_by("created_at", "id"))


def _refused_launch(owner, campaign: Campaign, expected_type: type[PreconditionFailed]):
    """Launch, expect exactly ``expected_type``; check nothing moved and one failure row
    repeats the errors. Returns the error."""
    with pytest.raises(PreconditionFailed) as caught:
        campaign_launch(actor=owner, campaign_id=campaign.pk)
    error = caught.value
    assert type(error) is expected_type
    assert error.status == 422
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT
    assert campaign.status_changed_at is None
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "launch",
        "draft",
        "",
        "failure",
    )
    assert (row.actor_type, row.actor_user_id) == ("user", owner.user.pk)
    assert row.message == error.detail
    assert row.details == {
        "problem": error.code,
        "errors": [e.as_dict() for e in error.errors],
    }
    assert DBTaskResult.objects.count() == 0
    return error


# --- each check on its own ----------------------------------------------------------


def test_a_launchable_campaign_passes_every_check(owner, connected_channels):
    campaign = make_launchable_campaign(owner)
    assert _checks(campaign) == []


def test_no_budget(owner, connected_channels):
    # Given a campaign with a complete Google ad group but no budget at all
    campaign = _planned(owner)
    _unit_with_creative(owner, campaign, "google_ads")

    # Then only the budget is missing (no allocation error without a budget to split)
    assert _checks(campaign) == [BUDGET_REQUIRED]
    error = _refused_launch(owner, campaign, PreconditionFailed)
    assert error.code == "precondition-failed"
    assert error.detail == "The campaign cannot launch yet: 1 check(s) failed."
    assert error.errors == [BUDGET_REQUIRED]


def test_no_units(owner, connected_channels):
    # Given a budgeted campaign without any ad group or ad set
    campaign = _planned(owner, allocations={"google_ads": "100"})

    # Then the missing units are the one problem (no channel is in use, so no more)
    assert _checks(campaign) == [UNITS_REQUIRED]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [UNITS_REQUIRED]


@pytest.mark.parametrize("meta_allocation", [None, "0"], ids=["absent", "zero"])
def test_channel_without_allocation(owner, connected_channels, meta_allocation):
    # Given units on Google and Meta, but budget only for Google (Meta absent or 0)
    allocations = {"google_ads": "100"}
    if meta_allocation is not None:
        allocations["meta_ads"] = meta_allocation
    campaign = _planned(owner, allocations=allocations)
    _unit_with_creative(owner, campaign, "google_ads")
    _unit_with_creative(owner, campaign, "meta_ads")

    # Then Meta's allocation is missing
    expected = FieldError(
        "budget.allocations.meta_ads", "required", "Allocate part of the budget to Meta Ads."
    )
    assert _checks(campaign) == [expected]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [expected]


def test_unit_without_audience(owner, connected_channels):
    # Given a Google ad group with a clean creative but no audience
    campaign = _planned(owner, allocations={"google_ads": "100"})
    unit, _creative = _unit_with_creative(
        owner, campaign, "google_ads", name="Brand terms", audience_id=None
    )

    # Then that unit's audience is required, named by the unit's id
    expected = FieldError(
        f"units.{unit.pk}.audience", "required", "Choose an audience for ad group 'Brand terms'."
    )
    assert _checks(campaign) == [expected]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [expected]


def test_meta_unit_without_audience_uses_the_ad_set_label(owner, connected_channels):
    campaign = _planned(owner, allocations={"meta_ads": "100"})
    unit, _creative = _unit_with_creative(
        owner, campaign, "meta_ads", name="Lookalikes", audience_id=None
    )
    assert _checks(campaign) == [
        FieldError(
            f"units.{unit.pk}.audience", "required", "Choose an audience for ad set 'Lookalikes'."
        )
    ]


def test_creative_with_an_error_finding_beside_a_clean_one(owner, connected_channels):
    # Given a Google ad group with one clean creative and one whose headline is 31 chars
    campaign = _planned(owner, allocations={"google_ads": "100"})
    unit, _clean = _unit_with_creative(owner, campaign, "google_ads")
    headlines = ["x" * 31, *GOOGLE_CREATIVE["headlines"][1:]]
    broken = make_creative(owner, unit, headlines=headlines)

    # Then the finding is reported on the broken creative's field, with its own code;
    # the channel still has a clean creative, so it is not reported as missing one
    expected = FieldError(
        f"creatives.{broken.pk}.headlines.0",
        "headline_too_long",
        "Headline 1 is 31 characters; Google Ads allows 30. It will be rejected.",
    )
    assert _checks(campaign) == [expected]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [expected]


def test_the_only_creative_has_an_error_so_the_channel_has_none_clean(owner, connected_channels):
    # Given a Google ad group whose only creative has a 31-character headline
    campaign = _planned(owner, allocations={"google_ads": "100"})
    unit = make_unit(owner, campaign, "google_ads")
    broken = make_creative(owner, unit, headlines=["x" * 31, *GOOGLE_CREATIVE["headlines"][1:]])

    # Then both the finding and the channel's lack of a clean creative are reported
    assert [(e.field, e.rule) for e in _checks(campaign)] == [
        (f"creatives.{broken.pk}.headlines.0", "headline_too_long"),
        ("channels.google_ads", "creative_required"),
    ]


def test_meta_creative_without_an_image(owner, connected_channels):
    # Given a Meta ad set whose only creative has no image (a blocking finding)
    campaign = _planned(owner, allocations={"meta_ads": "100"})
    unit = make_unit(owner, campaign, "meta_ads")
    creative = make_creative(owner, unit, media_id=None)

    assert _checks(campaign) == [
        FieldError(
            f"creatives.{creative.pk}.media",
            "image_required",
            "Meta Ads feed link ads need an image; upload a JPEG or PNG, ideally 1080x1080 px.",
        ),
        META_NEEDS_CREATIVE,
    ]


def test_warnings_do_not_block_a_launch(owner, connected_channels):
    # Given a Meta creative whose headline Meta would truncate (a warning, not an error)
    campaign = _planned(owner, allocations={"meta_ads": "100"})
    unit = make_unit(owner, campaign, "meta_ads")
    make_creative(owner, unit, headlines=["x" * 60])

    assert _checks(campaign) == []


def test_channel_with_no_creative_at_all(owner, connected_channels):
    # Given a complete Google ad group, and a Google ad group with no creative: fine;
    # but a Meta ad set with no creative leaves Meta with nothing to run
    campaign = _planned(owner, allocations={"google_ads": "100", "meta_ads": "100"})
    _unit_with_creative(owner, campaign, "google_ads")
    make_unit(owner, campaign, "google_ads")
    make_unit(owner, campaign, "meta_ads")

    assert _checks(campaign) == [META_NEEDS_CREATIVE]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [META_NEEDS_CREATIVE]


def test_only_the_current_version_of_a_creative_counts(owner, connected_channels):
    # Given a Google ad group whose creative's current version is broken, while an older
    # version (not current any more) was clean
    campaign = _planned(owner, allocations={"google_ads": "100"})
    unit, old = _unit_with_creative(owner, campaign, "google_ads")
    AdCreative.objects.filter(pk=old.pk).update(is_current=False)
    current = make_creative(owner, unit, headlines=["x" * 31, "b", "c"])

    assert [(e.field, e.rule) for e in _checks(campaign)] == [
        (f"creatives.{current.pk}.headlines.0", "headline_too_long"),
        ("channels.google_ads", "creative_required"),
    ]


def test_end_date_passed(owner, connected_channels):
    # Given an otherwise launchable campaign whose end went by a minute ago
    campaign = make_launchable_campaign(owner)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - timedelta(minutes=1))
    campaign.refresh_from_db()

    assert _checks(campaign) == [END_PASSED]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [END_PASSED]


def test_end_date_is_judged_against_the_given_now(owner, connected_channels):
    # Given a campaign ending in 30 days
    campaign = make_launchable_campaign(owner)
    assert campaign.end_at is not None

    # Then it passes now, fails at its end, and fails after it
    assert _checks(campaign) == []
    assert _checks(campaign, now=campaign.end_at) == [END_PASSED]
    assert _checks(campaign, now=campaign.end_at + timedelta(days=1)) == [END_PASSED]
    assert _checks(campaign, now=campaign.end_at - timedelta(seconds=1)) == []


def test_no_end_date_is_never_passed(owner, connected_channels):
    campaign = make_launchable_campaign(owner, end_at=None)
    assert _checks(campaign, now=timezone.now() + timedelta(days=3650)) == []


# --- ad accounts ----------------------------------------------------------------------


def test_account_missing_on_one_channel(owner):
    # Given a Google-only campaign and no account connected anywhere
    campaign = make_launchable_campaign(owner, channels=("google_ads",))

    # Then the account check names Google; without accounts the content is fine
    assert _checks(campaign) == [GOOGLE_NO_ACCOUNT]
    assert _checks(campaign, include_accounts=False) == []

    # ...and the launch is refused with the dedicated problem
    error = _refused_launch(owner, campaign, AccountNotConnected)
    assert error.code == "account-not-connected"
    assert error.title == "Connect an ad account"
    assert error.detail == "Connect an ad account before launching on: Google Ads."
    assert error.errors == [GOOGLE_NO_ACCOUNT]


def test_accounts_missing_on_both_channels_name_both(owner):
    campaign = make_launchable_campaign(owner)

    error = _refused_launch(owner, campaign, AccountNotConnected)

    assert error.detail == "Connect an ad account before launching on: Google Ads, Meta Ads."
    assert error.errors == [GOOGLE_NO_ACCOUNT, META_NO_ACCOUNT]
    [row] = _log_rows(campaign)
    assert row.details["problem"] == "account-not-connected"


def test_account_missing_on_one_of_two_channels(owner, connected_channels, monkeypatch):
    # Given Google connected but Meta's resolver finding no account
    meta = channels.get_channel("meta_ads")
    monkeypatch.setitem(
        channels._REGISTRY,
        "meta_ads",
        dataclasses.replace(meta, ad_account_resolver=lambda campaign: None),
    )
    campaign = make_launchable_campaign(owner)

    error = _refused_launch(owner, campaign, AccountNotConnected)

    assert error.detail == "Connect an ad account before launching on: Meta Ads."
    assert error.errors == [META_NO_ACCOUNT]
    assert connected_channels["meta_ads"].calls == []


def test_accounts_plus_another_failure_is_a_plain_precondition_failure_listing_all(owner):
    # Given no accounts and an end date that has passed
    campaign = make_launchable_campaign(owner)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() - timedelta(hours=1))

    error = _refused_launch(owner, campaign, PreconditionFailed)

    assert error.code == "precondition-failed"
    assert error.detail == "The campaign cannot launch yet: 3 check(s) failed."
    assert error.errors == [GOOGLE_NO_ACCOUNT, META_NO_ACCOUNT, END_PASSED]


def test_every_failure_is_listed_in_order(owner):
    # Given: no budget; a Google ad group without audience whose only creative is
    # broken; a Meta ad set without creatives; the end passed; no accounts
    campaign = _planned(owner, end_at=timezone.now() - timedelta(days=1))
    google = make_unit(owner, campaign, "google_ads", name="Search", audience_id=None)
    broken = make_creative(owner, google, headlines=["x" * 31, "b", "c"])
    make_unit(owner, campaign, "meta_ads")

    error = _refused_launch(owner, campaign, PreconditionFailed)

    # Then every check is listed: budget, each channel (sorted) in turn, the end date
    assert [(e.field, e.rule) for e in error.errors] == [
        ("budget", "required"),
        (f"units.{google.pk}.audience", "required"),
        (f"creatives.{broken.pk}.headlines.0", "headline_too_long"),
        ("channels.google_ads", "creative_required"),
        ("channels.google_ads.ad_account", "account_not_connected"),
        ("channels.meta_ads", "creative_required"),
        ("channels.meta_ads.ad_account", "account_not_connected"),
        ("end_at", "future"),
    ]
    assert error.detail == "The campaign cannot launch yet: 8 check(s) failed."


def test_retry_without_accounts_is_refused_and_logged(owner):
    # Given a campaign in error whose accounts were disconnected since
    campaign = make_launchable_campaign(owner)
    Campaign.objects.filter(pk=campaign.pk).update(status=S.ERROR, error_message="Failed.")

    with pytest.raises(AccountNotConnected):
        campaign_retry(actor=owner, campaign_id=campaign.pk)

    # Then it stays in error with its message, and one failure row is written
    campaign.refresh_from_db()
    assert (campaign.status, campaign.error_message) == (S.ERROR, "Failed.")
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "retry",
        "error",
        "",
        "failure",
    )
    assert row.details["problem"] == "account-not-connected"


# --- scheduling ------------------------------------------------------------------------


def test_schedule_does_not_need_accounts_but_notes_them(owner):
    # Given a launchable campaign starting tomorrow and no accounts connected
    start = timezone.now() + timedelta(days=1)
    campaign = make_launchable_campaign(owner, start_at=start)

    # When it is scheduled
    returned = campaign_schedule(actor=owner, campaign_id=campaign.pk)

    # Then it is scheduled, and the log says which accounts to connect before the start
    campaign.refresh_from_db()
    assert returned.status == campaign.status == S.SCHEDULED
    assert campaign.start_at == start
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "schedule",
        "draft",
        "scheduled",
        "success",
    )
    assert row.message == (
        f"Scheduled to start at {start.isoformat()}. Before then: "
        "Connect a Google Ads account and choose it for this campaign before launching. "
        "Connect a Meta Ads account and choose it for this campaign before launching."
    )


def test_schedule_with_accounts_connected_has_no_note(owner, connected_channels):
    start = timezone.now() + timedelta(days=1)
    campaign = make_launchable_campaign(owner, start_at=start)

    campaign_schedule(actor=owner, campaign_id=campaign.pk)

    [row] = _log_rows(campaign)
    assert row.message == f"Scheduled to start at {start.isoformat()}."


@pytest.mark.parametrize("start", [None, "past"], ids=["no-start", "past-start"])
def test_schedule_needs_a_future_start(owner, start):
    # Given a launchable campaign (no accounts) without a future start
    start_at = timezone.now() - timedelta(minutes=5) if start == "past" else None
    campaign = make_launchable_campaign(owner, start_at=start_at)

    with pytest.raises(PreconditionFailed) as caught:
        campaign_schedule(actor=owner, campaign_id=campaign.pk)

    # Then only the start is reported (accounts are not checked when scheduling), and
    # it is a plain precondition failure
    error = caught.value
    assert type(error) is PreconditionFailed
    assert error.errors == [START_FUTURE]
    assert error.detail == "The campaign cannot launch yet: 1 check(s) failed."
    campaign.refresh_from_db()
    assert campaign.status == S.DRAFT
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "schedule",
        "draft",
        "",
        "failure",
    )
    assert row.details == {"problem": "precondition-failed", "errors": [START_FUTURE.as_dict()]}


def test_schedule_lists_the_start_first_then_the_content_checks(owner):
    # Given a campaign without start, budget or units
    campaign = _planned(owner)

    with pytest.raises(PreconditionFailed) as caught:
        campaign_schedule(actor=owner, campaign_id=campaign.pk)

    assert caught.value.errors == [START_FUTURE, BUDGET_REQUIRED, UNITS_REQUIRED]


def test_launching_a_future_draft_without_accounts_schedules_it(owner):
    # Given a launchable draft starting next week and no accounts connected
    start = timezone.now() + timedelta(days=7)
    campaign = make_launchable_campaign(owner, start_at=start)

    # When it is launched, accounts are not required yet: it becomes scheduled
    campaign_launch(actor=owner, campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == S.SCHEDULED
    [row] = _log_rows(campaign)
    assert (row.action, row.to_status, row.message) == (
        "launch",
        "scheduled",
        f"Starts in the future: scheduled for {start.isoformat()}.",
    )


def test_launching_a_scheduled_campaign_early_needs_accounts(owner):
    # Given a scheduled campaign and no accounts connected
    campaign = make_launchable_campaign(owner, start_at=timezone.now() + timedelta(days=7))
    Campaign.objects.filter(pk=campaign.pk).update(status=S.SCHEDULED)

    with pytest.raises(AccountNotConnected):
        campaign_launch(actor=owner, campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == S.SCHEDULED
    [row] = _log_rows(campaign)
    assert (row.action, row.from_status, row.to_status, row.outcome) == (
        "launch",
        "scheduled",
        "",
        "failure",
    )


def test_checks_do_not_write_anything(owner):
    # The checks are a pure read: calling them leaves no log row and changes nothing
    campaign = _planned(owner)
    before = Campaign.objects.filter(pk=campaign.pk).values().get()

    _checks(campaign)

    assert Campaign.objects.filter(pk=campaign.pk).values().get() == before
    assert ExecutionLogEntry.objects.count() == 0
    assert CampaignUnit.objects.count() == 0


def test_a_lifetime_budget_without_an_end_date_blocks_launch(owner, connected_channels):
    # Given a launchable campaign with a lifetime budget whose end date is gone (as a
    # duplicate of a lifetime-budget campaign starts out)
    campaign = make_launchable_campaign(owner)
    budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="lifetime",
        amount=Decimal("200.00"),
        allocations=None,
    )
    Campaign.objects.filter(pk=campaign.pk).update(end_at=None)
    campaign.refresh_from_db()

    # Then the launch checks name the missing end date
    expected = FieldError(
        "end_at", "required_for_lifetime_budget", "A lifetime budget needs an end date."
    )
    assert _checks(campaign) == [expected]
    assert _refused_launch(owner, campaign, PreconditionFailed).errors == [expected]
