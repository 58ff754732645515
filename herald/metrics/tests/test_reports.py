"""Report selectors over the fact store: a worked example of two channels over three days,
with exact values, gross and net, first-party reach, zero-filled periods, rankings, ROI
projection, dashboard KPIs, refused filters and bounded query counts.

The example (``example`` fixture), campaign "Spicy Chips" in USD, UTC, 03-02 … 03-04:

    google_ads: platform rows of unit "Search", no creative
    day    impr  clicks  spend  conv  value
    03-02  1000    40    20.00    2    60.00
    03-03  1000    60    30.00    3    90.00
    03-04  2000   100    50.00    5   150.00

    meta_ads: first-party rows of unit "Feed", creative "Feed ad", placement "feed"
    day    impr (gross)  clicks (gross)  device   visitors
    03-02  600 (1500)    30 (80)         mobile   v1…v5
    03-03  400 (750)     20 (40)         desktop  v4…v8

plus a row outside the range (02-20), another campaign's row and another organization's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import pytest

from herald.accounts.actors import Actor
from herald.accounts.models import Organization
from herald.campaigns.models import AdCreative, Campaign, CampaignUnit, KpiTarget
from herald.campaigns.services.budgets import budget_set
from herald.core.errors import InvalidInput
from herald.metrics import selectors
from herald.metrics.cells import cell_key
from herald.metrics.formulas import FORMULAS, compute
from herald.metrics.models import MetricFact, Source
from herald.metrics.selectors import FACT_MEASURES, ReportFilters
from herald.metrics.sketch import ReachSketch, visitor_digest
from herald.testing import factories

pytestmark = pytest.mark.django_db

D = Decimal
DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)  # Monday to Wednesday


# --- Builders ---------------------------------------------------------------------------------


def visitors(*numbers: int) -> bytes:
    digests = [visitor_digest(f"visitor-{n}", secret=b"report-tests") for n in numbers]
    return ReachSketch.of(digests).to_bytes()


def add_fact(
    campaign: Campaign,
    day: date,
    *,
    source: str = Source.GOOGLE_ADS,
    unit: CampaignUnit | None = None,
    creative: AdCreative | None = None,
    channel: str | None = None,
    placement: str = "",
    device: str = "",
    sketch: bytes | None = None,
    **measures: Any,
) -> MetricFact:
    """One fact row; gross counts default to the net ones (as platforms report them)."""
    measures.setdefault("impressions_gross", measures.get("impressions", 0))
    measures.setdefault("clicks_gross", measures.get("clicks", 0))
    for money in ("spend", "conversion_value", "conversions"):
        if money in measures:
            measures[money] = D(measures[money])
    channel = channel if channel is not None else (unit.channel if unit else "")
    return MetricFact.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        unit=unit,
        creative=creative,
        channel=channel,
        placement=placement,
        device=device,
        source=source,
        cell_key=cell_key(
            campaign_id=campaign.pk,
            unit_id=unit.pk if unit else None,
            creative_id=creative.pk if creative else None,
            channel=channel,
            placement=placement,
            device=device,
        ),
        currency="" if source == Source.FIRST_PARTY else campaign.currency,
        day=day,
        reach_sketch=sketch,
        **measures,
    )


def set_status(campaign: Campaign, status: str) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    campaign.refresh_from_db()
    return campaign


def exact(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A quotient at the engine's precision (34 digits, half-even)."""
    with localcontext(prec=34, rounding=ROUND_HALF_EVEN):
        return numerator / denominator


def metric(key: str, **measures: Any) -> Decimal | None:
    """The registry's value of ``key`` for these measures: the expectation for values
    that do not terminate in decimal."""
    return compute(measures, (key,))[key]


@dataclass
class Example:
    campaign: Campaign
    google: CampaignUnit
    meta: CampaignUnit
    google_creative: AdCreative
    meta_creative: AdCreative
    other: Campaign


@pytest.fixture
def example(owner: Actor, other_org: Organization) -> Example:
    campaign = factories.make_campaign(
        owner,
        name="Spicy Chips",
        time_zone="UTC",
        currency="USD",
        start_at=datetime(2026, 3, 1, tzinfo=UTC),
        end_at=datetime(2026, 3, 11, tzinfo=UTC),
    )
    google = factories.make_unit(owner, campaign, "google_ads", name="Search")
    meta = factories.make_unit(owner, campaign, "meta_ads", name="Feed")
    google_creative = factories.make_creative(owner, google, name="Search ad")
    meta_creative = factories.make_creative(owner, meta, name="Feed ad")
    for day, impressions, clicks, spend, conversions, value in (
        (DAY1, 1000, 40, 20, 2, 60),
        (DAY2, 1000, 60, 30, 3, 90),
        (DAY3, 2000, 100, 50, 5, 150),
    ):
        add_fact(
            campaign,
            day,
            unit=google,
            impressions=impressions,
            clicks=clicks,
            billable_clicks=clicks,
            spend=spend,
            conversions=conversions,
            conversion_value=value,
        )
    meta_cell: dict[str, Any] = {
        "source": Source.FIRST_PARTY,
        "unit": meta,
        "creative": meta_creative,
        "placement": "feed",
    }
    add_fact(
        campaign,
        DAY1,
        **meta_cell,
        device="mobile",
        impressions_gross=1500,
        impressions=600,
        viewable_impressions=450,
        clicks_gross=80,
        clicks=30,
        billable_clicks=25,
        engagements=40,
        likes=30,
        shares=10,
        sketch=visitors(1, 2, 3, 4, 5),
    )
    add_fact(
        campaign,
        DAY2,
        **meta_cell,
        device="desktop",
        impressions_gross=750,
        impressions=400,
        viewable_impressions=300,
        clicks_gross=40,
        clicks=20,
        billable_clicks=15,
        engagements=10,
        comments=6,
        saves=3,
        follows=1,
        sketch=visitors(4, 5, 6, 7, 8),
    )
    # Outside the range, another campaign, another organization: never in the example.
    add_fact(campaign, date(2026, 2, 20), unit=google, impressions=100)
    other = factories.make_campaign(owner, name="Other", currency="USD", time_zone="UTC")
    add_fact(other, DAY1, channel="google_ads", impressions=1000)
    stranger = factories.make_campaign(factories.make_actor(other_org), name="Rival")
    add_fact(stranger, DAY1, channel="google_ads", impressions=7777, spend=70)
    return Example(campaign, google, meta, google_creative, meta_creative, other)


