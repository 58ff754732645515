"""The Settings page (organization, members and roles, API keys) and the Connections
page's "Sync now": each role sees exactly the controls it may use, the server refuses
the rest with a 403 and changes nothing, and every refusal of the services is shown
beside the field it concerns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from herald.accounts.actors import Actor
from herald.accounts.choices import Role
from herald.accounts.models import ApiKey, Membership, Organization
from herald.accounts.services import api_key_create
from herald.integrations.endpoints import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from herald.integrations.fake_server import RunningFake, serve
from herald.integrations.models import AdAccount, Connection, SyncRun
from herald.integrations.providers.meta_ads import client as meta_client
from herald.integrations.providers.meta_ads.fake import FakeMetaAds
from herald.testing.factories import make_actor, make_campaign, make_connection, make_user

pytestmark = pytest.mark.django_db


def signed_in(actor: Actor) -> Client:
    client = Client()
    assert actor.user is not None
    client.force_login(actor.user)
    return client


def membership_of(actor: Actor) -> Membership:
    return Membership.objects.get(user=actor.user, organization=actor.organization)


def only_owner(owner: Actor) -> Membership:
    """Leave ``owner`` the organization's only owner (its creator is one too)."""
    Membership.objects.filter(organization=owner.organization, role=Role.OWNER).exclude(
        user=owner.user
    ).delete()
    return membership_of(owner)


def key_of(actor: Actor, name: str = "script") -> ApiKey:
    assert actor.user is not None
    return api_key_create(user=actor.user, organization=actor.organization, name=name)[0]


def text(response: Any) -> str:
    return str(response.content.decode())


