"""GoogleAdsAdapter end to end over real HTTP against FakeGoogleAds on loopback.

Each test serves a fresh fake with a movable clock shared with the adapter, connects
through the real OAuth flow, and checks both what the adapter returns and what landed
in the fake's state (the exact wire fields Google would have received). No database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import httpx
import pytest

from herald.core.http import OutboundTimeout, outbound_request
from herald.integrations.fake_server import Failure, RunningFake, serve
from herald.integrations.providers.base import (
    BudgetPlan,
    CreativePlan,
    ErrorKind,
    LaunchPlan,
    OAuthTokens,
    PlatformRefs,
    ProviderAdapter,
    ProviderEndpoints,
    ProviderError,
    ProviderSession,
    UnitPlan,
)
from herald.integrations.providers.google_ads import client as client_module
from herald.integrations.providers.google_ads.adapter import SCOPE, GoogleAdsAdapter
from herald.integrations.providers.google_ads.fake import (
    DEFAULT_CUSTOMERS,
    FakeCustomer,
    FakeGoogleAds,
)

REDIRECT = "https://herald.example/integrations/google_ads/callback"
CUSTOMER = "1234567890"
MUTATE = f"POST /v23/customers/{CUSTOMER}"
# 10:00 in New York on 1 September 2026.
START = datetime(2026, 9, 1, 14, 0, tzinfo=UTC)
NEW_YORK_MIDNIGHT = timedelta(hours=4)  # EDT is UTC-4 in September


# One client for the tests' own calls: building an httpx client costs ~20 ms (TLS setup).
HTTP = httpx.Client(timeout=10)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Recorder:
    """A LaunchRecorder that also notes what the fake held at each call, to prove each
    id was recorded the moment it existed, before anything else was created."""

    def __init__(self, app: FakeGoogleAds, crash_on: int | None = None) -> None:
        self.app = app
        self.events: list[tuple[str, Any, str]] = []
        self.snapshots: list[tuple[int, ...]] = []
        self.refs: dict[str, str] = {}
        self.crash_on = crash_on

    def _note(self, kind: str, key: Any, external_id: str) -> None:
        self.snapshots.append(counts(self.app))
        self.events.append((kind, key, external_id))
        if self.crash_on is not None and len(self.events) == self.crash_on:
            raise RuntimeError("worker died")

    def campaign_created(self, external_id: str, refs: dict[str, str]) -> None:
        self.refs = dict(refs)
        self._note("campaign", None, external_id)

    def unit_created(self, unit_id: UUID, external_id: str) -> None:
        self._note("unit", unit_id, external_id)

    def creative_created(self, creative_id: UUID, external_id: str, refs: dict[str, str]) -> None:
        self._note("creative", creative_id, external_id)

    def ids(self) -> dict[Any, str]:
        return {key: external_id for _, key, external_id in self.events}


# ---- fixtures


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[RunningFake]:
    # One server for the module: stopping one waits out serve_forever's 0.5 s poll.
    running = serve(FakeGoogleAds(redirect_uris=[REDIRECT]))
    yield running
    running.stop()
    HTTP.close()


@pytest.fixture
def fake(shared_fake: RunningFake, clock: Clock) -> RunningFake:
    """The shared fake, emptied: fresh state, no failures, no request log, our clock."""
    app = shared_fake.app
    assert isinstance(app, FakeGoogleAds)
    with app.lock:
        app.clear_failures()
        app.customers = DEFAULT_CUSTOMERS
        app.state.clear()
        app.state.update(app.initial_state())
        app.requests.clear()
        app.clock = clock
    return shared_fake


@pytest.fixture
def app(fake: RunningFake) -> FakeGoogleAds:
    assert isinstance(fake.app, FakeGoogleAds)
    return fake.app


@pytest.fixture
def endpoints(fake: RunningFake, app: FakeGoogleAds) -> ProviderEndpoints:
    return app.endpoints(fake.url, timeout="5")


@pytest.fixture
def adapter(clock: Clock) -> GoogleAdsAdapter:
    return GoogleAdsAdapter(clock=clock)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", calls.append)
    return calls


def consent(
    adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints, **extra: str
) -> dict[str, str]:
    """What the user's browser would do: open the consent URL, follow the redirect."""
    url = adapter.authorization_url(endpoints=endpoints, state="st-42", redirect_uri=REDIRECT)
    if extra:
        url += "&" + "&".join(f"{key}={value}" for key, value in extra.items())
    response = HTTP.get(url, follow_redirects=False)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def connect(adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints) -> OAuthTokens:
    code = consent(adapter, endpoints)["code"]
    return adapter.exchange_code(endpoints=endpoints, code=code, redirect_uri=REDIRECT)


