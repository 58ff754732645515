"""The Tasty Chips campaign built through the wizard in a real browser: both previews
follow every keystroke before the server answers, then the server's findings arrive;
the image is uploaded; the review lists the findings and a refused launch says why.
Screenshots of every step at desktop and mobile widths land in artifacts/screenshots."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Error, Page, Route, expect

from herald.campaigns.models import AdCreative, Audience, Campaign, CampaignBudget
from herald.testing.factories import make_connection
from tests.browser.conftest import SCREENSHOTS_DIR

pytestmark = pytest.mark.browser

HEADLINE = "New Spicy Jalapeño Chips | 20% Off"
DESCRIPTION = "Made with organic potatoes and real jalapeños. Crunch into the heat today!"
TOO_LONG = "Headline 1 is 34 characters; Google Ads allows 30. It will be rejected."


def continue_to(page: Page, heading: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


class HeldPreviews:
    """Holds the studio's preview requests, so what the page shows meanwhile can only
    come from the browser."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.routes: list[Route] = []
        page.route("**/studio/preview/", self.hold)

    def hold(self, route: Route) -> None:
        self.routes.append(route)

    def wait_for_one(self) -> None:
        for _ in range(50):
            if self.routes:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError("the studio never asked the server for a preview")

    def release(self) -> None:
        self.page.unroute("**/studio/preview/", self.hold)
        for route in self.routes:
            # htmx may have replaced (aborted) an older request: nothing to answer.
            with contextlib.suppress(Error):
                route.continue_()


