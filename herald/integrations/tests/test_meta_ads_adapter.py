"""MetaAdsAdapter against FakeMetaAds over real HTTP on loopback: OAuth, accounts,
launch (idempotent, resumable, ambiguous creates), throttling and error kinds,
pause/resume, budgets and daily metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from herald.integrations.fake_server import Failure, RunningFake, serve
from herald.integrations.providers.base import (
    BudgetPlan,
    CreativePlan,
    ErrorKind,
    LaunchPlan,
    PlatformRefs,
    ProviderEndpoints,
    ProviderError,
    ProviderSession,
    UnitPlan,
)
from herald.integrations.providers.meta_ads import client as graph_client
from herald.integrations.providers.meta_ads.adapter import (
    MetaAdsAdapter,
    meta_minor_units,
    unit_budgets,
)
from herald.integrations.providers.meta_ads.fake import (
    LONG_LIVED_EXPIRES_IN,
    SANDBOX_ACCOUNT,
    FakeAdAccount,
    FakeMetaAds,
)

NEW_YORK = ZoneInfo("America/New_York")
ACCOUNT = "act_1122334455"
PAGE_ID = "9988776655"
V = "/v25.0"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 32
AUDIENCE = {
    "locations": {
        "countries": ["US"],
        "cities": [{"country": "US", "name": "Austin", "radius_km": 20, "meta_key": "2420379"}],
    },
    "age": {"min": 21, "max": 45},
    "genders": ["female"],
    "interests": [{"name": "Snack foods", "id": "6003139266461"}],
}
# What meta_targeting_spec makes of AUDIENCE, written out so a change there shows here.
TARGETING = {
    "geo_locations": {
        "countries": ["US"],
        "cities": [{"key": "2420379", "radius": 20, "distance_unit": "kilometer"}],
    },
    "age_min": 21,
    "age_max": 45,
    "genders": [2],
    "flexible_spec": [{"interests": [{"id": "6003139266461", "name": "Snack foods"}]}],
    "targeting_automation": {"advantage_audience": 0},
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Recorder:
    """A LaunchRecorder that remembers every call, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, str, dict[str, str]]] = []
        self.campaign = ""
        self.units: dict[UUID, str] = {}
        self.creatives: dict[UUID, tuple[str, dict[str, str]]] = {}

    def campaign_created(self, external_id: str, refs: dict[str, str]) -> None:
        self.events.append(("campaign", None, external_id, dict(refs)))
        self.campaign = external_id

    def unit_created(self, unit_id: UUID, external_id: str) -> None:
        self.events.append(("unit", unit_id, external_id, {}))
        self.units[unit_id] = external_id

    def creative_created(self, creative_id: UUID, external_id: str, refs: dict[str, str]) -> None:
        self.events.append(("creative", creative_id, external_id, dict(refs)))
        self.creatives[creative_id] = (external_id, dict(refs))

    def resumed(self, plan: LaunchPlan) -> LaunchPlan:
        """``plan`` as Herald would rebuild it from what was recorded."""
        return replace(
            plan,
            external_id=self.campaign,
            units=tuple(
                replace(
                    unit,
                    external_id=self.units.get(unit.unit_id, ""),
                    creatives=tuple(
                        replace(
                            creative,
                            external_id=self.creatives.get(creative.creative_id, ("", {}))[0],
                            external_refs=self.creatives.get(creative.creative_id, ("", {}))[1],
                        )
                        for creative in unit.creatives
                    ),
                )
                for unit in plan.units
            ),
        )


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 9, 1, 14, 0, tzinfo=UTC))  # 10:00 in New York


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(graph_client, "_sleep", recorded.append)
    return recorded


@pytest.fixture(scope="module")
def meta() -> Iterator[RunningFake]:
    # One server for the module (stopping one takes half a second); each test gets it
    # reset through ``fake``.
    running = serve(FakeMetaAds())
    yield running
    running.stop()


@pytest.fixture
def fake(meta: RunningFake, clock: Clock, sleeps: list[float]) -> Iterator[FakeMetaAds]:
    app = meta.app
    assert isinstance(app, FakeMetaAds)
    app.reset(accounts=[SANDBOX_ACCOUNT])
    app.clock = clock
    app.max_limit = 500
    yield app
    app.clear_failures()