def summary(example: Example, **filters: Any) -> dict[str, Any]:
    return selectors.performance_summary(
        campaign=example.campaign,
        date_from=DAY1,
        date_to=DAY3,
        filters=ReportFilters(**filters),
    )


NET_TOTALS = {
    "impressions_gross": 6250,
    "impressions": 5000,
    "viewable_impressions": 750,
    "clicks_gross": 320,
    "clicks": 250,
    "billable_clicks": 240,
    "engagements": 50,
    "likes": 30,
    "shares": 10,
    "comments": 6,
    "saves": 3,
    "follows": 1,
    "conversions": D(10),
    "conversion_value": D(300),
    "spend": D(100),
}
NET_METRICS = {
    "ctr": D(5),
    "cpc": D("0.4"),
    "cpm": D(20),
    "cpa": D(10),
    "conversion_rate": D(4),
    "roas": D(3),
    "roi": D(200),
    "average_order_value": D(30),
    "frequency": D(125),  # 1000 first-party impressions / 8 visitors
    "viewability_rate": D(15),
    "engagement_rate": D(1),
    "marketing_efficiency_ratio": D(3),
    "cost_per_result": D(10),
}


# --- Performance summary ----------------------------------------------------------------------


def test_summary_totals_every_measure_and_metric_of_the_worked_example(example: Example) -> None:
    report = summary(example)

    assert report["totals"]["measures"] == NET_TOTALS
    assert report["totals"]["reach"] == 8  # v1…v8: the days' 5 + 5 visitors share v4 and v5
    assert report["totals"]["metrics"] == NET_METRICS
    assert set(report["totals"]["metrics"]) == set(FORMULAS)
    assert report["campaign"] == {
        "id": example.campaign.pk,
        "name": "Spicy Chips",
        "status": "draft",
        "objective": "sales",
        "start_at": datetime(2026, 3, 1, tzinfo=UTC),
        "end_at": datetime(2026, 3, 11, tzinfo=UTC),
        "time_zone": "UTC",
        "currency": "USD",
    }
    assert (report["date_from"], report["date_to"]) == (DAY1, DAY3)


def test_gross_counts_impressions_and_clicks_before_invalid_traffic(example: Example) -> None:
    report = summary(example, gross=True)

    measures = report["totals"]["measures"]
    assert (measures["impressions"], measures["clicks"]) == (6250, 320)
    assert (measures["impressions_gross"], measures["clicks_gross"]) == (6250, 320)
    assert report["totals"]["metrics"] == {
        **NET_METRICS,
        "ctr": D("5.12"),
        "cpc": D("0.3125"),
        "cpm": D(16),
        "conversion_rate": D("3.125"),
        "viewability_rate": D(12),
        "engagement_rate": D("0.8"),
        "frequency": D("281.25"),  # 2250 gross first-party impressions / 8
    }
    assert report["filters"]["gross"] is True


def test_summary_rows_per_unit_and_per_creative(example: Example) -> None:
    report = summary(example)

    units = [(row["unit_id"], row["label"], row["channel"]) for row in report["units"]]
    assert units == [
        (example.google.pk, "Search", "google_ads"),
        (example.meta.pk, "Feed", "meta_ads"),
    ]
    google, meta = report["units"]
    assert google["measures"]["impressions"] == 4000
    assert google["reach"] is None
    assert google["metrics"]["cpc"] == D("0.5")
    assert google["metrics"]["frequency"] is None
    assert meta["measures"]["impressions"] == 1000
    assert meta["reach"] == 8
    assert meta["metrics"]["frequency"] == D(125)
    # Spend 0 and no conversions: CPM and CPC are 0, CPA and ROAS have no denominator.
    assert (meta["metrics"]["cpm"], meta["metrics"]["cpc"]) == (D(0), D(0))
    assert (meta["metrics"]["cpa"], meta["metrics"]["roas"]) == (None, None)

    creatives = [(row["creative_id"], row["label"]) for row in report["creatives"]]
    # Platform rows carry no creative; the Search ad delivered nothing first-party.
    assert creatives == [
        (None, "Unattributed"),
        (example.meta_creative.pk, "Feed ad"),
        (example.google_creative.pk, "Search ad"),
    ]
    assert [row["measures"]["impressions"] for row in report["creatives"]] == [4000, 1000, 0]
    assert report["creatives"][2]["metrics"]["ctr"] is None


