"""FakeGoogleAds on the wire: what Google would accept, refuse and answer.

Raw HTTP (httpx) against the fake on loopback, so these tests pin the protocol itself:
OAuth rules, the error envelope, validation codes and field paths, mutate semantics,
GAQL, metrics, failure injection and persistence. The GAQL parser is also tested
directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from herald.integrations.fake_server import RunningFake, serve
from herald.integrations.providers.google_ads.adapter import gaql_query, gaql_string
from herald.integrations.providers.google_ads.fake import (
    SCOPE,
    FakeCustomer,
    FakeGoogleAds,
    daily_metrics,
)
from herald.integrations.providers.google_ads.gaql import GaqlError, holds, parse_gaql

REDIRECT = "https://herald.example/integrations/google_ads/callback"
CID = "1234567890"
NOW = datetime(2026, 9, 1, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


CLOCK = Clock()
# One client for the tests' own calls: building an httpx client costs ~20 ms (TLS setup).
HTTP = httpx.Client(timeout=10)


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningFake]:
    running = serve(
        FakeGoogleAds(
            redirect_uris=[REDIRECT],
            clock=CLOCK,
            customers=[
                FakeCustomer(CID, "Tasty Chips Sandbox"),
                FakeCustomer("5556667778", "Closed Shop", status="CANCELED"),
                FakeCustomer("4445556667", "Tasty Chips Japan", "JPY", "Asia/Tokyo"),
            ],
        )
    )
    yield running
    running.stop()


@pytest.fixture
def fake(shared: RunningFake) -> RunningFake:
    app = shared.app
    CLOCK.now = NOW
    with app.lock:
        app.clear_failures()
        app.state.clear()
        app.state.update(app.initial_state())
        app.requests.clear()
    return shared


@pytest.fixture
def app(fake: RunningFake) -> FakeGoogleAds:
    assert isinstance(fake.app, FakeGoogleAds)
    return fake.app


def authorize(fake: RunningFake, app: FakeGoogleAds, **params: str) -> httpx.Response:
    query = {
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "access_type": "offline",
        "state": "s1",
        **params,
    }
    return HTTP.get(f"{fake.url}/o/oauth2/v2/auth", params=query)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def token_request(fake: RunningFake, **form: str) -> httpx.Response:
    return HTTP.post(f"{fake.url}/token", data=form)


def exchange(fake: RunningFake, app: FakeGoogleAds, code: str) -> httpx.Response:
    return token_request(
        fake,
        grant_type="authorization_code",
        code=code,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=REDIRECT,
    )


@pytest.fixture
def token(fake: RunningFake, app: FakeGoogleAds) -> str:
    answer = exchange(fake, app, code_from(authorize(fake, app))).json()
    return str(answer["access_token"])


def call(
    fake: RunningFake,
    token: str,
    path: str,
    body: Any = None,
    *,
    version: str = "v23",
    customer: str = CID,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return HTTP.post(
        f"{fake.url}/{version}/customers/{customer}/{path}",
        json=body,
        headers={**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})},
    )


def mutate(
    fake: RunningFake, token: str, resource: str, *operations: Any, **options: Any
) -> httpx.Response:
    version = options.pop("version", "v23")
    customer = options.pop("customer", CID)
    return call(
        fake,
        token,
        f"{resource}:mutate",
        {"operations": list(operations), **options},
        version=version,
        customer=customer,
    )


def search(fake: RunningFake, token: str, query: str, **kwargs: Any) -> httpx.Response:
    return call(fake, token, "googleAds:searchStream", {"query": query}, **kwargs)


def rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [row for batch in response.json() for row in batch.get("results", [])]


def ads_errors(response: httpx.Response) -> list[dict[str, Any]]:
    error = response.json()["error"]
    assert error["code"] == response.status_code
    detail = error["details"][0]
    assert detail["@type"].endswith(".errors.GoogleAdsFailure")
    return list(detail["errors"])


def codes(response: httpx.Response) -> list[str]:
    return ["{}.{}".format(*next(iter(e["errorCode"].items()))) for e in ads_errors(response)]


def field_path(error: dict[str, Any]) -> str:
    return ".".join(
        e["fieldName"] + (f"[{e['index']}]" if "index" in e else "")
        for e in error["location"]["fieldPathElements"]
    )


def budget(name: str = "B", micros: Any = "10000000") -> dict[str, Any]:
    return {"create": {"name": name, "amountMicros": micros, "deliveryMethod": "STANDARD"}}


def campaign(budget_name: str, name: str = "C", **fields: Any) -> dict[str, Any]:
    return {
        "create": {
            "name": name,
            "status": "ENABLED",
            "advertisingChannelType": "SEARCH",
            "campaignBudget": budget_name,
            "manualCpc": {},
            "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            **fields,
        }
    }


def rsa(**changes: Any) -> dict[str, Any]:
    ad = {
        "headlines": [{"text": "Spicy Chips"}, {"text": "Kettle Cooked"}, {"text": "Ships Free"}],
        "descriptions": [{"text": "Bold heat in every chip."}, {"text": "Order today."}],
        "path1": "chips",
    }
    ad.update(changes)
    return ad


def build(fake: RunningFake, token: str, micros: str = "10000000") -> dict[str, str]:
    """Budget, enabled campaign, ad group and ad; their resource names."""
    names: dict[str, str] = {}
    names["budget"] = rows_one(mutate(fake, token, "campaignBudgets", budget(micros=micros)))
    names["campaign"] = rows_one(mutate(fake, token, "campaigns", campaign(names["budget"])))
    names["group"] = rows_one(
        mutate(fake, token, "adGroups", {"create": {"name": "G", "campaign": names["campaign"]}})
    )
    names["ad"] = rows_one(
        mutate(
            fake,
            token,
            "adGroupAds",
            {
                "create": {
                    "adGroup": names["group"],
                    "ad": {
                        "finalUrls": ["https://tastychips.example"],
                        "responsiveSearchAd": rsa(),
                    },
                }
            },
        )
    )
    return names


def rows_one(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["resourceName"])


# ---- OAuth


def test_authorize_checks_client_and_scope(fake: RunningFake, app: FakeGoogleAds) -> None:
    assert authorize(fake, app, client_id="someone-else").status_code == 401
    answer = authorize(fake, app, scope="email")
    assert answer.status_code == 302
    assert "error=invalid_scope" in answer.headers["location"]


def test_token_endpoint_rules(fake: RunningFake, app: FakeGoogleAds) -> None:
    code = code_from(authorize(fake, app))
    wrong_secret = token_request(
        fake,
        grant_type="authorization_code",
        code=code,
        client_id=app.client_id,
        client_secret="nope",
        redirect_uri=REDIRECT,
    )
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    wrong_redirect = token_request(
        fake,
        grant_type="authorization_code",
        code=code,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=REDIRECT + "/other",
    )
    assert wrong_redirect.json()["error"] == "redirect_uri_mismatch"
    # Client credentials may also come as HTTP Basic.
    basic = HTTP.post(
        f"{fake.url}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(app.client_id, app.client_secret),
    )
    assert basic.status_code == 200
    assert basic.json()["token_type"] == "Bearer"
    assert basic.json()["expires_in"] == 3599
    assert basic.json()["scope"] == SCOPE
    assert basic.json()["refresh_token"].startswith("1//")
    assert exchange(fake, app, code).json()["error"] == "invalid_grant"  # used
    assert exchange(fake, app, "4/0Aunknown").json()["error"] == "invalid_grant"
    # Without offline access there is no refresh token.
    online = exchange(fake, app, code_from(authorize(fake, app, access_type="online"))).json()
    assert "refresh_token" not in online
    unsupported = token_request(
        fake, grant_type="password", client_id=app.client_id, client_secret=app.client_secret
    )
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_codes_expire(fake: RunningFake, app: FakeGoogleAds) -> None:
    code = code_from(authorize(fake, app))
    CLOCK.now = NOW + timedelta(minutes=11)
    assert exchange(fake, app, code).json()["error"] == "invalid_grant"


# ---- access


def test_ads_calls_need_a_live_bearer_token(fake: RunningFake, token: str) -> None:
    missing = search(fake, "", "SELECT customer.id FROM customer")
    assert missing.status_code == 401
    assert codes(missing) == ["authenticationError.OAUTH_TOKEN_INVALID"]
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    assert missing.headers["request-id"]
    CLOCK.now = NOW + timedelta(seconds=3599)
    expired = search(fake, token, "SELECT customer.id FROM customer")
    assert codes(expired) == ["authenticationError.OAUTH_TOKEN_EXPIRED"]


def test_customer_and_header_checks(fake: RunningFake, token: str) -> None:
    query = "SELECT customer.id FROM customer"
    unknown = search(fake, token, query, customer="1112223334")
    assert (unknown.status_code, codes(unknown)) == (
        403,
        ["authorizationError.USER_PERMISSION_DENIED"],
    )
    closed = search(fake, token, query, customer="5556667778")
    assert codes(closed) == ["authorizationError.CUSTOMER_NOT_ENABLED"]
    bad_login = search(fake, token, query, headers={"login-customer-id": "123-456-7890"})
    assert codes(bad_login) == ["headerError.INVALID_LOGIN_CUSTOMER_ID"]
    with_headers = search(
        fake, token, query, headers={"login-customer-id": CID, "developer-token": "anything"}
    )
    assert rows(with_headers) == [{"customer": {"id": CID, "resourceName": f"customers/{CID}"}}]
    listed = HTTP.get(
        f"{fake.url}/v25/customers:listAccessibleCustomers",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert listed.json()["resourceNames"] == [
        f"customers/{CID}",
        "customers/5556667778",
        "customers/4445556667",
    ]


# ---- mutate validation


def test_budget_validation(fake: RunningFake, token: str) -> None:
    as_number = mutate(fake, token, "campaignBudgets", budget(micros=10000000))
    assert as_number.status_code == 400
    assert as_number.json()["error"]["message"].startswith("Invalid JSON payload received.")
    assert "TYPE_INT64" in as_number.json()["error"]["message"]

    odd = mutate(fake, token, "campaignBudgets", budget(micros="10005000"))
    assert codes(odd) == ["campaignBudgetError.NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"]
    assert field_path(ads_errors(odd)[0]) == "operations[0].create.amount_micros"
    # Yen have no cents: the minimum unit is a whole yen.
    yen = mutate(fake, token, "campaignBudgets", budget(micros="1500000000"), customer="4445556667")
    assert yen.status_code == 200
    sen = mutate(fake, token, "campaignBudgets", budget(micros="1500010000"), customer="4445556667")
    assert codes(sen) == ["campaignBudgetError.NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"]

    nameless = mutate(fake, token, "campaignBudgets", {"create": {"amountMicros": "10000"}})
    assert codes(nameless) == ["fieldError.REQUIRED"]
    assert field_path(ads_errors(nameless)[0]) == "operations[0].create.name"

    unknown = mutate(fake, token, "campaignBudgets", {"create": {"name": "x", "amount": "1"}})
    assert 'Unknown name "amount"' in unknown.json()["error"]["message"]

    assert mutate(fake, token, "campaignBudgets", budget("Twin")).status_code == 200
    twin = mutate(fake, token, "campaignBudgets", budget("Twin"))
    assert codes(twin) == ["campaignBudgetError.DUPLICATE_NAME"]


def test_rsa_limits_are_reported_together(fake: RunningFake, token: str) -> None:
    names = build(fake, token)
    bad = rsa(
        headlines=[{"text": "Spicy Chips"}, {"text": "x" * 31}],
        descriptions=[{"text": "d"}] * 5,
        path1="p" * 16,
    )
    answer = mutate(
        fake,
        token,
        "adGroupAds",
        {
            "create": {
                "adGroup": names["group"],
                "ad": {"finalUrls": ["https://tastychips.example"], "responsiveSearchAd": bad},
            }
        },
    )
    errors = ads_errors(answer)
    prefix = "operations[0].create.ad.responsive_search_ad"
    assert [(codes_of(e), field_path(e)) for e in errors] == [
        ("collectionSizeError.TOO_FEW", f"{prefix}.headlines"),
        ("adError.TOO_LONG", f"{prefix}.headlines[1].text"),
        ("collectionSizeError.TOO_MANY", f"{prefix}.descriptions"),
        ("stringLengthError.TOO_LONG", f"{prefix}.path1"),
    ]
    assert errors[1]["trigger"] == {"stringValue": "x" * 31}

    # An accented headline of 30 characters is within the limit.
    ok = rsa(headlines=[{"text": "é" * 30}, {"text": "b"}, {"text": "c"}], path2="x")
    accepted = mutate(
        fake,
        token,
        "adGroupAds",
        {
            "create": {
                "adGroup": names["group"],
                "ad": {
                    "finalUrls": ["https://tastychips.example"],
                    "responsiveSearchAd": ok,
                    "name": "ignored",
                },
            }
        },
    )
    assert accepted.status_code == 200
    ad = [a for a in fake.app.state["adGroupAds"].values()][-1]["ad"]
    assert "name" not in ad  # RSAs keep no name
    no_path1 = rsa(path1=None, path2="x")
    del no_path1["path1"]
    refused = mutate(
        fake,
        token,
        "adGroupAds",
        {
            "create": {
                "adGroup": names["group"],
                "ad": {"finalUrls": ["https://x.example"], "responsiveSearchAd": no_path1},
            }
        },
    )
    assert field_path(ads_errors(refused)[0]) == f"{prefix}.path1"


def codes_of(error: dict[str, Any]) -> str:
    return "{}.{}".format(*next(iter(error["errorCode"].items())))


def test_campaign_dates_follow_the_api_version(fake: RunningFake, token: str) -> None:
    b = rows_one(mutate(fake, token, "campaignBudgets", budget()))
    old_style = mutate(fake, token, "campaigns", campaign(b, startDate="2026-09-02"))
    assert 'Unknown name "startDate"' in old_style.json()["error"]["message"]
    sloppy = mutate(fake, token, "campaigns", campaign(b, startDateTime="20260902 00:00:00"))
    assert codes(sloppy) == ["dateError.INVALID_STRING_DATE_TIME_SECONDS"]
    past = mutate(fake, token, "campaigns", campaign(b, startDateTime="2026-08-31 00:00:00"))
    assert codes(past) == ["dateRangeError.CANNOT_SET_DATE_TO_PAST"]
    backwards = mutate(
        fake,
        token,
        "campaigns",
        campaign(b, startDateTime="2026-09-05 00:00:00", endDateTime="2026-09-04 23:59:59"),
    )
    assert codes(backwards) == ["dateRangeError.START_DATE_AFTER_END_DATE"]

    v22 = mutate(fake, token, "campaigns", campaign(b, startDate="2026-09-02"), version="v22")
    assert v22.status_code == 200
    new_style = mutate(
        fake,
        token,
        "campaigns",
        campaign(b, "D", startDateTime="2026-09-02 00:00:00"),
        version="v22",
    )
    assert 'Unknown name "startDateTime"' in new_style.json()["error"]["message"]
    # Without a start date Google starts today.
    today = rows_one(mutate(fake, token, "campaigns", campaign(b, "E")))
    assert fake.app.state["campaigns"][today]["startDateTime"] == "2026-09-01 00:00:00"


def test_campaign_needs_a_live_budget_and_a_bidding_strategy(fake: RunningFake, token: str) -> None:
    missing = mutate(fake, token, "campaigns", campaign(f"customers/{CID}/campaignBudgets/9"))
    assert codes(missing) == ["mutateError.RESOURCE_NOT_FOUND"]
    b = rows_one(mutate(fake, token, "campaignBudgets", budget()))
    body = campaign(b)
    del body["create"]["manualCpc"]
    assert codes(mutate(fake, token, "campaigns", body)) == ["fieldError.REQUIRED"]
    undeclared = campaign(b)
    del undeclared["create"]["containsEuPoliticalAdvertising"]
    name = rows_one(mutate(fake, token, "campaigns", undeclared))
    assert fake.app.state["campaigns"][name]["_missingEuPoliticalAdvertisingDeclaration"] is True


def test_mutate_is_all_or_nothing_unless_partial_failure(fake: RunningFake, token: str) -> None:
    refused = mutate(fake, token, "campaignBudgets", budget("A"), budget("B", "5"))
    assert refused.status_code == 400
    assert field_path(ads_errors(refused)[0]) == "operations[1].create.amount_micros"
    assert fake.app.state["campaignBudgets"] == {}

    partial = mutate(
        fake, token, "campaignBudgets", budget("A"), budget("B", "5"), partialFailure=True
    )
    assert partial.status_code == 200
    body = partial.json()
    assert body["results"][1] == {}
    assert body["results"][0]["resourceName"].startswith(f"customers/{CID}/campaignBudgets/")
    assert body["partialFailureError"]["details"][0]["errors"][0]["errorCode"] == {
        "campaignBudgetError": "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"
    }
    dry = mutate(fake, token, "campaignBudgets", budget("C"), validateOnly=True)
    assert dry.json() == {}
    assert len(fake.app.state["campaignBudgets"]) == 1


def test_update_mask_and_remove(fake: RunningFake, token: str) -> None:
    names = build(fake, token)
    immutable = mutate(
        fake,
        token,
        "adGroups",
        {
            "update": {"resourceName": names["group"], "campaign": names["campaign"]},
            "updateMask": "campaign",
        },
    )
    assert codes(immutable) == ["fieldError.IMMUTABLE_FIELD"]
    # Fields outside the mask are ignored; snake_case paths are understood too.
    changed = mutate(
        fake,
        token,
        "campaignBudgets",
        {
            "update": {"resourceName": names["budget"], "amountMicros": "20000000", "name": "X"},
            "updateMask": "amount_micros",
        },
        responseContentType="MUTABLE_RESOURCE",
    )
    result = changed.json()["results"][0]
    assert result["campaignBudget"]["amountMicros"] == "20000000"
    assert result["campaignBudget"]["name"] == "B"
    assert "_amountHistory" not in result["campaignBudget"]
    no_mask = mutate(fake, token, "campaigns", {"update": {"resourceName": names["campaign"]}})
    assert codes(no_mask) == ["fieldError.REQUIRED"]

    assert (
        rows_one(mutate(fake, token, "campaigns", {"remove": names["campaign"]}))
        == names["campaign"]
    )
    assert fake.app.state["campaigns"][names["campaign"]]["status"] == "REMOVED"
    again = mutate(
        fake,
        token,
        "campaigns",
        {"update": {"resourceName": names["campaign"], "status": "PAUSED"}, "updateMask": "status"},
    )
    assert codes(again) == [
        "operationAccessDeniedError.OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE"
    ]
    elsewhere = mutate(fake, token, "campaigns", {"remove": "customers/4445556667/campaigns/1"})
    assert codes(elsewhere) == ["requestError.RESOURCE_NAME_MALFORMED"]


# ---- GAQL over the wire


def test_name_lookups_with_quotes_order_and_limit(fake: RunningFake, token: str) -> None:
    b = rows_one(mutate(fake, token, "campaignBudgets", budget()))
    tricky = 'Bob\'s "best" chips \\ [herald 1]'
    name = rows_one(mutate(fake, token, "campaigns", campaign(b, tricky)))
    rows_one(mutate(fake, token, "campaigns", campaign(b, "Another")))
    found = rows(
        search(
            fake,
            token,
            gaql_query(
                ["campaign.resource_name", "campaign.name"],
                "campaign",
                [f"campaign.name = {gaql_string(tricky)}", "campaign.status != 'REMOVED'"],
            ),
        )
    )
    assert found == [{"campaign": {"resourceName": name, "name": tricky}}]
    ordered = rows(
        search(
            fake, token, "SELECT campaign.name FROM campaign ORDER BY campaign.name DESC LIMIT 1"
        )
    )
    assert ordered == [{"campaign": {"name": tricky, "resourceName": name}}]
    empty = search(fake, token, "SELECT campaign.id FROM campaign WHERE campaign.name IN ('zzz')")
    assert empty.json() == [{"fieldMask": "campaign.id", "requestId": empty.json()[0]["requestId"]}]
    broken = search(fake, token, "SELECT campaign.id FROM campaign WHERE campaign.id = 1 OR 1")
    assert codes(broken) == ["queryError.UNEXPECTED_INPUT"]
    assert codes(search(fake, token, "SELECT campaign.id")) == ["queryError.EXPECTED_FROM"]
    assert codes(search(fake, token, "SELECT foo.id FROM campaign")) == [
        "queryError.UNRECOGNIZED_FIELD"
    ]


def test_metrics_are_plausible_deterministic_and_omit_idle_days(
    fake: RunningFake, app: FakeGoogleAds, token: str
) -> None:
    names = build(fake, token, micros="10000000")  # $10 a day, one ad group
    CLOCK.now = NOW + timedelta(days=6)  # 7 Sep
    # A fresh token: the first one expired while the days went by.
    token = str(exchange(fake, app, code_from(authorize(fake, app))).json()["access_token"])
    by_day = rows(
        search(
            fake,
            token,
            "SELECT campaign.id, ad_group.id, segments.date, metrics.impressions, metrics.clicks, "
            "metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM ad_group "
            "WHERE segments.date BETWEEN '2026-08-25' AND '2026-09-30'",
        )
    )
    assert [row["segments"]["date"] for row in by_day] == [f"2026-09-0{d}" for d in range(1, 8)]
    for row in by_day:
        metrics = row["metrics"]
        impressions, clicks, cost = (
            int(metrics["impressions"]),
            int(metrics["clicks"]),
            int(metrics["costMicros"]),
        )
        assert isinstance(metrics["impressions"], str) and isinstance(metrics["costMicros"], str)
        assert 800 <= impressions <= 1500
        assert 0.02 * impressions - 1 <= clicks <= 0.06 * impressions
        assert 0 < cost <= 10_000_000 and cost % 10_000 == 0
        conversions = metrics.get("conversions", 0.0)
        assert conversions <= round(0.08 * clicks) + 1
        if conversions:
            assert 30 * conversions <= metrics["conversionsValue"] <= 60 * conversions
        assert row["adGroup"]["resourceName"] == names["group"]
        assert row["campaign"]["resourceName"] == names["campaign"]
    # Derived from (ad group id, day) and the budget only: the same every time.
    group_id = names["group"].rsplit("/", 1)[1]
    expected_first = daily_metrics(group_id, date(2026, 9, 1), 10_000_000, 10_000)
    assert by_day[0]["metrics"]["impressions"] == str(expected_first["metrics.impressions"])
    assert by_day[0]["metrics"]["costMicros"] == str(expected_first["metrics.cost_micros"])

    # Campaign level, no date segment: the ad group's days summed.
    total = rows(
        search(
            fake,
            token,
            "SELECT campaign.id, metrics.cost_micros, metrics.clicks FROM campaign "
            "WHERE segments.date DURING LAST_7_DAYS",
        )
    )
    expected = sum(int(row["metrics"]["costMicros"]) for row in by_day[:6])  # 1–6 Sep
    assert int(total[0]["metrics"]["costMicros"]) == expected
    undated = search(fake, token, "SELECT segments.date, metrics.clicks FROM campaign")
    assert codes(undated) == ["queryError.EXPECTED_FILTERS_ON_DATE_RANGE"]


# ---- failures and persistence


def test_failures_injected_over_http_render_in_googles_shapes(
    fake: RunningFake, token: str
) -> None:
    query = "SELECT customer.id FROM customer"
    control = f"{fake.url}/__fake__/failures"
    added = HTTP.post(
        control, json={"kind": "rate_limit", "match": "searchStream", "retry_after": 3}
    )
    assert added.status_code == 201
    limited = search(fake, token, query)
    assert limited.status_code == 429
    error = ads_errors(limited)[0]
    assert error["errorCode"] == {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}
    assert error["details"]["quotaErrorDetails"]["retryDelay"] == "3s"
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"

    HTTP.post(control, json={"kind": "validation", "match": "mutate", "message": "No."})
    refused = mutate(fake, token, "campaignBudgets", budget())
    assert (refused.status_code, ads_errors(refused)[0]["message"]) == (400, "No.")
    HTTP.post(control, json={"kind": "auth", "times": 0})
    assert codes(search(fake, token, query)) == ["authenticationError.OAUTH_TOKEN_EXPIRED"]
    assert HTTP.delete(control).status_code == 204
    assert search(fake, token, query).status_code == 200
    HTTP.post(control, json={"kind": "server_error"})
    assert codes(search(fake, token, query)) == ["internalError.INTERNAL_ERROR"]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "google.json"
    first = serve(FakeGoogleAds(redirect_uris=[REDIRECT], clock=CLOCK, state_file=state_file))
    try:
        assert isinstance(first.app, FakeGoogleAds)
        CLOCK.now = NOW
        answer = exchange(first, first.app, code_from(authorize(first, first.app))).json()
        names = build(first, str(answer["access_token"]))
    finally:
        first.stop()
    again = FakeGoogleAds(clock=CLOCK, state_file=state_file)
    assert list(again.state["adGroupAds"]) == [names["ad"]]
    assert again.state["campaigns"][names["campaign"]]["_statusHistory"] == [
        ["2026-09-01", "ENABLED"]
    ]
    assert answer["access_token"] in again.state["oauth"]["accessTokens"]
    assert again.state["nextId"] == first.app.state["nextId"]


def test_sandbox_flavour_takes_herald_client_and_any_redirect(tmp_path: Path) -> None:
    sandbox = FakeGoogleAds.for_sandbox(
        client_id="herald-sandbox",
        client_secret="herald-sandbox-secret",
        state_file=tmp_path / "sandbox-google_ads.json",
    )
    assert (sandbox.client_id, sandbox.client_secret) == ("herald-sandbox", "herald-sandbox-secret")
    assert sandbox.redirect_uris is None
    assert sandbox.state_file == tmp_path / "sandbox-google_ads.json"
    assert list(sandbox.state["customers"]) == [CID]


# ---- the GAQL parser


def test_gaql_parser_and_filter() -> None:
    query = parse_gaql(
        "SELECT campaign.id, campaign.name FROM campaign WHERE campaign.name = 'It\\'s' "
        "AND campaign.status IN ('ENABLED', \"PAUSED\") AND metrics.clicks >= 10 "
        "AND segments.date BETWEEN '2026-09-01' AND '2026-09-07' "
        "AND campaign.name NOT LIKE 'x%' AND campaign.end_date_time IS NULL "
        "ORDER BY campaign.id DESC LIMIT 5 PARAMETERS include_drafts=true"
    )
    assert query.resource == "campaign"
    assert query.fields == ("campaign.id", "campaign.name")
    assert query.limit == 5
    assert query.order_by == (("campaign.id", True),)
    row = {
        "campaign.name": "It's",
        "campaign.status": "PAUSED",
        "metrics.clicks": 12,
        "segments.date": "2026-09-03",
    }
    assert holds(query, row, date(2026, 9, 7))
    assert not holds(query, {**row, "metrics.clicks": 9}, date(2026, 9, 7))
    assert not holds(query, {**row, "segments.date": "2026-09-08"}, date(2026, 9, 7))
    during = parse_gaql("SELECT segments.date FROM campaign WHERE segments.date DURING LAST_7_DAYS")
    assert holds(during, {"segments.date": "2026-09-01"}, date(2026, 9, 8))
    assert not holds(during, {"segments.date": "2026-09-08"}, date(2026, 9, 8))
    for text, code in (
        ("SELECT FROM campaign", "BAD_FIELD_NAME"),
        ("SELECT campaign.id FROM campaign WHERE campaign.id ~ 1", "BAD_SYMBOL"),
        ("SELECT campaign.id FROM campaign WHERE campaign.id", "UNEXPECTED_END_OF_QUERY"),
        ("SELECT campaign.id FROM campaign LIMIT 0", "BAD_LIMIT_VALUE"),
        ("SELECT campaign.id FROM campaign WHERE segments.date DURING FOREVER", "BAD_VALUE"),
    ):
        with pytest.raises(GaqlError) as failed:
            parse_gaql(text)
        assert failed.value.code == code, text
