"""The rollup: exactly once, killed midway or not; the rebuild finds no difference."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from herald.metrics.cells import cell_key
from herald.metrics.models import FACT_MEASURES, MetricCampaignDay, MetricFact, MetricFactHour
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
    first = rollup_run()
    write_events(_events(campaign, 20, start=20))
    real_add_to = rollup._add_to
    written: list[int] = []

    def daily_then_killed(*args: Any, **kwargs: Any) -> int:
        if written:  # the hourly write, after the daily one reached the database
            raise RuntimeError("killed")
        written.append(real_add_to(*args, **kwargs))
        assert MetricFact.objects.get().impressions == 40  # inside the doomed transaction
        return written[-1]

    killed = mock.patch.object(rollup, "_add_to", side_effect=daily_then_killed)
    with killed, pytest.raises(RuntimeError, match="killed"):
        rollup_run()
    assert written == [1]
    assert (MetricFact.objects.get().impressions, MetricFactHour.objects.get().impressions) == (
        20,
        20,
    )
    assert MetricCampaignDay.objects.get().impressions == 20
    assert RollupWatermark.objects.get().last_seq == first.to_seq

    rollup_run()
    rollup_run()
    assert _totals()["impressions"] == 40
    assert _totals()["reach"] == 7
    assert MetricCampaignDay.objects.get().impressions == 40


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


# -- the rollup against an aggregate computed here, independently of its SQL ----------------


def _digest(index: int, rank: int) -> str:
    """A visitor digest (hex) whose sketch register is ``index`` with rank ``rank``."""
    low = 0 if rank == 51 else 1 << (50 - rank)
    hashed = (index << 50) | low
    return (hashed.to_bytes(8, "big") + bytes(range(8))).hex()


def _expected(events: list[Event]) -> dict[tuple[str, Any], dict[str, Any]]:
    """Per (cell key, day): every measure and the reach sketch, straight from the events."""
    cells: dict[tuple[str, Any], dict[str, Any]] = {}
    for event in events:
        key = cell_key(
            campaign_id=event.campaign_id,
            unit_id=event.unit_id,
            creative_id=event.creative_id,
            channel=event.channel,
            placement=event.placement,
            device=event.device,
        )
        cell = cells.setdefault(
            (key, event.day),
            {**dict.fromkeys(FACT_MEASURES, 0), "sketch": ReachSketch.empty()},
        )
        kind, valid, engagement = EventKind(event.kind), event.valid, event.engagement_type
        counted = {
            "impressions_gross": kind == EventKind.IMPRESSION,
            "impressions": kind == EventKind.IMPRESSION and valid,
            "viewable_impressions": kind == EventKind.VIEWABLE and valid,
            "clicks_gross": kind == EventKind.CLICK,
            "clicks": kind == EventKind.CLICK and valid,
            "billable_clicks": kind == EventKind.CLICK and valid and event.billable,
            "engagements": kind == EventKind.ENGAGEMENT and valid,
            "likes": kind == EventKind.ENGAGEMENT and valid and engagement == "like",
            "shares": kind == EventKind.ENGAGEMENT and valid and engagement == "share",
            "comments": kind == EventKind.ENGAGEMENT and valid and engagement == "comment",
            "saves": kind == EventKind.ENGAGEMENT and valid and engagement in ("save", "bookmark"),
            "follows": kind == EventKind.ENGAGEMENT and valid and engagement == "follow",
            "conversions": kind == EventKind.CONVERSION and valid,
        }
        for name, hit in counted.items():
            cell[name] += int(hit)
        if kind == EventKind.CONVERSION and valid:
            cell["conversion_value"] += event.value
        if kind == EventKind.IMPRESSION and valid and event.visitor:
            cell["sketch"].add(bytes.fromhex(event.visitor))
    return cells


def _mixed_events(campaigns: list[Any], count: int, *, seed: int) -> list[Event]:
    """Every kind of event, valid or not, over two days, two placements, three devices,
    with visitors that reach every register rank 1…51 and both ends of the registers."""
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    kinds = [int(kind) for kind in EventKind]
    engagements = ["like", "share", "comment", "save", "bookmark", "follow", "other"]
    events = []
    for number in range(count):
        campaign = rng.choice(campaigns)
        when = today - timedelta(days=rng.choice([0, 1]), hours=rng.choice([0, 1, 2]))
        kind = rng.choice(kinds)
        visitor = rng.choice(
            [
                "",
                _digest(rng.randrange(16384), rng.randint(1, 51)),
                _digest(rng.choice([0, 16383]), rng.randint(1, 51)),
                _visitor(rng.randrange(40)),
                _visitor(rng.randrange(40)).upper(),
            ]
        )
        [event] = _events(
            campaign,
            1,
            start=seed * 100_000 + number,
            day=when.date(),
            occurred_at=when,
            received_at=when,
            placement=rng.choice(["feed", "story"]),
            device=rng.choice(["mobile", "desktop", ""]),
            kind=kind,
            engagement_type=rng.choice(engagements) if kind == EventKind.ENGAGEMENT else "",
            value=Decimal(rng.randint(1, 50_000)) / 100 if kind == EventKind.CONVERSION else None,
            valid=rng.random() < 0.8,
            billable=rng.random() < 0.9,
        )
        event.visitor = visitor
        events.append(event)
    return events


def test_runs_of_any_size_add_up_to_the_aggregate_of_the_raw_events(owner: Any) -> None:
    # Given mixed events of two campaigns written in four batches, …
    campaigns = [make_launchable_campaign(owner, channels=(c,)) for c in ("meta_ads", "google_ads")]
    events: list[Event] = []
    for batch in range(4):
        new = _mixed_events(campaigns, 150, seed=batch)
        write_events(new)
        events += new
        # … rolled up in runs of 37 events, so cells and days span several runs …
        while rollup_run(limit=37).events:
            pass

    # … then every fact equals the aggregate computed here, reach registers included.
    expected = _expected(events)
    stored = {(fact.cell_key, fact.day): fact for fact in MetricFact.objects.all()}
    assert set(stored) == set(expected)
    for key, cell in expected.items():
        fact = stored[key]
        assert {name: getattr(fact, name) for name in FACT_MEASURES} == {
            name: cell[name] for name in FACT_MEASURES
        }, key
        assert ReachSketch.from_bytes(bytes(fact.reach_sketch or b"\x01\x01")) == cell["sketch"]
    # The hourly facts add up to the daily ones, and the campaign × day sums to the cells.
    for measure in FACT_MEASURES:
        assert sum(getattr(fact, measure) for fact in MetricFactHour.objects.all()) == sum(
            cell[measure] for cell in expected.values()
        )
    _assert_campaign_days_sum_the_cells()
    assert (
        rollup_rebuild(date_from=min(e.day for e in events), date_to=max(e.day for e in events))
        == []
    )


def test_the_registers_computed_in_sql_are_the_sketchs_own(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    visitors = [_digest(index, rank) for index in (0, 1, 8191, 16383) for rank in range(1, 52)]
    visitors += [_visitor(number) for number in range(600)]
    events = _events(campaign, len(visitors))
    for event, visitor in zip(events, visitors, strict=True):
        event.visitor = visitor
    write_events(events)

    rollup_run()

    stored = ReachSketch.from_bytes(bytes(MetricFact.objects.get().reach_sketch or b""))
    assert stored == ReachSketch.of(bytes.fromhex(visitor) for visitor in visitors)
    assert not stored.is_sparse  # ~600 registers: gone dense exactly as the sketch would


def _assert_campaign_days_sum_the_cells() -> None:
    cells: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fact in MetricFact.objects.all():
        key = (fact.organization_id, fact.campaign_id, fact.day, fact.channel, fact.source)
        sums = cells.setdefault(key, {**dict.fromkeys(FACT_MEASURES, 0), "fact_rows": 0})
        sums["fact_rows"] += 1
        for name in FACT_MEASURES:
            sums[name] += getattr(fact, name)
    stored = {
        (row.organization_id, row.campaign_id, row.day, row.channel, row.source): {
            name: getattr(row, name) for name in (*FACT_MEASURES, "fact_rows")
        }
        for row in MetricCampaignDay.objects.all()
    }
    assert stored == cells
