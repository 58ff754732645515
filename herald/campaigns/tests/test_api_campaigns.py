"""The campaign API end to end: CRUD of campaigns, units, creatives, audiences, media
and KPI targets; budgets; list filters and pagination; lifecycle actions; creative
validation; platforms; and the problem+json shape of bad input."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

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
from herald.core.api import PROBLEM_CONTENT_TYPE
from herald.testing import factories

pytestmark = pytest.mark.django_db

PROBLEMS = "https://herald.dev/problems/"
TASTY_HEADLINE = "New Spicy Jalapeño Chips | 20% Off"  # 34 characters


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + code
    assert body["status"] == status
    return body


def field_errors(response: Any, code: str = "invalid-input") -> list[tuple[str, str]]:
    body = problem(response, 422, code)
    return [(error["field"], error["rule"]) for error in body["errors"]]


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("campaigns").get_models()
    }


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------- campaigns


def test_create_campaign_returns_the_draft(api, owner):
    response = api.post(
        "campaigns",
        {
            "name": "  Spicy Launch  ",
            "objective": "sales",
            "description": "Jalapeño season",
            "start_at": "2026-12-01T09:00:00Z",
            "end_at": "2026-12-31T09:00:00Z",
            "tags": ["spicy", "q4"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in body if key not in {"id", "created_at", "updated_at"}} == {
        "name": "Spicy Launch",
        "description": "Jalapeño season",
        "objective": "sales",
        "status": "draft",
        "start_at": "2026-12-01T09:00:00Z",
        "end_at": "2026-12-31T09:00:00Z",
        "time_zone": "UTC",
        "currency": "USD",
        "tags": ["spicy", "q4"],
        "channels": [],
        "budget": None,
        "allowed_actions": ["schedule", "launch", "cancel"],
        "created_by": owner.user.get_username(),
        "status_changed_at": None,
        "pause_reason": "",
        "cancel_reason": "",
        "error_message": "",
    }
    campaign = Campaign.objects.get(pk=body["id"])
    assert (campaign.organization_id, campaign.name) == (owner.organization.pk, "Spicy Launch")
    assert api.get(f"campaigns/{campaign.pk}").json() == body


def test_create_campaign_rule_errors(api):
    cases = [
        ({"name": "   ", "objective": "sales"}, [("name", "required")]),
        (
            {"name": "N", "objective": "sales", "start_at": "2026-12-01T09:00:00"},
            [("start_at", "aware_datetime")],
        ),
        (
            {
                "name": "N",
                "objective": "sales",
                "start_at": "2026-12-02T00:00:00Z",
                "end_at": "2026-12-01T00:00:00Z",
            },
            [("end_at", "after_start")],
        ),
        ({"name": "N", "objective": "sales", "tags": ["a", "A"]}, [("tags.1", "duplicate")]),
        ({"name": "N", "objective": "sales", "currency": "XXX1"}, [("currency", "iso_4217")]),
        (
            {"name": "N", "objective": "sales", "time_zone": "Mars/Base"},
            [("time_zone", "iana_time_zone")],
        ),
        ({"name": "x" * 201, "objective": "sales"}, [("name", "string_too_long")]),
    ]
    for payload, expected in cases:
        assert field_errors(api.post("campaigns", payload)) == expected, payload
    assert Campaign.objects.count() == 0


def test_patch_campaign(api, owner):
    campaign = factories.make_campaign(owner, name="Old", tags=["a"])
    response = api.patch(
        f"campaigns/{campaign.pk}", {"name": "New", "tags": ["b", "c"], "description": "D"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["tags"]) == ("New", ["b", "c"])
    campaign.refresh_from_db()
    assert (campaign.name, campaign.tags, campaign.description, campaign.objective) == (
        "New",
        ["b", "c"],
        "D",
        "sales",
    )
    assert field_errors(api.patch(f"campaigns/{campaign.pk}", {"name": None})) == [
        ("name", "required")
    ]
    assert field_errors(api.patch(f"campaigns/{campaign.pk}", {"objective": "fame"})) == [
        ("objective", "enum")
    ]
    assert Campaign.objects.get(pk=campaign.pk).name == "New"


def test_get_unknown_campaign_is_404(api):
    body = problem(api.get("campaigns/00000000-0000-4000-8000-000000000000"), 404, "not-found")
    assert body["detail"] == "No such campaign in this organization."


def test_delete_only_in_draft(api, owner):
    draft = factories.make_campaign(owner)
    assert api.delete(f"campaigns/{draft.pk}").status_code == 204
    assert Campaign.objects.filter(pk=draft.pk).count() == 0

    cancelled = factories.make_campaign(owner)
    assert api.post(f"campaigns/{cancelled.pk}/cancel", {"reason": "Recall"}).status_code == 200
    body = problem(api.delete(f"campaigns/{cancelled.pk}"), 409, "conflict")
    assert body["current_status"] == "cancelled"
    assert body["detail"].startswith("Only draft campaigns can be deleted; this one is cancelled.")
    assert Campaign.objects.filter(pk=cancelled.pk).count() == 1


def test_duplicate_campaign_copies_the_plan(api, owner):
    source = factories.make_launchable_campaign(owner, tags=["spicy"])
    api.post(f"campaigns/{source.pk}/kpis", {"metric": "clicks", "target_value": "1000"})
    response = api.post(f"campaigns/{source.pk}/duplicate", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != str(source.pk)
    assert (body["name"], body["status"], body["tags"]) == (
        f"{source.name} (copy)",
        "draft",
        ["spicy"],
    )
    assert (body["channels"], body["end_at"]) == (["google_ads", "meta_ads"], None)
    assert body["budget"]["allocations"] == {"google_ads": "100.00", "meta_ads": "100.00"}
    assert CampaignUnit.objects.filter(campaign_id=body["id"]).count() == 2
    assert AdCreative.objects.filter(unit__campaign_id=body["id"]).count() == 2
    assert KpiTarget.objects.filter(campaign_id=body["id"]).count() == 1
    named = api.post(f"campaigns/{source.pk}/duplicate", {"name": "Winter"})
    assert named.json()["name"] == "Winter"


# ---------------------------------------------------------------- list filters


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def listed(owner) -> dict[str, Campaign]:
    """Four campaigns with different statuses, channels, objectives and runs."""
    alpha = factories.make_campaign(
        owner,
        name="Alpha Chips",
        objective="sales",
        start_at=utc("2026-01-01T00:00:00+00:00"),
        end_at=utc("2026-01-31T00:00:00+00:00"),
    )
    bravo = factories.make_campaign(
        owner, name="Bravo Salsa", objective="traffic", start_at=utc("2026-03-01T00:00:00+00:00")
    )
    charlie = factories.make_campaign(owner, name="Charlie Chips", objective="awareness")
    delta = factories.make_campaign(
        owner, name="Delta Dip", objective="sales", end_at=utc("2026-02-10T00:00:00+00:00")
    )
    factories.make_unit(owner, alpha, "google_ads")
    factories.make_unit(owner, bravo, "meta_ads")
    factories.make_unit(owner, charlie, "google_ads")
    factories.make_unit(owner, charlie, "meta_ads")
    from herald.campaigns.services.lifecycle import campaign_cancel

    campaign_cancel(actor=owner, campaign_id=delta.pk)
    listed = {"alpha": alpha, "bravo": bravo, "charlie": charlie, "delta": delta}
    # Distinct creation times, whatever the clock's resolution.
    for day, campaign in enumerate(listed.values(), start=1):
        Campaign.objects.filter(pk=campaign.pk).update(created_at=utc(f"2025-06-0{day}T00:00Z"))
    return listed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Alpha Chips", "Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("status=cancelled", ["Delta Dip"]),
        ("status=draft", ["Alpha Chips", "Bravo Salsa", "Charlie Chips"]),
        ("channel=google_ads", ["Alpha Chips", "Charlie Chips"]),
        ("channel=meta_ads", ["Bravo Salsa", "Charlie Chips"]),
        ("objective=sales", ["Alpha Chips", "Delta Dip"]),
        ("objective=sales&status=draft", ["Alpha Chips"]),
        ("search=chips", ["Alpha Chips", "Charlie Chips"]),
        ("search=%20SALSA%20", ["Bravo Salsa"]),
        # Overlap with [date_from, date_to]; an unset start or end is open-ended and an
        # end at midnight does not reach into that day.
        ("date_from=2026-02-01", ["Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("date_from=2026-01-31", ["Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("date_from=2026-01-30", ["Alpha Chips", "Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("date_to=2026-01-15", ["Alpha Chips", "Charlie Chips", "Delta Dip"]),
        ("date_to=2026-03-01", ["Alpha Chips", "Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("date_from=2026-02-01&date_to=2026-02-28", ["Charlie Chips", "Delta Dip"]),
        ("date_from=2026-02-11&date_to=2026-02-28", ["Charlie Chips"]),
    ],
)
def test_campaign_list_filters(api, listed, query, expected):
    assert _names(api.get(f"campaigns?ordering=name&{query}")) == expected


def test_date_filter_uses_the_organizations_time_zone(api, owner):
    owner.organization.time_zone = "Asia/Tokyo"
    owner.organization.save()
    # 2026-02-28T20:00Z is already 1 March in Tokyo.
    factories.make_campaign(owner, name="Late", start_at=utc("2026-02-28T20:00:00+00:00"))
    factories.make_campaign(owner, name="Early", start_at=utc("2026-02-28T10:00:00+00:00"))
    assert _names(api.get("campaigns?ordering=name&date_to=2026-02-28")) == ["Early"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Alpha Chips", "Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("-name", ["Delta Dip", "Charlie Chips", "Bravo Salsa", "Alpha Chips"]),
        ("created_at", ["Alpha Chips", "Bravo Salsa", "Charlie Chips", "Delta Dip"]),
        ("-created_at", ["Delta Dip", "Charlie Chips", "Bravo Salsa", "Alpha Chips"]),
        ("status", ["Delta Dip", "Alpha Chips", "Bravo Salsa", "Charlie Chips"]),
    ],
)
def test_campaign_list_ordering(api, listed, ordering, expected):
    assert _names(api.get(f"campaigns?ordering={ordering}")) == expected


def test_campaign_list_ordering_by_start(api, owner):
    for name, start in [("B", "2026-05-01"), ("A", "2026-06-01"), ("C", "2026-04-01")]:
        factories.make_campaign(owner, name=name, start_at=utc(f"{start}T00:00:00+00:00"))
    assert _names(api.get("campaigns?ordering=start_at")) == ["C", "B", "A"]
    assert _names(api.get("campaigns?ordering=-start_at")) == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("ordering=price", [("ordering", "choice")]),
        ("ordering=-status", [("ordering", "choice")]),
        ("status=running", [("status", "enum")]),
        ("objective=fame", [("objective", "enum")]),
        ("channel=tiktok", [("channel", "choice")]),
        ("date_from=2026-13-01", [("date_from", "date_from_datetime_parsing")]),
        ("date_from=2026-02-02&date_to=2026-02-01", [("date_to", "after_start")]),
        ("page_size=201", [("page_size", "less_than_equal")]),
        ("page_size=0", [("page_size", "greater_than_equal")]),
        ("page=0", [("page", "greater_than_equal")]),
        ("page=two", [("page", "int_parsing")]),
    ],
)
def test_campaign_list_invalid_query(api, query, errors):
    assert field_errors(api.get(f"campaigns?{query}")) == errors


def test_campaign_list_pagination(api, owner):
    for index in range(5):
        factories.make_campaign(owner, name=f"Campaign {index}")
    first = api.get("campaigns?ordering=name&page_size=2").json()
    assert (first["count"], first["page"], first["page_size"]) == (5, 1, 2)
    assert [item["name"] for item in first["items"]] == ["Campaign 0", "Campaign 1"]
    last = api.get("campaigns?ordering=name&page_size=2&page=3").json()
    assert ([item["name"] for item in last["items"]], last["count"], last["page"]) == (
        ["Campaign 4"],
        5,
        3,
    )
    beyond = api.get("campaigns?ordering=name&page_size=2&page=4").json()
    assert (beyond["items"], beyond["count"]) == ([], 5)
    default = api.get("campaigns").json()
    assert (len(default["items"]), default["page"], default["page_size"]) == (5, 1, 50)
    assert api.get("campaigns?page_size=200").json()["page_size"] == 200


# ---------------------------------------------------------------- budget


def test_budget_put_get_and_reallocate(api, owner):
    campaign = factories.make_campaign(owner)
    body = problem(api.get(f"campaigns/{campaign.pk}/budget"), 404, "not-found")
    assert body["detail"] == "The campaign has no budget yet."

    response = api.put(
        f"campaigns/{campaign.pk}/budget",
        {
            "kind": "daily",
            "amount": "300.00",
            "allocations": {"google_ads": "150", "meta_ads": "100"},
        },
    )
    assert response.status_code == 200, response.content
    # Amounts in the currency's minor units, the same in the PUT answer and later reads.
    stored = {
        "kind": "daily",
        "amount": "300.00",
        "currency": "USD",
        "allocations": {"google_ads": "150.00", "meta_ads": "100.00"},
        "allocated": "250.00",
        "unallocated": "50.00",
    }
    assert response.json() == stored
    assert api.get(f"campaigns/{campaign.pk}/budget").json() == stored
    assert api.get(f"campaigns/{campaign.pk}").json()["budget"] == stored

    moved = api.post(
        f"campaigns/{campaign.pk}/budget/reallocate",
        {"from_channel": "google_ads", "to_channel": "meta_ads", "amount": "50"},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["allocations"] == {"google_ads": "100.00", "meta_ads": "150.00"}
    assert moved.json()["unallocated"] == "50.00"


def test_budget_refusals_change_nothing(api, owner):
    campaign = factories.make_campaign(owner)
    budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("200"),
        allocations={"google_ads": Decimal("120"), "meta_ads": Decimal("80")},
    )
    before = api.get(f"campaigns/{campaign.pk}/budget").json()
    url = f"campaigns/{campaign.pk}/budget"
    assert field_errors(
        api.put(url, {"kind": "daily", "amount": "100", "allocations": {"google_ads": "101"}})
    ) == [("allocations", "exceeds_budget")]
    assert field_errors(api.put(url, {"kind": "daily", "amount": "150"})) == [
        ("allocations", "exceeds_budget")
    ]
    assert field_errors(api.put(url, {"kind": "lifetime", "amount": "500"})) == [
        ("kind", "end_date_required")
    ]
    assert field_errors(api.put(url, {"kind": "daily", "amount": "500", "currency": "EUR"})) == [
        ("currency", "campaign_currency")
    ]
    assert field_errors(api.put(url, {"kind": "daily", "amount": "0"})) == [("amount", "positive")]
    assert field_errors(
        api.put(url, {"kind": "daily", "amount": "500", "allocations": {"tiktok": "1"}})
    ) == [("allocations.tiktok", "choice")]
    assert field_errors(
        api.put(url, {"kind": "daily", "amount": "500", "allocations": {"google_ads": "abc"}})
    ) == [("allocations.google_ads", "decimal_parsing")]
    assert field_errors(api.put(url, {"kind": "weekly", "amount": "500"})) == [("kind", "enum")]

    reallocate = f"campaigns/{campaign.pk}/budget/reallocate"
    body = problem(
        api.post(
            reallocate, {"from_channel": "meta_ads", "to_channel": "google_ads", "amount": "81"}
        ),
        422,
        "invalid-input",
    )
    assert body["errors"] == [
        {
            "field": "amount",
            "rule": "exceeds_allocation",
            "message": "meta_ads has 80.00 allocated; 81 cannot be moved.",
        }
    ]
    assert field_errors(
        api.post(reallocate, {"from_channel": "meta_ads", "to_channel": "meta_ads", "amount": "1"})
    ) == [("to_channel", "different_channel")]
    assert api.get(f"campaigns/{campaign.pk}/budget").json() == before


def test_reallocate_without_budget_is_404(api, owner):
    campaign = factories.make_campaign(owner)
    response = api.post(
        f"campaigns/{campaign.pk}/budget/reallocate",
        {"from_channel": "meta_ads", "to_channel": "google_ads", "amount": "1"},
    )
    assert problem(response, 404, "not-found")["detail"] == "The campaign has no budget yet."


# ---------------------------------------------------------------- units


def test_unit_crud(api, owner):
    campaign = factories.make_campaign(owner)
    audience = factories.make_audience(owner)
    response = api.post(
        f"campaigns/{campaign.pk}/units",
        {"channel": "google_ads", "name": "Search – Spicy", "audience_id": str(audience.pk)},
    )
    assert response.status_code == 201, response.content
    unit = response.json()
    assert {k: unit[k] for k in ("campaign_id", "channel", "name", "audience_id", "status")} == {
        "campaign_id": str(campaign.pk),
        "channel": "google_ads",
        "name": "Search – Spicy",
        "audience_id": str(audience.pk),
        "status": "draft",
    }
    assert (unit["budget_amount"], unit["external_id"]) == (None, "")
    assert api.get(f"units/{unit['id']}").json() == unit
    assert [u["id"] for u in api.get(f"campaigns/{campaign.pk}/units").json()] == [unit["id"]]
    assert api.get(f"campaigns/{campaign.pk}").json()["channels"] == ["google_ads"]

    patched = api.patch(f"units/{unit['id']}", {"name": "Search", "audience_id": None})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["audience_id"]) == ("Search", None)
    assert field_errors(api.patch(f"units/{unit['id']}", {"name": None})) == [("name", "required")]

    assert api.delete(f"units/{unit['id']}").status_code == 204
    assert CampaignUnit.objects.count() == 0
    problem(api.get(f"units/{unit['id']}"), 404, "not-found")


def test_unit_rules(api, owner):
    campaign = factories.make_campaign(owner)
    url = f"campaigns/{campaign.pk}/units"
    assert api.post(url, {"channel": "google_ads", "name": "Search"}).status_code == 201
    assert field_errors(api.post(url, {"channel": "google_ads", "name": "Search"})) == [
        ("name", "unique")
    ]
    assert field_errors(api.post(url, {"channel": "tiktok", "name": "Feed"})) == [
        ("channel", "choice")
    ]
    assert field_errors(
        api.post(url, {"channel": "meta_ads", "name": "Feed", "budget_amount": "10"})
    ) == [("budget_amount", "no_allocation")]
    budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("100"),
        allocations={"meta_ads": Decimal("40")},
    )
    assert (
        api.post(url, {"channel": "meta_ads", "name": "A", "budget_amount": "30"}).status_code
        == 201
    )
    assert field_errors(
        api.post(url, {"channel": "meta_ads", "name": "B", "budget_amount": "11"})
    ) == [("budget_amount", "exceeds_allocation")]
    assert CampaignUnit.objects.count() == 2


def test_launched_unit_cannot_be_deleted(api, owner):
    unit = factories.make_unit(owner, factories.make_campaign(owner))
    CampaignUnit.objects.filter(pk=unit.pk).update(external_id="adgroups/1")
    problem(api.delete(f"units/{unit.pk}"), 409, "conflict")
    assert CampaignUnit.objects.filter(pk=unit.pk).count() == 1


# ---------------------------------------------------------------- creatives


def test_creative_crud_and_versions(api, owner):
    unit = factories.make_unit(owner, factories.make_campaign(owner))
    response = api.post(f"units/{unit.pk}/creatives", {**factories.GOOGLE_CREATIVE, "name": "Ad"})
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["version"], first["lineage_id"], first["parent_id"]) == (1, first["id"], None)
    assert (first["is_current"], first["launched_at"], first["findings"]) == (True, None, [])
    assert first["headlines"] == factories.GOOGLE_CREATIVE["headlines"]

    # Never launched: edited in place.
    edited = api.patch(f"creatives/{first['id']}", {"name": "Ad v1", "display_path": ["hot"]})
    assert edited.status_code == 200, edited.content
    assert (edited.json()["id"], edited.json()["version"], edited.json()["name"]) == (
        first["id"],
        1,
        "Ad v1",
    )

    # Launched: an edit makes version 2, the current one.
    AdCreative.objects.filter(pk=first["id"]).update(launched_at=timezone.now())
    second = api.patch(f"creatives/{first['id']}", {"headlines": ["Hot", "Hotter", "Hottest"]})
    assert second.status_code == 200, second.content
    v2 = second.json()
    assert v2["id"] != first["id"]
    assert (v2["version"], v2["parent_id"], v2["lineage_id"], v2["is_current"]) == (
        2,
        first["id"],
        first["id"],
        True,
    )
    assert (v2["headlines"], v2["name"], v2["display_path"]) == (
        ["Hot", "Hotter", "Hottest"],
        "Ad v1",
        ["hot"],
    )
    versions = api.get(f"creatives/{first['id']}/versions").json()
    assert [(v["id"], v["version"], v["is_current"]) for v in versions] == [
        (v2["id"], 2, True),
        (first["id"], 1, False),
    ]
    assert [c["id"] for c in api.get(f"units/{unit.pk}/creatives").json()] == [v2["id"]]

    stale = problem(api.patch(f"creatives/{first['id']}", {"name": "X"}), 409, "conflict")
    assert stale["current_version_id"] == v2["id"]
    problem(api.delete(f"creatives/{v2['id']}"), 409, "conflict")
    assert AdCreative.objects.count() == 2


def test_creative_delete_removes_every_version(api, owner):
    creative = factories.make_creative(
        owner, factories.make_unit(owner, factories.make_campaign(owner))
    )
    assert api.delete(f"creatives/{creative.pk}").status_code == 204
    assert AdCreative.objects.count() == 0
    problem(api.get(f"creatives/{creative.pk}"), 404, "not-found")


def test_creative_saved_with_findings_and_rule_errors(api, owner):
    unit = factories.make_unit(owner, factories.make_campaign(owner))
    draft = api.post(
        f"units/{unit.pk}/creatives",
        {**factories.GOOGLE_CREATIVE, "headlines": [TASTY_HEADLINE, "Hot", "Hotter"]},
    )
    assert draft.status_code == 201, draft.content
    assert [(f["severity"], f["field"], f["code"]) for f in draft.json()["findings"]] == [
        ("error", "headlines.0", "headline_too_long")
    ]
    url = f"units/{unit.pk}/creatives"
    assert field_errors(api.post(url, {"destination_url": "ftp://tastychips.co"})) == [
        ("destination_url", "http_url")
    ]
    assert field_errors(
        api.post(url, {"destination_url": "https://tastychips.co", "call_to_action": "DANCE"})
    ) == [("call_to_action", "choice")]
    assert field_errors(
        api.post(url, {"destination_url": "https://tastychips.co", "headlines": ["x" * 301]})
    ) == [("headlines.0", "max_length")]
    assert field_errors(api.post(url, {"headlines": ["Hot"]})) == [("destination_url", "missing")]
    assert AdCreative.objects.count() == 1


# ---------------------------------------------------------------- audiences


def test_audience_crud(api, owner):
    response = api.post(
        "audiences",
        {"name": "Spice Lovers", "description": "Heat seekers", "rules": factories.VALID_RULES},
    )
    assert response.status_code == 201, response.content
    audience = response.json()
    assert (audience["name"], audience["summary"], audience["units_using"]) == (
        "Spice Lovers",
        "US · 18–65+",
        0,
    )
    assert audience["rules"]["locations"]["countries"] == ["US"]
    assert field_errors(
        api.post("audiences", {"name": "Spice Lovers", "rules": factories.VALID_RULES})
    ) == [("name", "unique")]
    assert field_errors(api.post("audiences", {"name": "Kids", "rules": {"age": {"min": 5}}})) == [
        ("rules.locations", "required"),
        ("rules.age.min", "range"),
    ]
    patched = api.patch(
        f"audiences/{audience['id']}",
        {"rules": {"locations": {"countries": ["US", "CA"]}, "age": {"min": 21, "max": 65}}},
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["summary"] == "US, CA · 21–65+"

    unit = factories.make_unit(owner, factories.make_campaign(owner), audience_id=audience["id"])
    listing = api.get("audiences").json()
    assert [(a["name"], a["units_using"]) for a in listing["items"]] == [("Spice Lovers", 1)]
    problem(api.delete(f"audiences/{audience['id']}"), 409, "conflict")
    assert Audience.objects.filter(pk=audience["id"]).count() == 1
    CampaignUnit.objects.filter(pk=unit.pk).update(audience=None)
    assert api.delete(f"audiences/{audience['id']}").status_code == 204
    assert Audience.objects.count() == 0


# ---------------------------------------------------------------- media


def test_media_upload_good_jpeg(api, owner):
    content = factories.make_image(1080, 1080)
    response = api.upload("media", content, name="jalapeno.jpg")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {
        k: body[k] for k in ("original_name", "content_type", "size_bytes", "width", "height")
    } == {
        "original_name": "jalapeno.jpg",
        "content_type": "image/jpeg",
        "size_bytes": len(content),
        "width": 1080,
        "height": 1080,
    }
    assert body["url"].startswith("/media/")
    assert api.get(f"media/{body['id']}").json() == body
    assert [m["id"] for m in api.get("media").json()["items"]] == [body["id"]]
    assert MediaAsset.objects.get(pk=body["id"]).organization_id == owner.organization.pk


@pytest.mark.parametrize(
    ("content", "name", "rule", "message"),
    [
        (
            b"Tasty Chips price list\n",
            "prices.txt",
            "image_type",
            "The file is not a readable JPEG, PNG, GIF or WebP image.",
        ),
        (
            factories.make_image(50, 50),
            "tiny.jpg",
            "dimensions",
            "The image is 50×50 px; each side must be between 100 and 10000 px.",
        ),
        (
            factories.make_image(200, 200, image_format="BMP"),
            "chips.bmp",
            "image_type",
            "BMP images are not supported; use JPEG, PNG, GIF or WebP.",
        ),
        (b"", "empty.jpg", "required", "The file is empty."),
    ],
)
def test_media_upload_refusals_store_nothing(api, content, name, rule, message):
    body = problem(api.upload("media", content, name=name), 422, "invalid-input")
    assert body["errors"] == [{"field": "file", "rule": rule, "message": message}]
    assert MediaAsset.objects.count() == 0


def test_media_upload_without_file_is_422(api):
    response = api.client.post("/api/v1/media", {}, HTTP_AUTHORIZATION=f"Bearer {api.key}")
    assert field_errors(response) == [("file", "missing")]


def test_media_delete(api, owner):
    unused = factories.make_media(owner)
    assert api.delete(f"media/{unused.pk}").status_code == 204
    assert MediaAsset.objects.filter(pk=unused.pk).count() == 0
    creative = factories.make_creative(
        owner, factories.make_unit(owner, factories.make_campaign(owner), "meta_ads")
    )
    assert creative.media_id is not None
    problem(api.delete(f"media/{creative.media_id}"), 409, "conflict")
    assert MediaAsset.objects.filter(pk=creative.media_id).count() == 1


# ---------------------------------------------------------------- KPI targets


def test_kpi_crud(api, owner):
    campaign = factories.make_campaign(owner)
    url = f"campaigns/{campaign.pk}/kpis"
    response = api.post(url, {"metric": "ctr", "target_value": "2.5"})
    assert response.status_code == 201, response.content
    kpi = response.json()
    assert {k: kpi[k] for k in ("metric", "label", "target_value", "unit")} == {
        "metric": "ctr",
        "label": "Click-through rate",
        "target_value": "2.5",
        "unit": "percent",
    }
    replaced = api.post(url, {"metric": "ctr", "target_value": "3.1"})
    assert (replaced.status_code, replaced.json()["id"]) == (201, kpi["id"])
    assert [(k["metric"], k["target_value"]) for k in api.get(url).json()] == [("ctr", "3.1000")]
    assert KpiTarget.objects.count() == 1

    assert field_errors(api.post(url, {"metric": "likes", "target_value": "1"})) == [
        ("metric", "choice")
    ]
    assert field_errors(api.post(url, {"metric": "cpc", "target_value": "-1"})) == [
        ("target_value", "range")
    ]
    assert field_errors(api.post(url, {"metric": "cpc", "target_value": "1.00001"})) == [
        ("target_value", "decimal_max_places")
    ]
    assert api.delete(f"{url}/{kpi['id']}").status_code == 204
    assert api.get(url).json() == []
    problem(api.delete(f"{url}/{kpi['id']}"), 404, "not-found")


# ---------------------------------------------------------------- lifecycle


def test_launch_without_accounts_is_refused_and_logged(api, owner):
    campaign = factories.make_launchable_campaign(owner)
    body = problem(api.post(f"campaigns/{campaign.pk}/launch", {}), 422, "account-not-connected")
    assert body["title"] == "Connect an ad account"
    assert body["detail"] == "Connect an ad account before launching on: Google Ads, Meta Ads."
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("channels.google_ads.ad_account", "account_not_connected"),
        ("channels.meta_ads.ad_account", "account_not_connected"),
    ]
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"

    log = api.get(f"campaigns/{campaign.pk}/log").json()
    assert log["count"] == 1
    entry = log["items"][0]
    assert {
        k: entry[k] for k in ("action", "from_status", "to_status", "outcome", "actor_type")
    } == {
        "action": "launch",
        "from_status": "draft",
        "to_status": "",
        "outcome": "failure",
        "actor_type": "api_key",
    }
    assert entry["message"] == body["detail"]
    assert entry["details"] == {"problem": "account-not-connected", "errors": body["errors"]}
    assert entry["actor_label"] == f"{owner.user.get_username()} (API key {api.api_key.prefix})"


def test_launch_with_failed_checks_lists_every_check(api, owner):
    campaign = factories.make_campaign(owner)
    body = problem(api.post(f"campaigns/{campaign.pk}/launch", {}), 422, "precondition-failed")
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("budget", "required"),
        ("units", "required"),
    ]


def test_launch_with_connected_accounts(api, owner, connected_channels):
    campaign = factories.make_launchable_campaign(owner)
    response = api.post(f"campaigns/{campaign.pk}/launch")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["allowed_actions"]) == ("launching", [])
    entry = api.get(f"campaigns/{campaign.pk}/log").json()["items"][0]
    assert (entry["action"], entry["outcome"], entry["to_status"]) == (
        "launch",
        "success",
        "launching",
    )


def test_pause_on_draft_is_409_naming_both(api, owner):
    campaign = factories.make_campaign(owner)
    body = problem(
        api.post(f"campaigns/{campaign.pk}/pause", {"reason": "x"}), 409, "invalid-transition"
    )
    assert "pause" in body["detail"]
    assert "draft" in body["detail"]
    assert (body["current_status"], body["action"]) == ("draft", "pause")
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"
    entry = ExecutionLogEntry.objects.get(campaign=campaign)
    assert (entry.action, entry.outcome, entry.details["problem"]) == (
        "pause",
        "failure",
        "invalid-transition",
    )


def test_cancel_and_unknown_action(api, owner):
    campaign = factories.make_campaign(owner)
    # An action that does not exist is an unknown URL, not a malformed request.
    problem(api.post(f"campaigns/{campaign.pk}/explode", {}), 404, "not-found")
    response = api.post(f"campaigns/{campaign.pk}/cancel", {"reason": "  Recalled batch  "})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["cancel_reason"]) == (
        "cancelled",
        "Recalled batch",
    )
    assert response.json()["allowed_actions"] == []
    problem(api.post(f"campaigns/{campaign.pk}/cancel", {}), 409, "invalid-transition")


# ---------------------------------------------------------------- validate and platforms


def test_validate_tasty_chips_headline_on_google(api):
    counts = row_counts()
    response = api.post(
        "creatives/validate",
        {
            **factories.GOOGLE_CREATIVE,
            "channel": "google_ads",
            "headlines": [TASTY_HEADLINE, "20% Off This Week", "Organic Potato Chips"],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "channel": "google_ads",
        "findings": [
            {
                "severity": "error",
                "field": "headlines.0",
                "code": "headline_too_long",
                "message": "Headline 1 is 34 characters; Google Ads allows 30. "
                "It will be rejected.",
            }
        ],
        "blocking": True,
        "preview": {"display_url": "www.tastychips.co/spicy", "link_domain": "tastychips.co"},
    }
    assert row_counts() == counts


def test_validate_headline_alone_on_google_lists_every_error(api):
    body = api.post(
        "creatives/validate", {"channel": "google_ads", "headlines": [TASTY_HEADLINE]}
    ).json()
    assert body["blocking"] is True
    assert [(f["severity"], f["field"], f["code"]) for f in body["findings"]] == [
        ("error", "descriptions", "too_few_descriptions"),
        ("error", "destination_url", "destination_required"),
        ("error", "headlines", "too_few_headlines"),
        ("error", "headlines.0", "headline_too_long"),
    ]


def test_validate_same_headline_fits_meta(api, owner):
    media = factories.make_media(owner)
    body = api.post(
        "creatives/validate",
        {**factories.META_CREATIVE, "channel": "meta_ads", "media_id": str(media.pk)},
    ).json()
    assert (body["findings"], body["blocking"]) == ([], False)
    assert field_errors(api.post("creatives/validate", {"channel": "tiktok"})) == [
        ("channel", "choice")
    ]


def test_platforms_lists_both_channels_with_limits(api):
    response = api.get("platforms")
    assert response.status_code == 200
    platforms = {p["channel"]: p for p in response.json()}
    assert list(platforms) == ["google_ads", "meta_ads"]
    google, meta = platforms["google_ads"], platforms["meta_ads"]
    assert (google["label"], google["unit_label"], google["requires_ad_account"]) == (
        "Google Ads",
        "ad group",
        True,
    )
    assert {k: google["creative"][k] for k in ("headlines_min", "headlines_max")} == {
        "headlines_min": 3,
        "headlines_max": 15,
    }
    assert (google["creative"]["headline_max_chars"], google["creative"]["image"]) == (30, None)
    assert google["creative"]["description_max_chars"] == 90
    assert (meta["label"], meta["unit_label"]) == ("Meta Ads", "ad set")
    assert (meta["creative"]["headline_max_chars"], meta["creative"]["requires_image"]) == (
        40,
        True,
    )
    assert meta["creative"]["primary_text_hard_max_chars"] == 2200
    assert meta["creative"]["image"]["recommended_width"] == 1080
    assert {"value": "SHOP_NOW", "label": "Shop Now"} in meta["creative"]["call_to_actions"]


# ---------------------------------------------------------------- problem+json shape


def test_malformed_json_is_400(api):
    response = api.client.post(
        "/api/v1/campaigns",
        data='{"name": "Spicy", ',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {
        "type": PROBLEMS + "bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "Cannot parse request body",
        "errors": [],
    }
    assert Campaign.objects.count() == 0


def test_wrong_types_name_each_field_with_the_pydantic_type(api):
    response = api.post(
        "campaigns", {"name": 5, "objective": "sales", "tags": "spicy", "start_at": "soon"}
    )
    body = problem(response, 422, "invalid-input")
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert (body["title"], body["detail"]) == ("Invalid input", "3 fields are invalid.")
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [
        ("name", "string_type"),
        ("start_at", "datetime_from_date_parsing"),
        ("tags", "list_type"),
    ]
    assert field_errors(api.post("campaigns", {"name": "N", "objective": 5})) == [
        ("objective", "enum")
    ]
    assert field_errors(
        api.post("campaigns", {"name": "N", "objective": "sales", "tags": ["a", 5]})
    ) == [("tags.1", "string_type")]
    assert field_errors(api.post("campaigns", {})) == [
        ("name", "missing"),
        ("objective", "missing"),
    ]
    # An id that is not a UUID names no object: 404, as for any unknown id.
    problem(api.get("campaigns/not-a-uuid"), 404, "not-found")
    assert Campaign.objects.count() == 0


def test_unknown_enum_value(api):
    body = problem(api.post("campaigns", {"name": "N", "objective": "fame"}), 422, "invalid-input")
    assert body["errors"] == [
        {
            "field": "objective",
            "rule": "enum",
            "message": "Input should be 'awareness', 'traffic', 'engagement', 'leads' or 'sales'",
        }
    ]
    assert body["detail"] == body["errors"][0]["message"]


def test_oversized_body_is_413_not_500(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "Spicy", "objective": "sales", "description": "' + "d" * 2000 + '"}'
    response = api.client.post(
        "/api/v1/campaigns",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {
        "type": PROBLEMS + "request-too-large",
        "title": "Request too large",
        "status": 413,
        "detail": "The request body is larger than the server accepts.",
        "errors": [],
    }
    assert Campaign.objects.count() == 0


def test_multipart_without_boundary_is_400_not_500(api):
    response = api.client.post(
        "/api/v1/media",
        data=b"not multipart at all",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    body = problem(response, 400, "bad-request")
    assert body["detail"] == "Cannot parse request body"
    assert MediaAsset.objects.count() == 0
