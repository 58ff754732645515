"""The campaign list, the campaign page and the dashboard: numbers computed from the
facts made here, filters, sorting and pages with their exact rows, row actions through
the lifecycle services, tenancy and bounded queries."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from herald.campaigns.models import (
    AdCreative,
    Campaign,
    CampaignChannel,
    CampaignUnit,
    ExecutionLogEntry,
)
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.kpis import kpi_set
from herald.metrics.cells import cell_key
from herald.metrics.models import MetricFact, Source
from herald.testing.factories import (
    make_actor,
    make_campaign,
    make_launchable_campaign,
    make_unit,
)

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def signed_in(actor: Any) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def today() -> date:
    return timezone.localdate()


def set_status(campaign: Campaign, status: str) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    campaign.refresh_from_db()
    return campaign


def add_fact(
    campaign: Campaign,
    day: date,
    *,
    unit: CampaignUnit | None = None,
    creative: AdCreative | None = None,
    channel: str | None = None,
    placement: str = "",
    device: str = "",
    source: str = Source.GOOGLE_ADS,
    **measures: Any,
) -> MetricFact:
    """One fact row, as a platform sync stores it (gross counts equal the net ones)."""
    measures.setdefault("impressions_gross", measures.get("impressions", 0))
    measures.setdefault("clicks_gross", measures.get("clicks", 0))
    for money in ("spend", "conversion_value", "conversions"):
        if money in measures:
            measures[money] = Decimal(measures[money])
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
        currency=campaign.currency,
        day=day,
        **measures,
    )


def deliver(campaign: Campaign) -> None:
    """Two days on two channels: 4,000 impressions, 80 clicks, 6 conversions worth
    120.00 for 40.00 spent (CTR 2 %, conversion rate 7.5 %, ROAS 3, CPA 6.67)."""
    google = CampaignUnit.objects.get(campaign=campaign, channel="google_ads")
    meta = CampaignUnit.objects.get(campaign=campaign, channel="meta_ads")
    add_fact(
        campaign,
        today() - timedelta(days=2),
        unit=google,
        creative=google.creatives.get(),
        impressions=1000,
        clicks=50,
        spend="25.00",
        conversions="5",
        conversion_value="100.00",
    )
    add_fact(
        campaign,
        today() - timedelta(days=1),
        unit=meta,
        creative=meta.creatives.get(),
        source=Source.META_ADS,
        placement="feed",
        device="mobile",
        impressions=3000,
        clicks=30,
        spend="15.00",
        conversions="1",
        conversion_value="20.00",
    )


@pytest.fixture
def delivered(owner: Any) -> Campaign:
    campaign = make_launchable_campaign(owner, name="Spicy Jalapeño Chips")
    deliver(campaign)
    return set_status(campaign, "active")


def names(response: Any) -> list[str]:
    return [row["campaign"].name for row in response.context["rows"]]


def chart_spec(html: str) -> Any:
    """The first ``data-chart`` of the page, decoded."""
    found = re.search(r'data-chart="([^"]+)"', html)
    assert found is not None
    return json.loads(unescape(found[1]))


def text_of(html: bytes) -> str:
    """The page's text with tags and runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html.decode())))


# --- Where things are -------------------------------------------------------------------------


def test_home_is_the_dashboard_and_the_list_moved_to_campaigns(owner: Any) -> None:
    client = signed_in(owner)
    home = client.get("/")
    assert home.templates[0].name == "web/dashboard.html"
    assert b'<a href="/" aria-current="page">Dashboard</a>' in home.content
    listing = client.get("/campaigns/")
    assert listing.templates[0].name == "web/home.html"
    assert b'<a href="/">Dashboard</a>' in listing.content
    assert b'href="/campaigns/" aria-current="page">Campaigns</a>' in listing.content


# --- The list ---------------------------------------------------------------------------------