def error_beside(html: str, element_id: str) -> str:
    """The message shown beside the field ``element_id`` (its ``-error`` paragraph)."""
    match = re.search(rf'<p class="field-error" id="{element_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error beside {element_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("!", "", 1).strip()


@pytest.fixture
def admin(org: Organization) -> Actor:
    return make_actor(org, Role.ADMIN)


# ---- What each role sees ---------------------------------------------------------------


@pytest.fixture
def team(owner: Actor, admin: Actor, editor: Actor, viewer: Actor) -> dict[str, Any]:
    return {
        "owner": owner,
        "admin": admin,
        "editor": editor,
        "viewer": viewer,
        "owner_key": key_of(owner, "owner's key"),
        "viewer_key": key_of(viewer, "viewer's key"),
    }


# control → (owner, admin, editor, viewer)
CONTROLS = {
    "edit organization": (True, True, False, False),
    "delete organization": (True, False, False, False),
    "invite": (True, True, False, False),
    "grant owner": (True, False, False, False),
    "change the owner's role": (True, False, False, False),
    "change the viewer's role": (True, True, False, False),
    "remove the viewer": (True, True, False, False),
    "create a key": (True, True, True, True),
    "see the owner's key": (True, True, False, False),
    "revoke the owner's key": (True, True, False, False),
    "revoke the viewer's key": (True, True, False, True),
}


def controls_on(html: str, team: dict[str, Any]) -> dict[str, bool]:
    owner_id = membership_of(team["owner"]).pk
    viewer_id = membership_of(team["viewer"]).pk
    return {
        "edit organization": 'action="/settings/organization/"' in html,
        "delete organization": 'action="/settings/organization/delete/"' in html,
        "invite": 'action="/settings/members/"' in html,
        "grant owner": '<option value="owner"' in html,
        "change the owner's role": f'action="/settings/members/{owner_id}/role/"' in html,
        "change the viewer's role": f'action="/settings/members/{viewer_id}/role/"' in html,
        "remove the viewer": f'action="/settings/members/{viewer_id}/remove/"' in html,
        "create a key": 'action="/settings/api-keys/"' in html,
        "see the owner's key": team["owner_key"].prefix in html,
        "revoke the owner's key": f"/settings/api-keys/{team['owner_key'].pk}/revoke/" in html,
        "revoke the viewer's key": f"/settings/api-keys/{team['viewer_key'].pk}/revoke/" in html,
    }


@pytest.mark.parametrize(
    ("role", "column"), [("owner", 0), ("admin", 1), ("editor", 2), ("viewer", 3)]
)
def test_each_role_sees_exactly_the_controls_it_may_use(
    team: dict[str, Any], role: str, column: int
) -> None:
    response = signed_in(team[role]).get("/settings/")
    assert response.status_code == 200
    html = text(response)
    expected = {control: allowed[column] for control, allowed in CONTROLS.items()}
    assert controls_on(html, team) == expected
    # Everyone reads the details and the member list; the navigation links here.
    assert "Tasty Chips Co." in html
    assert team["editor"].user.email in html
    assert 'href="/settings/" aria-current="page">Settings</a>' in html
    if column >= 2:
        assert "Only admins and owners change these details." in html
        assert 'name="default_currency"' not in html


def test_an_admin_sees_why_an_owner_row_has_no_controls(team: dict[str, Any]) -> None:
    html = text(signed_in(team["admin"]).get("/settings/"))
    assert "Only an owner changes an owner." in html


def test_every_settings_input_has_a_label(team: dict[str, Any]) -> None:
    html = text(signed_in(team["owner"]).get("/settings/"))
    ids = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    inputs = re.findall(r"<(?:input|select)(?![^>]*type=\"hidden\")[^>]*>", html)
    assert len(ids) == len(inputs) > 5
    for element_id in ids:
        assert f'<label for="{element_id}"' in html, element_id


# ---- Organization details ----------------------------------------------------------------


def test_an_admin_updates_the_organization(admin: Actor) -> None:
    response = signed_in(admin).post(
        "/settings/organization/",
        {"name": "Tasty Chips Ltd.", "default_currency": "eur", "time_zone": "Europe/Paris"},
        follow=True,
    )
    assert "Organization details saved." in text(response)
    organization = Organization.objects.get(pk=admin.organization.pk)
    assert (organization.name, organization.default_currency, organization.time_zone) == (
        "Tasty Chips Ltd.",
        "EUR",
        "Europe/Paris",
    )


@pytest.mark.parametrize(
    ("values", "field_id", "message"),
    [
        (
            {"default_currency": "EURO"},
            "org-currency",
            "'EURO' is not an ISO 4217 currency code such as USD or EUR.",
        ),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "org-time-zone",
            "'Mars/Olympus_Mons' is not an IANA time zone such as Europe/Paris.",
        ),
        ({"name": "  "}, "org-name", "A name is required."),
    ],
)
def test_a_refused_update_shows_the_message_beside_the_field(
    owner: Actor, values: dict[str, str], field_id: str, message: str
) -> None:
    posted = {"name": "Renamed", "default_currency": "USD", "time_zone": "UTC", **values}
    response = signed_in(owner).post("/settings/organization/", posted)
    assert response.status_code == 422
    html = text(response)
    assert error_beside(html, field_id) == message.replace("'", "&#x27;")
    assert f'id="{field_id}"' in html
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html)
    # What was typed stays in the form; nothing was saved, and the page does not
    # pretend otherwise (the navigation still shows the saved name).
    assert f'value="{next(iter(values.values()))}"' in html
    organization = Organization.objects.get(pk=owner.organization.pk)
    assert (organization.name, organization.default_currency, organization.time_zone) == (
        "Tasty Chips Co.",
        "USD",
        "UTC",
    )
    assert f'<option value="{organization.pk}" selected>Tasty Chips Co.</option>' in html


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_cannot_update_the_organization(
    request: pytest.FixtureRequest, role: str
) -> None:
    actor: Actor = request.getfixturevalue(role)
    response = signed_in(actor).post(
        "/settings/organization/", {"name": "Hijacked", "default_currency": "EUR"}
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=actor.organization.pk).name == "Tasty Chips Co."


def test_a_get_on_an_action_url_goes_back_to_the_settings_page(owner: Actor) -> None:
    response = signed_in(owner).get("/settings/organization/")
    assert response.status_code == 302
    assert response["Location"] == "/settings/#organization"


def test_only_an_owner_deletes_the_organization_after_typing_its_name(
    owner: Actor, admin: Actor
) -> None:
    assert (
        signed_in(admin)
        .post("/settings/organization/delete/", {"confirm": "Tasty Chips Co."})
        .status_code
        == 403
    )
    client = signed_in(owner)
    wrong = client.post("/settings/organization/delete/", {"confirm": "Tasty"})
    assert wrong.status_code == 422
    assert "Type the organization&#x27;s name" in error_beside(text(wrong), "delete-confirm")
    assert Organization.objects.filter(pk=owner.organization.pk).exists()

    deleted = client.post("/settings/organization/delete/", {"confirm": "Tasty Chips Co."})
    assert deleted.status_code == 302
    assert not Organization.objects.filter(pk=owner.organization.pk).exists()


