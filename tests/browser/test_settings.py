"""The Settings page in a real browser: an owner invites a member, changes their role,
creates an API key — shown once, with a working Copy button — and revokes it; a refusal
of the services is shown beside its field. And the Connections page: connecting a
sandbox account, then "Sync now" showing its progress and outcome without a reload.
Screenshots at desktop and mobile widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from herald.accounts.models import ApiKey, Membership
from herald.integrations.endpoints import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from herald.integrations.fake_server import RunningFake, serve
from herald.integrations.models import AdAccount, SyncRun
from herald.integrations.providers.meta_ads.fake import FakeMetaAds
from tests.browser.conftest import MOBILE, settle

pytestmark = pytest.mark.browser


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_owner_invites_changes_a_role_and_manages_an_api_key(
    page, live_url, member, sign_in, shot, browser_errors
):
    # The organization's creator is an owner too: leave ``member`` the only one.
    Membership.objects.filter(organization=member.organization, role="owner").exclude(
        user=member.user
    ).delete()
    sign_in(page, member.user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Tasty Chips Co.")
    shot(page, "settings")

    # Invite: the membership (and the account) exist at once.
    page.get_by_label("Email", exact=True).fill("priya@tastychips.co")
    page.get_by_label("Role", exact=True).select_option("editor")
    with page.expect_navigation():
        page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("priya@tastychips.co joined as Editor.")).to_be_visible()
    priya = Membership.objects.get(user__email="priya@tastychips.co")
    assert priya.role == "editor"

    # Change her role.
    page.get_by_label("Role of priya@tastychips.co").select_option("admin")
    with page.expect_navigation():
        page.get_by_role("button", name="Change role of priya@tastychips.co").click()
    expect(page.get_by_text("priya@tastychips.co is now Admin.")).to_be_visible()
    priya.refresh_from_db()
    assert priya.role == "admin"

    # The last owner stays: the service's refusal appears beside the owner's role.
    owner_email = member.user.email
    page.get_by_label(f"Role of {owner_email}").select_option("viewer")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Change role of {owner_email}").click()
    owner_role = page.get_by_label(f"Role of {owner_email}")
    expect(owner_role).to_have_attribute("aria-invalid", "true")
    expect(owner_role).to_be_focused()
    expect(owner_role).to_have_value("owner")  # as it still is
    expect(page.get_by_text("The organization must keep at least one owner.")).to_be_visible()
    shot(page, "last-owner-refused")
    # The page answered 409 on purpose; Chromium logs that status as a console error.
    browser_errors[:] = [e for e in browser_errors if "409" not in e.text]

    # Create a key: shown once, with a Copy button that really copies it.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url(""))
    page.get_by_label("Key name").fill("Nightly report")
    with page.expect_navigation():
        page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Your new key “Nightly report”")).to_be_visible()
    expect(page.get_by_text("Copy it now: you won't see it again.")).to_be_visible()
    key_field = page.get_by_label("API key", exact=True)
    expect(key_field).to_be_focused()
    plaintext = key_field.input_value()
    key = ApiKey.objects.get(name="Nightly report")
    assert plaintext.startswith(f"{key.prefix}_")
    copy = page.get_by_role("button", name="Copy", exact=True)
    expect(copy).to_be_visible()
    copy.click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    shot(page, "new-key")
    page.set_viewport_size(MOBILE)
    settle(page)
    assert no_horizontal_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Back on the page, the key is listed by its prefix only.
    page.goto(live_url("/settings/"))
    expect(page.get_by_label("API key", exact=True)).to_have_count(0)
    assert plaintext not in page.content()
    row = page.get_by_role("row").filter(has_text="Nightly report")
    expect(row).to_contain_text(key.prefix)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("never")

    # Revoke it (a confirmation first, keyboard reachable: a <details> disclosure).
    summary = row.locator("summary")
    expect(summary).to_have_text("Revoke Nightly report…")
    summary.focus()
    page.keyboard.press("Enter")
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke Nightly report").click()
    expect(page.get_by_text(re.compile(r"The key Nightly report .* is revoked"))).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Nightly report")).to_contain_text("Revoked")
    key.refresh_from_db()
    assert key.revoked_at is not None
    shot(page, "revoked")
    page.set_viewport_size(MOBILE)
    settle(page)
    assert no_horizontal_scroll(page)

    assert browser_errors == []


def test_keyboard_focus_is_visible_on_the_settings_page(page, live_url, member, sign_in):
    sign_in(page, member.user)
    page.goto(live_url("/settings/"))
    page.get_by_label("Key name").focus()
    page.keyboard.press("Tab")  # on to "Create key", by keyboard
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.textContent.trim(), s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused == ["Create key", "solid", "3px"]


@pytest.fixture
def meta_sandbox(settings: Any, live_server: Any) -> Iterator[RunningFake]:
    running = serve(
        FakeMetaAds.for_sandbox(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    settings.HERALD_SANDBOX_META_ADS_URL = running.url
    settings.HERALD_PUBLIC_URL = live_server.url  # where the platform sends people back
    settings.HERALD_PLATFORM_TIMEOUT_SECONDS = 2.0
    yield running
    running.stop()


def test_connect_a_sandbox_account_then_sync_without_a_reload(
    page, live_url, member, sign_in, shot, browser_errors, meta_sandbox
):
    sign_in(page, member.user)
    page.goto(live_url("/connections/"))
    expect(page.get_by_text("No platform connected yet.")).to_be_visible()
    shot(page, "empty")

    # The OAuth round trip, against the sandbox fake.
    # (Through htmx: a form POST redirected to the platform would break the CSP's
    # form-action 'self'.)
    page.get_by_role("button", name="Connect a sandbox Meta Ads account").click()
    expect(page.get_by_role("heading", name="Connected meta_ads")).to_be_visible()
    page.goto(live_url("/connections/"))
    card = page.locator("article.connection")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Connected")
    account = AdAccount.objects.get(organization=member.organization)
    expect(card).to_contain_text(account.external_id)
    expect(card).to_contain_text("Last sync")

    # Sync now: htmx swaps the card in place; the page is not reloaded.
    page.evaluate("window.notReloaded = true")
    with page.expect_response(re.compile(r"/sync/$")) as answer:
        card.get_by_role("button", name="Sync now Meta Ads").click()
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(card.locator(".sync-result")).to_have_text(re.compile("Synced: 1 ad account found."))
    expect(page.locator("#connections-live")).to_have_text("Synced: 1 ad account found.")
    assert page.evaluate("window.notReloaded") is True
    assert SyncRun.objects.filter(status="succeeded").count() == 2
    expect(page.locator("#recent-syncs tbody tr")).to_have_count(2)
    # Focus stays on the button that was pressed (same id in the new card).
    expect(card.get_by_role("button", name="Sync now Meta Ads")).to_be_focused()
    shot(page, "synced")
    page.set_viewport_size(MOBILE)
    settle(page)
    assert no_horizontal_scroll(page)

    assert browser_errors == []