def test_list_rows_show_budget_spend_to_date_and_the_periods_metrics(
    owner: Any, delivered: Campaign
) -> None:
    # Spent 40 days ago: counts in the spend to date, not in the last 30 days' metrics.
    add_fact(delivered, today() - timedelta(days=40), channel="google_ads", spend="10.00")
    response = signed_in(owner).get("/campaigns/")
    (row,) = response.context["rows"]
    assert row["metrics"] == {
        "impressions": "4,000",
        "clicks": "80",
        "ctr": "2.00%",
        "conversions": "6",
        "roas": "3.00×",
    }
    assert row["spent"] == "50.00 USD"
    assert row["budget"] == "200.00 USD per day"
    assert row["channels"] == ["Google Ads", "Meta Ads"]
    text = text_of(response.content)
    assert (
        "Spicy Jalapeño Chips Sales Active Google Ads Meta Ads not set → "
        f"{delivered.end_at:%Y-%m-%d} 200.00 USD per day 50.00 USD 4,000 80 2.00% 6 3.00×"
    ) in text
    # The status is a word in a badge, not only a colour.
    assert b'<span class="badge status-active">Active</span>' in response.content


def test_list_metrics_follow_the_chosen_period(owner: Any, delivered: Campaign) -> None:
    day = (today() - timedelta(days=2)).isoformat()
    response = signed_in(owner).get("/campaigns/", {"from": day, "to": day})
    assert response.context["rows"][0]["metrics"] == {
        "impressions": "1,000",
        "clicks": "50",
        "ctr": "5.00%",
        "conversions": "5",
        "roas": "4.00×",
    }
    assert f'value="{day}"'.encode() in response.content


def test_a_campaign_without_delivery_shows_dashes_for_undefined_rates(owner: Any) -> None:
    make_campaign(owner, name="Quiet Campaign")
    (row,) = signed_in(owner).get("/campaigns/").context["rows"]
    assert row["metrics"] == {
        "impressions": "0",
        "clicks": "0",
        "ctr": "—",
        "conversions": "0",
        "roas": "—",
    }
    assert row["spent"] == "0.00 USD"
    assert row["budget"] is None


@pytest.fixture
def three(owner: Any) -> dict[str, Campaign]:
    alpha = make_campaign(owner, name="Alpha Crunch", objective="sales")
    make_unit(owner, alpha, "google_ads")
    bravo = make_campaign(owner, name="Bravo Salt", objective="traffic")
    make_unit(owner, bravo, "meta_ads")
    charlie = make_campaign(
        owner,
        name="Charlie Vinegar",
        objective="awareness",
        start_at=datetime(2025, 1, 1, tzinfo=UTC),
        end_at=datetime(2025, 2, 1, tzinfo=UTC),
    )
    set_status(alpha, "active")
    set_status(charlie, "paused")
    return {"alpha": alpha, "bravo": bravo, "charlie": charlie}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Charlie Vinegar", "Bravo Salt", "Alpha Crunch"]),
        ({"status": "active"}, ["Alpha Crunch"]),
        ({"status": "paused"}, ["Charlie Vinegar"]),
        ({"channel": "meta_ads"}, ["Bravo Salt"]),
        ({"channel": "google_ads"}, ["Alpha Crunch"]),
        ({"objective": "awareness"}, ["Charlie Vinegar"]),
        ({"q": "SALT"}, ["Bravo Salt"]),
        ({"running_from": "2026-01-01"}, ["Bravo Salt", "Alpha Crunch"]),
        (
            {"running_from": "2025-01-10", "running_to": "2025-01-20"},
            ["Charlie Vinegar", "Bravo Salt", "Alpha Crunch"],
        ),
        ({"sort": "name"}, ["Alpha Crunch", "Bravo Salt", "Charlie Vinegar"]),
        ({"sort": "-name"}, ["Charlie Vinegar", "Bravo Salt", "Alpha Crunch"]),
        ({"sort": "created_at"}, ["Alpha Crunch", "Bravo Salt", "Charlie Vinegar"]),
        ({"sort": "status"}, ["Alpha Crunch", "Bravo Salt", "Charlie Vinegar"]),
        ({"status": "draft", "channel": "google_ads"}, []),
    ],
)
def test_list_filters_and_sorts_to_exact_rows(
    owner: Any, three: dict[str, Campaign], query: dict[str, str], expected: list[str]
) -> None:
    response = signed_in(owner).get("/campaigns/", query)
    assert response.status_code == 200
    assert names(response) == expected
    if not expected:
        assert b"No campaign matches these filters." in response.content