def test_build_the_tasty_chips_campaign(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Any, tmp_path: Path
) -> None:
    google = make_connection(member.organization, "google_ads")
    meta = make_connection(member.organization, "meta_ads")
    sign_in(page, member.user)

    # 1. Objective: the first save creates the draft.
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="Step 1 of 6: Objective")).to_be_visible()
    page.get_by_label("Campaign name").fill("Spicy Jalapeño Chips launch")
    page.get_by_label("Sales").check()
    shot(page, "1-objective")
    page.get_by_role("button", name="Create draft and continue").click()
    expect(
        page.get_by_role("heading", name="Step 2 of 6: Channels and ad accounts")
    ).to_be_visible()
    campaign = Campaign.objects.get(name="Spicy Jalapeño Chips launch")
    assert campaign.status == "draft"
    assert page.url == live_url(f"/campaigns/{campaign.pk}/build/channels/")

    # 2. Channels and their ad accounts.
    page.get_by_role("checkbox", name=re.compile(r"^Google Ads")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Meta Ads")).check()
    page.get_by_label("Google Ads ad account").select_option(str(google.pk))
    page.get_by_label("Meta Ads ad account").select_option(str(meta.pk))
    shot(page, "2-channels")
    continue_to(page, "Step 3 of 6: Audience")

    # 3. A new audience: the United States, 18 to 45.
    page.get_by_label("Create a new audience").check()
    expect(page.get_by_label("Saved audience", exact=True)).to_be_hidden()
    page.get_by_label("Audience name").fill("US 18–45")
    page.get_by_label("Countries").fill("US")
    page.get_by_label("From").fill("18")
    page.get_by_label("To", exact=True).fill("45")
    shot(page, "3-audience")
    continue_to(page, "Step 4 of 6: Budget and dates")
    assert Audience.objects.get(name="US 18–45").rules["age"] == {"min": 18, "max": 45}

    # 4. A lifetime budget of 3000, 1200 to Google and 1800 to Meta.
    page.get_by_label("Lifetime").check()
    page.get_by_label("Amount (USD)").fill("3000")
    page.get_by_label("Start", exact=True).fill("2031-03-01T09:00")
    page.get_by_label("End", exact=True).fill("2031-03-31T21:00")
    page.get_by_role("textbox", name="Google Ads").fill("1200")
    page.get_by_role("textbox", name="Meta Ads").fill("1800")
    expect(page.locator("[data-split-status]")).to_have_text(
        "Allocated $3,000.00 of $3,000.00: $0.00 not allocated."
    )
    shot(page, "4-budget")
    continue_to(page, "Step 5 of 6: Creative Studio")
    budget = CampaignBudget.objects.get(campaign=campaign)
    assert (budget.kind, str(budget.amount)) == ("lifetime", "3000.000")

    # 5. The Creative Studio. While the server's answers are held back, both previews
    #    and the counters still follow every batch of keystrokes.
    search = page.locator(".preview-panel[data-channel=google_ads]")
    feed = page.locator(".preview-panel[data-channel=meta_ads]")
    held = HeldPreviews(page)
    page.get_by_label("Destination URL").fill("https://www.tastychips.co/spicy")
    page.get_by_label("Display path 1").fill("spicy")
    headline = page.get_by_label("Headline 1", exact=True)
    for typed_so_far in ("New Spicy", "New Spicy Jalapeño Chips", HEADLINE):
        headline.press_sequentially(typed_so_far[len(headline.input_value()) :])
        expect(search.locator(".gs-headline")).to_have_text(typed_so_far)
        expect(feed.locator(".fb-headline")).to_have_text(typed_so_far)
    counters = page.locator("#counters-headline_0")
    expect(counters.locator(".counter").first).to_have_text("Google Ads 34/30 — too long")
    expect(counters.locator(".counter").first).to_have_class("counter is-over")
    expect(counters.locator(".counter").nth(1)).to_have_text("Meta Ads 34/40")

    description = page.get_by_label("Description 1", exact=True)
    description.press_sequentially("Made with organic potatoes")
    expect(search.locator(".gs-description")).to_have_text("Made with organic potatoes")
    description.press_sequentially(DESCRIPTION[len("Made with organic potatoes") :])
    expect(search.locator(".gs-description")).to_have_text(DESCRIPTION)
    primary = page.get_by_label("Primary text")
    primary.press_sequentially("Made with organic")
    expect(feed.locator(".fb-text")).to_have_text("Made with organic")
    primary.fill(DESCRIPTION)
    expect(feed.locator(".fb-text")).to_have_text(DESCRIPTION)
    page.get_by_label("Call to action").select_option(label="Shop Now")
    expect(feed.locator(".fb-cta")).to_have_text("Shop Now")
    # None of that came from the server: its previews are held back (the debounced
    # request is on its way now), and the findings still describe the empty form the
    # page was rendered with.
    held.wait_for_one()
    expect(search.locator(".gs-headline")).to_have_text(HEADLINE)
    expect(feed.locator(".fb-headline")).to_have_text(HEADLINE)
    expect(search.locator("[data-code=headline_too_long]")).to_have_count(0)
    expect(search.locator(".gs-url")).to_have_text("www.example.com")

    # The server's preview and findings follow once it may answer.
    held.release()
    page.get_by_label("Display path 1").press("End")
    page.get_by_label("Display path 1").press_sequentially("!")
    page.get_by_label("Display path 1").press("Backspace")
    expect(search.locator("[data-code=headline_too_long]")).to_have_text(f"Rejected: {TOO_LONG}")
    expect(page.locator("#findings-headline_0")).to_contain_text(TOO_LONG)
    expect(search.locator(".gs-url")).to_have_text("www.tastychips.co/spicy")
    expect(search.locator(".gs-badge")).to_have_text("Ad")
    expect(search.locator("img")).to_have_count(0)
    expect(feed.locator(".fb-page")).to_have_text("Tasty Chips Co.")
    expect(feed.locator(".fb-avatar")).to_have_text("TC")
    expect(feed.locator(".fb-sponsored")).to_have_text("Sponsored")
    expect(feed.locator(".fb-domain")).to_have_text("tastychips.co")
    expect(feed.locator(".fb-cta")).to_have_text("Shop Now")
    expect(feed.locator("[data-code=image_required]")).to_have_count(1)

    # The image: a JPEG made here, given to the drop zone's file input.
    image_path = tmp_path / "chips_bag_spicy.jpg"
    Image.new("RGB", (1200, 628), (214, 64, 32)).save(image_path, "JPEG")
    page.locator("#id_file").set_input_files(image_path)
    expect(page.locator("#media-slot figcaption")).to_contain_text(
        "chips_bag_spicy.jpg · 1200×628 px"
    )
    expect(feed.locator(".fb-media img")).to_have_attribute("src", re.compile(r"^/media/"))
    expect(feed.locator("[data-code=image_required]")).to_have_count(0)
    expect(search.locator("[data-code=image_not_supported]")).to_have_count(1)
    expect(search.locator("img")).to_have_count(0)  # the search ad never shows it
    page.evaluate("window.scrollTo(0, 0)")  # the sticky previews sit at the top
    shot(page, "5-studio")

    # Unticking a channel under "Save to" takes it out of the preview.
    page.get_by_label("Meta Ads ad set").uncheck()
    expect(feed).to_have_count(0)
    expect(page.locator(".preview-kept")).to_contain_text("Meta Ads is not ticked")
    page.get_by_label("Meta Ads ad set").check()
    expect(feed.locator(".fb-cta")).to_have_text("Shop Now")

    # One platform at a time.
    page.get_by_role("radio", name="Meta Feed").check()
    expect(search).to_be_hidden()
    expect(feed).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky previews sit at the top
    shot(page, "5-studio-meta-feed")
    page.get_by_role("radio", name="Google Search").check()
    expect(feed).to_be_hidden()
    expect(search).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky previews sit at the top
    shot(page, "5-studio-google-search", sizes=("desktop",))
    page.get_by_role("radio", name="All").check()
    expect(search).to_be_visible()

    continue_to(page, "Step 6 of 6: Review")
    creatives = AdCreative.objects.filter(unit__campaign=campaign)
    assert {c.unit.channel: c.headlines for c in creatives} == {
        "google_ads": [HEADLINE],
        "meta_ads": [HEADLINE],
    }
    assert all(c.media is not None and c.call_to_action == "SHOP_NOW" for c in creatives)

    # 6. Review: every finding, then a launch the checks refuse.
    checks = page.locator("ul.checks")
    expect(checks).to_contain_text(TOO_LONG)
    expect(checks).to_contain_text("Fix in Creative")
    expect(page.locator(".review-previews .fb-domain")).to_have_text("tastychips.co")
    expect(page.get_by_role("button", name="Launch now")).to_be_visible()
    shot(page, "6-review")
    page.get_by_role("button", name="Launch now").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Not done: The campaign cannot launch yet")
    expect(refusal).to_contain_text(TOO_LONG)
    shot(page, "6-review-refused")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"

    # Back to step 3: what was entered is still there.
    page.get_by_role("link", name=re.compile(r"Audience")).first.click()
    expect(page.get_by_label("Saved audience", exact=True)).to_have_value(
        str(Audience.objects.get(name="US 18–45").pk)
    )


def test_studio_on_its_own_page_works_by_keyboard(
    page: Page, live_url: Any, sign_in: Any, shot: Any, member: Any, campaign: Campaign
) -> None:
    sign_in(page, member.user)
    page.goto(live_url(f"/campaigns/{campaign.pk}/studio/"))
    expect(page.get_by_role("heading", name=re.compile("Creative Studio"))).to_be_visible()
    # The factory's Google and Meta ads differ: the page says so and saves only one.
    expect(page.locator(".notice").first).to_contain_text("The channels show different ads.")
    headline = page.get_by_label("Headline 1", exact=True)
    headline.focus()
    expect(headline).to_be_focused()
    headline.press("Tab")
    expect(page.get_by_label("Headline 2", exact=True)).to_be_focused()

    # Meta's ad, then an image dropped on the drop zone (a PNG drawn in the page).
    page.get_by_role("link", name="edit the Meta Ads ad").click()
    expect(page.get_by_label("Headline 1", exact=True)).to_have_value(
        "New Spicy Jalapeño Chips | 20% Off"
    )
    page.locator(".dropzone").evaluate(
        """async zone => {
            const canvas = document.createElement("canvas");
            canvas.width = 600; canvas.height = 600;
            canvas.getContext("2d").fillRect(0, 0, 600, 600);
            const blob = await new Promise(done => canvas.toBlob(done, "image/png"));
            const files = new DataTransfer();
            files.items.add(new File([blob], "dropped.png", {type: "image/png"}));
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {
                    dataTransfer: files, bubbles: true, cancelable: true,
                }));
            }
        }"""
    )
    expect(page.locator("#media-slot figcaption")).to_contain_text("dropped.png · 600×600 px")
    feed = page.locator(".preview-panel[data-channel=meta_ads]")
    expect(feed.locator(".fb-media img")).to_have_attribute("src", re.compile(r"^/media/"))
    expect(page.locator(".dropzone")).not_to_have_class(re.compile("is-dragging"))
    shot(page, "studio")


def test_the_studio_works_without_javascript(
    browser: Any, live_url: Any, sign_in: Any, member: Any, tmp_path: Path
) -> None:
    """Reading and posting need no script: the server renders the previews and the
    findings, a button asks for a fresh preview and another uploads the image."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, member.user)
        page.goto(live_url("/campaigns/new/"))
        page.get_by_label("Campaign name").fill("No-script chips")
        page.get_by_label("Traffic").check()
        page.get_by_role("button", name="Create draft and continue").click()
        page.get_by_role("checkbox", name=re.compile(r"^Meta Ads")).check()
        page.get_by_role("button", name="Save and continue").click()
        campaign = Campaign.objects.get(name="No-script chips")
        page.goto(live_url(f"/campaigns/{campaign.pk}/build/creative/"))

        page.get_by_label("Destination URL").fill("https://www.tastychips.co/spicy")
        page.get_by_label("Headline 1", exact=True).fill(HEADLINE)
        page.get_by_label("Primary text").fill(DESCRIPTION)
        page.get_by_label("Call to action").select_option(label="Shop Now")
        page.get_by_role("button", name="Update preview").click()
        feed = page.locator(".preview-panel[data-channel=meta_ads]")
        expect(feed.locator(".fb-headline")).to_have_text(HEADLINE)
        expect(feed.locator(".fb-domain")).to_have_text("tastychips.co")
        expect(feed.locator(".fb-cta")).to_have_text("Shop Now")
        expect(feed.locator("[data-code=image_required]")).to_have_count(1)

        image_path = tmp_path / "chips_bag_spicy.jpg"
        Image.new("RGB", (1080, 1080), (214, 64, 32)).save(image_path, "JPEG")
        page.get_by_label(re.compile("Drop an image here")).set_input_files(image_path)
        page.get_by_role("button", name="Upload image").click()
        expect(page.locator("#media-slot figcaption")).to_contain_text("chips_bag_spicy.jpg")
        expect(feed.locator("[data-code=image_required]")).to_have_count(0)
        expect(page.get_by_label("Headline 1", exact=True)).to_have_value(HEADLINE)
        # shot() waits for animation frames, which needs scripts: take it directly.
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(
                SCREENSHOTS_DIR / "test_the_studio_works_without_javascript-studio-desktop.png"
            ),
            full_page=True,
        )

        page.get_by_role("button", name="Save and continue").click()
        expect(page.get_by_role("heading", name="Step 6 of 6: Review")).to_be_visible()
        meta_ad = AdCreative.objects.get(unit__campaign=campaign)
        assert (meta_ad.headlines, meta_ad.media is not None) == ([HEADLINE], True)
    finally:
        context.close()