@pytest.fixture
def tokens(adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints) -> OAuthTokens:
    return connect(adapter, endpoints)


def make_session(endpoints: ProviderEndpoints, access_token: str) -> ProviderSession:
    return ProviderSession(
        endpoints=endpoints,
        access_token=access_token,
        account_external_id=CUSTOMER,
        account_currency="USD",
        account_time_zone="America/New_York",
    )


@pytest.fixture
def session(endpoints: ProviderEndpoints, tokens: OAuthTokens) -> ProviderSession:
    return make_session(endpoints, tokens.access_token)


def creative(n: int, **changes: Any) -> CreativePlan:
    plan = CreativePlan(
        creative_id=uuid4(),
        label=f"Creative {n}",
        headlines=("Spicy Jalapeño Chips", "Kettle Cooked Crunch", f"Bag #{n} Ships Free"),
        descriptions=(
            "Bold jalapeño heat in every crunchy kettle-cooked chip.",
            "Free shipping on orders over $30. Try the new flavour today.",
        ),
        primary_text="",
        display_path=("chips", "jalapeno"),
        destination_url=f"https://tastychips.example/jalapeno?v={n}",
        call_to_action="SHOP_NOW",
    )
    return replace(plan, **changes)


def make_plan(
    *,
    units: int = 2,
    per_unit: int = 2,
    budget: BudgetPlan | None = None,
    start_at: datetime | None = START + timedelta(days=1) - timedelta(hours=10),
    end_at: datetime | None = START + timedelta(days=8) - timedelta(hours=10),
    label: str = "Spicy Jalapeño Chips [herald 1a2b3c4d]",
) -> LaunchPlan:
    return LaunchPlan(
        campaign_id=uuid4(),
        label=label,
        objective="traffic",
        start_at=start_at,
        end_at=end_at,
        time_zone="America/New_York",
        budget=budget or BudgetPlan("daily", Decimal("25.50"), "USD"),
        units=tuple(
            UnitPlan(
                unit_id=uuid4(),
                label=f"{label} / unit {u}",
                audience_rules=None,
                budget_amount=None,
                creatives=tuple(creative(u * 10 + c) for c in range(per_unit)),
            )
            for u in range(units)
        ),
    )


def refs_of(recorder: Recorder, plan: LaunchPlan) -> PlatformRefs:
    ids = recorder.ids()
    return PlatformRefs(
        campaign_external_id=ids[None],
        campaign_refs=recorder.refs,
        unit_external_ids=tuple(ids[unit.unit_id] for unit in plan.units),
    )


def resume_plan(plan: LaunchPlan, recorder: Recorder) -> LaunchPlan:
    """The plan Herald would rebuild from what the recorder persisted."""
    ids = recorder.ids()
    return replace(
        plan,
        external_id=plan.external_id or ids.get(None, ""),
        external_refs={**plan.external_refs, **recorder.refs},
        units=tuple(
            replace(
                unit,
                external_id=unit.external_id or ids.get(unit.unit_id, ""),
                creatives=tuple(
                    replace(c, external_id=c.external_id or ids.get(c.creative_id, ""))
                    for c in unit.creatives
                ),
            )
            for unit in plan.units
        ),
    )


def counts(app: FakeGoogleAds) -> tuple[int, ...]:
    return tuple(
        len(app.state[name]) for name in ("campaignBudgets", "campaigns", "adGroups", "adGroupAds")
    )


# ---- contract and OAuth


def test_adapter_satisfies_the_provider_contract(adapter: GoogleAdsAdapter) -> None:
    contract: ProviderAdapter = adapter
    assert contract.provider == "google_ads"


