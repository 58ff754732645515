"""Role matrix and authentication of the whole API.

Every route is walked as each role with the organization's own ids: the answer is 403
problem+json exactly when the route's declared permission (``herald_permission``) is
not granted to the role in ``PERMISSION_TABLE``, and otherwise the route's normal
answer. Each call runs in a savepoint that is rolled back, so every route sees the
same starting data.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from herald.accounts.choices import PERMISSION_TABLE, Role
from herald.accounts.models import ApiKey, Membership
from herald.accounts.services import api_key_create
from herald.campaigns.models import Campaign
from herald.core.api import ACTIVE_ORGANIZATION_SESSION_KEY, PROBLEM_CONTENT_TYPE
from herald.testing import factories

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from herald.accounts.actors import Actor
    from herald.accounts.models import Organization
    from tests.conftest import Graph, RouteWalker

pytestmark = pytest.mark.django_db

# What each route answers a member whose role holds its permission, given the graph
# of tests/conftest.py and the bodies of ROUTE_BODIES. Every route must be listed.
EXPECTED: dict[tuple[str, str], int] = {
    ("GET", "/organization"): 200,
    ("PATCH", "/organization"): 200,
    ("DELETE", "/organization"): 204,
    ("GET", "/members"): 200,
    ("POST", "/members"): 201,
    ("PATCH", "/members/{membership_id}"): 200,
    ("DELETE", "/members/{membership_id}"): 204,
    ("GET", "/api-keys"): 200,
    ("POST", "/api-keys"): 201,
    ("DELETE", "/api-keys/{api_key_id}"): 204,
    ("GET", "/campaigns"): 200,
    ("POST", "/campaigns"): 201,
    ("GET", "/campaigns/{campaign_id}"): 200,
    ("PATCH", "/campaigns/{campaign_id}"): 200,
    ("DELETE", "/campaigns/{campaign_id}"): 204,
    ("POST", "/campaigns/{campaign_id}/duplicate"): 201,
    ("GET", "/campaigns/{campaign_id}/log"): 200,
    ("GET", "/campaigns/{campaign_id}/budget"): 200,
    ("PUT", "/campaigns/{campaign_id}/budget"): 200,
    ("POST", "/campaigns/{campaign_id}/budget/reallocate"): 200,
    ("GET", "/campaigns/{campaign_id}/units"): 200,
    ("POST", "/campaigns/{campaign_id}/units"): 201,
    ("GET", "/units/{unit_id}"): 200,
    ("PATCH", "/units/{unit_id}"): 200,
    ("DELETE", "/units/{unit_id}"): 204,
    ("GET", "/units/{unit_id}/creatives"): 200,
    ("POST", "/units/{unit_id}/creatives"): 201,
    ("POST", "/creatives/validate"): 200,
    ("GET", "/creatives/{creative_id}"): 200,
    ("PATCH", "/creatives/{creative_id}"): 200,
    ("DELETE", "/creatives/{creative_id}"): 204,
    ("GET", "/creatives/{creative_id}/versions"): 200,
    ("GET", "/platforms"): 200,
    ("GET", "/audiences"): 200,
    ("POST", "/audiences"): 201,
    ("GET", "/audiences/{audience_id}"): 200,
    ("PATCH", "/audiences/{audience_id}"): 200,
    ("DELETE", "/audiences/{audience_id}"): 409,  # the graph's unit uses it
    ("GET", "/media"): 200,
    ("POST", "/media"): 201,
    ("GET", "/media/{media_id}"): 200,
    ("DELETE", "/media/{media_id}"): 204,
    ("GET", "/campaigns/{campaign_id}/kpis"): 200,
    ("POST", "/campaigns/{campaign_id}/kpis"): 201,
    ("DELETE", "/campaigns/{campaign_id}/kpis/{kpi_id}"): 204,
    ("POST", "/campaigns/{campaign_id}/{action}"): 200,  # cancel a draft
    ("GET", "/integrations"): 200,
    ("POST", "/integrations"): 200,
    ("GET", "/integrations/{connection_id}"): 200,
    ("DELETE", "/integrations/{connection_id}"): 200,
    ("POST", "/integrations/{connection_id}/sync"): 200,  # a failed run: no fake is up
    ("GET", "/ad-accounts"): 200,
    ("GET", "/sync-runs"): 200,
    ("GET", "/campaigns/{campaign_id}/ad-accounts"): 200,
    ("PUT", "/campaigns/{campaign_id}/ad-accounts"): 200,
    ("GET", "/campaigns/{campaign_id}/platforms"): 200,
    ("GET", "/campaigns/{campaign_id}/metrics"): 200,
    ("GET", "/creatives/{creative_id}/tracking"): 200,
    ("GET", "/campaigns/{campaign_id}/comments"): 200,
    ("POST", "/tracking/postback-secret"): 200,
    ("GET", "/campaigns/{campaign_id}/performance"): 200,
    ("GET", "/campaigns/{campaign_id}/funnel"): 200,
    ("GET", "/campaigns/{campaign_id}/trends"): 200,
    ("GET", "/campaigns/{campaign_id}/breakdown"): 200,
    ("GET", "/campaigns/{campaign_id}/roi"): 200,
    ("GET", "/reports/compare"): 200,
    ("GET", "/dashboard"): 200,
}

ROLES = [Role.OWNER, Role.ADMIN, Role.EDITOR, Role.VIEWER]


def _state() -> dict[str, tuple[int, Any]]:
    """Row count and latest ``updated_at`` of every model: any insert, delete or save
    changes it."""
    state = {}
    for model in apps.get_models():
        queryset = model._default_manager.all()
        has_updated = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        latest = queryset.aggregate(latest=Max("updated_at"))["latest"] if has_updated else None
        state[model._meta.label] = (queryset.count(), latest)
    return state


def _user(actor: Actor) -> User:
    assert actor.user is not None
    return actor.user


def _is_problem(response: Any, status: int) -> bool:
    return bool(
        response.status_code == status
        and response.get("Content-Type") == PROBLEM_CONTENT_TYPE
        and response.json()["status"] == status
    )


def test_every_operation_declares_its_permission(walker: RouteWalker) -> None:
    missing = [str(route) for route in walker.routes if route.permission is None]
    assert missing == []
    assert {route.permission for route in walker.routes} <= set(PERMISSION_TABLE)


def test_expected_statuses_cover_every_route(walker: RouteWalker) -> None:
    assert {route.key for route in walker.routes} == set(EXPECTED)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(
    role: Role, org: Organization, owner: Actor, api_as: Any, walker: RouteWalker, graph: Graph
) -> None:
    actor = owner if role == Role.OWNER else factories.make_actor(org, role)
    client = api_as(actor)
    own_spare_key, _raw = api_key_create(user=_user(actor), organization=org, name="spare")
    values = {**graph.ids, "api_key_id": str(own_spare_key.pk), "action": "cancel"}

    failures = []
    refused = 0
    for route in walker.routes:
        permission = route.permission
        assert permission is not None
        allowed = role in PERMISSION_TABLE[permission]
        with transaction.atomic():
            before = _state()
            response = walker.call(client, route, values)
            after = _state()
            transaction.set_rollback(True)
        if not allowed:
            refused += 1
            body = response.json() if _is_problem(response, 403) else {}
            if body.get("type") != "https://herald.dev/problems/permission-denied" or (
                permission.value not in body.get("detail", "")
            ):
                failures.append(f"{route}: expected 403, got {response.status_code}")
            elif after != before:
                changed = sorted(label for label in after if after[label] != before[label])
                failures.append(f"{route}: refused, yet changed {changed}")
        elif response.status_code != EXPECTED[route.key]:
            failures.append(
                f"{route}: expected {EXPECTED[route.key]}, got {response.status_code} "
                f"{response.content[:200]!r}"
            )
    assert failures == [], f"{role}:\n" + "\n".join(failures)
    expected_refusals = {Role.OWNER: 0, Role.ADMIN: 1, Role.EDITOR: 9, Role.VIEWER: 30}
    assert refused == expected_refusals[role]


def test_owner_deletes_organization_with_units_using_audiences_and_images(
    api: Any, owner: Actor, graph: Graph, other_graph: Graph
) -> None:
    """Regression: unit→audience and creative→image used to be PROTECT, so deleting an
    organization that used them answered 500 (ProtectedError)."""
    factories.make_creative(owner, factories.make_unit(owner, graph.campaign, "meta_ads"))
    response = api.delete("organization")
    assert response.status_code == 204, response.content
    for model in apps.get_models():
        if any(f.name == "organization" for f in model._meta.concrete_fields):
            remaining = model._default_manager.filter(organization=owner.organization)
            assert remaining.count() == 0, model._meta.label
    assert Campaign.objects.get() == other_graph.campaign


def test_viewer_refused_write_changes_nothing(viewer: Actor, api_as: Any, graph: Graph) -> None:
    client = api_as(viewer)
    before = _state()
    responses = [
        client.post("campaigns", {"name": "Sneaky", "objective": "sales"}),
        client.patch(f"campaigns/{graph.campaign.pk}", {"name": "Sneaky"}),
        client.delete(f"campaigns/{graph.campaign.pk}"),
        client.post(f"campaigns/{graph.campaign.pk}/cancel", {}),
        client.upload("media", factories.make_image()),
        client.delete(f"members/{graph.membership.pk}"),
    ]
    assert [r.status_code for r in responses] == [403] * 6
    assert all(r["Content-Type"] == PROBLEM_CONTENT_TYPE for r in responses)
    assert _state() == before
    campaign = Campaign.objects.get(pk=graph.campaign.pk)
    assert (campaign.name, campaign.status) == ("Tasty Crunch Campaign", "draft")
    assert Campaign.objects.count() == 1


def test_role_lowered_takes_effect_on_the_key_at_once(api: Any, api_as: Any, graph: Graph) -> None:
    editor_client = api_as(graph.member)
    assert editor_client.post("campaigns", {"name": "A", "objective": "sales"}).status_code == 201
    assert api.patch(f"members/{graph.membership.pk}", {"role": "viewer"}).status_code == 200
    response = editor_client.post("campaigns", {"name": "B", "objective": "sales"})
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Your role (viewer) does not allow this action (needs the campaign.edit permission)."
    )
    assert Campaign.objects.filter(name="B").count() == 0


# ---------------------------------------------------------------- authentication


def _assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["type"] == "https://herald.dev/problems/authentication-required"
    assert body["status"] == 401


def test_every_route_requires_authentication(walker: RouteWalker, graph: Graph) -> None:
    client = Client()
    values = {**{name: str(uuid.uuid4()) for name in graph.ids}, "action": "pause"}
    failures = []
    for route in walker.routes:
        url = walker.url(route, values)
        response = getattr(client, route.method.lower())(
            url,
            data="{}" if route.method in {"POST", "PUT", "PATCH"} else None,
            content_type="application/json",
        )
        if not (_is_problem(response, 401) and response.get("WWW-Authenticate") == "Bearer"):
            failures.append(f"{route}: {response.status_code}")
    assert failures == []
    assert Campaign.objects.count() == 1


def _bearer(raw_key: str) -> str:
    return f"Bearer {raw_key}"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer hk_unknown_key", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "hk_" + "x" * 300],
)
def test_invalid_credentials_get_401(db: None, authorization: str) -> None:
    _assert_401(Client().get("/api/v1/campaigns", HTTP_AUTHORIZATION=authorization))


def test_revoked_key_gets_401(api: Any) -> None:
    assert api.get("organization").status_code == 200
    assert api.delete(f"api-keys/{api.api_key.pk}").status_code == 204
    assert ApiKey.objects.get(pk=api.api_key.pk).revoked_at is not None
    _assert_401(api.get("organization"))


def test_key_of_a_removed_membership_gets_401(api: Any, graph: Graph) -> None:
    raw_key = api_key_create(user=_user(graph.member), organization=graph.organization, name="x")[1]
    client = Client()
    assert (
        client.get("/api/v1/organization", HTTP_AUTHORIZATION=_bearer(raw_key)).status_code == 200
    )
    # The membership row goes while the key stays unrevoked: the key must still stop.
    Membership.objects.filter(pk=graph.membership.pk).delete()
    assert ApiKey.objects.filter(user=graph.member.user, revoked_at__isnull=True).count() == 2
    _assert_401(client.get("/api/v1/organization", HTTP_AUTHORIZATION=_bearer(raw_key)))


def test_removing_a_member_through_the_api_revokes_their_keys(api: Any, graph: Graph) -> None:
    raw_key = api_key_create(user=_user(graph.member), organization=graph.organization, name="x")[1]
    assert api.delete(f"members/{graph.membership.pk}").status_code == 204
    assert ApiKey.objects.filter(user=graph.member.user, revoked_at__isnull=True).count() == 0
    _assert_401(Client().get("/api/v1/organization", HTTP_AUTHORIZATION=_bearer(raw_key)))


def test_inactive_users_key_gets_401(api: Any) -> None:
    api.actor.user.is_active = False
    api.actor.user.save(update_fields=["is_active"])
    _assert_401(api.get("organization"))


# ---------------------------------------------------------------- session


@pytest.fixture
def session_client(owner: Actor) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user(owner))
    return client


def test_session_auth_reads(session_client: Client, owner: Actor) -> None:
    response = session_client.get("/api/v1/organization")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(owner.organization.pk)
    assert response.json()["role"] == "owner"
    assert session_client.get("/api/v1/campaigns").json()["count"] == 0


def test_session_post_without_csrf_token_is_403(session_client: Client) -> None:
    response = session_client.post(
        "/api/v1/campaigns",
        {"name": "Forged", "objective": "sales"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["type"] == "https://herald.dev/problems/permission-denied"
    assert Campaign.objects.count() == 0


def test_session_post_with_csrf_token_passes(session_client: Client, owner: Actor) -> None:
    secret = "a" * 32
    session_client.cookies[settings.CSRF_COOKIE_NAME] = secret
    response = session_client.post(
        "/api/v1/campaigns",
        {"name": "Real", "objective": "sales"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
    )
    assert response.status_code == 201, response.content
    assert response.json()["created_by"] == _user(owner).get_username()
    assert Campaign.objects.filter(name="Real").count() == 1


def test_session_acts_in_the_chosen_organization(owner: Actor, other_org: Organization) -> None:
    Membership.objects.create(user=_user(owner), organization=other_org, role=Role.VIEWER)
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user(owner))
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(other_org.pk)
    session.save()
    body = client.get("/api/v1/organization").json()
    assert (body["id"], body["role"]) == (str(other_org.pk), "viewer")


def test_session_of_a_user_without_organization_is_403(db: None) -> None:
    client = Client()
    client.force_login(factories.make_user())
    response = client.get("/api/v1/organization")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["detail"] == "You are not a member of any organization."


def test_last_used_is_recorded(api: Any) -> None:
    assert ApiKey.objects.get(pk=api.api_key.pk).last_used_at is None
    before = timezone.now()
    api.get("organization")
    last_used_at = ApiKey.objects.get(pk=api.api_key.pk).last_used_at
    assert last_used_at is not None
    assert last_used_at >= before
