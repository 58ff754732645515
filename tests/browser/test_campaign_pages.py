"""The campaign list, the campaign page and the dashboard in a real browser: filters,
row actions without a page reload, charts drawn by uPlot (a canvas with a size), the
trend switched to weeks through htmx, KPI badges, and what a viewer does not get.
Screenshots of each page at desktop and mobile widths land in artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from herald.accounts.actors import Actor
from herald.accounts.choices import Role
from herald.campaigns.models import Campaign, CampaignChannel, CampaignUnit, ExecutionLogEntry
from herald.campaigns.services.kpis import kpi_set
from herald.metrics.cells import cell_key
from herald.metrics.models import MetricFact, Source
from herald.testing import factories

pytestmark = pytest.mark.browser

DAYS = 14


def add_facts(campaign: Campaign) -> None:
    """Fourteen days on both channels, growing a little every day."""
    today = timezone.localdate()
    for unit in CampaignUnit.objects.filter(campaign=campaign):
        creative = unit.creatives.get()
        meta = unit.channel == "meta_ads"
        for offset in range(1, DAYS + 1):
            scale = DAYS + 1 - offset
            impressions = (3000 if meta else 1200) + 90 * scale
            clicks = (36 if meta else 48) + 2 * scale
            MetricFact.objects.create(
                organization_id=campaign.organization_id,
                campaign=campaign,
                unit=unit,
                creative=creative,
                channel=unit.channel,
                placement="feed" if meta else "search",
                device="mobile" if meta else "desktop",
                source=Source.META_ADS if meta else Source.GOOGLE_ADS,
                cell_key=cell_key(
                    campaign_id=campaign.pk,
                    unit_id=unit.pk,
                    creative_id=creative.pk,
                    channel=unit.channel,
                    placement="feed" if meta else "search",
                    device="mobile" if meta else "desktop",
                ),
                currency=campaign.currency,
                day=today - timedelta(days=offset),
                impressions_gross=impressions,
                impressions=impressions,
                clicks_gross=clicks,
                clicks=clicks,
                conversions=Decimal(2 + scale % 3),
                conversion_value=Decimal("45.00") * (2 + scale % 3),
                spend=Decimal("18.50") + Decimal(scale),
            )


@pytest.fixture
def delivered(member: Actor, campaign: Campaign) -> Campaign:
    add_facts(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status="active")
    factories.make_campaign(member, name="Sea Salt Classic", objective="traffic")
    kpi_set(actor=member, campaign_id=campaign.pk, metric="roas", target_value=Decimal("2"))
    kpi_set(actor=member, campaign_id=campaign.pk, metric="ctr", target_value=Decimal("5"))
    kpi_set(actor=member, campaign_id=campaign.pk, metric="cpa", target_value=Decimal("9"))
    campaign.refresh_from_db()
    return campaign


def canvas_size(chart: Locator) -> tuple[float, float]:
    box = chart.locator("canvas").evaluate(
        "c => { const r = c.getBoundingClientRect(); return [r.width, r.height]; }"
    )
    return float(box[0]), float(box[1])


def expect_drawn(chart: Locator) -> None:
    expect(chart).to_have_class(re.compile(r"\bchart-rendered\b"))
    expect(chart.locator("canvas")).to_have_count(1)
    width, height = canvas_size(chart)
    assert width > 200 and height > 100, (width, height)


def mark_page(page: Page) -> None:
    """Set a flag that a page load would wipe out."""
    page.evaluate("window.heraldNoReload = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.heraldNoReload === true"))


def test_list_filters_and_row_actions_without_reload(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Actor, delivered: Campaign
) -> None:
    sign_in(page, member.user)
    page.goto(live_url("/campaigns/"))
    rows = page.locator("table.campaigns tbody tr")
    expect(rows).to_have_count(2)
    row = page.locator(f"#campaign-row-{delivered.pk}")
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    expect(row.locator("td[data-label='Channels']")).to_have_text("Google AdsMeta Ads")
    shot(page, "list")

    page.get_by_label("Status").select_option("active")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Status")).to_have_value("active")

    mark_page(page)
    row.get_by_role("button", name=re.compile("^Pause")).click()
    expect(row.locator(".badge")).to_have_text("Paused")
    expect(page.locator("#action-status")).to_have_text(
        "Pause: done. “Spicy Jalapeño Chips” is now paused."
    )
    expect(row.get_by_role("button", name=re.compile("^Pause"))).to_have_count(0)
    row.get_by_role("button", name=re.compile("^Resume")).click()
    expect(row.locator(".badge")).to_have_text("Active")
    expect(page.locator("#action-status")).to_have_text(
        "Resume: done. “Spicy Jalapeño Chips” is now active."
    )
    assert not_reloaded(page)
    assert Campaign.objects.get(pk=delivered.pk).status == "active"
    assert list(
        ExecutionLogEntry.objects.filter(campaign=delivered)
        .order_by("created_at")
        .values_list("action", "to_status")
    ) == [("pause", "paused"), ("resume", "active")]
    # Keyboard: Tab goes from the campaign's link to its first action, and the focus shows.
    row.get_by_role("link", name="Spicy Jalapeño Chips").focus()
    page.keyboard.press("Tab")
    pause = row.get_by_role("button", name=re.compile("^Pause"))
    expect(pause).to_be_focused()
    assert pause.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    shot(page, "list-filtered")


def test_campaign_page_trend_funnel_and_breakdowns(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Actor, delivered: Campaign
) -> None:
    sign_in(page, member.user)
    page.goto(live_url(f"/campaigns/{delivered.pk}/"))
    chart = page.locator("#trend-chart .chart")
    expect_drawn(chart)
    expect(chart).to_have_attribute("data-granularity", "day")
    expect(chart.locator(".u-legend")).to_contain_text("Impressions")

    mark_page(page)
    page.get_by_label("Group by").select_option("week")
    weekly = page.locator("#trend-chart .chart[data-granularity='week']")
    expect_drawn(weekly)
    assert not_reloaded(page)
    expect(page).to_have_url(re.compile(r"granularity=week"))
    page.get_by_label("Metric").select_option("spend")
    expect(page.locator("#trend-chart .chart[data-metric='spend']")).to_have_count(1)
    expect_drawn(page.locator("#trend-chart .chart"))
    expect(page.locator("#trend-chart figcaption")).to_have_text("Spend by week")

    funnel = page.locator("table.funnel")
    expect(funnel.locator("tbody tr")).to_have_count(3)
    expect(funnel.locator("tbody th")).to_have_text(["Impressions", "Clicks", "Conversions"])
    expect(page.locator("#breakdown-channel tbody th")).to_have_text(["Meta Ads", "Google Ads"])
    expect(page.locator("#breakdown-placement tbody th")).to_have_text(["feed", "search"])
    expect(page.locator("#breakdown-device tbody th")).to_have_text(["mobile", "desktop"])
    expect(page.locator("#breakdown-unit tbody tr")).to_have_count(2)
    expect(page.locator("#breakdown-creative tbody tr")).to_have_count(2)
    expect(page.locator(".tiles .tile")).to_have_count(7)
    expect(page.get_by_role("heading", name="Budget and pacing")).to_be_visible()
    expect(page.get_by_role("heading", name="Platforms")).to_be_visible()
    shot(page, "campaign")


def test_dashboard_charts_and_kpi_badges(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Actor, delivered: Campaign
) -> None:
    sign_in(page, member.user)
    expect(page).to_have_url(live_url("/"))
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect_drawn(page.locator("#dashboard-trend"))
    channels = page.locator("#dashboard-channels")
    expect_drawn(channels)
    page.wait_for_function(
        "() => { const c = herald.charts.get(document.querySelector('#dashboard-channels'));"
        " return c && c.categorised; }"
    )
    labels = channels.evaluate("el => herald.charts.get(el).plot.axes[0]._values")
    assert labels == ["Meta Ads", "Google Ads"]

    kpis = page.locator("table.kpis tbody tr")
    expect(kpis).to_have_count(3)
    expect(page.locator("table.kpis .badge")).to_have_text(["On track", "Behind", "On track"])
    expect(page.locator(".badge.kpi-behind")).to_have_text("Behind")
    shot(page, "dashboard")


def test_a_new_organization_sees_where_to_start(
    page: Page, live_url: Any, sign_in: Any, shot: Any, transactional_db: Any
) -> None:
    actor = factories.make_actor(factories.make_organization("Fresh Snacks Ltd."))
    sign_in(page, actor.user)
    expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
    expect(page.get_by_role("link", name="Create a campaign").first).to_be_visible()
    shot(page, "dashboard-empty")
    page.goto(live_url("/campaigns/"))
    expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()


def test_a_viewer_sees_no_action_buttons(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Actor, delivered: Campaign
) -> None:
    viewer = factories.make_actor(member.organization, Role.VIEWER)
    sign_in(page, viewer.user)
    page.goto(live_url("/campaigns/"))
    expect(page.locator("table.campaigns tbody tr")).to_have_count(2)
    for name in ("Pause", "Resume", "Cancel", "Duplicate"):
        expect(page.get_by_role("button", name=re.compile(f"^{name}"))).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
    shot(page, "viewer-list")
    page.goto(live_url(f"/campaigns/{delivered.pk}/"))
    expect(page.get_by_role("group", name="Actions")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^(Pause|Cancel|Duplicate)"))).to_have_count(
        0
    )
    expect_drawn(page.locator("#trend-chart .chart"))


def test_the_platforms_section_follows_a_launch_until_it_settles(
    page: Page, live_url: Any, sign_in: Any, member: Actor, campaign: Campaign
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status="launching")
    CampaignChannel.objects.create(
        organization=campaign.organization, campaign=campaign, channel="google_ads"
    )
    sign_in(page, member.user)
    page.goto(live_url(f"/campaigns/{campaign.pk}/"))
    platforms = page.locator("#platforms")
    expect(platforms).to_have_attribute("hx-trigger", "every 2s")
    expect(platforms).to_contain_text("Launching on the platforms…")
    expect(platforms.locator(".badge")).to_have_text("Pending")
    mark_page(page)
    with page.expect_response(f"**/campaigns/{campaign.pk}/platforms/"):
        pass  # it polls by itself

    # The launch task finishes: the platform is live, the campaign active.
    CampaignChannel.objects.filter(campaign=campaign).update(state="live", external_id="g-777")
    Campaign.objects.filter(pk=campaign.pk).update(status="active")
    expect(platforms.locator(".badge")).to_have_text("Live", timeout=8_000)
    expect(platforms).to_contain_text("g-777")
    expect(platforms).not_to_have_attribute("hx-trigger", "every 2s")
    expect(page.locator("#campaign-header .badge.status-active")).to_have_text("Active")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    assert not_reloaded(page)
    # No more polling once settled.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(2_500)
    assert not [url for url in requests if url.endswith("/platforms/")]