# ---- Members -------------------------------------------------------------------------------


def test_inviting_a_new_address_creates_the_user_and_the_membership(owner: Actor) -> None:
    response = signed_in(owner).post(
        "/settings/members/", {"email": "Priya@TastyChips.co", "role": "editor"}, follow=True
    )
    html = text(response)
    assert "priya@tastychips.co joined as Editor." in html
    assert "need a password before they can sign in" in html
    user = get_user_model().objects.get(email="priya@tastychips.co")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user, organization=owner.organization)
    assert membership.role == "editor"
    assert "priya@tastychips.co" in text(signed_in(owner).get("/settings/"))


def test_inviting_someone_who_already_uses_herald_adds_their_account(
    owner: Actor, other_org: Organization
) -> None:
    existing = make_actor(other_org, Role.OWNER).user
    assert existing is not None
    response = signed_in(owner).post(
        "/settings/members/", {"email": existing.email, "role": "viewer"}, follow=True
    )
    assert "need a password" not in text(response)
    assert Membership.objects.get(user=existing, organization=owner.organization).role == "viewer"
    assert get_user_model().objects.filter(email=existing.email).count() == 1


def test_a_duplicate_invite_is_refused_beside_the_email(owner: Actor, viewer: Actor) -> None:
    assert viewer.user is not None
    response = signed_in(owner).post(
        "/settings/members/", {"email": viewer.user.email, "role": "admin"}
    )
    assert response.status_code == 409
    html = text(response)
    assert error_beside(html, "invite-email") == (
        f"{viewer.user.email} is already a member of this organization."
    )
    assert f'value="{viewer.user.email}"' in html
    assert membership_of(viewer).role == "viewer"


def test_a_bad_address_is_refused_beside_the_email(owner: Actor) -> None:
    response = signed_in(owner).post(
        "/settings/members/", {"email": "not-an-address", "role": "viewer"}
    )
    assert response.status_code == 422
    assert error_beside(text(response), "invite-email") == "Enter a valid email address."
    assert not get_user_model().objects.filter(username="not-an-address").exists()


