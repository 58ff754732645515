"""FakeMetaAds on the wire, without the adapter: body encodings, Meta's validation
errors, token and proof checks, paging, failure rendering, insights and persistence."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from herald.integrations.fake_server import Failure, RunningFake, serve
from herald.integrations.providers.meta_ads.client import appsecret_proof
from herald.integrations.providers.meta_ads.fake import (
    SANDBOX_ACCOUNT,
    SANDBOX_APP_SECRET,
    FakeAdAccount,
    FakeMetaAds,
)

ACT = "act_1122334455"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TARGETING = {
    "geo_locations": {"countries": ["US"]},
    "targeting_automation": {"advantage_audience": 0},
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 9, 1, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Graph:
    """Raw Graph calls against the served fake, the way the SDK would send them."""

    def __init__(self, running: RunningFake, token: str) -> None:
        self.base = f"{running.url}/v25.0"
        self.token = token

    def __call__(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        proof: str | None = None,
        token: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        token = token or self.token
        query = {"appsecret_proof": proof or appsecret_proof(SANDBOX_APP_SECRET, token)}
        query.update(params or {})
        return httpx.request(
            method,
            f"{self.base}/{path}",
            params=query,
            headers={"Authorization": f"Bearer {token}"},
            **body,
        )

    def form(self, path: str, fields: dict[str, Any]) -> httpx.Response:
        """POST form fields with dicts, lists and bools JSON-encoded, as the SDK does."""
        encoded = {
            key: json.dumps(value) if isinstance(value, dict | list | bool) else str(value)
            for key, value in fields.items()
        }
        return self("POST", path, data=encoded)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningFake]:
    served = serve(FakeMetaAds())
    yield served
    served.stop()


@pytest.fixture
def fake(running: RunningFake) -> Iterator[FakeMetaAds]:
    app = running.app
    assert isinstance(app, FakeMetaAds)
    app.reset(accounts=[SANDBOX_ACCOUNT])
    app.clock = Clock()
    app.max_limit = 500
    yield app
    app.clear_failures()


@pytest.fixture
def graph(running: RunningFake, fake: FakeMetaAds) -> Graph:
    return Graph(running, fake.issue_token())


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "error" in body, body
    error: dict[str, Any] = body["error"]
    return error


def campaign(graph: Graph, **overrides: Any) -> str:
    fields = {
        "name": "Chips",
        "objective": "OUTCOME_SALES",
        "status": "PAUSED",
        "special_ad_categories": [],
        **overrides,
    }
    response = graph.form(f"{ACT}/campaigns", fields)
    assert response.status_code == 200, response.text
    identifier: str = response.json()["id"]
    return identifier


def adset_fields(campaign_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Snackers",
        "campaign_id": campaign_id,
        "daily_budget": 1000,
        "billing_event": "IMPRESSIONS",
        "optimization_goal": "OFFSITE_CONVERSIONS",
        "targeting": TARGETING,
        "status": "ACTIVE",
        **overrides,
    }


def image_hash(graph: Graph) -> str:
    response = graph("POST", f"{ACT}/adimages", files={"chips.png": ("chips.png", PNG)})
    assert response.status_code == 200, response.text
    value: str = response.json()["images"]["chips.png"]["hash"]
    return value


def test_form_and_json_bodies_both_work(fake: FakeMetaAds, graph: Graph) -> None:
    from_form = campaign(graph, is_adset_budget_sharing_enabled=False)
    from_json = graph(
        "POST",
        f"{ACT}/campaigns",
        json={"name": "J", "objective": "OUTCOME_TRAFFIC", "special_ad_categories": []},
    )
    assert from_json.status_code == 200
    stored = {item["id"]: item for item in fake.objects("campaign")}
    assert stored[from_form]["special_ad_categories"] == []
    assert stored[from_form]["is_adset_budget_sharing_enabled"] is False
    assert stored[from_json.json()["id"]]["objective"] == "OUTCOME_TRAFFIC"
    read = graph("GET", from_form, params={"fields": "name,status,effective_status"}).json()
    assert read == {
        "id": from_form,
        "name": "Chips",
        "status": "PAUSED",
        "effective_status": "PAUSED",
    }


@pytest.mark.parametrize(
    ("path", "fields", "expected"),
    [
        ("campaigns", {"name": "C", "objective": "OUTCOME_SALES"}, "special_ad_categories"),
        (
            "campaigns",
            {"name": "x" * 401, "objective": "OUTCOME_SALES", "special_ad_categories": []},
            "Name Too Long",
        ),
        (
            "campaigns",
            {"name": "C", "objective": "CONVERSIONS", "special_ad_categories": []},
            "objective",
        ),
    ],
)
def test_campaign_validation(
    graph: Graph, path: str, fields: dict[str, Any], expected: str
) -> None:
    response = graph.form(f"{ACT}/{path}", fields)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert expected in json.dumps(error)


@pytest.mark.parametrize(
    ("overrides", "title", "subcode"),
    [
        (
            {"targeting": {"geo_locations": {"countries": ["US"]}}},
            "Advantage Audience Flag Required",
            None,
        ),
        ({"daily_budget": 99}, "Budget Is Too Low", 1885272),
        ({"optimization_goal": "REACH"}, "Optimization Goal Not Valid", 2490408),
        (
            {"targeting": {"geo_locations": {}, "targeting_automation": {"advantage_audience": 1}}},
            "Location Required",
            None,
        ),
    ],
)
def test_ad_set_validation(
    graph: Graph, overrides: dict[str, Any], title: str, subcode: int | None
) -> None:
    response = graph.form(f"{ACT}/adsets", adset_fields(campaign(graph), **overrides))
    error = error_of(response)
    assert response.status_code == 400 and error["code"] == 100
    assert error["error_user_title"] == title
    assert error.get("error_subcode") == subcode


def test_lifetime_budget_needs_an_end_time_and_keeps_its_type(graph: Graph) -> None:
    fields = adset_fields(campaign(graph), daily_budget="", lifetime_budget=50000)
    assert "end_time" in error_of(graph.form(f"{ACT}/adsets", fields))["message"]
    fields["end_time"] = "2026-09-30T23:59:00-04:00"
    adset_id = graph.form(f"{ACT}/adsets", fields).json()["id"]
    switch = graph.form(adset_id, {"daily_budget": 2000})
    assert error_of(switch)["error_user_title"] == "Budget Type Cannot Change"
    assert graph.form(adset_id, {"lifetime_budget": 60000}).json() == {"success": True}
    read = graph("GET", adset_id, params={"fields": "lifetime_budget"}).json()
    assert read["lifetime_budget"] == "60000"  # budgets come back as strings


def test_creatives_need_a_known_image_and_a_real_call_to_action(graph: Graph) -> None:
    spec: dict[str, Any] = {
        "page_id": "9988776655",
        "link_data": {"link": "https://tastychips.example", "message": "Crunch"},
    }
    missing = error_of(graph.form(f"{ACT}/adcreatives", {"name": "A", "object_story_spec": spec}))
    assert missing["error_user_title"] == "Image Required"

    spec["link_data"]["image_hash"] = image_hash(graph)
    spec["link_data"]["call_to_action"] = {
        "type": "CLICK_HERE_NOW",
        "value": {"link": "https://x.example"},
    }
    bad_cta = error_of(graph.form(f"{ACT}/adcreatives", {"name": "A", "object_story_spec": spec}))
    assert bad_cta["code"] == 100 and bad_cta["error_user_title"] == "Invalid Call to Action"

    spec["link_data"]["call_to_action"]["type"] = "SHOP_NOW"
    created = graph.form(f"{ACT}/adcreatives", {"name": "A", "object_story_spec": spec})
    assert created.status_code == 200 and created.json()["id"].isdigit()


def test_images_by_file_or_base64_and_with_an_extension(graph: Graph) -> None:
    as_file = image_hash(graph)
    as_bytes = graph.form(f"{ACT}/adimages", {"bytes": base64.b64encode(PNG).decode()})
    assert as_bytes.json()["images"]["bytes"]["hash"] == as_file  # content-addressed
    nameless = graph("POST", f"{ACT}/adimages", files={"chips": ("chips", PNG)})
    assert error_of(nameless)["code"] == 100
    not_image = graph("POST", f"{ACT}/adimages", files={"a.png": ("a.png", b"hello")})
    assert error_of(not_image)["error_user_title"] == "Invalid Image"


def test_tokens_and_proofs_are_checked(graph: Graph) -> None:
    unknown = graph("GET", "me/adaccounts", token="EAAGbogus")
    assert unknown.status_code == 400
    assert error_of(unknown)["code"] == 190 and error_of(unknown)["type"] == "OAuthException"

    wrong_proof = graph("GET", "me/adaccounts", proof="0" * 64)
    assert error_of(wrong_proof)["code"] == 100
    assert "appsecret_proof" in error_of(wrong_proof)["message"]

    no_proof = httpx.get(
        f"{graph.base}/me/adaccounts", headers={"Authorization": f"Bearer {graph.token}"}
    )
    assert "appsecret_proof" in error_of(no_proof)["message"]


def test_a_token_without_ads_management_cannot_write(
    fake: FakeMetaAds, running: RunningFake
) -> None:
    reader = Graph(running, fake.issue_token(scopes=["ads_read"]))
    assert reader("GET", "me/adaccounts").status_code == 200
    refused = reader.form(
        f"{ACT}/campaigns", {"name": "C", "objective": "OUTCOME_SALES", "special_ad_categories": []}
    )
    assert error_of(refused)["code"] == 200


def test_paging_next_is_an_absolute_link_to_follow(fake: FakeMetaAds, graph: Graph) -> None:
    fake.reset(accounts=[FakeAdAccount(str(n), f"Account {n}") for n in range(1, 6)])
    graph.token = fake.issue_token()
    first = graph("GET", "me/adaccounts", params={"fields": "name", "limit": "2"}).json()
    names = [row["name"] for row in first["data"]]
    following: str | None = first["paging"]["next"]
    assert following is not None and following.startswith("http://127.0.0.1:")
    while following:
        # Followed verbatim: the link carries its own query (httpx would replace it).
        body = httpx.get(following, headers={"Authorization": f"Bearer {graph.token}"}).json()
        names += [row["name"] for row in body["data"]]
        following = body.get("paging", {}).get("next")
    assert names == [f"Account {n}" for n in range(1, 6)]


def test_listing_filters_by_name(graph: Graph) -> None:
    campaign(graph, name="Alpha")
    wanted = campaign(graph, name="Beta")
    filtering = json.dumps([{"field": "name", "operator": "EQUAL", "value": "Beta"}])
    found = graph("GET", f"{ACT}/campaigns", params={"fields": "id,name", "filtering": filtering})
    assert found.json()["data"] == [{"id": wanted, "name": "Beta"}]


def test_failures_render_in_meta_shapes(
    fake: FakeMetaAds, graph: Graph, running: RunningFake
) -> None:
    control = httpx.post(
        f"{running.url}/__fake__/failures", json={"kind": "rate_limit", "retry_after": 150}
    )
    assert control.status_code == 201
    throttled = graph("GET", "me/adaccounts")
    assert throttled.status_code == 400 and error_of(throttled)["code"] == 80004
    usage = json.loads(throttled.headers["x-business-use-case-usage"])
    assert usage["1122334455"][0]["estimated_time_to_regain_access"] == 3  # minutes

    fake.inject(Failure(kind="server_error"))
    failed = graph("GET", "me/adaccounts")
    assert failed.status_code == 500
    assert error_of(failed)["code"] == 2 and error_of(failed)["is_transient"] is True

    fake.inject(Failure(kind="auth"))
    assert error_of(graph("GET", "me/adaccounts"))["code"] == 190

    fake.inject(Failure(kind="validation", message="Nope"))
    refused = error_of(graph("GET", "me/adaccounts"))
    assert refused["code"] == 100 and refused["error_user_msg"] == "Nope"


def test_insights_per_day_and_for_the_whole_range(fake: FakeMetaAds, graph: Graph) -> None:
    campaign_id = campaign(graph, status="ACTIVE")
    fields = adset_fields(campaign_id, start_time="2026-09-01T00:00:00-04:00")
    adset_id = graph.form(f"{ACT}/adsets", fields).json()["id"]
    spec = {
        "page_id": "9988776655",
        "link_data": {"link": "https://tastychips.example", "image_hash": image_hash(graph)},
    }
    creative_id = graph.form(f"{ACT}/adcreatives", {"name": "A", "object_story_spec": spec}).json()[
        "id"
    ]
    graph.form(
        f"{ACT}/ads", {"name": "A", "adset_id": adset_id, "creative": {"creative_id": creative_id}}
    )
    assert isinstance(fake.clock, Clock)
    fake.clock.now = datetime(2026, 9, 3, 14, 0, tzinfo=UTC)

    window = json.dumps({"since": "2026-09-01", "until": "2026-09-05"})
    daily = graph(
        "GET",
        f"{campaign_id}/insights",
        params={"time_range": window, "time_increment": "1", "fields": "spend,impressions,actions"},
    ).json()["data"]
    assert [row["date_start"] for row in daily] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert all(isinstance(row["spend"], str) and float(row["spend"]) <= 10 for row in daily)

    total = graph(
        "GET", f"{campaign_id}/insights", params={"time_range": window, "fields": "impressions"}
    ).json()["data"]
    assert total == [
        {
            "impressions": str(sum(int(row["impressions"]) for row in daily)),
            "date_start": "2026-09-01",
            "date_stop": "2026-09-05",
        }
    ]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "meta.json"
    first = FakeMetaAds(state_file=state_file)
    token = first.issue_token()
    served = serve(first)
    try:
        campaign_id = campaign(Graph(served, token))
    finally:
        served.stop()
    again = FakeMetaAds(state_file=state_file)
    assert [item["id"] for item in again.objects("campaign")] == [campaign_id]
    assert token in again.state["tokens"]


def test_the_dialog_refuses_an_unknown_app(running: RunningFake) -> None:
    response = httpx.get(
        f"{running.url}/v25.0/dialog/oauth",
        params={"client_id": "someone-else", "redirect_uri": "https://h.example/"},
    )
    assert response.status_code == 400 and error_of(response)["code"] == 101