@pytest.mark.parametrize(
    ("filters", "impressions", "reach"),
    [
        ({"channel": "google_ads"}, 4000, None),
        ({"source": "first_party"}, 1000, 8),
        ({"device": "mobile"}, 600, 5),
        ({"device": "desktop", "placement": "feed"}, 400, 5),
        ({"placement": ""}, 4000, None),
    ],
)
def test_filters_narrow_the_facts(
    example: Example, filters: dict[str, Any], impressions: int, reach: int | None
) -> None:
    report = summary(example, **filters)

    assert report["totals"]["measures"]["impressions"] == impressions
    assert report["totals"]["reach"] == reach


def test_unit_and_creative_filters(example: Example) -> None:
    by_unit = summary(example, unit_id=example.meta.pk)
    by_creative = summary(example, creative_id=example.meta_creative.pk)

    assert by_unit["totals"]["measures"]["impressions"] == 1000
    assert [row["unit_id"] for row in by_unit["units"]] == [example.meta.pk]
    assert [row["creative_id"] for row in by_unit["creatives"]] == [example.meta_creative.pk]
    assert by_creative["totals"]["measures"]["clicks"] == 50
    assert [row["unit_id"] for row in by_creative["units"]] == [example.meta.pk]


def test_a_range_without_facts_is_all_zero_and_undefined(example: Example) -> None:
    report = selectors.performance_summary(
        campaign=example.campaign, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)
    )

    assert report["totals"]["measures"]["impressions"] == 0
    assert report["totals"]["measures"]["spend"] == D(0)
    assert report["totals"]["reach"] is None
    assert all(value is None for value in report["totals"]["metrics"].values())
    assert [row["measures"]["clicks"] for row in report["units"]] == [0, 0]


# --- Refused input ----------------------------------------------------------------------------


def _field(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return error.value.errors[0].field


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"source": "tiktok"}, "source"),
        ({"channel": "myspace"}, "channel"),
        ({"creative_id": "00000000-0000-0000-0000-000000000001"}, "creative_id"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    example: Example, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        summary(example, **filters)
    assert _field(error) == field


def test_a_unit_of_another_campaign_is_refused(example: Example, owner: Actor) -> None:
    foreign = factories.make_unit(owner, example.other, "google_ads")
    with pytest.raises(InvalidInput) as error:
        summary(example, unit_id=foreign.pk)
    assert _field(error) == "unit_id"


def test_bad_ranges_are_refused_naming_to(example: Example) -> None:
    with pytest.raises(InvalidInput) as backwards:
        selectors.funnel(campaign=example.campaign, date_from=DAY3, date_to=DAY1)
    with pytest.raises(InvalidInput) as too_long:
        selectors.funnel(campaign=example.campaign, date_from=date(2024, 1, 1), date_to=DAY1)
    assert (_field(backwards), backwards.value.errors[0].rule) == ("to", "after_start")
    assert (_field(too_long), too_long.value.errors[0].rule) == ("to", "max_range")


def test_bad_report_choices_are_refused_naming_the_field(example: Example) -> None:
    campaign = example.campaign
    span: dict[str, Any] = {"date_from": DAY1, "date_to": DAY3}
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: selectors.trends(campaign=campaign, **span, metrics=["ctr", "clickz"]), "metrics"),
        (lambda: selectors.trends(campaign=campaign, **span, metrics=[]), "metrics"),
        (lambda: selectors.trends(campaign=campaign, **span, granularity="hour"), "granularity"),
        (lambda: selectors.breakdown(campaign=campaign, **span, by="country"), "by"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidInput) as error:
            call()
        assert _field(error) == field


# --- Funnel -----------------------------------------------------------------------------------


def test_funnel_steps_and_rates(example: Example) -> None:
    report = selectors.funnel(campaign=example.campaign, date_from=DAY1, date_to=DAY3)

    assert report["steps"] == [
        {"step": "impressions", "count": 5000, "rate_from_previous": None, "rate_from_start": None},
        {"step": "clicks", "count": 250, "rate_from_previous": D(5), "rate_from_start": D(5)},
        {
            "step": "conversions",
            "count": D(10),
            "rate_from_previous": D(4),
            "rate_from_start": D("0.2"),
        },
    ]
    assert (report["ctr"], report["conversion_rate"], report["overall_conversion_rate"]) == (
        D(5),
        D(4),
        D("0.2"),
    )


def test_gross_funnel_and_an_empty_funnel(example: Example) -> None:
    gross = selectors.funnel(
        campaign=example.campaign,
        date_from=DAY1,
        date_to=DAY3,
        filters=ReportFilters(gross=True),
    )
    empty = selectors.funnel(
        campaign=example.campaign, date_from=date(2026, 1, 1), date_to=date(2026, 1, 2)
    )

    assert [step["count"] for step in gross["steps"]] == [6250, 320, D(10)]
    assert (gross["ctr"], gross["conversion_rate"], gross["overall_conversion_rate"]) == (
        D("5.12"),
        D("3.125"),
        D("0.16"),
    )
    assert [step["count"] for step in empty["steps"]] == [0, 0, D(0)]
    assert (empty["ctr"], empty["conversion_rate"], empty["overall_conversion_rate"]) == (
        None,
        None,
        None,
    )


