"""The rollup: exactly once, killed midway or not; the rebuild finds no difference."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from herald.metrics.models import MetricFact, MetricFactHour
from herald.metrics.sketch import ReachSketch
from herald.testing.factories import make_launchable_campaign
from herald.tracking import rollup
from herald.tracking.ingest import Event, write_events
from herald.tracking.models import EventKind, RollupWatermark
from herald.tracking.rollup import rollup_rebuild, rollup_run

pytestmark = pytest.mark.django_db


def _events(campaign: Any, count: int, *, start: int = 0, **overrides: Any) -> list[Event]:
    unit = campaign.units.first()
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "day": now.date(),
        "occurred_at": now,
        "received_at": now,
        "organization_id": campaign.organization_id,
        "campaign_id": campaign.pk,
        "unit_id": unit.pk,
        "creative_id": None,
        "channel": unit.channel,
        "placement": "feed",
        "device": "mobile",
        "country": "US",
        "region": "",
        "kind": int(EventKind.IMPRESSION),
        "engagement_type": "",
        "visitor": "",
        "session_id": "",
        "click_id": "",
        "value": None,
        "currency": "",
        "valid": True,
        "billable": True,
        "invalid_reason": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "utm_content": "",
        "utm_term": "",
        "order_id": "",
        "ip_prefix": "",
    }
    base.update(overrides)
    return [
        Event(
            **{**base, "event_id": f"e-{start + index}", "visitor": _visitor((start + index) % 7)}
        )
        for index in range(count)
    ]


def _visitor(number: int) -> str:
    # Real visitors are keyed digests: uniformly random bytes, as the sketch expects.
    return hashlib.blake2b(str(number).encode(), digest_size=16).hexdigest()


def _totals() -> dict[str, Any]:
    fact = MetricFact.objects.get()
    return {
        "impressions": fact.impressions,
        "impressions_gross": fact.impressions_gross,
        "clicks": fact.clicks,
        "billable_clicks": fact.billable_clicks,
        "conversions": fact.conversions,
        "conversion_value": fact.conversion_value,
        "reach": ReachSketch.from_bytes(bytes(fact.reach_sketch or b"")).estimate(),
    }


def test_incremental_runs_add_up_exactly_and_reach_unions(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    write_events(_events(campaign, 10))
    first = rollup_run()
    write_events(_events(campaign, 5, start=10))
    write_events(_events(campaign, 3, start=15, kind=int(EventKind.CLICK)))
    write_events(
        _events(campaign, 2, start=18, kind=int(EventKind.CONVERSION), value=Decimal("12.5"))
    )
    write_events(
        _events(campaign, 4, start=20, valid=False, billable=False, invalid_reason="bot_user_agent")
    )
    second = rollup_run()

    assert (first.events, second.events) == (10, 14)
    assert _totals() == {
        "impressions": 15,
        "impressions_gross": 19,
        "clicks": 3,
        "billable_clicks": 3,
        "conversions": Decimal(2),
        "conversion_value": Decimal("25"),
        "reach": 7,
    }
    assert MetricFactHour.objects.get().impressions == 15
    assert rollup_run().events == 0  # nothing new: nothing added


def test_a_run_killed_midway_applies_nothing_and_the_rerun_counts_once(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    write_events(_events(campaign, 20))

    killed = mock.patch.object(rollup, "_add_to", side_effect=[7, RuntimeError("killed")])
    with killed, pytest.raises(RuntimeError, match="killed"):
        rollup_run()
    assert MetricFact.objects.count() == 0
    assert RollupWatermark.objects.filter(last_seq__gt=0).count() == 0

    rollup_run()
    rollup_run()
    assert _totals()["impressions"] == 20


def test_the_rebuild_reports_no_difference_after_normal_runs_and_finds_tampering(
    owner: Any,
) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    write_events(_events(campaign, 12))
    rollup_run()
    today = datetime.now(UTC).date()

    assert rollup_rebuild(date_from=today, date_to=today) == []

    MetricFact.objects.update(impressions=99)
    [difference] = rollup_rebuild(date_from=today, date_to=today)
    assert (
        difference.fields,
        difference.stored["impressions"],
        difference.rebuilt["impressions"],
    ) == (
        ["impressions"],
        99,
        12,
    )
    rollup_rebuild(date_from=today, date_to=today, apply=True)
    assert _totals()["impressions"] == 12
    assert rollup_rebuild(date_from=today, date_to=today) == []


def test_the_rebuild_command_prints_its_verdict(owner: Any, capsys: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    write_events(_events(campaign, 3))
    rollup_run()
    today = datetime.now(UTC).date()
    call_command("rebuild_rollups", "--from", str(today - timedelta(days=1)), "--to", str(today))
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(f"0 difference(s) found between {today - timedelta(days=1)} and {today}.")
    )


def test_events_for_a_deleted_campaign_are_skipped(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    write_events(_events(campaign, 3))
    with transaction.atomic():
        campaign.delete()
    result = rollup_run()
    assert (result.events, MetricFact.objects.count()) == (3, 0)