@pytest.fixture
def endpoints(meta: RunningFake, fake: FakeMetaAds) -> ProviderEndpoints:
    return fake.endpoints(meta.url)


@pytest.fixture
def session(fake: FakeMetaAds, endpoints: ProviderEndpoints) -> ProviderSession:
    return ProviderSession(
        endpoints=endpoints,
        access_token=fake.issue_token(),
        account_external_id=ACCOUNT,
        account_currency="USD",
        account_time_zone="America/New_York",
        extra={"page_id": PAGE_ID},
    )


@pytest.fixture
def adapter() -> MetaAdsAdapter:
    return MetaAdsAdapter()


def creative(label: str, *, cta: str = "SHOP_NOW", image: bytes = PNG) -> CreativePlan:
    return CreativePlan(
        creative_id=uuid4(),
        label=f"{label} [herald {uuid4().hex[:8]}]",
        headlines=(f"{label} headline", "Second headline"),
        descriptions=(f"{label} description",),
        primary_text=f"{label}: crunchy, spicy, gone in minutes.",
        display_path=(),
        destination_url="https://tastychips.example/jalapeno",
        call_to_action=cta,
        image_name=f"{label.lower()}.png" if image is PNG else None,
        image_bytes=image,
    )


def make_plan(
    *,
    amount: str = "100.01",
    currency: str = "USD",
    kind: str = "daily",
    objective: str = "sales",
    start: datetime | None = None,
    end: datetime | None = None,
    creatives: tuple[CreativePlan, CreativePlan] | None = None,
    budgets: tuple[Decimal | None, Decimal | None] = (None, None),
) -> LaunchPlan:
    first, second = creatives or (creative("Alpha"), creative("Beta", image=JPEG))
    return LaunchPlan(
        campaign_id=uuid4(),
        label="Spicy Jalapeño Chips [herald 1a2b3c4d]",
        objective=objective,
        start_at=start or datetime(2026, 9, 1, 0, 0, tzinfo=NEW_YORK),
        end_at=end,
        time_zone="America/New_York",
        budget=BudgetPlan(kind=kind, amount=Decimal(amount), currency=currency),
        units=(
            UnitPlan(uuid4(), "Snackers [herald 11111111]", AUDIENCE, budgets[0], (first,)),
            UnitPlan(uuid4(), "Spice fans [herald 22222222]", AUDIENCE, budgets[1], (second,)),
        ),
    )


def posts(fake: FakeMetaAds, suffix: str) -> int:
    return sum(1 for line in fake.requests if line.startswith("POST") and line.endswith(suffix))


def refs_of(fake: FakeMetaAds) -> PlatformRefs:
    (campaign,) = fake.objects("campaign")
    return PlatformRefs(
        campaign_external_id=campaign["id"],
        campaign_refs={},
        unit_external_ids=tuple(adset["id"] for adset in fake.objects("adset")),
    )


# ---- OAuth


def test_oauth_round_trip_gives_a_long_lived_token(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, endpoints: ProviderEndpoints
) -> None:
    url = adapter.authorization_url(
        endpoints=endpoints, state="st4te", redirect_uri="https://herald.example/cb"
    )
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == f"{V}/dialog/oauth"
    assert query["scope"] == ["ads_management,ads_read,business_management"]
    assert query["response_type"] == ["code"]

    redirect = httpx.get(url)  # the browser's part of the round trip
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    answer = parse_qs(location.query)
    assert location.netloc == "herald.example" and answer["state"] == ["st4te"]

    before = datetime.now(UTC)
    tokens = adapter.exchange_code(
        endpoints=endpoints, code=answer["code"][0], redirect_uri="https://herald.example/cb"
    )
    assert tokens.refresh_token is None
    assert fake.state["tokens"][tokens.access_token]["kind"] == "long"
    assert tokens.expires_at is not None
    lifetime = (tokens.expires_at - before).total_seconds()
    assert LONG_LIVED_EXPIRES_IN - 5 <= lifetime <= LONG_LIVED_EXPIRES_IN + 5
    assert set(tokens.scopes) == {"ads_management", "ads_read", "business_management"}
    token_calls = [line for line in fake.requests if line.endswith("/oauth/access_token")]
    assert len(token_calls) == 2  # code → short-lived, then short → long-lived

    accounts = adapter.list_accounts(endpoints=endpoints, access_token=tokens.access_token)
    assert [account.external_id for account in accounts] == [ACCOUNT]


