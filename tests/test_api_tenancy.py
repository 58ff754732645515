"""Cross-tenant isolation of the whole API.

Org A's owner walks every route of ``/api/v1/`` with org B's ids in the path: each one
must answer 404 problem+json (indistinguishable from an id that does not exist) and
leave B's rows exactly as they were. Lists never show B's objects, and B's ids inside
A's request bodies are refused as invalid input naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.db import models

from herald.accounts.models import ApiKey, Membership, Organization
from herald.campaigns.models import AdCreative, CampaignUnit
from herald.core.api import PROBLEM_CONTENT_TYPE
from herald.testing import factories

if TYPE_CHECKING:
    from herald.accounts.actors import Actor
    from tests.conftest import Graph, RouteWalker

pytestmark = pytest.mark.django_db

NOT_FOUND_TYPE = "https://herald.dev/problems/not-found"


def _tenant_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if any(f.name == "organization" for f in model._meta.concrete_fields)
    ]


def _snapshot(organization: Organization) -> dict[str, Any]:
    """Every row the organization owns, field by field (updated_at included, so any
    save shows), plus the organization row itself."""
    rows: dict[str, Any] = {
        "organization": list(Organization.objects.filter(pk=organization.pk).values())
    }
    for model in _tenant_models():
        rows[model._meta.label] = list(
            model._default_manager.filter(organization=organization).order_by("pk").values()
        )
    return rows


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def _assert_problem(response: Any, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://herald.dev/problems/{type_suffix}"
    assert body["status"] == status
    return body


def test_every_route_with_an_id_answers_404_for_another_organizations_objects(
    api: Any, walker: RouteWalker, graph: Graph, other_graph: Graph
) -> None:
    before = _snapshot(other_graph.organization)
    id_routes = [route for route in walker.routes if route.params]
    assert len(id_routes) >= 30, "the walk found suspiciously few routes"

    failures = []
    for route in id_routes:
        response = walker.call(api, route, other_graph.ids)
        content_type = response.get("Content-Type")
        problem = response.json() if content_type == PROBLEM_CONTENT_TYPE else {}
        if (
            response.status_code != 404
            or content_type != PROBLEM_CONTENT_TYPE
            or problem.get("type") != NOT_FOUND_TYPE
            or problem.get("status") != 404
        ):
            failures.append(f"{route}: {response.status_code} {response.content[:200]!r}")
    assert failures == [], "routes that did not answer 404 problem+json:\n" + "\n".join(failures)
    assert _snapshot(other_graph.organization) == before


def test_every_path_parameter_is_covered_by_the_map(walker: RouteWalker, graph: Graph) -> None:
    """The map the walk substitutes from knows every parameter of every route; a new
    parameter fails here (and in the walk) until it is added."""
    known = set(graph.ids)
    unknown = {
        f"{route}: {name}" for route in walker.routes for name in route.params if name not in known
    }
    assert unknown == set()


def test_walk_sees_exactly_the_documented_operations(api: Any, walker: RouteWalker) -> None:
    schema = api.get("/api/v1/openapi.json").json()
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in schema["paths"].items()
        for method in item
    }
    assert {route.key for route in walker.routes} == documented
    assert len(walker.routes) == len(documented)


def test_kpi_of_another_campaign_is_not_found_through_own_campaign(
    api: Any, graph: Graph, other_graph: Graph
) -> None:
    response = api.delete(f"campaigns/{graph.campaign.pk}/kpis/{other_graph.kpi.pk}")
    _assert_problem(response, 404, "not-found")
    assert type(other_graph.kpi).objects.filter(pk=other_graph.kpi.pk).count() == 1


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return [str(item["id"]) for item in items]


def test_lists_show_only_the_callers_organization(
    api: Any, owner: Actor, graph: Graph, other_graph: Graph
) -> None:
    assert _ids(api.get("campaigns")) == [str(graph.campaign.pk)]
    assert api.get("campaigns").json()["count"] == 1
    assert _ids(api.get("campaigns?search=Crunch")) == [str(graph.campaign.pk)]
    assert _ids(api.get("campaigns?search=Rival")) == []
    assert _ids(api.get("campaigns?channel=google_ads")) == [str(graph.campaign.pk)]
    assert _ids(api.get("campaigns?status=draft")) == [str(graph.campaign.pk)]
    assert _ids(api.get("audiences")) == [str(graph.audience.pk)]
    assert _ids(api.get("audiences?search=Snackers")) == [str(graph.audience.pk)]
    assert _ids(api.get("media")) == [str(graph.media.pk)]
    assert _ids(api.get(f"campaigns/{graph.campaign.pk}/log")) == [str(graph.log_entry.pk)]
    assert _ids(api.get(f"campaigns/{graph.campaign.pk}/units")) == [str(graph.unit.pk)]
    assert _ids(api.get(f"units/{graph.unit.pk}/creatives")) == [str(graph.creative.pk)]
    assert _ids(api.get(f"creatives/{graph.creative.pk}/versions")) == [str(graph.creative.pk)]
    assert _ids(api.get(f"campaigns/{graph.campaign.pk}/kpis")) == [str(graph.kpi.pk)]
    assert api.get(f"campaigns/{graph.campaign.pk}/platforms").json() == []
    assert _ids(api.get("integrations")) == [str(graph.ad_account.connection_id)]
    assert _ids(api.get("ad-accounts")) == [str(graph.ad_account.pk)]

    org_a_memberships = {
        str(pk)
        for pk in Membership.objects.filter(organization=owner.organization).values_list(
            "pk", flat=True
        )
    }
    # The organization's creator, the `owner` fixture and the graph's extra editor.
    assert len(org_a_memberships) == 3
    assert set(_ids(api.get("members"))) == org_a_memberships
    assert str(other_graph.membership.pk) not in org_a_memberships
    # An owner sees every key of the organization: the test client's and the editor's.
    assert sorted(_ids(api.get("api-keys"))) == sorted([str(api.api_key.pk), str(graph.api_key.pk)])
    organization = api.get("organization").json()
    assert organization["id"] == str(owner.organization.pk)
    assert organization["name"] == "Tasty Chips Co."


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "post",
            "campaigns/{campaign}/units",
            {"channel": "google_ads", "name": "Sneaky", "audience_id": "{audience}"},
            "audience_id",
        ),
        ("patch", "units/{unit}", {"audience_id": "{audience}"}, "audience_id"),
        (
            "post",
            "units/{unit}/creatives",
            {**factories.GOOGLE_CREATIVE, "media_id": "{media}"},
            "media_id",
        ),
        ("patch", "creatives/{creative}", {"media_id": "{media}"}, "media_id"),
        (
            "post",
            "creatives/validate",
            {"channel": "meta_ads", "headlines": ["Spicy"], "media_id": "{media}"},
            "media_id",
        ),
    ],
)
def test_another_organizations_ids_in_a_body_are_refused(
    api: Any,
    graph: Graph,
    other_graph: Graph,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    own = {"campaign": graph.campaign.pk, "unit": graph.unit.pk, "creative": graph.creative.pk}
    theirs = {"audience": other_graph.audience.pk, "media": other_graph.media.pk}
    payload = {
        key: value.format(**theirs) if isinstance(value, str) else value
        for key, value in body.items()
    }
    counts = _row_counts()
    unit_before = CampaignUnit.objects.filter(pk=graph.unit.pk).values().get()
    creative_before = AdCreative.objects.filter(pk=graph.creative.pk).values().get()

    response = getattr(api, method)(path.format(**own), payload)

    problem = _assert_problem(response, 422, "invalid-input")
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [(field, "not_found")]
    assert _row_counts() == counts
    assert CampaignUnit.objects.filter(pk=graph.unit.pk).values().get() == unit_before
    assert AdCreative.objects.filter(pk=graph.creative.pk).values().get() == creative_before


def test_another_organizations_api_key_cannot_be_revoked(api: Any, other_graph: Graph) -> None:
    response = api.delete(f"api-keys/{other_graph.api_key.pk}")
    _assert_problem(response, 404, "not-found")
    assert ApiKey.objects.get(pk=other_graph.api_key.pk).revoked_at is None
