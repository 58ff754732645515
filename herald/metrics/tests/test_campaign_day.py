"""MetricCampaignDay: the cells summed per campaign, day, channel and source, kept equal to
MetricFact by the database whatever writes the facts (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.campaigns.models import Campaign
from herald.metrics.cells import cell_key
from herald.metrics.models import FACT_MEASURES, MetricCampaignDay, MetricFact, Source
from herald.testing.factories import make_launchable_campaign

pytestmark = pytest.mark.django_db

DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)


def _cell(
    campaign: Campaign, day: date, source: str, placement: str, **measures: Any
) -> MetricFact:
    unit = campaign.units.order_by("created_at").first()
    assert unit is not None
    now = timezone.now()
    return MetricFact(
        organization_id=campaign.organization_id,
        campaign=campaign,
        unit=unit,
        channel=unit.channel,
        placement=placement,
        source=source,
        cell_key=cell_key(
            campaign_id=campaign.pk,
            unit_id=unit.pk,
            creative_id=None,
            channel=unit.channel,
            placement=placement,
            device="",
        ),
        day=day,
        created_at=now,
        updated_at=now,
        **measures,
    )


def _sums_of_the_cells() -> dict[tuple[Any, ...], dict[str, Any]]:
    """What MetricCampaignDay must hold: MetricFact grouped by (campaign, day, channel,
    source), computed here in Python."""
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fact in MetricFact.objects.all():
        key = (fact.organization_id, fact.campaign_id, fact.day, fact.channel, fact.source)
        sums = expected.setdefault(key, {**dict.fromkeys(FACT_MEASURES, 0), "fact_rows": 0})
        sums["fact_rows"] += 1
        for name in FACT_MEASURES:
            sums[name] += getattr(fact, name)
    return expected


def _stored() -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        (row.organization_id, row.campaign_id, row.day, row.channel, row.source): {
            name: getattr(row, name) for name in (*FACT_MEASURES, "fact_rows")
        }
        for row in MetricCampaignDay.objects.all()
    }


def test_every_kind_of_write_keeps_the_campaign_day_sums_equal_to_the_cells(owner: Actor) -> None:
    # Given two campaigns' cells created one by one and in bulk, …
    first = make_launchable_campaign(owner, channels=("meta_ads",))
    second = make_launchable_campaign(owner, channels=("google_ads",))
    MetricFact.objects.bulk_create(
        [
            _cell(first, DAY1, Source.FIRST_PARTY, "feed", impressions=10, clicks=2),
            _cell(first, DAY1, Source.FIRST_PARTY, "story", impressions=5, spend=Decimal("1.5")),
            _cell(first, DAY2, Source.META_ADS, "", impressions=7, conversions=Decimal(1)),
            _cell(second, DAY1, Source.GOOGLE_ADS, "", impressions=3, conversion_value=Decimal(9)),
        ]
    )
    _cell(second, DAY2, Source.FIRST_PARTY, "feed", impressions=1).save()
    assert _stored() == _sums_of_the_cells()
    assert len(_stored()) == 4

    # … when a platform re-sync replaces a day (INSERT … ON CONFLICT DO UPDATE), …
    MetricFact.objects.bulk_create(
        [
            _cell(first, DAY2, Source.META_ADS, "", impressions=70, spend=Decimal("3.25")),
            _cell(first, DAY1, Source.META_ADS, "", impressions=4),
        ],
        update_conflicts=True,
        unique_fields=["cell_key", "day", "source"],
        update_fields=["impressions", "spend"],
    )
    assert _stored() == _sums_of_the_cells()

    # … rows are edited, moved to another day, and deleted, …
    MetricFact.objects.filter(placement="feed").update(clicks=40, impressions_gross=1)
    moved = MetricFact.objects.get(campaign=first, placement="story")
    moved.day = DAY2
    moved.save()
    assert _stored() == _sums_of_the_cells()
    MetricFact.objects.filter(campaign=first, source=Source.FIRST_PARTY).delete()
    assert _stored() == _sums_of_the_cells()

    # … and a campaign is deleted with its facts, the sums follow, empty groups removed.
    with transaction.atomic():
        second.delete()
    assert _stored() == _sums_of_the_cells()
    assert {key[1] for key in _stored()} == {first.pk}
    assert all(row["fact_rows"] > 0 for row in _stored().values())
