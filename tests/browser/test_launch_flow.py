"""A campaign launched and paused from the browser, on the sandbox Meta account: the
newcomer's path from the README's first command, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from herald.campaigns.models import Campaign, CampaignChannel
from herald.integrations.endpoints import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from herald.integrations.fake_server import RunningFake, serve
from herald.integrations.providers.meta_ads.fake import FakeMetaAds
from herald.testing import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def meta_sandbox(settings: Any, live_server: Any) -> Iterator[RunningFake]:
    running = serve(
        FakeMetaAds.for_sandbox(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    settings.HERALD_SANDBOX_META_ADS_URL = running.url
    settings.HERALD_PUBLIC_URL = live_server.url
    settings.HERALD_PLATFORM_TIMEOUT_SECONDS = 5.0
    yield running
    running.stop()


def test_launch_and_pause_on_the_sandbox_from_the_campaign_page(
    page: Page,
    live_url: Any,
    sign_in: Any,
    shot: Any,
    member: Any,
    meta_sandbox: RunningFake,
    run_tasks: Any,
) -> None:
    campaign = factories.make_launchable_campaign(
        member, channels=("meta_ads",), name="Tasty Chips Feed Launch"
    )
    sign_in(page, member.user)

    # Connect the sandbox Meta account (the OAuth round trip against the fake).
    page.goto(live_url("/connections/"))
    page.get_by_role("button", name="Connect a sandbox Meta Ads account").click()
    expect(page.get_by_role("heading", name="Connected meta_ads")).to_be_visible()

    # Choose it for the campaign and launch.
    page.goto(live_url(f"/campaigns/{campaign.pk}/"))
    sandbox_account = "Tasty Chips Sandbox (act_1122334455) · sandbox"
    page.get_by_label("Meta Ads account").select_option(label=sandbox_account)
    page.get_by_role("button", name="Save accounts").click()
    expect(page.get_by_text("Ad accounts saved.")).to_be_visible()
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#platforms")).to_contain_text("Launching on the platforms", timeout=8_000)
    shot(page, "launching")

    # The worker pushes it to the platform; the page follows without a reload.
    run_tasks()
    platforms = page.locator("#platforms")
    expect(platforms.locator(".badge")).to_have_text("Live", timeout=10_000)
    state = CampaignChannel.objects.get(campaign=campaign, channel="meta_ads")
    expect(platforms).to_contain_text(state.external_id)
    fake: Any = meta_sandbox.app
    assert [c["status"] for c in fake.objects("campaign")] == ["ACTIVE"]
    shot(page, "live")

    # Pause it: the platform follows.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-header")).to_contain_text("Paused", timeout=8_000)
    run_tasks()
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    assert [c["status"] for c in fake.objects("campaign")] == ["PAUSED"]
    shot(page, "paused")