def test_oauth_denial_comes_back_as_an_error(
    adapter: MetaAdsAdapter, endpoints: ProviderEndpoints
) -> None:
    url = adapter.authorization_url(
        endpoints=endpoints, state="s", redirect_uri="https://herald.example/cb"
    )
    answer = parse_qs(urlsplit(httpx.get(url + "&deny=1").headers["location"]).query)
    assert answer["error"] == ["access_denied"]
    assert answer["error_reason"] == ["user_denied"]
    assert answer["state"] == ["s"] and "code" not in answer


def test_bad_or_reused_code_is_an_auth_error(
    adapter: MetaAdsAdapter, endpoints: ProviderEndpoints
) -> None:
    with pytest.raises(ProviderError) as bad:
        adapter.exchange_code(endpoints=endpoints, code="nope", redirect_uri="https://h.example/")
    assert bad.value.kind is ErrorKind.AUTH and bad.value.platform_code == "100"

    url = adapter.authorization_url(
        endpoints=endpoints, state="s", redirect_uri="https://h.example/"
    )
    code = parse_qs(urlsplit(httpx.get(url).headers["location"]).query)["code"][0]
    adapter.exchange_code(endpoints=endpoints, code=code, redirect_uri="https://h.example/")
    with pytest.raises(ProviderError) as reused:
        adapter.exchange_code(endpoints=endpoints, code=code, redirect_uri="https://h.example/")
    assert reused.value.kind is ErrorKind.AUTH and reused.value.platform_code == "100/36009"


def test_a_grant_without_ads_management_is_refused(
    adapter: MetaAdsAdapter, endpoints: ProviderEndpoints
) -> None:
    url = adapter.authorization_url(
        endpoints=endpoints, state="s", redirect_uri="https://h.example/"
    )
    location = httpx.get(url + "&decline=ads_management").headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    with pytest.raises(ProviderError) as refused:
        adapter.exchange_code(endpoints=endpoints, code=code, redirect_uri="https://h.example/")
    assert refused.value.kind is ErrorKind.PERMISSION


def test_refresh_is_impossible_on_meta(
    adapter: MetaAdsAdapter, endpoints: ProviderEndpoints
) -> None:
    with pytest.raises(ProviderError) as error:
        adapter.refresh(endpoints=endpoints, refresh_token="anything")
    assert error.value.kind is ErrorKind.AUTH
    assert error.value.message == "Meta tokens cannot be refreshed; reconnect"


def test_revoke_ends_the_token_and_tolerates_a_dead_one(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, endpoints: ProviderEndpoints
) -> None:
    token = fake.issue_token()
    adapter.revoke(endpoints=endpoints, token=token)
    assert f"DELETE {V}/me/permissions" in fake.requests
    with pytest.raises(ProviderError) as error:
        adapter.list_accounts(endpoints=endpoints, access_token=token)
    assert error.value.kind is ErrorKind.AUTH and error.value.platform_code == "190"
    adapter.revoke(endpoints=endpoints, token=token)  # already gone: nothing to do


# ---- accounts


def test_list_accounts_follows_paging(fake: FakeMetaAds, endpoints: ProviderEndpoints) -> None:
    fake.reset(
        accounts=[
            FakeAdAccount("101", "Chips US", "USD", "America/New_York", 1),
            FakeAdAccount("102", "Chips EU", "EUR", "Europe/Berlin", 2),
            FakeAdAccount("103", "Chips JP", "JPY", "Asia/Tokyo", 101),
        ]
    )
    fake.max_limit = 2  # the adapter asks for 100 a page; Meta may give fewer
    remote = MetaAdsAdapter().list_accounts(endpoints=endpoints, access_token=fake.issue_token())
    assert [(a.external_id, a.name, a.currency, a.time_zone, a.status) for a in remote] == [
        ("act_101", "Chips US", "USD", "America/New_York", "active"),
        ("act_102", "Chips EU", "EUR", "Europe/Berlin", "disabled"),
        ("act_103", "Chips JP", "JPY", "Asia/Tokyo", "closed"),
    ]
    assert all(account.extra == {"page_id": PAGE_ID} for account in remote)
    assert fake.requests.count(f"GET {V}/me/adaccounts") == 2


