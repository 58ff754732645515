"""Fixtures for the API-wide tests: every route of ``/api/v1/`` as data, a full object
graph per organization, and an ``admin`` member (the root conftest has the other roles).

The route list is read from the mounted NinjaAPI itself, so a route added tomorrow is
walked by the tenancy and role tests without anyone remembering to list it; the walk
fails when a route has a path parameter or a write body it does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission, Role
from herald.accounts.models import ApiKey, Membership, Organization
from herald.accounts.services import api_key_create
from herald.campaigns.choices import LogOutcome
from herald.campaigns.models import (
    AdCreative,
    Audience,
    Campaign,
    CampaignUnit,
    ExecutionLogEntry,
    KpiTarget,
    MediaAsset,
)
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.kpis import kpi_set
from herald.campaigns.services.lifecycle import execution_log_write
from herald.testing import factories

UPLOAD = object()
"""Marks the routes whose body is a multipart image upload (field ``file``)."""

# A plausible, valid body for every route that takes one, keyed by (method, path as
# declared on the router). A write route missing here fails the walk.
ROUTE_BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/organization"): {"name": "Tasty Chips Renamed"},
    ("POST", "/members"): {"email": "new.member@example.com", "role": "viewer"},
    ("PATCH", "/members/{membership_id}"): {"role": "viewer"},
    ("POST", "/api-keys"): {"name": "ci"},
    ("POST", "/campaigns"): {"name": "Summer Crunch", "objective": "sales"},
    ("PATCH", "/campaigns/{campaign_id}"): {"name": "Renamed campaign"},
    ("POST", "/campaigns/{campaign_id}/duplicate"): {"name": "Copy of the plan"},
    ("PUT", "/campaigns/{campaign_id}/budget"): {
        "kind": "daily",
        "amount": "300.00",
        "allocations": {"google_ads": "150.00", "meta_ads": "100.00"},
    },
    ("POST", "/campaigns/{campaign_id}/budget/reallocate"): {
        "from_channel": "google_ads",
        "to_channel": "meta_ads",
        "amount": "10.00",
    },
    ("POST", "/campaigns/{campaign_id}/units"): {"channel": "meta_ads", "name": "Meta set"},
    ("PATCH", "/units/{unit_id}"): {"name": "Renamed unit"},
    ("POST", "/units/{unit_id}/creatives"): dict(factories.GOOGLE_CREATIVE),
    ("POST", "/creatives/validate"): {"channel": "google_ads", "headlines": ["Spicy Chips"]},
    ("PATCH", "/creatives/{creative_id}"): {"name": "Renamed creative"},
    ("POST", "/audiences"): {"name": "New audience", "rules": factories.VALID_RULES},
    ("PATCH", "/audiences/{audience_id}"): {"name": "Renamed audience"},
    ("POST", "/media"): UPLOAD,
    ("POST", "/integrations"): {"provider": "google_ads", "sandbox": True},
    ("POST", "/integrations/{connection_id}/sync"): {},
    ("PUT", "/campaigns/{campaign_id}/ad-accounts"): {"accounts": {"google_ads": None}},
    ("POST", "/tracking/postback-secret"): {},
    ("POST", "/campaigns/{campaign_id}/kpis"): {"metric": "cpc", "target_value": "0.75"},
    ("POST", "/campaigns/{campaign_id}/{action}"): {"reason": "Holiday break"},
}

# Query strings a route needs to reach its handler (without them it answers 422).
ROUTE_QUERIES: dict[tuple[str, str], str] = {
    ("GET", "/campaigns/{campaign_id}/metrics"): "?from=2026-01-01&to=2026-01-31",
    ("GET", "/campaigns/{campaign_id}/performance"): "?from=2026-01-01&to=2026-01-31",
    ("GET", "/campaigns/{campaign_id}/funnel"): "?from=2026-01-01&to=2026-01-31",
    ("GET", "/campaigns/{campaign_id}/trends"): "?from=2026-01-01&to=2026-01-31",
    ("GET", "/campaigns/{campaign_id}/roi"): "?from=2026-01-01&to=2026-01-31",
    ("GET", "/campaigns/{campaign_id}/breakdown"): "?from=2026-01-01&to=2026-01-31&by=channel",
    ("GET", "/reports/compare"): "?from=2026-01-01&to=2026-01-31",
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PARAM = re.compile(r"\{(?:\w+:)?(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as declared on the router, e.g. "/campaigns/{campaign_id}"
    view: Any

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def permission(self) -> Permission | None:
        return getattr(self.view, "herald_permission", None)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_routes() -> list[Route]:
    """Every (method, path) operation mounted on ``herald.api.api``."""
    from herald.api import api

    api.urls  # noqa: B018 - binds the routers (ninja does it lazily); _routers lists all
    routes: list[Route] = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = "/" + "/".join(part for part in (prefix + path).split("/") if part)
            full = _PARAM.sub(r"{\1}", full)  # "/x/{uuid:x_id}" → "/x/{x_id}"
            for operation in path_view.operations:
                routes.extend(
                    Route(method, full, operation.view_func) for method in operation.methods
                )
    return routes


class RouteWalker:
    """Builds URLs and calls routes with the body from ``ROUTE_BODIES``."""

    def __init__(self) -> None:
        self.routes = api_routes()
        self.root = reverse("api-v1:api-root")  # "/api/v1/"

    def url(self, route: Route, values: dict[str, str]) -> str:
        missing = [name for name in route.params if name not in values]
        assert not missing, (
            f"{route} has path parameter(s) {missing} the walk does not know: add them to "
            "the parameter map so the route is tested."
        )
        path = _PARAM.sub(lambda match: str(values[match.group(1)]), route.path)
        return self.root + path.lstrip("/") + ROUTE_QUERIES.get(route.key, "")

    def body(self, route: Route) -> Any:
        if route.method not in WRITE_METHODS:
            return None
        assert route.key in ROUTE_BODIES, (
            f"{route} takes a body the walk does not know: add a plausible one to ROUTE_BODIES."
        )
        return ROUTE_BODIES[route.key]

    def call(self, client: Any, route: Route, values: dict[str, str]) -> Any:
        """``client`` is the root conftest's ``ApiClient``."""
        url = self.url(route, values)
        body = self.body(route)
        if body is UPLOAD:
            return client.upload(url.removeprefix(self.root), factories.make_image())
        method = route.method.lower()
        if method in {"get", "delete"}:
            return getattr(client, method)(url)
        return getattr(client, method)(url, body)