# --- Trends -----------------------------------------------------------------------------------

TREND_METRICS = ["impressions", "clicks", "spend", "ctr", "reach", "frequency"]


def _trend(example: Example, granularity: str, date_from: date, date_to: date) -> dict[str, Any]:
    return selectors.trends(
        campaign=example.campaign,
        date_from=date_from,
        date_to=date_to,
        granularity=granularity,
        metrics=TREND_METRICS,
    )


def test_daily_trend_has_every_day_zero_filled(example: Example) -> None:
    report = _trend(example, "day", date(2026, 3, 1), date(2026, 3, 5))

    rows = [(p["period"], p["date_from"], p["date_to"]) for p in report["points"]]
    assert rows == [(date(2026, 3, d), date(2026, 3, d), date(2026, 3, d)) for d in range(1, 6)]
    values = [point["values"] for point in report["points"]]
    empty = {
        "impressions": 0,
        "clicks": 0,
        "spend": D(0),
        "ctr": None,
        "reach": None,
        "frequency": None,
    }
    assert values[0] == empty
    assert values[1] == {
        "impressions": 1600,
        "clicks": 70,
        "spend": D(20),
        "ctr": D("4.375"),
        "reach": 5,
        "frequency": D(120),
    }
    assert values[2] == {
        "impressions": 1400,
        "clicks": 80,
        "spend": D(30),
        "ctr": metric("ctr", impressions=1400, clicks=80),
        "reach": 5,
        "frequency": D(80),
    }
    assert values[3] == {
        "impressions": 2000,
        "clicks": 100,
        "spend": D(50),
        "ctr": D(5),
        "reach": None,
        "frequency": None,
    }
    assert values[4] == empty
    assert report["metrics"] == TREND_METRICS


def test_weekly_trend_starts_on_monday_and_unions_reach(example: Example) -> None:
    report = _trend(example, "week", date(2026, 2, 25), date(2026, 3, 10))

    periods = [(p["period"], p["date_from"], p["date_to"]) for p in report["points"]]
    assert periods == [
        (date(2026, 2, 23), date(2026, 2, 25), date(2026, 3, 1)),
        (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 9), date(2026, 3, 10)),
    ]
    first, week, last = (point["values"] for point in report["points"])
    assert first["impressions"] == last["impressions"] == 0
    assert first["ctr"] is last["ctr"] is None
    # Reach of the week is 8 visitors, not the days' 5 + 5.
    assert week == {
        "impressions": 5000,
        "clicks": 250,
        "spend": D(100),
        "ctr": D(5),
        "reach": 8,
        "frequency": D(125),
    }


def test_monthly_trend_covers_partial_months(example: Example) -> None:
    report = _trend(example, "month", date(2026, 2, 25), date(2026, 4, 2))

    periods = [(p["period"], p["date_from"], p["date_to"]) for p in report["points"]]
    assert periods == [
        (date(2026, 2, 1), date(2026, 2, 25), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 1), date(2026, 4, 2)),
    ]
    assert [p["values"]["impressions"] for p in report["points"]] == [0, 5000, 0]
    assert [p["values"]["spend"] for p in report["points"]] == [D(0), D(100), D(0)]


def test_trend_metric_keys_are_deduplicated_in_order(example: Example) -> None:
    report = selectors.trends(
        campaign=example.campaign,
        date_from=DAY1,
        date_to=DAY1,
        metrics=["roas", "likes", "roas"],
        filters=ReportFilters(gross=True),
    )

    assert report["metrics"] == ["roas", "likes"]
    assert report["points"][0]["values"] == {"roas": D(3), "likes": 30}


# --- Breakdown --------------------------------------------------------------------------------


def _rows(example: Example, by: str) -> list[tuple[Any, str, int, int | None]]:
    report = selectors.breakdown(campaign=example.campaign, by=by, date_from=DAY1, date_to=DAY3)
    return [
        (row["value"], row["label"], row["measures"]["impressions"], row["reach"])
        for row in report["rows"]
    ]


def test_breakdowns_by_every_dimension_most_impressions_first(example: Example) -> None:
    assert _rows(example, "channel") == [
        ("google_ads", "Google Ads", 4000, None),
        ("meta_ads", "Meta Ads", 1000, 8),
    ]
    assert _rows(example, "source") == [
        ("google_ads", "Google Ads", 4000, None),
        ("first_party", "Herald tracking", 1000, 8),
    ]
    assert _rows(example, "unit") == [
        (example.google.pk, "Search", 4000, None),
        (example.meta.pk, "Feed", 1000, 8),
    ]
    assert _rows(example, "creative") == [
        (None, "Unattributed", 4000, None),
        (example.meta_creative.pk, "Feed ad", 1000, 8),
    ]
    assert _rows(example, "placement") == [("", "(not set)", 4000, None), ("feed", "feed", 1000, 8)]
    assert _rows(example, "device") == [
        ("", "(not set)", 4000, None),
        ("mobile", "mobile", 600, 5),
        ("desktop", "desktop", 400, 5),
    ]