def test_an_admin_cannot_grant_the_owner_role(admin: Actor) -> None:
    response = signed_in(admin).post(
        "/settings/members/", {"email": "boss@tastychips.co", "role": "owner"}
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(email="boss@tastychips.co").exists()


def test_viewers_and_editors_cannot_invite(viewer: Actor, editor: Actor) -> None:
    for actor in (viewer, editor):
        response = signed_in(actor).post(
            "/settings/members/", {"email": "friend@example.com", "role": "viewer"}
        )
        assert response.status_code == 403
    assert not get_user_model().objects.filter(email="friend@example.com").exists()


def test_an_owner_changes_a_role(owner: Actor, viewer: Actor) -> None:
    membership = membership_of(viewer)
    response = signed_in(owner).post(
        f"/settings/members/{membership.pk}/role/", {"role": "editor"}, follow=True
    )
    assert f"{viewer.user.email} is now Editor." in text(response)  # type: ignore[union-attr]
    assert membership_of(viewer).role == "editor"


def test_demoting_the_last_owner_is_refused_with_the_services_message(owner: Actor) -> None:
    membership = only_owner(owner)
    response = signed_in(owner).post(f"/settings/members/{membership.pk}/role/", {"role": "admin"})
    assert response.status_code == 409
    html = text(response)
    assert error_beside(html, f"role-{membership.pk}") == (
        "The organization must keep at least one owner."
    )
    assert re.search(rf'id="role-{membership.pk}"[^>]*aria-invalid="true"', html)
    assert membership_of(owner).role == "owner"


def test_an_admin_cannot_change_an_owners_role(owner: Actor, admin: Actor) -> None:
    response = signed_in(admin).post(
        f"/settings/members/{membership_of(owner).pk}/role/", {"role": "viewer"}
    )
    assert response.status_code == 403
    assert membership_of(owner).role == "owner"


def test_a_viewer_cannot_change_roles(owner: Actor, viewer: Actor) -> None:
    response = signed_in(viewer).post(
        f"/settings/members/{membership_of(viewer).pk}/role/", {"role": "owner"}
    )
    assert response.status_code == 403
    assert membership_of(viewer).role == "viewer"


def test_removing_a_member_revokes_their_keys(owner: Actor, editor: Actor) -> None:
    key = key_of(editor)
    membership = membership_of(editor)
    response = signed_in(owner).post(f"/settings/members/{membership.pk}/remove/", follow=True)
    assert "their API keys here were revoked" in text(response)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_removing_the_last_owner_is_refused_beside_the_button(owner: Actor) -> None:
    membership = only_owner(owner)
    response = signed_in(owner).post(f"/settings/members/{membership.pk}/remove/")
    assert response.status_code == 409
    html = text(response)
    assert error_beside(html, f"remove-{membership.pk}") == (
        "The organization must keep at least one owner."
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_member_who_leaves_lands_outside_the_organization(owner: Actor, admin: Actor) -> None:
    response = signed_in(admin).post(f"/settings/members/{membership_of(admin).pk}/remove/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Membership.objects.filter(user=admin.user).exists()


def test_another_organizations_members_are_404(owner: Actor, other_org: Organization) -> None:
    theirs = membership_of(make_actor(other_org, Role.VIEWER))
    client = signed_in(owner)
    assert client.post(f"/settings/members/{theirs.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"/settings/members/{theirs.pk}/remove/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "viewer"


# ---- API keys -------------------------------------------------------------------------------


def test_a_new_key_is_shown_once(viewer: Actor) -> None:
    client = signed_in(viewer)
    created = client.post("/settings/api-keys/", {"name": "Nightly report"})
    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    html = text(created)
    match = re.search(r'id="new-key-value" type="text" readonly value="(hk_[^"]+)"', html)
    assert match, "the key is not on the page"
    plaintext = match.group(1)
    assert "Copy it now: you won't see it again." in html
    assert 'x-data="copyField"' in html
    assert ">Copy</button>" in html

    key = ApiKey.objects.get(name="Nightly report")
    assert key.user_id == viewer.user.pk  # type: ignore[union-attr]
    assert plaintext.startswith(key.prefix)
    assert plaintext not in str(ApiKey.objects.filter(pk=key.pk).values().get())

    again = text(client.get("/settings/"))
    assert plaintext not in again
    assert "new-key-value" not in again
    assert key.prefix in again  # listed, by its prefix only
    assert "Nightly report" in again


def test_a_key_needs_a_name(viewer: Actor) -> None:
    response = signed_in(viewer).post("/settings/api-keys/", {"name": " "})
    assert response.status_code == 422
    assert error_beside(text(response), "key-name") == "A name is required."
    assert not ApiKey.objects.exists()


def test_the_key_list_shows_user_dates_and_state(owner: Actor, viewer: Actor) -> None:
    active = key_of(viewer, "Active one")
    revoked = key_of(owner, "Old one")
    signed_in(owner).post(f"/settings/api-keys/{revoked.pk}/revoke/")
    html = text(signed_in(owner).get("/settings/"))
    assert viewer.user.email in html  # type: ignore[union-attr]
    assert active.prefix in html
    assert "Revoked " in html
    assert html.count('<span class="badge status-active">Active</span>') == 1
    assert "never" in html  # never used


def test_a_viewer_revokes_their_own_key(viewer: Actor) -> None:
    key = key_of(viewer)
    response = signed_in(viewer).post(f"/settings/api-keys/{key.pk}/revoke/", follow=True)
    assert "no longer works" in text(response)
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_an_editor_cannot_revoke_someone_elses_key(owner: Actor, editor: Actor) -> None:
    key = key_of(owner)
    response = signed_in(editor).post(f"/settings/api-keys/{key.pk}/revoke/")
    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_admin_revokes_anyones_key(admin: Actor, viewer: Actor) -> None:
    key = key_of(viewer)
    assert signed_in(admin).post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_organizations_keys_are_404(owner: Actor, other_org: Organization) -> None:
    key = key_of(make_actor(other_org))
    assert signed_in(owner).post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_settings_page_needs_a_signed_in_member() -> None:
    assert Client().get("/settings/")["Location"] == "/login/?next=/settings/"
    client = Client()
    client.force_login(make_user())
    assert client.get("/settings/").status_code == 403


# ---- What a viewer sees elsewhere ------------------------------------------------------------


def test_a_viewer_sees_no_campaign_actions_and_no_connection_controls(
    owner: Actor, viewer: Actor
) -> None:
    campaign = make_campaign(owner)
    make_connection(owner.organization, "meta_ads")
    client = signed_in(viewer)
    page = text(client.get(f"/campaigns/{campaign.pk}/"))
    assert "/actions/" not in page
    assert "Save accounts" not in page
    connections = text(client.get("/connections/"))
    assert "Sync now" not in connections
    assert "Disconnect" not in connections
    assert "Connect Meta" not in connections


# ---- Connections: Sync now through htmx ------------------------------------------------------


@pytest.fixture
def meta_sandbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningFake]:
    running = serve(
        FakeMetaAds.for_sandbox(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    settings.HERALD_SANDBOX_META_ADS_URL = running.url
    settings.HERALD_PLATFORM_TIMEOUT_SECONDS = 1.0
    monkeypatch.setattr(meta_client, "_sleep", lambda seconds: None)
    yield running
    running.stop()


def connect_sandbox_meta(client: Client) -> Connection:
    """The OAuth round trip from the Connections page, against the fake."""
    start = client.post("/connections/", {"provider": "meta_ads", "sandbox": "1"})
    assert start.status_code == 302
    consent = httpx.get(start["Location"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 200
    return Connection.objects.get(provider="meta_ads")


def test_sync_now_through_htmx_answers_with_the_card_and_the_result(
    owner: Actor, meta_sandbox: RunningFake
) -> None:
    client = signed_in(owner)
    connection = connect_sandbox_meta(client)
    accounts = AdAccount.objects.filter(connection=connection)
    assert accounts.exists()

    response = client.post(
        f"/connections/{connection.pk}/sync/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="x"
    )
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html
    assert html.lstrip().startswith(
        f'<article class="card connection" id="connection-{connection.pk}"'
    )
    count = accounts.count()
    found = f"Synced: {count} ad account{'' if count == 1 else 's'} found."
    assert f"{found}</p>" in html  # in the card
    assert f'<div id="connections-live" hx-swap-oob="innerHTML">{found}</div>' in html
    assert '<section id="recent-syncs"' in html and 'hx-swap-oob="true"' in html
    assert accounts.first().external_id in html  # type: ignore[union-attr]
    assert SyncRun.objects.filter(connection=connection, status="succeeded").count() == 2
    assert "Sync now" in html  # ready for the next one

    # Without htmx, the same POST goes back to the page with the outcome as a message.
    page = client.post(f"/connections/{connection.pk}/sync/", follow=True)
    assert found in text(page)
    assert "<html" in text(page)


def test_a_failed_sync_through_htmx_offers_to_reconnect(
    owner: Actor, meta_sandbox: RunningFake
) -> None:
    # Tokens the platform never issued: the sync fails and the connection needs reauth.
    account = make_connection(owner.organization, "meta_ads")
    connection = account.connection
    response = signed_in(owner).post(f"/connections/{connection.pk}/sync/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = text(response)
    assert "Sync failed:" in html
    assert "Needs reconnecting" in html
    assert ">Reconnect<" in html
    assert 'name="reconnect_id"' in html
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert SyncRun.objects.get(connection=connection).status == "failed"


def test_connecting_through_htmx_sends_the_browser_on_by_script(
    owner: Actor, meta_sandbox: RunningFake
) -> None:
    # A form POST answered by a redirect to the platform breaks the CSP's form-action
    # 'self'; through htmx the page navigates by script instead (HX-Redirect).
    response = signed_in(owner).post(
        "/connections/", {"provider": "meta_ads", "sandbox": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(f"{meta_sandbox.url}/")
    assert "state=" in response["HX-Redirect"]
    refused = signed_in(owner).post(
        "/connections/", {"provider": "tiktok"}, HTTP_HX_REQUEST="true", follow=False
    )
    assert refused["HX-Redirect"] == "/connections/"


def test_a_viewer_cannot_sync(viewer: Actor, owner: Actor) -> None:
    connection = make_connection(owner.organization, "meta_ads").connection
    response = signed_in(viewer).post(f"/connections/{connection.pk}/sync/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def test_the_connections_page_says_what_to_do_when_empty(owner: Actor, viewer: Actor) -> None:
    mine = text(signed_in(owner).get("/connections/"))
    assert "No platform connected yet." in mine
    assert "Connect Google Ads or Meta above" in mine
    theirs = text(signed_in(viewer).get("/connections/"))
    assert "Ask an admin or owner of Tasty Chips Co. to connect one." in theirs