def test_oauth_round_trip(
    adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints, clock: Clock
) -> None:
    url = adapter.authorization_url(endpoints=endpoints, state="st-42", redirect_uri=REDIRECT)
    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(endpoints.authorize_url + "?")
    assert params == {
        "client_id": endpoints.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": "st-42",
    }

    answer = consent(adapter, endpoints)
    assert answer["state"] == "st-42"
    tokens = adapter.exchange_code(endpoints=endpoints, code=answer["code"], redirect_uri=REDIRECT)
    assert tokens.refresh_token
    assert tokens.expires_at == START + timedelta(seconds=3599)
    assert tokens.scopes == (SCOPE,)
    assert adapter.list_accounts(endpoints=endpoints, access_token=tokens.access_token)

    # A code is single-use.
    with pytest.raises(ProviderError) as reused:
        adapter.exchange_code(endpoints=endpoints, code=answer["code"], redirect_uri=REDIRECT)
    assert reused.value.kind is ErrorKind.AUTH

    clock.advance(minutes=30)
    refreshed = adapter.refresh(endpoints=endpoints, refresh_token=tokens.refresh_token)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token  # kept: Google sent none
    assert refreshed.expires_at == START + timedelta(minutes=30, seconds=3599)

    adapter.revoke(endpoints=endpoints, token=tokens.refresh_token)
    with pytest.raises(ProviderError) as refused:
        adapter.refresh(endpoints=endpoints, refresh_token=tokens.refresh_token)
    assert refused.value.kind is ErrorKind.AUTH
    assert refused.value.platform_code == "invalid_grant"
    # Revoking the grant also killed its access tokens.
    with pytest.raises(ProviderError) as dead:
        adapter.list_accounts(endpoints=endpoints, access_token=refreshed.access_token)
    assert dead.value.kind is ErrorKind.AUTH
    assert dead.value.platform_code == "authenticationError.OAUTH_TOKEN_REVOKED"
    # Revoking twice is not an error: there is nothing left to revoke.
    adapter.revoke(endpoints=endpoints, token=tokens.refresh_token)


def test_consent_denied_and_consent_failure_redirect_with_access_denied(
    adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints, app: FakeGoogleAds
) -> None:
    assert consent(adapter, endpoints, deny="1") == {"error": "access_denied", "state": "st-42"}
    app.inject(Failure(kind="server_error", match="/o/oauth2/v2/auth"))
    assert consent(adapter, endpoints) == {"error": "access_denied", "state": "st-42"}


def test_unregistered_redirect_uri_is_refused_without_redirect(
    adapter: GoogleAdsAdapter, endpoints: ProviderEndpoints
) -> None:
    url = adapter.authorization_url(
        endpoints=endpoints, state="s", redirect_uri="https://evil.example/cb"
    )
    response = HTTP.get(url, follow_redirects=False)
    assert response.status_code == 400
    assert "redirect_uri_mismatch" in response.text


def test_list_accounts_maps_status_and_skips_canceled_accounts(
    adapter: GoogleAdsAdapter, app: FakeGoogleAds, endpoints: ProviderEndpoints
) -> None:
    with app.lock:
        app.customers = (
            FakeCustomer("1234567890", "Tasty Chips Sandbox"),
            FakeCustomer("2223334445", "Tasty Chips EU", "EUR", "Europe/Berlin", "SUSPENDED"),
            FakeCustomer("9998887776", "Old Account", status="CANCELED"),
        )
        app.state["customers"] = app.initial_state()["customers"]
    tokens = connect(adapter, endpoints)
    accounts = adapter.list_accounts(endpoints=endpoints, access_token=tokens.access_token)
    assert [(a.external_id, a.name, a.currency, a.time_zone, a.status) for a in accounts] == [
        ("1234567890", "Tasty Chips Sandbox", "USD", "America/New_York", "active"),
        ("2223334445", "Tasty Chips EU", "EUR", "Europe/Berlin", "suspended"),
    ]


# ---- launch