@pytest.fixture
def walker(db: Any) -> RouteWalker:
    return RouteWalker()


@dataclass
class Graph:
    """One organization's objects: a campaign with budget and allocations, a unit with
    an audience and a creative, an image, a KPI target, a log entry, an extra member and
    that member's API key."""

    organization: Organization
    campaign: Campaign
    audience: Audience
    unit: CampaignUnit
    creative: AdCreative
    media: MediaAsset
    kpi: KpiTarget
    log_entry: ExecutionLogEntry
    member: Actor
    membership: Membership
    api_key: ApiKey
    ad_account: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> dict[str, str]:
        """Path parameter name → value, for the route walk."""
        return {
            "campaign_id": str(self.campaign.pk),
            "unit_id": str(self.unit.pk),
            "creative_id": str(self.creative.pk),
            "audience_id": str(self.audience.pk),
            "media_id": str(self.media.pk),
            "kpi_id": str(self.kpi.pk),
            "membership_id": str(self.membership.pk),
            "api_key_id": str(self.api_key.pk),
            "connection_id": str(self.ad_account.connection_id),
            "action": "pause",
        }


def build_graph(actor: Actor, *, label: str) -> Graph:
    """Every kind of object in ``actor``'s organization, made through the services."""
    organization = actor.organization
    campaign = factories.make_campaign(
        actor, name=f"{label} Crunch Campaign", end_at=timezone.now() + timedelta(days=30)
    )
    budget_set(
        actor=actor,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("200.00"),
        allocations={"google_ads": Decimal("100.00"), "meta_ads": Decimal("50.00")},
    )
    audience = factories.make_audience(actor, name=f"{label} Snackers")
    unit = factories.make_unit(
        actor, campaign, "google_ads", name=f"{label} Search", audience_id=audience.pk
    )
    creative = factories.make_creative(actor, unit, name=f"{label} Ad")
    media = factories.make_media(actor)
    kpi = kpi_set(actor=actor, campaign_id=campaign.pk, metric="ctr", target_value=Decimal("2.5"))
    log_entry = execution_log_write(
        campaign=campaign,
        actor=actor,
        action="launch",
        from_status="draft",
        to_status="",
        outcome=LogOutcome.FAILURE,
        message=f"{label} launch refused",
    )
    member = factories.make_actor(organization, Role.EDITOR)
    assert member.user is not None
    membership = Membership.objects.get(user=member.user, organization=organization)
    api_key, _raw = api_key_create(user=member.user, organization=organization, name=label)
    return Graph(
        organization=organization,
        campaign=campaign,
        audience=audience,
        unit=unit,
        creative=creative,
        media=media,
        kpi=kpi,
        log_entry=log_entry,
        member=member,
        membership=membership,
        api_key=api_key,
        ad_account=factories.make_connection(organization, "google_ads"),
    )


@pytest.fixture
def admin(org: Organization) -> Actor:
    return factories.make_actor(org, Role.ADMIN)


@pytest.fixture
def graph(owner: Actor) -> Graph:
    """Org A's (the caller's) objects."""
    return build_graph(owner, label="Tasty")


@pytest.fixture
def other_owner(other_org: Organization) -> Actor:
    return factories.make_actor(other_org, Role.OWNER)


@pytest.fixture
def other_graph(other_owner: Actor) -> Graph:
    """Org B's objects: what org A's members must never see or touch."""
    return build_graph(other_owner, label="Rival")
