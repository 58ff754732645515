"""Signing in through the real form lands on the dashboard, one click from the campaign
list, under the CSP, with htmx and Alpine running and the mobile navigation folding
behind its Menu button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import MOBILE

pytestmark = pytest.mark.browser


def test_sign_in_lands_on_the_campaign_list(page, live_url, member, sign_in, shot, browser_errors):
    response = page.goto(live_url("/"))
    assert response is not None
    assert "/login/" in page.url
    expect(page.get_by_role("heading", name="Sign in to Herald")).to_be_visible()
    shot(page, "login")

    sign_in(page, member.user)

    assert page.url == live_url("/")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page).to_have_url(live_url("/campaigns/"))
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Spicy Jalapeño Chips")).to_be_visible()
    expect(page.get_by_role("combobox", name="Organization")).to_have_value(
        str(member.organization.pk)
    )

    # The Content Security Policy is sent, and nothing on the page broke it.
    response = page.reload()
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe" not in policy

    # The vendored libraries ran (a CSP block would have left them undefined).
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.version") == "2.0.11"
    assert page.evaluate("typeof Alpine") == "object"
    assert page.evaluate("typeof herald.renderCharts") == "function"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("document.adoptedStyleSheets.length") == 0
    # htmx requests carry the CSRF token, inherited from <body>.
    assert page.locator("body").get_attribute("hx-headers")

    toggle = page.get_by_role("button", name="Menu")
    navigation = page.get_by_role("navigation", name="Main")
    # Desktop: the navigation is always shown and the toggle is not.
    expect(toggle).to_be_hidden()
    expect(navigation).to_be_visible()
    shot(page, "campaigns")

    # Mobile: the navigation folds behind the Menu button (an Alpine disclosure).
    page.set_viewport_size(MOBILE)
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(navigation).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(navigation).to_be_visible()
    shot(page, "menu-open", sizes=("mobile",))
    page.keyboard.press("Escape")
    expect(navigation).to_be_hidden()
    toggle.click()
    navigation.get_by_role("link", name="Connections").click()
    expect(page.get_by_role("heading", name="Connections", level=1)).to_be_visible()

    assert browser_errors == []