def test_breakdown_rows_carry_derived_metrics(example: Example) -> None:
    report = selectors.breakdown(
        campaign=example.campaign, by="channel", date_from=DAY1, date_to=DAY3
    )

    google, meta = report["rows"]
    assert google["metrics"]["roas"] == D(3)
    assert google["metrics"]["ctr"] == D(5)
    assert meta["metrics"]["ctr"] == D(5)
    assert meta["metrics"]["viewability_rate"] == D(75)
    assert meta["metrics"]["frequency"] == D(125)
    assert report["by"] == "channel"


# --- Comparison -------------------------------------------------------------------------------


@dataclass
class Trio:
    high_roas: Campaign  # ROAS 4, CPA 10
    low_cpa: Campaign  # ROAS 2, CPA 5
    no_spend: Campaign  # ROAS and CPA undefined


@pytest.fixture
def trio(owner: Actor, other_org: Organization) -> Trio:
    high = factories.make_campaign(owner, name="High ROAS", currency="USD")
    low = factories.make_campaign(owner, name="Low CPA", currency="USD")
    idle = factories.make_campaign(owner, name="Idle", currency="USD")
    add_fact(
        high,
        DAY1,
        channel="google_ads",
        impressions=1000,
        spend=100,
        conversion_value=400,
        conversions=10,
    )
    add_fact(
        low,
        DAY1,
        channel="google_ads",
        impressions=2000,
        spend=60,
        conversion_value=120,
        conversions=4,
    )
    add_fact(
        low,
        DAY2,
        channel="meta_ads",
        source=Source.META_ADS,
        impressions=500,
        spend=40,
        conversion_value=80,
        conversions=16,
    )
    add_fact(idle, DAY2, channel="google_ads", impressions=100)
    factories.make_campaign(owner, name="Never ran")  # no facts: not compared
    rival = factories.make_campaign(factories.make_actor(other_org), name="Rival", currency="USD")
    add_fact(rival, DAY1, channel="google_ads", spend=1, conversion_value=1000, conversions=1)
    return Trio(high, low, idle)


def _ranking(
    org: Organization, metric: str, order: str, **extra: Any
) -> list[tuple[int, str, Any]]:
    report = selectors.compare_campaigns(
        organization=org, date_from=DAY1, date_to=DAY3, metric=metric, order=order, **extra
    )
    return [(row["rank"], row["campaign"]["name"], row["value"]) for row in report["rows"]]


def test_compare_by_roas_best_and_worst(org: Organization, trio: Trio) -> None:
    assert _ranking(org, "roas", "best") == [
        (1, "High ROAS", D(4)),
        (2, "Low CPA", D(2)),
        (3, "Idle", None),
    ]
    assert _ranking(org, "roas", "worst") == [
        (1, "Low CPA", D(2)),
        (2, "High ROAS", D(4)),
        (3, "Idle", None),
    ]


def test_compare_by_cpa_lowest_is_best(org: Organization, trio: Trio) -> None:
    assert _ranking(org, "cpa", "best") == [
        (1, "Low CPA", D(5)),
        (2, "High ROAS", D(10)),
        (3, "Idle", None),
    ]
    assert _ranking(org, "cpa", "worst") == [
        (1, "High ROAS", D(10)),
        (2, "Low CPA", D(5)),
        (3, "Idle", None),
    ]


def test_compare_by_a_measure_with_limit_and_chosen_campaigns(
    org: Organization, trio: Trio
) -> None:
    report = selectors.compare_campaigns(
        organization=org, date_from=DAY1, date_to=DAY3, metric="impressions", order="best", limit=1
    )
    chosen = _ranking(
        org, "impressions", "best", campaign_ids=[trio.high_roas.pk, trio.no_spend.pk]
    )

    assert [(row["campaign"]["name"], row["value"]) for row in report["rows"]] == [
        ("Low CPA", 2500)
    ]
    assert report["count"] == 3
    assert report["higher_is_better"] is True
    assert chosen == [(1, "High ROAS", 1000), (2, "Idle", 100)]


def test_compare_refuses_bad_input_naming_the_field(
    org: Organization, other_org: Organization, owner: Actor, trio: Trio
) -> None:
    rival = Campaign.objects.get(name="Rival")
    euro = factories.make_campaign(owner, name="Euro", currency="EUR")
    add_fact(euro, DAY1, channel="google_ads", spend=10, conversions=1)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"metric": "clickz"}, "metric"),
        ({"metric": "roas", "order": "middling"}, "order"),
        ({"metric": "roas", "limit": 0}, "limit"),
        ({"metric": "roas", "campaign_ids": [rival.pk]}, "campaign_ids"),
        ({"metric": "cpa"}, "currency"),  # USD and EUR campaigns: CPAs do not compare
        ({"metric": "cpa", "currency": "XYZ"}, "currency"),
    ]
    for arguments, field in cases:
        with pytest.raises(InvalidInput) as error:
            selectors.compare_campaigns(organization=org, date_from=DAY1, date_to=DAY3, **arguments)
        assert _field(error) == field, arguments
    # One currency chosen, the comparison is allowed.
    assert _ranking(org, "cpa", "best", currency="eur") == [(1, "Euro", D(10))]
    # ROAS is a ratio: currencies do not matter.
    assert [name for _, name, _ in _ranking(org, "roas", "best")] == [
        "High ROAS",
        "Low CPA",
        "Euro",
        "Idle",
    ]