# ---- launch


def test_launch_builds_campaign_ad_sets_images_creatives_and_ads(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    plan = make_plan()
    recorder = Recorder()
    adapter.launch(session=session, plan=plan, recorder=recorder)

    (campaign,) = fake.objects("campaign")
    assert campaign["name"] == plan.label
    assert campaign["objective"] == "OUTCOME_SALES"
    assert campaign["special_ad_categories"] == []
    assert campaign["is_adset_budget_sharing_enabled"] is False
    # Built paused, switched on once everything under it existed.
    assert [status for _at, status in campaign["status_history"]] == ["PAUSED", "ACTIVE"]

    adsets = fake.objects("adset")
    assert [adset["name"] for adset in adsets] == [unit.label for unit in plan.units]
    for adset in adsets:
        assert adset["campaign_id"] == campaign["id"]
        assert adset["daily_budget"] == 5000  # 100.01 USD / 2, floored to the cent
        assert adset["lifetime_budget"] is None
        assert adset["targeting"] == TARGETING
        assert adset["optimization_goal"] == "OFFSITE_CONVERSIONS"
        assert adset["billing_event"] == "IMPRESSIONS"
        assert adset["bid_strategy"] == "LOWEST_COST_WITHOUT_CAP"
        assert adset["status"] == "ACTIVE"
        assert adset["start_time"] == "2026-09-01T00:00:00-04:00"

    images = fake.objects("image")
    assert sorted(image["name"] for image in images) == ["alpha.png", sorted_jpeg_name(plan)]
    assert posts(fake, "/adimages") == 2

    creatives = {item["name"]: item for item in fake.objects("adcreative")}
    first = plan.units[0].creatives[0]
    assert creatives[first.label]["object_story_spec"] == {
        "page_id": PAGE_ID,
        "link_data": {
            "message": "Alpha: crunchy, spicy, gone in minutes.",
            "link": "https://tastychips.example/jalapeno",
            "name": "Alpha headline",
            "description": "Alpha description",
            "image_hash": next(i["hash"] for i in images if i["name"] == "alpha.png"),
            "call_to_action": {
                "type": "SHOP_NOW",
                "value": {"link": "https://tastychips.example/jalapeno"},
            },
        },
    }
    ads = fake.objects("ad")
    assert len(ads) == 2
    assert {ad["creative_id"] for ad in ads} == {item["id"] for item in creatives.values()}
    assert all(ad["status"] == "ACTIVE" for ad in ads)

    # The recorder heard of each id as it came, parents first.
    unit_one, unit_two = plan.units
    ad_of = {ad["adset_id"]: ad["id"] for ad in ads}
    adset_of = {adset["name"]: adset["id"] for adset in adsets}
    creative_one = unit_one.creatives[0].creative_id
    creative_two = unit_two.creatives[0].creative_id
    assert [(kind, key, external_id) for kind, key, external_id, _refs in recorder.events] == [
        ("campaign", None, campaign["id"]),
        ("unit", unit_one.unit_id, adset_of[unit_one.label]),
        ("creative", creative_one, ""),
        ("creative", creative_one, ad_of[adset_of[unit_one.label]]),
        ("unit", unit_two.unit_id, adset_of[unit_two.label]),
        ("creative", creative_two, ""),
        ("creative", creative_two, ad_of[adset_of[unit_two.label]]),
    ]
    refs = recorder.creatives[creative_one][1]
    assert refs == {
        "image_hash": creatives[first.label]["object_story_spec"]["link_data"]["image_hash"],
        "creative": creatives[first.label]["id"],
    }


def sorted_jpeg_name(plan: LaunchPlan) -> str:
    # The second creative has no image name: the adapter names it after its id.
    return f"herald-{plan.units[1].creatives[0].creative_id.hex[:12]}.jpg"


def test_launching_again_with_the_recorded_ids_creates_nothing(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    plan = make_plan()
    recorder = Recorder()
    adapter.launch(session=session, plan=plan, recorder=recorder)
    posts_before = [line for line in fake.requests if line.startswith("POST")]

    adapter.launch(session=session, plan=recorder.resumed(plan), recorder=Recorder())

    new_posts = [line for line in fake.requests if line.startswith("POST")][len(posts_before) :]
    assert new_posts == [f"POST {V}/{recorder.campaign}"]  # only switching it on again
    assert len(fake.objects("campaign")) == 1
    assert len(fake.objects("adset")) == 2
    assert len(fake.objects("adcreative")) == 2
    assert len(fake.objects("ad")) == 2


def test_a_campaign_whose_id_was_never_recorded_is_found_by_name(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    plan = make_plan()
    adapter.launch(session=session, plan=plan, recorder=Recorder())
    # Same plan, nothing recorded (say the database write failed after each create).
    recorder = Recorder()
    adapter.launch(session=session, plan=plan, recorder=recorder)
    assert len(fake.objects("campaign")) == 1
    assert len(fake.objects("adset")) == 2
    assert len(fake.objects("adcreative")) == 2
    assert len(fake.objects("ad")) == 2
    assert recorder.campaign == fake.objects("campaign")[0]["id"]
    assert len(recorder.units) == 2 and all(ad for ad, _ in recorder.creatives.values())


def test_a_rejected_call_to_action_names_the_creative_and_a_retry_resumes(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    broken = creative("Beta", cta="FOLLOW_US_PLEASE")
    plan = make_plan(creatives=(creative("Alpha"), broken))
    recorder = Recorder()
    with pytest.raises(ProviderError) as error:
        adapter.launch(session=session, plan=plan, recorder=recorder)
    assert error.value.kind is ErrorKind.VALIDATION
    assert error.value.creative_id == broken.creative_id
    assert "'FOLLOW_US_PLEASE' is not a call to action type" in error.value.message
    assert error.value.platform_code == "100"
    assert fake.objects("campaign")[0]["status"] == "PAUSED"  # nothing half-built delivers

    fixed = recorder.resumed(plan)
    second_unit = fixed.units[1]
    fixed = replace(
        fixed,
        units=(
            fixed.units[0],
            replace(
                second_unit,
                creatives=(replace(second_unit.creatives[0], call_to_action="LEARN_MORE"),),
            ),
        ),
    )
    adapter.launch(session=session, plan=fixed, recorder=recorder)
    assert len(fake.objects("campaign")) == 1
    assert len(fake.objects("adset")) == 2
    assert len(fake.objects("adcreative")) == 2
    assert len(fake.objects("ad")) == 2
    assert fake.objects("campaign")[0]["status"] == "ACTIVE"


class FailAdAfterCreative(Recorder):
    """Makes Meta refuse the next ad once the first creative is recorded ("…/ads" also
    matches "…/adsets", so the failure cannot be armed earlier)."""

    def __init__(self, fake: FakeMetaAds) -> None:
        super().__init__()
        self.fake = fake
        self.armed = False

    def creative_created(self, creative_id: UUID, external_id: str, refs: dict[str, str]) -> None:
        super().creative_created(creative_id, external_id, refs)
        if not self.armed:
            self.armed = True
            self.fake.inject(Failure(kind="validation", match="/ads", message="No ads"))


def test_a_creative_made_before_its_ad_failed_is_reused(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    plan = make_plan()
    recorder = FailAdAfterCreative(fake)
    with pytest.raises(ProviderError) as error:
        adapter.launch(session=session, plan=plan, recorder=recorder)
    first = plan.units[0].creatives[0]
    assert error.value.kind is ErrorKind.VALIDATION and error.value.creative_id == first.creative_id
    (made,) = fake.objects("adcreative")
    assert recorder.creatives[first.creative_id] == (
        "",
        {"image_hash": fake.objects("image")[0]["hash"], "creative": made["id"]},
    )

    adapter.launch(session=session, plan=recorder.resumed(plan), recorder=recorder)
    assert len(fake.objects("adcreative")) == 2  # not 3: the first one was reused
    assert posts(fake, "/adimages") == 2
    assert len(fake.objects("ad")) == 2


def test_an_ad_set_create_that_times_out_is_found_by_name(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, meta: RunningFake
) -> None:
    session = ProviderSession(
        endpoints=fake.endpoints(meta.url, timeout="0.5"),
        access_token=fake.issue_token(),
        account_external_id=ACCOUNT,
        account_currency="USD",
        account_time_zone="America/New_York",
        extra={"page_id": PAGE_ID},
    )
    fake.inject(Failure(kind="timeout_after_create", match=f"POST {V}/{ACCOUNT}/adsets", delay=1.0))
    plan = make_plan()
    recorder = Recorder()
    adapter.launch(session=session, plan=plan, recorder=recorder)

    adsets = fake.objects("adset")
    assert len(adsets) == 2
    assert posts(fake, "/adsets") == 2  # the lost answer was looked up, not re-sent
    campaign_id = fake.objects("campaign")[0]["id"]
    assert f"GET {V}/{campaign_id}/adsets" in fake.requests
    first = plan.units[0]
    assert recorder.units[first.unit_id] == next(
        a["id"] for a in adsets if a["name"] == first.label
    )
    assert len(fake.objects("ad")) == 2


def test_a_rate_limit_is_waited_out(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, meta: RunningFake, sleeps: list[float]
) -> None:
    session = ProviderSession(
        endpoints=fake.endpoints(meta.url, max_retry_sleep="120"),
        access_token=fake.issue_token(),
        account_external_id=ACCOUNT,
        account_currency="USD",
        account_time_zone="America/New_York",
        extra={"page_id": PAGE_ID},
    )
    fake.inject(Failure(kind="rate_limit", match=f"POST {V}/{ACCOUNT}/campaigns", retry_after=60))
    adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    assert sleeps == [60.0]  # estimated_time_to_regain_access: 1 minute
    assert len(fake.objects("campaign")) == 1


def test_a_lasting_rate_limit_becomes_rate_limited_with_retry_after(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, endpoints: ProviderEndpoints, sleeps: list[float]
) -> None:
    fake.inject(
        Failure(kind="rate_limit", match=f"GET {V}/me/adaccounts", times=0, retry_after=120)
    )
    with pytest.raises(ProviderError) as error:
        adapter.list_accounts(endpoints=endpoints, access_token=fake.issue_token())
    assert error.value.kind is ErrorKind.RATE_LIMITED
    assert error.value.retry_after == 120.0
    assert error.value.platform_code == "80004/2446079"
    assert sleeps == [30.0, 30.0]  # capped by max_retry_sleep, default 30 s
    assert fake.requests.count(f"GET {V}/me/adaccounts") == 3


def test_server_errors_are_transient_and_reads_are_retried(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession, sleeps: list[float]
) -> None:
    fake.inject(Failure(kind="server_error", match="/insights", times=0))
    with pytest.raises(ProviderError) as error:
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 1))
    assert error.value.kind is ErrorKind.TRANSIENT and error.value.platform_code == "2"
    assert sleeps == [0.5, 1.0]
    fake.clear_failures()

    one_blip = Failure(kind="server_error", match="/insights")
    fake.inject(one_blip)
    assert (
        adapter.fetch_metrics(session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 1))
        == []
    )


def test_a_failed_create_is_not_repeated_by_the_client(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession, sleeps: list[float]
) -> None:
    fake.inject(Failure(kind="server_error", match=f"POST {V}/{ACCOUNT}/campaigns"))
    with pytest.raises(ProviderError) as error:
        adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    assert error.value.kind is ErrorKind.TRANSIENT
    assert posts(fake, "/campaigns") == 1 and sleeps == []


def test_bad_tokens_are_auth_errors(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    with pytest.raises(ProviderError) as unknown:
        adapter.set_active(
            session=replace(session, access_token="EAAGnot-a-token"),
            refs=PlatformRefs("120200000000000001", {}, ()),
            active=False,
        )
    assert unknown.value.kind is ErrorKind.AUTH and unknown.value.platform_code == "190"

    fake.inject(Failure(kind="auth"))
    with pytest.raises(ProviderError) as expired:
        adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    assert expired.value.kind is ErrorKind.AUTH and expired.value.platform_code == "190/463"


def test_a_budget_below_meta_minimum_is_blamed_on_the_unit(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    plan = make_plan(amount="1.50")  # 0.75 USD per ad set: under Meta's 1.00
    with pytest.raises(ProviderError) as error:
        adapter.launch(session=session, plan=plan, recorder=Recorder())
    assert error.value.kind is ErrorKind.VALIDATION
    assert error.value.unit_id == plan.units[0].unit_id
    assert error.value.message == "The budget must be at least 1.00 USD."


def test_unit_budgets_share_what_own_budgets_leave(session: ProviderSession) -> None:
    plan = make_plan(amount="300.00", budgets=(Decimal("100.005"), None))
    first, second = plan.units
    assert unit_budgets(plan, "USD") == {first.unit_id: 10000, second.unit_id: 19999}


def test_lifetime_budget_goes_with_an_end_time(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    end = datetime(2026, 9, 30, 23, 59, tzinfo=NEW_YORK)
    adapter.launch(
        session=session, plan=make_plan(kind="lifetime", amount="900", end=end), recorder=Recorder()
    )
    for adset in fake.objects("adset"):
        assert adset["lifetime_budget"] == 45000 and adset["daily_budget"] is None
        assert adset["end_time"] == end.isoformat()


def test_jpy_budgets_use_meta_offset_of_one(
    fake: FakeMetaAds, endpoints: ProviderEndpoints
) -> None:
    fake.reset(accounts=[FakeAdAccount("777", "Chips JP", "JPY", "Asia/Tokyo")])
    session = ProviderSession(
        endpoints=endpoints,
        access_token=fake.issue_token(),
        account_external_id="act_777",
        account_currency="JPY",
        account_time_zone="Asia/Tokyo",
        extra={"page_id": PAGE_ID},
    )
    MetaAdsAdapter().launch(
        session=session, plan=make_plan(amount="5001", currency="JPY"), recorder=Recorder()
    )
    assert [adset["daily_budget"] for adset in fake.objects("adset")] == [2500, 2500]


def test_minor_units_follow_meta_offsets() -> None:
    assert meta_minor_units(Decimal("12.34"), "USD") == 1234
    assert meta_minor_units(Decimal("1500"), "JPY") == 1500
    assert meta_minor_units(Decimal("1500"), "KRW") == 1500
    assert meta_minor_units(Decimal("100000.50"), "COP") == 100000  # ISO has cents; Meta not
    assert meta_minor_units(Decimal("9.999"), "EUR") == 999  # never above the allocation


# ---- pause, resume, budgets


def test_set_active_switches_the_campaign(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    refs = refs_of(fake)
    adapter.set_active(session=session, refs=refs, active=False)
    assert fake.objects("campaign")[0]["status"] == "PAUSED"
    assert all(ad["status"] == "ACTIVE" for ad in fake.objects("ad"))
    adapter.set_active(session=session, refs=refs, active=True)
    assert fake.objects("campaign")[0]["status"] == "ACTIVE"


def test_update_budget_sets_each_ad_set_in_minor_units(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession
) -> None:
    adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    adapter.update_budget(
        session=session,
        refs=refs_of(fake),
        budget=BudgetPlan(kind="daily", amount=Decimal("250.05"), currency="USD"),
    )
    assert [adset["daily_budget"] for adset in fake.objects("adset")] == [12502, 12502]


# ---- metrics


def raw_insights(meta: RunningFake, session: ProviderSession, since: date, until: date) -> Any:
    response = httpx.get(
        f"{meta.url}{V}/{ACCOUNT}/insights",
        params={
            "level": "adset",
            "fields": "adset_id,inline_link_clicks,clicks,actions,action_values,spend",
            "time_increment": "1",
            "time_range": f'{{"since":"{since}","until":"{until}"}}',
            "limit": "500",
            "appsecret_proof": graph_client.appsecret_proof(
                session.endpoints.client_secret, session.access_token
            ),
        },
        headers={"Authorization": f"Bearer {session.access_token}"},
    )
    assert response.status_code == 200
    return response.json()["data"]


def test_fetch_metrics_counts_purchases_once_and_link_clicks(
    adapter: MetaAdsAdapter,
    fake: FakeMetaAds,
    meta: RunningFake,
    session: ProviderSession,
    clock: Clock,
) -> None:
    adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    clock.advance(days=3)  # now Sept 4, 10:00 in New York
    rows = adapter.fetch_metrics(
        session=session, date_from=date(2026, 8, 30), date_to=date(2026, 9, 6)
    )
    # Two ad sets from Sept 1 (their start) to Sept 4 (today).
    assert len(rows) == 8
    assert {row.day for row in rows} == {date(2026, 9, d) for d in range(1, 5)}
    campaign_id = fake.objects("campaign")[0]["id"]
    assert {row.campaign_external_id for row in rows} == {campaign_id}

    raw = {
        (item["adset_id"], item["date_start"]): item
        for item in raw_insights(meta, session, date(2026, 9, 1), date(2026, 9, 4))
    }
    assert any(row.conversions > 0 for row in rows)
    for row in rows:
        item = raw[(row.unit_external_id, row.day.isoformat())]
        actions = {a["action_type"]: a["value"] for a in item["actions"]}
        values = {a["action_type"]: a["value"] for a in item.get("action_values", [])}
        purchases = Decimal(actions.get("purchase", "0"))
        assert actions.get("omni_purchase", "0") == actions.get("purchase", "0")
        assert row.conversions == purchases  # one purchase, three aliases, counted once
        assert row.conversion_value == Decimal(values.get("purchase", "0"))
        assert row.clicks == int(item["inline_link_clicks"]) < int(item["clicks"])
        assert row.spend == Decimal(item["spend"]) <= Decimal("50.00")
        assert 0.01 <= row.clicks / row.impressions <= 0.031


def test_paused_days_have_no_metrics(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession, clock: Clock
) -> None:
    adapter.launch(session=session, plan=make_plan(), recorder=Recorder())
    refs = refs_of(fake)
    clock.advance(days=1)  # Sept 2, 10:00: pause
    adapter.set_active(session=session, refs=refs, active=False)
    clock.advance(days=2)  # Sept 4, 10:00: resume
    adapter.set_active(session=session, refs=refs, active=True)
    clock.advance(days=1)
    rows = adapter.fetch_metrics(
        session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 5)
    )
    days = sorted({row.day.day for row in rows})
    assert days == [1, 2, 4, 5]  # Sept 3 was paused all day


def test_lead_campaigns_count_leads(
    adapter: MetaAdsAdapter, fake: FakeMetaAds, session: ProviderSession, clock: Clock
) -> None:
    adapter.launch(session=session, plan=make_plan(objective="leads"), recorder=Recorder())
    assert fake.objects("adset")[0]["optimization_goal"] == "LEAD_GENERATION"
    assert fake.objects("adset")[0]["promoted_object"] == {"page_id": PAGE_ID}
    clock.advance(days=2)
    rows = adapter.fetch_metrics(
        session=session, date_from=date(2026, 9, 1), date_to=date(2026, 9, 3)
    )
    assert rows and any(row.conversions > 0 for row in rows)
    assert all(row.conversion_value == 0 for row in rows)


def test_conversion_action_types_are_configurable(
    fake: FakeMetaAds, session: ProviderSession, clock: Clock
) -> None:
    MetaAdsAdapter().launch(session=session, plan=make_plan(), recorder=Recorder())
    clock.advance(days=2)
    window = {"date_from": date(2026, 9, 1), "date_to": date(2026, 9, 3)}
    default = MetaAdsAdapter().fetch_metrics(session=session, **window)
    link_clicks = MetaAdsAdapter(conversion_action_types=("link_click",)).fetch_metrics(
        session=session, **window
    )
    assert [row.conversions for row in link_clicks] == [row.clicks for row in link_clicks]
    assert [row.conversions for row in link_clicks] != [row.conversions for row in default]
