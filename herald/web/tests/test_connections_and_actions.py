"""The Connections page and the campaign page's actions and account choice: the same
services as the API, with refusals shown to the person."""

from typing import Any

import pytest
from django.test import Client

from herald.campaigns.models import Campaign
from herald.integrations.models import CampaignAdAccount, OAuthState
from herald.testing.factories import make_campaign, make_connection, make_launchable_campaign

pytestmark = pytest.mark.django_db


def signed_in(actor: Any) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def test_connections_page_lists_connections_and_accounts(owner: Any, other_org: Any) -> None:
    account = make_connection(owner.organization, "google_ads")
    theirs = make_connection(other_org, "meta_ads")
    response = signed_in(owner).get("/connections/")
    assert response.status_code == 200
    assert account.external_id.encode() in response.content
    assert theirs.external_id.encode() not in response.content
    assert b"Connect a sandbox Google Ads account" in response.content


def test_connecting_sends_the_browser_to_the_platform_with_a_fresh_state(owner: Any) -> None:
    response = signed_in(owner).post("/connections/", {"provider": "meta_ads", "sandbox": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://127.0.0.1:8102/v25.0/dialog/oauth?")
    state = OAuthState.objects.get()
    assert (state.provider, state.is_sandbox, state.user_id) == ("meta_ads", True, owner.user.pk)
    assert state.session_key_hash != ""


def test_a_viewer_sees_connections_but_cannot_connect(viewer: Any) -> None:
    client = signed_in(viewer)
    page = client.get("/connections/")
    assert page.status_code == 200
    assert b"Connect a sandbox" not in page.content
    assert client.post("/connections/", {"provider": "meta_ads"}).status_code == 403
    assert OAuthState.objects.count() == 0


def test_unconfigured_real_provider_is_explained(owner: Any) -> None:
    client = signed_in(owner)
    response = client.post("/connections/", {"provider": "google_ads"}, follow=True)
    assert b"Google Ads is not configured on this Herald" in response.content


def test_campaign_page_chooses_accounts_and_runs_actions(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    account = make_connection(owner.organization, "meta_ads")
    client = signed_in(owner)

    page = client.get(f"/campaigns/{campaign.pk}/")
    assert b'<select id="account-meta_ads" name="meta_ads">' in page.content
    saved = client.post(f"/campaigns/{campaign.pk}/accounts/", {"meta_ads": str(account.pk)})
    assert saved.status_code == 302
    assert CampaignAdAccount.objects.get(campaign=campaign).ad_account_id == account.pk

    cancelled = client.post(
        f"/campaigns/{campaign.pk}/actions/cancel/", {"reason": "Wrong flavour"}, follow=True
    )
    assert b"Cancel: done." in cancelled.content
    campaign.refresh_from_db()
    assert (campaign.status, campaign.cancel_reason) == ("cancelled", "Wrong flavour")


def test_a_refused_action_shows_why_and_changes_nothing(owner: Any) -> None:
    campaign = make_campaign(owner)
    response = signed_in(owner).post(f"/campaigns/{campaign.pk}/actions/pause/", follow=True)
    assert b"Cannot pause a campaign that is draft" in response.content
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_viewers_cannot_run_actions(viewer: Any, owner: Any) -> None:
    campaign = make_campaign(owner)
    response = signed_in(viewer).post(f"/campaigns/{campaign.pk}/actions/cancel/")
    assert response.status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_unknown_actions_and_other_organizations_campaigns_are_404(
    owner: Any, other_org: Any
) -> None:
    from herald.testing.factories import make_actor

    mine = make_campaign(owner)
    theirs = make_campaign(make_actor(other_org))
    client = signed_in(owner)
    assert client.post(f"/campaigns/{mine.pk}/actions/explode/").status_code == 404
    assert client.post(f"/campaigns/{theirs.pk}/actions/cancel/").status_code == 404
    assert Campaign.objects.get(pk=theirs.pk).status == "draft"