# --- ROI --------------------------------------------------------------------------------------

NEW_YORK_EVENING = datetime(2026, 3, 6, 3, 0, tzinfo=UTC)  # 5 March, 22:00 in New York


@pytest.fixture
def roi_campaign(owner: Actor) -> Campaign:
    """Facts: 02-20 spend 10 (before the range), 03-02 and 03-03 in the run-rate window,
    03-05 (today in New York): spend 10, value 50, 6 conversions."""
    campaign = factories.make_campaign(
        owner,
        name="ROI",
        time_zone="America/New_York",
        currency="USD",
        start_at=datetime(2026, 2, 1, 5, tzinfo=UTC),
        end_at=datetime(2026, 3, 15, 4, tzinfo=UTC),  # midnight in New York: last day 03-14
    )
    add_fact(campaign, date(2026, 2, 20), channel="google_ads", spend=10)
    add_fact(campaign, DAY1, channel="google_ads", spend=30, conversion_value=90, conversions=3)
    add_fact(campaign, DAY2, channel="google_ads", spend=40, conversion_value=120, conversions=4)
    add_fact(
        campaign,
        date(2026, 3, 5),
        channel="google_ads",
        spend=10,
        conversion_value=50,
        conversions=6,
    )
    return campaign


def _roi(campaign: Campaign, **extra: Any) -> dict[str, Any]:
    return selectors.campaign_roi(
        campaign=campaign,
        date_from=date(2026, 2, 26),
        date_to=date(2026, 3, 5),
        now=NEW_YORK_EVENING,
        **extra,
    )


def test_roi_totals_run_rate_and_projection_capped_by_the_lifetime_budget(
    owner: Actor, roi_campaign: Campaign
) -> None:
    budget_set(
        actor=owner, campaign_id=roi_campaign.pk, kind="lifetime", amount=D(150), allocations={}
    )

    report = _roi(roi_campaign)

    assert (report["revenue"], report["cost"], report["profit"]) == (D(260), D(80), D(180))
    assert (report["roi_percent"], report["roas"]) == (D(225), D("3.25"))
    assert report["break_even_conversions"] == D(4)  # 80 ÷ (260 ÷ 13)
    assert report["payback_days"] == D(4)  # 80 ÷ ((210 − 70) ÷ 7)
    assert report["today"] == date(2026, 3, 5)
    assert report["run_rate"] == {
        "date_from": date(2026, 2, 26),
        "date_to": date(2026, 3, 4),
        "days": 7,
    }
    assert report["days_remaining"] == 9  # 03-06 … 03-14
    assert report["budget"] == {
        "kind": "lifetime",
        "amount": D(150),
        "currency": "USD",
        "spent_to_date": D(90),
        "remaining": D(60),
    }
    projection = report["projection"]
    # 10 a day for 9 days would overspend the 60 left: delivery stops at the cap.
    assert projection["budget_capped"] is True
    assert (projection["days_elapsed"], projection["days_remaining"]) == (7, 9)
    assert (projection["daily_spend"], projection["daily_revenue"]) == (D(10), D(30))
    assert projection["daily_conversions"] == D(1)
    assert projection["projected_spend"] == D(140)
    assert projection["projected_revenue"] == D(440)
    assert projection["projected_conversions"] == D(19)
    assert projection["projected_roas"] == metric("roas", conversion_value=D(440), spend=D(140))


def test_roi_without_budget_or_end_date(owner: Actor, roi_campaign: Campaign) -> None:
    uncapped = _roi(roi_campaign)
    Campaign.objects.filter(pk=roi_campaign.pk).update(end_at=None)
    roi_campaign.refresh_from_db()
    open_ended = _roi(roi_campaign)

    assert uncapped["budget"] is None
    assert uncapped["projection"]["budget_capped"] is False
    assert uncapped["projection"]["projected_spend"] == D(170)  # 80 + 10 × 9
    assert uncapped["projection"]["projected_revenue"] == D(530)
    assert open_ended["days_remaining"] is None
    assert open_ended["projection"] is None


def test_roi_of_a_daily_budget_or_a_filtered_report_has_no_budget_cap(
    owner: Actor, roi_campaign: Campaign
) -> None:
    budget_set(actor=owner, campaign_id=roi_campaign.pk, kind="daily", amount=D(5), allocations={})
    daily = _roi(roi_campaign)
    budget_set(
        actor=owner, campaign_id=roi_campaign.pk, kind="lifetime", amount=D(150), allocations={}
    )
    filtered = _roi(roi_campaign, filters=ReportFilters(channel="google_ads"))

    assert daily["budget"] is None
    assert daily["projection"]["budget_capped"] is False
    assert filtered["budget"] is None
    assert filtered["projection"]["budget_capped"] is False


