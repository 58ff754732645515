"""A viewer in a real browser: no launch or edit controls on the campaign page, only
their own API keys on the settings page, and a hand-made POST to an action URL — with a
valid CSRF token, so only the role stops it — answered 403 with nothing changed."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page, expect

from herald.accounts.choices import Role
from herald.accounts.models import Membership, Organization
from herald.campaigns.models import Campaign
from herald.testing import factories

pytestmark = pytest.mark.browser

# The buttons a viewer must not be offered, and the links that lead to editing.
CHANGING = re.compile(
    r"\b(launch|schedule|edit|save|pause|resume|cancel|retry|complete|delete|invite|"
    r"change role|remove|connect|reconnect|disconnect|sync|revoke|create campaign)\b",
    re.IGNORECASE,
)
EDITING_LINK = re.compile(r"\b(edit|new campaign|create|launch|duplicate)\b", re.IGNORECASE)


def offered_controls(page: Page) -> list[str]:
    """The buttons and editing links a viewer should not see in the page's content."""
    main = page.get_by_role("main")
    buttons = [b.inner_text() for b in main.get_by_role("button").all() if b.is_visible()]
    links = [a.inner_text() for a in main.get_by_role("link").all()]
    return [name for name in buttons if CHANGING.search(name)] + [
        name for name in links if EDITING_LINK.search(name)
    ]


def csrf_post(page: Page, url: str, form: dict[str, str | float | bool]) -> tuple[int, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(url, form=form, headers={"X-CSRFToken": token})
    return response.status, response.text()


def test_a_viewer_sees_no_launch_or_edit_controls_and_is_refused(
    page, live_url, member, campaign, sign_in, shot, browser_errors
):
    viewer = factories.make_actor(member.organization, Role.VIEWER)
    sign_in(page, viewer.user)
    expect(page.locator(".role-badge")).to_have_text("viewer")

    page.goto(live_url(f"/campaigns/{campaign.pk}/"))
    expect(page.get_by_role("heading", name=campaign.name, level=1)).to_be_visible()
    assert offered_controls(page) == []
    shot(page, "campaign")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_text("Only admins and owners change these details.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_count(0)
    assert offered_controls(page) == []
    # What a viewer may do: read the members, manage their own keys.
    expect(page.get_by_role("cell", name=member.user.email)).to_be_visible()
    expect(page.get_by_role("button", name="Create key")).to_be_visible()
    shot(page, "settings")

    # The server refuses what the page did not offer, with the role as the reason.
    status, body = csrf_post(
        page, live_url(reverse("web:campaign_action", args=[campaign.pk, "launch"])), {}
    )
    assert status == 403
    assert "role" in body.lower()
    assert Campaign.objects.get(pk=campaign.pk).status == campaign.status

    status, _ = csrf_post(
        page, live_url("/settings/members/"), {"email": "mole@example.com", "role": "owner"}
    )
    assert status == 403
    assert not get_user_model().objects.filter(email="mole@example.com").exists()

    owner = Membership.objects.get(user=member.user)
    status, _ = csrf_post(page, live_url(f"/settings/members/{owner.pk}/role/"), {"role": "viewer"})
    assert status == 403
    owner.refresh_from_db()
    assert owner.role == "owner"

    status, _ = csrf_post(
        page, live_url("/settings/organization/"), {"name": "Mine now", "time_zone": "UTC"}
    )
    assert status == 403
    assert Organization.objects.get(pk=member.organization.pk).name == "Tasty Chips Co."

    assert browser_errors == []