def test_sortable_headers_say_how_the_list_is_sorted(owner: Any, three: Any) -> None:
    response = signed_in(owner).get("/campaigns/", {"sort": "name", "status": "active"})
    content = response.content.decode()
    # Sorted by name: the header says so and links to the reverse order, keeping filters.
    assert (
        '<th scope="col" aria-sort="ascending"><a href="?sort=-name&amp;status=active">Name</a>'
        in content
    )
    assert content.count("aria-sort=") == 1


def test_an_unknown_filter_value_is_explained_and_the_whole_list_shown(
    owner: Any, three: Any
) -> None:
    response = signed_in(owner).get("/campaigns/", {"status": "exploded"}, follow=True)
    assert "'exploded' is not a status." in text_of(response.content)
    assert len(names(response)) == 3


def test_list_pages_hold_25_rows_and_keep_the_filters(owner: Any) -> None:
    for number in range(1, 28):
        make_campaign(owner, name=f"Flavour {number:02d}")
    client = signed_in(owner)
    first = client.get("/campaigns/", {"sort": "name", "q": "flavour"})
    assert names(first) == [f"Flavour {n:02d}" for n in range(1, 26)]
    assert b'href="?sort=name&amp;q=flavour&amp;page=2" rel="next"' in first.content
    assert b"Page 1 of 2" in first.content
    second = client.get("/campaigns/", {"sort": "name", "q": "flavour", "page": "2"})
    assert names(second) == ["Flavour 26", "Flavour 27"]
    assert b'rel="prev"' in second.content


def test_empty_list_says_what_to_do_next(owner: Any) -> None:
    response = signed_in(owner).get("/campaigns/")
    text = text_of(response.content)
    assert "No campaigns yet" in text
    assert 'href="/campaigns/new/">Create a campaign</a>' in response.content.decode()


def test_viewers_see_no_row_actions(viewer: Any, delivered: Campaign) -> None:
    response = signed_in(viewer).get("/campaigns/")
    assert names(response) == ["Spicy Jalapeño Chips"]
    assert b"/actions/" not in response.content
    assert b">Actions</th>" not in response.content
    assert b"New campaign</a>" not in response.content


def test_rows_offer_the_actions_the_state_machine_allows(owner: Any, three: Any) -> None:
    response = signed_in(owner).get("/campaigns/", {"sort": "name"})
    offered = {row["campaign"].name: row["actions"] for row in response.context["rows"]}
    assert offered == {
        "Alpha Crunch": ["pause", "cancel"],
        "Bravo Salt": ["cancel"],
        "Charlie Vinegar": ["resume", "cancel"],
    }
    assert all(row["can_duplicate"] for row in response.context["rows"])


# --- Row actions ------------------------------------------------------------------------------