def test_roi_run_rate_is_empty_when_the_range_is_today(roi_campaign: Campaign) -> None:
    report = selectors.campaign_roi(
        campaign=roi_campaign,
        date_from=date(2026, 3, 5),
        date_to=date(2026, 3, 5),
        now=NEW_YORK_EVENING,
    )

    assert report["run_rate"] is None
    assert report["projection"] is None
    assert report["payback_days"] is None
    assert (report["cost"], report["revenue"]) == (D(10), D(50))


# --- Dashboard --------------------------------------------------------------------------------

DASHBOARD_NOW = datetime(2026, 3, 6, tzinfo=UTC)  # half of 03-01 … 03-11


@pytest.fixture
def dashboard(owner: Actor, example: Example) -> dict[str, Any]:
    campaign = set_status(example.campaign, "active")
    for key, target in (
        ("impressions", "10200"),  # paced: 5100 due, 5100 delivered
        ("conversions", "30"),  # paced: 15 due, 10 delivered
        ("clicks", "550"),  # paced: 275 due, 250 delivered
        ("roas", "2.5"),
        ("cpa", "9"),
        ("reach", "20"),  # paced: 10 due, 8 reached
    ):
        KpiTarget.objects.create(
            organization=campaign.organization,
            campaign=campaign,
            metric=key,
            target_value=D(target),
            unit="",
        )
    open_ended = set_status(
        factories.make_campaign(
            owner, name="Open Ended", currency="USD", start_at=datetime(2026, 3, 1, tzinfo=UTC)
        ),
        "active",
    )
    add_fact(
        open_ended,
        DAY2,
        channel="google_ads",
        impressions=500,
        clicks=10,
        spend=10,
        conversion_value=40,
        conversions=2,
    )
    for key, target in (("conversions", "4"), ("roas", "5")):
        KpiTarget.objects.create(
            organization=campaign.organization,
            campaign=open_ended,
            metric=key,
            target_value=D(target),
            unit="",
        )
    euro = set_status(
        factories.make_campaign(owner, name="Euro Crunch", currency="EUR"), "completed"
    )
    add_fact(
        euro,
        DAY2,
        channel="meta_ads",
        source=Source.META_ADS,
        impressions=300,
        spend=30,
        conversion_value=60,
        conversions=1,
    )
    draft = factories.make_campaign(owner, name="Draft")
    KpiTarget.objects.create(
        organization=campaign.organization, campaign=draft, metric="ctr", target_value=D(1), unit=""
    )
    return selectors.organization_dashboard(
        organization=campaign.organization,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 5),
        now=DASHBOARD_NOW,
    )


def test_dashboard_totals_trend_and_channels_in_the_organization_currency(
    dashboard: dict[str, Any],
) -> None:
    assert dashboard["currency"] == "USD"
    assert dashboard["other_currencies"] == ["EUR"]
    totals = dashboard["totals"]["measures"]
    # Spicy Chips 5000 + Open Ended 500 + Other 1000; the EUR campaign is not summed.
    assert (totals["impressions"], totals["clicks"], totals["spend"]) == (6500, 260, D(110))
    assert (totals["conversions"], totals["conversion_value"]) == (D(12), D(340))
    assert dashboard["totals"]["metrics"]["roas"] == metric(
        "roas", conversion_value=D(340), spend=D(110)
    )
    assert dashboard["totals"]["reach"] is None
    assert dashboard["trend"] == [
        {
            "day": date(2026, 3, 1),
            "impressions": 0,
            "clicks": 0,
            "spend": D(0),
            "conversions": D(0),
        },
        {"day": DAY1, "impressions": 2600, "clicks": 70, "spend": D(20), "conversions": D(2)},
        {"day": DAY2, "impressions": 1900, "clicks": 90, "spend": D(40), "conversions": D(5)},
        {"day": DAY3, "impressions": 2000, "clicks": 100, "spend": D(50), "conversions": D(5)},
        {
            "day": date(2026, 3, 5),
            "impressions": 0,
            "clicks": 0,
            "spend": D(0),
            "conversions": D(0),
        },
    ]
    channels = [
        (row["value"], row["measures"]["impressions"], row["measures"]["spend"])
        for row in dashboard["by_channel"]
    ]
    assert channels == [("google_ads", 5500, D(110)), ("meta_ads", 1000, D(0))]


def test_dashboard_active_campaigns_and_top_campaigns(dashboard: dict[str, Any]) -> None:
    assert dashboard["active_campaign_count"] == 2
    assert [row["campaign"]["name"] for row in dashboard["active_campaigns"]] == [
        "Open Ended",
        "Spicy Chips",
    ]
    assert [row["measures"]["impressions"] for row in dashboard["active_campaigns"]] == [500, 5000]
    assert [(r["rank"], r["campaign"]["name"], r["value"]) for r in dashboard["top_by_roas"]] == [
        (1, "Open Ended", D(4)),
        (2, "Spicy Chips", D(3)),
        (3, "Euro Crunch", D(2)),
    ]
    top_conversions = [(r["campaign"]["name"], r["value"]) for r in dashboard["top_by_conversions"]]
    assert top_conversions == [
        ("Spicy Chips", D(10)),
        ("Open Ended", D(2)),
        ("Euro Crunch", D(1)),
        ("Other", D(0)),
    ]