def test_launch_creates_each_object_once_with_google_wire_fields(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan()
    recorder = Recorder(app)
    adapter.launch(session=session, plan=plan, recorder=recorder)

    assert counts(app) == (1, 1, 2, 4)
    budget = app.objects("campaignBudgets")[0]
    assert budget["name"] == plan.label + " budget"
    assert budget["amountMicros"] == "25500000"
    assert (budget["deliveryMethod"], budget["period"]) == ("STANDARD", "DAILY")
    assert budget["explicitlyShared"] is False

    campaign = app.objects("campaigns")[0]
    assert campaign["name"] == plan.label
    assert campaign["campaignBudget"] == budget["resourceName"]
    assert campaign["advertisingChannelType"] == "SEARCH"
    assert campaign["manualCpc"] == {}
    assert campaign["containsEuPoliticalAdvertising"] == "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
    assert campaign["networkSettings"]["targetGoogleSearch"] is True
    # Midnight on 2 Sep to midnight on 9 Sep in New York: serves 2–8 Sep.
    assert campaign["startDateTime"] == "2026-09-02 00:00:00"
    assert campaign["endDateTime"] == "2026-09-08 23:59:59"
    assert "startDate" not in campaign
    assert campaign["_statusHistory"] == [["2026-09-01", "PAUSED"], ["2026-09-01", "ENABLED"]]

    groups = app.objects("adGroups")
    assert [g["name"] for g in groups] == [unit.label for unit in plan.units]
    for group in groups:
        assert group["campaign"] == campaign["resourceName"]
        assert (group["type"], group["status"], group["cpcBidMicros"]) == (
            "SEARCH_STANDARD",
            "ENABLED",
            "1000000",
        )
    ads = app.objects("adGroupAds")
    first = plan.units[0].creatives[0]
    assert ads[0]["adGroup"] == groups[0]["resourceName"]
    assert ads[0]["ad"]["finalUrls"] == [first.destination_url]
    assert ads[0]["ad"]["responsiveSearchAd"] == {
        "headlines": [{"text": text} for text in first.headlines],
        "descriptions": [{"text": text} for text in first.descriptions],
        "path1": "chips",
        "path2": "jalapeno",
    }
    assert ads[0]["resourceName"].startswith(
        f"{groups[0]['resourceName'].replace('adGroups', 'adGroupAds')}~"
    )

    # Recorded in creation order, each at the moment it existed and nothing later did.
    assert recorder.refs == {"budget": budget["resourceName"]}
    assert [(kind, external_id) for kind, _, external_id in recorder.events] == [
        ("campaign", campaign["resourceName"]),
        ("unit", groups[0]["resourceName"]),
        ("creative", ads[0]["resourceName"]),
        ("creative", ads[1]["resourceName"]),
        ("unit", groups[1]["resourceName"]),
        ("creative", ads[2]["resourceName"]),
        ("creative", ads[3]["resourceName"]),
    ]
    assert recorder.snapshots == [
        (1, 1, 0, 0),
        (1, 1, 1, 0),
        (1, 1, 1, 1),
        (1, 1, 1, 2),
        (1, 1, 2, 2),
        (1, 1, 2, 3),
        (1, 1, 2, 4),
    ]
    # A fresh launch needs no lookups, and enables the campaign last.
    assert [line for line in app.requests if "/v23/" in line] == [
        f"{MUTATE}/campaignBudgets:mutate",
        f"{MUTATE}/campaigns:mutate",
        f"{MUTATE}/adGroups:mutate",
        f"{MUTATE}/adGroupAds:mutate",
        f"{MUTATE}/adGroupAds:mutate",
        f"{MUTATE}/adGroups:mutate",
        f"{MUTATE}/adGroupAds:mutate",
        f"{MUTATE}/adGroupAds:mutate",
        f"{MUTATE}/campaigns:mutate",
    ]


@pytest.mark.parametrize("version", ["v21", "v22"])
def test_launch_up_to_v22_sends_plain_dates(
    adapter: GoogleAdsAdapter,
    fake: RunningFake,
    app: FakeGoogleAds,
    tokens: OAuthTokens,
    version: str,
) -> None:
    session = make_session(app.endpoints(fake.url, api_version=version), tokens.access_token)
    adapter.launch(session=session, plan=make_plan(units=1, per_unit=1), recorder=Recorder(app))
    campaign = app.objects("campaigns")[0]
    assert (campaign["startDate"], campaign["endDate"]) == ("2026-09-02", "2026-09-08")
    assert "startDateTime" not in campaign


def test_past_start_is_moved_to_today_and_no_end_runs_indefinitely(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan(units=1, per_unit=1, start_at=START - timedelta(days=3), end_at=None)
    adapter.launch(session=session, plan=plan, recorder=Recorder(app))
    campaign = app.objects("campaigns")[0]
    assert campaign["startDateTime"] == "2026-09-01 00:00:00"
    assert "endDateTime" not in campaign


@pytest.mark.parametrize(
    ("amount", "days", "micros"),
    [
        (Decimal("700"), 7, "100000000"),
        (Decimal("100"), 3, "33330000"),  # 33.333… rounded down to the cent
        (Decimal("0.05"), 7, None),  # below a cent a day: refused before any call
    ],
)
def test_lifetime_budget_is_spread_per_day(
    adapter: GoogleAdsAdapter,
    session: ProviderSession,
    app: FakeGoogleAds,
    amount: Decimal,
    days: int,
    micros: str | None,
) -> None:
    start = START + timedelta(days=1) - timedelta(hours=10)
    plan = make_plan(
        units=1,
        per_unit=1,
        budget=BudgetPlan("lifetime", amount, "USD"),
        start_at=start,
        end_at=start + timedelta(days=days),
    )
    if micros is None:
        with pytest.raises(ProviderError) as refused:
            adapter.launch(session=session, plan=plan, recorder=Recorder(app))
        assert refused.value.kind is ErrorKind.VALIDATION
        assert counts(app) == (0, 0, 0, 0)
        return
    adapter.launch(session=session, plan=plan, recorder=Recorder(app))
    assert app.objects("campaignBudgets")[0]["amountMicros"] == micros


def test_lifetime_budget_without_end_date_is_refused_before_any_call(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan(budget=BudgetPlan("lifetime", Decimal("500"), "USD"), end_at=None)
    with pytest.raises(ProviderError) as refused:
        adapter.launch(session=session, plan=plan, recorder=Recorder(app))
    assert refused.value.kind is ErrorKind.VALIDATION
    assert "end date" in refused.value.message
    assert not [line for line in app.requests if "/v23/" in line]


def test_resume_after_crash_mid_launch_creates_nothing_twice(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan()
    first = Recorder(app, crash_on=3)  # dies after recording the first ad
    with pytest.raises(RuntimeError):
        adapter.launch(session=session, plan=plan, recorder=first)
    assert counts(app) == (1, 1, 1, 1)

    resumed = resume_plan(plan, first)
    assert resumed.external_id and resumed.external_refs["budget"]
    second = Recorder(app)
    adapter.launch(session=session, plan=resumed, recorder=second)

    assert counts(app) == (1, 1, 2, 4)
    assert [kind for kind, _, _ in second.events] == ["creative", "unit", "creative", "creative"]
    assert app.objects("campaigns")[0]["status"] == "ENABLED"
    # The same plan again: everything is recorded, so only the enable is sent.
    before = len(app.requests)
    adapter.launch(session=session, plan=resume_plan(resumed, second), recorder=Recorder(app))
    assert counts(app) == (1, 1, 2, 4)
    assert app.requests[before:] == [f"{MUTATE}/campaigns:mutate"]


def test_resume_when_the_campaign_was_never_recorded_adopts_budget_and_campaign(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan(units=1, per_unit=1)
    with pytest.raises(RuntimeError):
        adapter.launch(session=session, plan=plan, recorder=Recorder(app, crash_on=1))
    second = Recorder(app)
    adapter.launch(session=session, plan=plan, recorder=second)
    assert counts(app) == (1, 1, 1, 1)
    campaign = app.objects("campaigns")[0]
    assert second.events[0] == ("campaign", None, campaign["resourceName"])
    assert second.refs == {"budget": campaign["campaignBudget"]}


def test_resume_adopts_an_ad_created_but_not_recorded(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    # Two identical creatives in one unit: each must get its own ad.
    twin = creative(1)
    plan = make_plan(units=1, per_unit=1)
    unit = replace(plan.units[0], creatives=(twin, replace(twin, creative_id=uuid4())))
    plan = replace(plan, units=(unit,))
    first = Recorder(app, crash_on=3)  # the first ad exists, its record was lost
    with pytest.raises(RuntimeError):
        adapter.launch(session=session, plan=plan, recorder=first)
    lost = first.events.pop()  # what the crashed worker never persisted

    second = Recorder(app)
    adapter.launch(session=session, plan=resume_plan(plan, first), recorder=second)
    assert counts(app) == (1, 1, 1, 2)
    ids = second.ids()
    assert ids[twin.creative_id] == lost[2]
    assert ids[unit.creatives[1].creative_id] != lost[2]


def test_timeout_after_creating_an_ad_group_is_resolved_by_lookup(
    adapter: GoogleAdsAdapter, fake: RunningFake, app: FakeGoogleAds, tokens: OAuthTokens
) -> None:
    session = make_session(app.endpoints(fake.url, timeout="0.5"), tokens.access_token)
    app.inject(Failure(kind="timeout_after_create", match="adGroups:mutate", delay=1.5))
    plan = make_plan()
    recorder = Recorder(app)
    adapter.launch(session=session, plan=plan, recorder=recorder)

    assert counts(app) == (1, 1, 2, 4)
    groups = app.objects("adGroups")
    assert recorder.ids()[plan.units[0].unit_id] == groups[0]["resourceName"]
    assert recorder.ids()[plan.units[1].unit_id] == groups[1]["resourceName"]
    assert app.requests.count(f"{MUTATE}/adGroups:mutate") == 2  # never resent
    assert f"{MUTATE}/googleAds:searchStream" in app.requests


def test_timeout_after_creating_an_ad_is_resolved_by_lookup(
    adapter: GoogleAdsAdapter, fake: RunningFake, app: FakeGoogleAds, tokens: OAuthTokens
) -> None:
    session = make_session(app.endpoints(fake.url, timeout="0.5"), tokens.access_token)
    app.inject(Failure(kind="timeout_after_create", match="adGroupAds:mutate", delay=1.5))
    plan = make_plan(units=1)
    recorder = Recorder(app)
    adapter.launch(session=session, plan=plan, recorder=recorder)
    assert counts(app) == (1, 1, 1, 2)
    ads = app.objects("adGroupAds")
    assert [recorder.ids()[c.creative_id] for c in plan.units[0].creatives] == [
        ad["resourceName"] for ad in ads
    ]


def test_timeout_on_a_create_that_never_landed_creates_it_once(
    adapter: GoogleAdsAdapter,
    session: ProviderSession,
    app: FakeGoogleAds,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The request times out before reaching Google: the lookup finds nothing, so the
    # adapter creates it, once.
    real = outbound_request
    timed_out: list[str] = []

    def flaky(method: str, url: str, **kwargs: Any) -> httpx.Response:
        if url.endswith("/campaigns:mutate") and not timed_out:
            timed_out.append(url)
            raise OutboundTimeout("no answer")
        return real(method, url, **kwargs)

    monkeypatch.setattr(client_module, "outbound_request", flaky)
    adapter.launch(session=session, plan=make_plan(units=1, per_unit=1), recorder=Recorder(app))
    assert timed_out
    assert counts(app) == (1, 1, 1, 1)


# ---- errors


def test_rate_limit_waits_the_requested_delay_then_succeeds(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds, sleeps: list[float]
) -> None:
    app.inject(Failure(kind="rate_limit", match="campaigns:mutate", retry_after=7))
    adapter.launch(session=session, plan=make_plan(units=1, per_unit=1), recorder=Recorder(app))
    assert sleeps == [7.0]
    assert counts(app) == (1, 1, 1, 1)


def test_persistent_rate_limit_raises_rate_limited_with_retry_after(
    adapter: GoogleAdsAdapter,
    fake: RunningFake,
    app: FakeGoogleAds,
    tokens: OAuthTokens,
    sleeps: list[float],
) -> None:
    session = make_session(app.endpoints(fake.url, max_retry_sleep="30"), tokens.access_token)
    app.inject(Failure(kind="rate_limit", match="searchStream", times=0, retry_after=45))
    with pytest.raises(ProviderError) as limited:
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 1))
    assert limited.value.kind is ErrorKind.RATE_LIMITED
    assert limited.value.retry_after == 45.0
    assert limited.value.platform_code == "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED"
    assert limited.value.retryable
    assert sleeps == [30.0, 30.0]  # capped by max_retry_sleep
    assert app.requests.count(f"{MUTATE}/googleAds:searchStream") == 3


def test_server_errors_are_transient_reads_retry_with_backoff_mutates_do_not(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds, sleeps: list[float]
) -> None:
    app.inject(Failure(kind="server_error", match="searchStream", times=0))
    with pytest.raises(ProviderError) as read:
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 1))
    assert read.value.kind is ErrorKind.TRANSIENT
    assert sleeps == [0.5, 1.0]
    app.clear_failures()
    sleeps.clear()

    app.inject(Failure(kind="server_error", match="campaignBudgets:mutate", times=0))
    with pytest.raises(ProviderError) as write:
        adapter.launch(session=session, plan=make_plan(), recorder=Recorder(app))
    assert write.value.kind is ErrorKind.TRANSIENT
    assert write.value.platform_code == "internalError.INTERNAL_ERROR"
    assert sleeps == []
    assert app.requests.count(f"{MUTATE}/campaignBudgets:mutate") == 1


def test_expired_token_is_an_auth_error_until_refreshed(
    adapter: GoogleAdsAdapter,
    endpoints: ProviderEndpoints,
    session: ProviderSession,
    tokens: OAuthTokens,
    clock: Clock,
) -> None:
    clock.advance(hours=1)
    with pytest.raises(ProviderError) as expired:
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 1))
    assert expired.value.kind is ErrorKind.AUTH
    assert expired.value.platform_code == "authenticationError.OAUTH_TOKEN_EXPIRED"
    assert tokens.refresh_token
    fresh = adapter.refresh(endpoints=endpoints, refresh_token=tokens.refresh_token)
    assert (
        adapter.fetch_metrics(
            session=make_session(endpoints, fresh.access_token),
            date_from=date(2026, 9, 1),
            date_to=date(2026, 9, 1),
        )
        == []
    )


def test_too_long_headline_is_a_validation_error_on_that_creative(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan()
    bad = replace(
        plan.units[1].creatives[0],
        headlines=("This Headline Runs Past Thirty!", "Kettle Cooked", "Order Today"),
    )
    plan = replace(
        plan,
        units=(plan.units[0], replace(plan.units[1], creatives=(bad, plan.units[1].creatives[1]))),
    )
    recorder = Recorder(app)
    with pytest.raises(ProviderError) as refused:
        adapter.launch(session=session, plan=plan, recorder=recorder)
    error = refused.value
    assert error.kind is ErrorKind.VALIDATION
    assert error.creative_id == bad.creative_id
    assert error.unit_id is None
    assert error.platform_code == "adError.TOO_LONG"
    assert error.message == (
        "Headline is too long (31 characters; the maximum is 30). "
        "(field operations[0].create.ad.responsive_search_ad.headlines[0].text)"
    )
    # Everything before the refused ad exists and is recorded, ready for a retry.
    assert counts(app) == (1, 1, 2, 2)
    assert [kind for kind, _, _ in recorder.events] == [
        "campaign",
        "unit",
        "creative",
        "creative",
        "unit",
    ]


def test_refused_ad_group_is_a_validation_error_on_that_unit(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    app.inject(Failure(kind="validation", match="adGroups:mutate", message="Ad group refused."))
    plan = make_plan()
    with pytest.raises(ProviderError) as refused:
        adapter.launch(session=session, plan=plan, recorder=Recorder(app))
    assert refused.value.kind is ErrorKind.VALIDATION
    assert refused.value.unit_id == plan.units[0].unit_id
    assert refused.value.message == "Ad group refused. (field operations[0])"


def test_budget_in_another_currency_is_refused(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> None:
    plan = make_plan(budget=BudgetPlan("daily", Decimal("20"), "EUR"))
    with pytest.raises(ProviderError) as refused:
        adapter.launch(session=session, plan=plan, recorder=Recorder(app))
    assert refused.value.kind is ErrorKind.VALIDATION
    assert counts(app) == (0, 0, 0, 0)


# ---- changes after launch


@pytest.fixture
def launched(
    adapter: GoogleAdsAdapter, session: ProviderSession, app: FakeGoogleAds
) -> tuple[LaunchPlan, PlatformRefs]:
    plan = make_plan(start_at=None)
    recorder = Recorder(app)
    adapter.launch(session=session, plan=plan, recorder=recorder)
    return plan, refs_of(recorder, plan)


def test_set_active_pauses_and_enables(
    adapter: GoogleAdsAdapter,
    session: ProviderSession,
    app: FakeGoogleAds,
    launched: tuple[LaunchPlan, PlatformRefs],
) -> None:
    _, refs = launched
    adapter.set_active(session=session, refs=refs, active=False)
    assert app.objects("campaigns")[0]["status"] == "PAUSED"
    adapter.set_active(session=session, refs=refs, active=True)
    assert app.objects("campaigns")[0]["status"] == "ENABLED"


def test_set_active_on_an_unknown_campaign_is_not_found(
    adapter: GoogleAdsAdapter, session: ProviderSession, launched: tuple[LaunchPlan, PlatformRefs]
) -> None:
    _, refs = launched
    gone = replace(refs, campaign_external_id=f"customers/{CUSTOMER}/campaigns/1")
    with pytest.raises(ProviderError) as missing:
        adapter.set_active(session=session, refs=gone, active=False)
    assert missing.value.kind is ErrorKind.NOT_FOUND


def test_update_budget_daily_and_lifetime(
    adapter: GoogleAdsAdapter,
    session: ProviderSession,
    app: FakeGoogleAds,
    launched: tuple[LaunchPlan, PlatformRefs],
) -> None:
    _, refs = launched
    adapter.update_budget(
        session=session, refs=refs, budget=BudgetPlan("daily", Decimal("40"), "USD")
    )
    assert app.objects("campaignBudgets")[0]["amountMicros"] == "40000000"
    # The campaign serves 1–8 Sep: 8 days.
    adapter.update_budget(
        session=session, refs=refs, budget=BudgetPlan("lifetime", Decimal("500"), "USD")
    )
    assert app.objects("campaignBudgets")[0]["amountMicros"] == "62500000"
    # Without the budget ref, the adapter finds the budget through the campaign.
    no_ref = replace(refs, campaign_refs={})
    adapter.update_budget(
        session=session, refs=no_ref, budget=BudgetPlan("daily", Decimal("12.34"), "USD")
    )
    budget = app.objects("campaignBudgets")[0]
    assert budget["amountMicros"] == "12340000"
    assert [amount for _, amount in budget["_amountHistory"]][-1] == "12340000"


# ---- metrics


def test_fetch_metrics_exact_values_and_no_rows_for_days_without_activity(
    adapter: GoogleAdsAdapter,
    endpoints: ProviderEndpoints,
    tokens: OAuthTokens,
    app: FakeGoogleAds,
    clock: Clock,
    launched: tuple[LaunchPlan, PlatformRefs],
) -> None:
    _, refs = launched
    assert tokens.refresh_token

    def session_now() -> ProviderSession:
        fresh = adapter.refresh(endpoints=endpoints, refresh_token=tokens.refresh_token or "")
        return make_session(endpoints, fresh.access_token)

    clock.advance(days=2)  # 3 Sep: pause for two days
    adapter.set_active(session=session_now(), refs=refs, active=False)
    clock.advance(days=2)  # 5 Sep: resume
    adapter.set_active(session=session_now(), refs=refs, active=True)
    clock.advance(days=2)  # 7 Sep, 10:00 New York
    session = session_now()

    rows = adapter.fetch_metrics(
        session=session, date_from=date(2026, 8, 31), date_to=date(2026, 9, 7)
    )
    served = [date(2026, 9, d) for d in (1, 2, 5, 6, 7)]
    assert sorted({row.day for row in rows}) == served
    assert len(rows) == len(served) * 2
    assert {row.campaign_external_id for row in rows} == {refs.campaign_external_id}
    assert {row.unit_external_id for row in rows} == set(refs.unit_external_ids)

    # Exactly what Google sent, converted at the boundary.
    raw = HTTP.post(
        f"{endpoints.api_url}/v23/customers/{CUSTOMER}/googleAds:searchStream",
        headers={"Authorization": f"Bearer {session.access_token}"},
        json={
            "query": "SELECT ad_group.id, segments.date, metrics.impressions, metrics.clicks, "
            "metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM ad_group "
            "WHERE segments.date BETWEEN '2026-08-31' AND '2026-09-07'"
        },
    )
    wire = {
        (r["adGroup"]["resourceName"], r["segments"]["date"]): r["metrics"]
        for r in raw.json()[0]["results"]
    }
    budget_share = Decimal("25.50") / 2
    for row in rows:
        metrics = wire[(row.unit_external_id, row.day.isoformat())]
        assert isinstance(row.impressions, int) and isinstance(row.clicks, int)
        assert row.impressions == int(metrics["impressions"]) > 0
        assert row.clicks == int(metrics["clicks"])
        assert row.spend == Decimal(metrics["costMicros"]) / 1_000_000
        assert isinstance(row.spend, Decimal) and row.spend == row.spend.quantize(Decimal("0.01"))
        assert Decimal(0) < row.spend <= budget_share
        assert row.conversions == Decimal(str(metrics.get("conversions", 0)))
        assert row.conversion_value == Decimal(str(metrics.get("conversionsValue", 0)))

    # Same question, same answer: the numbers are deterministic.
    assert (
        adapter.fetch_metrics(
            session=session, date_from=date(2026, 8, 31), date_to=date(2026, 9, 7)
        )
        == rows
    )
    assert (
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 3), date_to=date(2026, 9, 4))
        == []
    )
    assert (
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 7), date_to=date(2026, 9, 1))
        == []
    )