def test_pausing_from_the_list_rerenders_the_row_and_logs_it(
    owner: Any, delivered: Campaign
) -> None:
    client = signed_in(owner)
    list_url = "/campaigns/?status=active&from=2020-01-01&to=2020-01-31"
    response = client.post(
        f"/campaigns/{delivered.pk}/actions/pause/",
        {"next": list_url, "fragment": "row"},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="campaign-row-{delivered.pk}">')
    assert '<span class="badge status-paused">Paused</span>' in html
    assert ">Resume<" in html
    assert ">Pause<" not in html
    # The row keeps the list's period (nothing was delivered in January 2020) and URL.
    assert '<td data-label="Impressions" class="num">0</td>' in html
    assert f'name="next" value="{list_url.replace("&", "&amp;")}"' in html
    assert json.loads(response["HX-Trigger"]) == {
        "herald:status": {
            "message": "Pause: done. “Spicy Jalapeño Chips” is now paused.",
            "level": "success",
        }
    }
    delivered.refresh_from_db()
    assert delivered.status == "paused"
    entry = ExecutionLogEntry.objects.get(campaign=delivered)
    assert (entry.action, entry.from_status, entry.to_status, entry.outcome) == (
        "pause",
        "active",
        "paused",
        "success",
    )
    assert entry.actor_user_id == owner.user.pk

    resumed = client.post(
        f"/campaigns/{delivered.pk}/actions/resume/",
        {"next": list_url, "fragment": "row"},
        headers=HX,
    )
    assert '<span class="badge status-active">Active</span>' in resumed.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == "active"


def test_without_javascript_a_row_action_returns_to_the_list(
    owner: Any, delivered: Campaign
) -> None:
    response = signed_in(owner).post(
        f"/campaigns/{delivered.pk}/actions/pause/", {"next": "/campaigns/?sort=name"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/campaigns/?sort=name"
    followed = signed_in(owner).get("/campaigns/?sort=name")
    assert followed.context["rows"][0]["actions"] == ["resume", "cancel"]


def test_an_offsite_next_is_ignored(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).post(
        f"/campaigns/{delivered.pk}/actions/pause/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/campaigns/{delivered.pk}/"


def test_a_refused_row_action_keeps_the_row_and_says_why(owner: Any) -> None:
    campaign = make_campaign(owner, name="Draft Dip")
    response = signed_in(owner).post(
        f"/campaigns/{campaign.pk}/actions/pause/",
        {"next": "/campaigns/", "fragment": "row"},
        headers=HX,
    )
    assert response.status_code == 200
    assert '<span class="badge status-draft">Draft</span>' in response.content.decode()
    status = json.loads(response["HX-Trigger"])["herald:status"]
    assert status["level"] == "error"
    assert status["message"].startswith("Cannot pause a campaign that is draft")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_a_viewers_row_action_is_refused_and_changes_nothing(
    viewer: Any, delivered: Campaign
) -> None:
    response = signed_in(viewer).post(
        f"/campaigns/{delivered.pk}/actions/pause/",
        {"next": "/campaigns/", "fragment": "row"},
        headers=HX,
    )
    assert response.status_code == 403
    assert Campaign.objects.get(pk=delivered.pk).status == "active"
    assert not ExecutionLogEntry.objects.filter(campaign=delivered).exists()
    duplicate = signed_in(viewer).post(f"/campaigns/{delivered.pk}/actions/duplicate/")
    assert duplicate.status_code == 403
    assert Campaign.objects.count() == 1


def test_duplicating_from_the_list_adds_the_copys_row(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).post(
        f"/campaigns/{delivered.pk}/actions/duplicate/",
        {"next": "/campaigns/", "fragment": "row"},
        headers=HX,
    )
    copy = Campaign.objects.get(name="Spicy Jalapeño Chips (copy)")
    html = response.content.decode()
    assert html.index(f'id="campaign-row-{delivered.pk}"') < html.index(
        f'id="campaign-row-{copy.pk}"'
    )
    assert copy.status == "draft"
    assert json.loads(response["HX-Trigger"])["herald:status"]["message"] == (
        "Duplicate: done. The copy “Spicy Jalapeño Chips (copy)” is a draft."
    )


def test_cancelling_from_a_row_asks_first(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).get("/campaigns/")
    assert 'hx-confirm="Cancel “Spicy Jalapeño Chips”? A cancelled campaign cannot run again."' in (
        response.content.decode()
    )


# --- The campaign page ------------------------------------------------------------------------


def test_campaign_page_shows_every_section_with_exact_numbers(
    owner: Any, delivered: Campaign
) -> None:
    response = signed_in(owner).get(f"/campaigns/{delivered.pk}/")
    assert response.status_code == 200
    context = response.context
    assert {tile["label"]: tile["value"] for tile in context["tiles"]} == {
        "Impressions": "4,000",
        "Clicks": "80",
        "CTR": "2.00%",
        "Conversions": "6",
        "Spend": "40.00 USD",
        "ROAS": "3.00×",
        "CPA": "6.67 USD",
    }
    assert [
        (step["label"], step["count"], step["from_previous"], step["from_start"])
        for step in context["funnel"]
    ] == [
        ("Impressions", "4,000", "—", "—"),
        ("Clicks", "80", "2.00%", "2.00%"),
        ("Conversions", "6", "7.50%", "0.15%"),
    ]
    tables = {table["key"]: table["rows"] for table in context["breakdowns"]}
    assert [(row["label"], row["cells"]) for row in tables["channel"]] == [
        (
            "Meta Ads",
            [
                ("Impressions", "3,000"),
                ("Clicks", "30"),
                ("CTR", "1.00%"),
                ("Conversions", "1"),
                ("Spend", "15.00 USD"),
                ("CPA", "15.00 USD"),
                ("ROAS", "1.33×"),
            ],
        ),
        (
            "Google Ads",
            [
                ("Impressions", "1,000"),
                ("Clicks", "50"),
                ("CTR", "5.00%"),
                ("Conversions", "5"),
                ("Spend", "25.00 USD"),
                ("CPA", "5.00 USD"),
                ("ROAS", "4.00×"),
            ],
        ),
    ]
    assert [(row["label"], row["cells"][0][1]) for row in tables["placement"]] == [
        ("feed", "3,000"),
        ("(not set)", "1,000"),
    ]
    assert [(row["label"], row["cells"][0][1]) for row in tables["device"]] == [
        ("mobile", "3,000"),
        ("(not set)", "1,000"),
    ]
    units = {unit.channel: unit.name for unit in CampaignUnit.objects.filter(campaign=delivered)}
    assert [(row["label"], row["detail"]) for row in tables["unit"]] == [
        (units["meta_ads"], "Meta Ads"),
        (units["google_ads"], "Google Ads"),
    ]
    # Unnamed creatives go by their first headline.
    assert [(row["label"], row["detail"], row["cells"][0][1]) for row in tables["creative"]] == [
        ("New Spicy Jalapeño Chips | 20% Off", "Meta Ads · v1", "3,000"),
        ("Spicy Jalapeño Chips", "Google Ads · v1", "1,000"),
    ]

    pacing = context["pacing"]
    assert pacing["budget_text"] == "200.00 USD per day"
    assert pacing["spent_to_date"] == "40.00 USD"
    assert [
        (row["label"], row["allocated"], row["period"], row["to_date"])
        for row in pacing["channels"]
    ] == [
        ("Google Ads", "100.00 USD per day", "25.00 USD", "25.00 USD"),
        ("Meta Ads", "100.00 USD per day", "15.00 USD", "15.00 USD"),
    ]
    text = text_of(response.content)
    for heading in (
        "Performance",
        "Trend",
        "Funnel",
        "By channel",
        "By unit",
        "By creative",
        "By placement",
        "By device",
        "Budget and pacing",
        "Platforms",
        "Execution log",
        "Download CSV",
    ):
        assert heading in text, heading
    assert "CTR 2.00%" in text
    assert "Not on any platform yet" in text


def test_a_lifetime_budget_is_paced_per_channel_and_projected(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, name="Lifetime Crunch")
    budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="lifetime",
        amount=Decimal("1000.00"),
        allocations={"google_ads": Decimal("600.00"), "meta_ads": Decimal("400.00")},
    )
    deliver(campaign)
    response = signed_in(owner).get(f"/campaigns/{campaign.pk}/")
    pacing = response.context["pacing"]
    assert pacing["budget_text"] == "1,000.00 USD lifetime"
    assert pacing["spent_to_date"] == "40.00 USD"
    assert pacing["remaining"] == "960.00 USD"
    assert [(row["label"], row["allocated"], row["to_date"]) for row in pacing["channels"]] == [
        ("Google Ads", "600.00 USD", "25.00 USD"),
        ("Meta Ads", "400.00 USD", "15.00 USD"),
    ]
    html = response.content.decode()
    assert (
        '<meter min="0" max="600.0" value="25.0" '
        'aria-label="Google Ads: share of its allocation spent">25.00 USD of 600.00 USD</meter>'
    ) in html
    # The run-rate is the last 7 complete days: 40.00 over 7 days.
    assert pacing["daily_spend"] == "5.71 USD"
    listing = signed_in(owner).get("/campaigns/")
    assert listing.context["rows"][0]["budget"] == "1,000.00 USD lifetime"
    assert '<meter min="0" max="1000.0" value="40.0"' in listing.content.decode()


def test_the_trend_chart_carries_the_days_and_a_table_for_screen_readers(
    owner: Any, delivered: Campaign
) -> None:
    response = signed_in(owner).get(f"/campaigns/{delivered.pk}/")
    spec = chart_spec(response.content.decode())
    days = [(today() - timedelta(days=n)).isoformat() for n in range(29, -1, -1)]
    assert spec["x"] == days
    (series,) = spec["series"]
    assert series["label"] == "Impressions"
    assert series["values"] == [0] * 27 + [1000, 3000, 0]
    assert b'<table class="chart-fallback">' in response.content
    assert f"<tr><td>{days[27]}</td><td>1,000</td></tr>".encode() in response.content


def test_the_trend_partial_switches_metric_and_granularity(owner: Any, delivered: Campaign) -> None:
    day = today()
    start = (day - timedelta(days=13)).isoformat()
    response = signed_in(owner).get(
        f"/campaigns/{delivered.pk}/trend/",
        {"from": start, "to": day.isoformat(), "metric": "clicks", "granularity": "week"},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<figure id="trend-chart"')
    assert 'data-granularity="week"' in html
    spec = chart_spec(html)
    mondays = sorted(
        {
            (day - timedelta(days=n) - timedelta(days=(day - timedelta(days=n)).weekday()))
            for n in range(14)
        }
    )
    assert spec["x"] == [monday.isoformat() for monday in mondays]
    assert sum(spec["series"][0]["values"]) == 80
    assert spec["series"][0]["bars"] is True
    assert response["HX-Replace-Url"] == (
        f"/campaigns/{delivered.pk}/?from={start}&to={day.isoformat()}&metric=clicks&granularity=week"
    )


def test_an_unknown_trend_metric_is_explained(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).get(f"/campaigns/{delivered.pk}/trend/", {"metric": "vibes"})
    assert response.status_code == 200
    assert b"&#x27;vibes&#x27; is not a metric" in response.content


def test_a_bad_period_is_explained_and_the_default_shown(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).get(
        f"/campaigns/{delivered.pk}/", {"from": "2026-05-10", "to": "2026-05-01"}
    )
    assert "'to' must not be before 'from'." in text_of(response.content)
    assert response.context["period"].date_to == today()
    assert response.context["tiles"][0]["value"] == "4,000"


def test_csv_export_links_work_with_the_browser_session(owner: Any, delivered: Campaign) -> None:
    client = signed_in(owner)
    response = client.get(f"/campaigns/{delivered.pk}/")
    exports = dict(response.context["exports"])
    first = (today() - timedelta(days=29)).isoformat()
    assert exports["Performance"] == (
        f"/api/v1/campaigns/{delivered.pk}/performance?from={first}&to={today()}&format=csv"
    )
    assert exports["Breakdown by device"].endswith("&by=device&format=csv")
    assert set(exports) == {
        "Performance",
        "Funnel",
        "Trends by day",
        "ROI",
        "Breakdown by channel",
        "Breakdown by unit",
        "Breakdown by creative",
        "Breakdown by placement",
        "Breakdown by device",
    }
    for url in exports.values():
        download = client.get(url)
        assert download.status_code == 200, url
        assert download["Content-Type"].startswith("text/csv"), url


def test_the_platforms_section_polls_while_launching_and_stops_when_settled(
    owner: Any, delivered: Campaign
) -> None:
    client = signed_in(owner)
    set_status(delivered, "launching")
    CampaignChannel.objects.create(
        organization=delivered.organization, campaign=delivered, channel="google_ads"
    )
    page = client.get(f"/campaigns/{delivered.pk}/").content.decode()
    assert f'hx-get="/campaigns/{delivered.pk}/platforms/" hx-trigger="every 2s"' in page
    assert "Launching on the platforms…" in page

    polled = client.get(f"/campaigns/{delivered.pk}/platforms/", headers=HX).content.decode()
    assert 'hx-trigger="every 2s"' in polled
    assert '<span class="badge platform-pending">Pending</span>' in polled

    CampaignChannel.objects.filter(campaign=delivered).update(state="live", external_id="g-123")
    set_status(delivered, "active")
    settled = client.get(f"/campaigns/{delivered.pk}/platforms/", headers=HX).content.decode()
    assert "hx-trigger" not in settled.split("</section>")[0]
    assert '<span class="badge platform-live">Live</span>' in settled
    assert "<code>g-123</code>" in settled
    # The header and the log come along out of band: the status is current everywhere.
    assert '<header id="campaign-header" class="campaign-header" hx-swap-oob="true">' in settled
    assert '<span class="badge status-active">Active</span>' in settled
    assert '<section id="execution-log" aria-labelledby="log-heading" hx-swap-oob="true">' in (
        settled
    )


def test_a_page_action_through_htmx_returns_the_header_and_live_sections(
    owner: Any, delivered: Campaign
) -> None:
    response = signed_in(owner).post(
        f"/campaigns/{delivered.pk}/actions/pause/", {"reason": "Stock ran out"}, headers=HX
    )
    html = response.content.decode()
    assert html.strip().startswith('<header id="campaign-header" class="campaign-header">')
    assert "<dt>Paused because</dt><dd>Stock ran out</dd>" in html
    assert '<section id="platforms"' in html and 'hx-swap-oob="true"' in html
    assert "Stock ran out</td>" in html  # the log row, out of band
    assert json.loads(response["HX-Trigger"])["herald:status"]["level"] == "success"


def test_duplicating_from_the_page_opens_the_copy(owner: Any, delivered: Campaign) -> None:
    client = signed_in(owner)
    response = client.post(f"/campaigns/{delivered.pk}/actions/duplicate/", headers=HX)
    copy = Campaign.objects.get(name="Spicy Jalapeño Chips (copy)")
    assert response["HX-Redirect"] == f"/campaigns/{copy.pk}/"
    plain = client.post(f"/campaigns/{delivered.pk}/actions/duplicate/")
    assert plain.status_code == 302
    second = Campaign.objects.exclude(pk__in=[delivered.pk, copy.pk]).get()
    assert plain["Location"] == f"/campaigns/{second.pk}/"


def test_viewers_read_the_campaign_page_without_action_forms(
    viewer: Any, delivered: Campaign
) -> None:
    response = signed_in(viewer).get(f"/campaigns/{delivered.pk}/")
    assert response.status_code == 200
    assert b"/actions/" not in response.content
    assert b'aria-label="Actions"' not in response.content


def test_another_organizations_campaign_is_404_everywhere(owner: Any, other_org: Any) -> None:
    theirs = make_launchable_campaign(make_actor(other_org), name="Rival Crisps")
    client = signed_in(owner)
    for path in ("", "trend/", "platforms/"):
        assert client.get(f"/campaigns/{theirs.pk}/{path}").status_code == 404, path
    for action in ("pause", "duplicate"):
        assert (
            client.post(f"/campaigns/{theirs.pk}/actions/{action}/", headers=HX).status_code == 404
        )
    assert Campaign.objects.filter(name__startswith="Rival Crisps").count() == 1
    assert b"Rival Crisps" not in client.get("/campaigns/").content
    assert b"Rival Crisps" not in client.get("/").content


# --- The dashboard ----------------------------------------------------------------------------


def test_dashboard_totals_charts_and_tables(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).get("/")
    context = response.context
    assert {tile["label"]: tile["value"] for tile in context["totals"]} == {
        "Impressions": "4,000",
        "Clicks": "80",
        "CTR": "2.00%",
        "Conversions": "6",
        "Spend": "40.00 USD",
        "Conversion value": "120.00 USD",
        "ROAS": "3.00×",
        "CPA": "6.67 USD",
    }
    assert context["active_count"] == 1
    text = text_of(response.content)
    assert "Active campaigns 1" in text
    trend = json.loads(context["trend"]["chart"])
    assert len(trend["x"]) == 30
    assert [s["label"] for s in trend["series"]] == ["Clicks", "Conversions", "Spend"]
    assert trend["series"][0]["values"][-3:] == [50, 30, 0]
    assert trend["series"][2]["axis"] == "right"
    channels = json.loads(context["by_channel"]["chart"])
    assert channels["x"] == [0, 1]
    assert channels["time"] is False
    assert channels["series"][0]["values"] == [15.0, 25.0]
    assert json.loads(context["by_channel"]["categories"]) == ["Meta Ads", "Google Ads"]
    assert [(row["campaign"]["name"], row["value"]) for row in context["top_by_roas"]] == [
        ("Spicy Jalapeño Chips", "3.00×")
    ]
    assert [row["value"] for row in context["top_by_conversions"]] == ["6"]
    assert b'data-chart-categories="[&quot;Meta Ads&quot;, &quot;Google Ads&quot;]"' in (
        response.content
    )


def test_dashboard_kpi_targets_carry_their_status_in_words(owner: Any, delivered: Campaign) -> None:
    for metric, target in (
        ("roas", "2"),
        ("ctr", "5"),
        ("cpa", "6"),
        ("impressions", "10000"),
    ):
        kpi_set(actor=owner, campaign_id=delivered.pk, metric=metric, target_value=Decimal(target))
    response = signed_in(owner).get("/")
    rows = [
        (kpi["metric"], kpi["target"], kpi["current"], kpi["progress"], kpi["status_label"])
        for kpi in response.context["kpis"]
    ]
    assert rows == [
        ("CPA", "6.00 USD", "6.67 USD", "111.11%", "At risk"),
        ("CTR", "5.00%", "2.00%", "40.00%", "Behind"),
        # Without a start date there is no schedule to pace impressions against.
        ("Impressions", "10,000", "4,000", "40.00%", "No status"),
        ("ROAS", "2.00×", "3.00×", "150.00%", "On track"),
    ]
    html = response.content.decode()
    assert '<span class="badge kpi-at_risk">At risk</span>' in html
    assert '<span class="badge kpi-behind">Behind</span>' in html
    assert '<span class="badge kpi-on_track">On track</span>' in html
    assert '<span class="badge kpi-none">No status</span>' in html


def test_dashboard_of_an_organization_without_campaigns_says_where_to_start(owner: Any) -> None:
    response = signed_in(owner).get("/")
    text = text_of(response.content)
    assert "No campaigns yet" in text
    assert 'href="/campaigns/new/">Create a campaign</a>' in response.content.decode()
    assert b'class="chart"' not in response.content


def test_dashboard_with_campaigns_but_no_data_in_the_period(owner: Any) -> None:
    make_campaign(owner, name="Not Yet")
    response = signed_in(owner).get("/", {"from": "2026-01-01", "to": "2026-01-31"})
    text = text_of(response.content)
    assert "Nothing recorded between 2026-01-01 and 2026-01-31." in text
    assert "No channel delivered in this period." in text
    assert "No KPI targets on active campaigns." in text
    assert "No campaign is running right now." in text
    assert {tile["label"]: tile["value"] for tile in response.context["totals"]}["CTR"] == "—"


def test_dashboard_explains_a_bad_period(owner: Any, delivered: Campaign) -> None:
    response = signed_in(owner).get("/", {"from": "2020-01-01", "to": "2026-01-01"})
    assert "Ask for 731 days at most." in text_of(response.content)
    assert response.context["period"].date_to == today()


def test_viewers_read_the_dashboard(viewer: Any, delivered: Campaign) -> None:
    response = signed_in(viewer).get("/")
    assert response.status_code == 200
    assert response.context["totals"][0]["value"] == "4,000"


# --- Bounded queries --------------------------------------------------------------------------


def _many(owner: Any, count: int) -> None:
    for number in range(count):
        campaign = make_launchable_campaign(owner, name=f"Batch {number:02d}")
        deliver(campaign)
        set_status(campaign, "active")
        kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal(2))


@pytest.mark.parametrize("count", [2, 12])
def test_list_queries_do_not_grow_with_rows(
    owner: Any, count: int, django_assert_max_num_queries: Any
) -> None:
    _many(owner, count)
    client = signed_in(owner)
    with django_assert_max_num_queries(12):
        response = client.get("/campaigns/")
    assert len(response.context["rows"]) == count


@pytest.mark.parametrize("count", [2, 12])
def test_dashboard_queries_do_not_grow_with_campaigns(
    owner: Any, count: int, django_assert_max_num_queries: Any
) -> None:
    _many(owner, count)
    client = signed_in(owner)
    with django_assert_max_num_queries(9):
        response = client.get("/")
    assert response.context["active_count"] == count
    assert len(response.context["kpis"]) == count


def test_the_campaign_page_links_to_the_studio_and_the_builder_for_editors(owner: Any) -> None:
    from django.test import Client

    from herald.testing.factories import make_campaign

    campaign = make_campaign(owner)
    client = Client()
    client.force_login(owner.user)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/studio/"' in page
    assert f'href="/campaigns/{campaign.pk}/build/review/"' in page