def test_dashboard_kpi_statuses_against_the_elapsed_schedule(dashboard: dict[str, Any]) -> None:
    kpis = [
        (
            kpi["campaign"]["name"],
            kpi["metric"],
            kpi["current"],
            kpi["elapsed_fraction"],
            kpi["status"],
            kpi["progress_percent"],
        )
        for kpi in dashboard["kpis"]
    ]

    half = D("0.5")
    assert kpis == [
        # Without an end date a cumulative target has no pace: no status, plain share.
        ("Open Ended", "conversions", D(2), None, None, D(50)),
        ("Open Ended", "roas", D(4), None, "at_risk", D(80)),
        ("Spicy Chips", "clicks", 250, half, "at_risk", exact(D(25000), D(275))),
        ("Spicy Chips", "conversions", D(10), half, "behind", exact(D(1000), D(15))),
        ("Spicy Chips", "cpa", D(10), half, "at_risk", exact(D(1000), D(9))),
        ("Spicy Chips", "impressions", 5100, half, "on_track", D(100)),
        ("Spicy Chips", "reach", 8, half, "at_risk", D(80)),
        ("Spicy Chips", "roas", D(3), half, "on_track", D(120)),
    ]


def test_dashboard_in_another_currency(org: Organization, dashboard: dict[str, Any]) -> None:
    euro = selectors.organization_dashboard(
        organization=org,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 5),
        currency="eur",
        now=DASHBOARD_NOW,
    )

    assert euro["currency"] == "EUR"
    assert euro["other_currencies"] == ["USD"]
    assert euro["totals"]["measures"]["spend"] == D(30)
    assert [row["value"] for row in euro["by_channel"]] == ["meta_ads"]
    assert len(euro["top_by_roas"]) == 3  # rankings cover every currency


# --- Query counts -----------------------------------------------------------------------------


def _grow(owner: Actor, example: Example) -> None:
    """More units, creatives, days and campaigns: the query counts must not move."""
    for index in range(3):
        unit = factories.make_unit(owner, example.campaign, "google_ads", name=f"More {index}")
        creative = factories.make_creative(owner, unit)
        for day in (DAY1, DAY2, DAY3):
            add_fact(
                example.campaign,
                day,
                source=Source.FIRST_PARTY,
                unit=unit,
                creative=creative,
                device=f"d{index}",
                impressions=10,
                sketch=visitors(index, 100 + index),
            )
        campaign = factories.make_campaign(owner, name=f"Extra {index}", currency="USD")
        add_fact(campaign, DAY1, channel="google_ads", impressions=5, spend=1)


@pytest.mark.parametrize("grown", [False, True])
def test_each_report_runs_a_bounded_number_of_queries(
    owner: Actor,
    example: Example,
    grown: bool,
    django_assert_max_num_queries: Any,
) -> None:
    if grown:
        _grow(owner, example)
    campaign = example.campaign
    span: dict[str, Any] = {"date_from": DAY1, "date_to": DAY3}
    org = campaign.organization
    set_status(campaign, "active")
    KpiTarget.objects.create(
        organization=org, campaign=campaign, metric="reach", target_value=D(5), unit=""
    )
    calls: list[tuple[int, Callable[[], object]]] = [
        # grouped sums, sketches, units, creatives
        (4, lambda: selectors.performance_summary(campaign=campaign, **span)),
        # + the unit filter's check
        (
            5,
            lambda: selectors.performance_summary(
                campaign=campaign, **span, filters=ReportFilters(unit_id=example.meta.pk)
            ),
        ),
        (1, lambda: selectors.funnel(campaign=campaign, **span)),
        (1, lambda: selectors.trends(campaign=campaign, **span, metrics=["ctr"])),
        (
            2,
            lambda: selectors.trends(
                campaign=campaign, **span, metrics=["reach"], granularity="week"
            ),
        ),
        (3, lambda: selectors.breakdown(campaign=campaign, by="creative", **span)),
        (2, lambda: selectors.breakdown(campaign=campaign, by="device", **span)),
        (2, lambda: selectors.compare_campaigns(organization=org, metric="cpa", **span)),
        (3, lambda: selectors.compare_campaigns(organization=org, metric="reach", **span)),
        # grouped sums, budget (none)
        (2, lambda: selectors.campaign_roi(campaign=campaign, **span)),
        # grouped sums, campaigns, trend, KPIs, KPI sums, KPI reach
        (6, lambda: selectors.organization_dashboard(organization=org, **span)),
    ]
    for count, call in calls:
        with django_assert_max_num_queries(count):
            call()


def test_roi_with_a_lifetime_budget_adds_two_queries(
    owner: Actor, roi_campaign: Campaign, django_assert_max_num_queries: Any
) -> None:
    budget_set(
        actor=owner, campaign_id=roi_campaign.pk, kind="lifetime", amount=D(150), allocations={}
    )
    with django_assert_max_num_queries(3):
        _roi(roi_campaign)


def test_measures_out_of_the_selectors_are_the_fact_measures(example: Example) -> None:
    report = summary(example)

    assert tuple(report["totals"]["measures"]) == FACT_MEASURES
    assert all(isinstance(report["totals"]["measures"][key], int) for key in FACT_MEASURES[:12])
    assert all(isinstance(report["totals"]["measures"][key], Decimal) for key in FACT_MEASURES[12:])
