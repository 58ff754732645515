"""The integrations capability end to end, against the fakes over real HTTP: connect both
platforms through OAuth, launch Tasty Chips on both at once, pause and resume, sync
metrics and read them in one vocabulary; injected failures leave no duplicates and a
clear state; tokens never appear in plain text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.campaigns.choices import CampaignStatus as S
from herald.campaigns.models import AdCreative, Campaign, CampaignChannel, CampaignUnit
from herald.campaigns.services.lifecycle import (
    campaign_launch,
    campaign_retry,
)
from herald.integrations.endpoints import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from herald.integrations.fake_server import Failure, RunningFake, serve
from herald.integrations.models import AdAccount, Connection
from herald.integrations.providers.google_ads import client as google_client
from herald.integrations.providers.google_ads.fake import FakeGoogleAds
from herald.integrations.providers.meta_ads import client as meta_client
from herald.integrations.providers.meta_ads.fake import FakeMetaAds
from herald.integrations.services.accounts import campaign_ad_account_set
from herald.integrations.services.metrics import metrics_sync_account
from herald.testing.factories import make_launchable_campaign

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Sandbox:
    google: RunningFake
    meta: RunningFake
    sleeps: list[float]

    @property
    def google_fake(self) -> FakeGoogleAds:
        return self.google.app  # type: ignore[return-value]

    @property
    def meta_fake(self) -> FakeMetaAds:
        return self.meta.app  # type: ignore[return-value]

    def tokens(self) -> set[str]:
        google_oauth = self.google_fake.state["oauth"]
        return (
            set(google_oauth["accessTokens"])
            | set(google_oauth["refreshTokens"])
            | set(self.meta_fake.state["tokens"])
        )


@pytest.fixture
def sandbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    google = serve(
        FakeGoogleAds.for_sandbox(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    meta = serve(
        FakeMetaAds.for_sandbox(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    settings.HERALD_SANDBOX_GOOGLE_ADS_URL = google.url
    settings.HERALD_SANDBOX_META_ADS_URL = meta.url
    settings.HERALD_PLATFORM_TIMEOUT_SECONDS = 1.0
    sleeps: list[float] = []
    monkeypatch.setattr(google_client, "_sleep", sleeps.append)
    monkeypatch.setattr(meta_client, "_sleep", sleeps.append)
    yield Sandbox(google=google, meta=meta, sleeps=sleeps)
    google.stop()
    meta.stop()


class Browser:
    """A signed-in person: the Django client for Herald, httpx for the platform."""

    def __init__(self, actor: Actor) -> None:
        self.client = Client()
        assert actor.user is not None
        self.client.force_login(actor.user)
        self.responses: list[bytes] = []

    def api(self, method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        response = getattr(self.client, method)(f"/api/v1/{path}", **kwargs)
        self.responses.append(response.content)
        return response

    def connect(self, provider: str) -> Connection:
        start = self.api("post", "integrations", {"provider": provider, "sandbox": True})
        assert start.status_code == 200, start.content
        consent = httpx.get(start.json()["authorization_url"], follow_redirects=False)
        assert consent.status_code == 302, consent.text
        callback = urlsplit(consent.headers["location"])
        assert callback.path == f"/integrations/{provider}/callback/"
        page = self.client.get(f"{callback.path}?{callback.query}")
        self.responses.append(page.content)
        assert page.status_code == 200, page.content
        return Connection.objects.get(provider=provider, status=Connection.Status.ACTIVE)


def _launch_ready(owner: Actor, browser: Browser) -> Campaign:
    google = browser.connect("google_ads")
    meta = browser.connect("meta_ads")
    campaign = make_launchable_campaign(owner, name="Spicy Jalapeño Chips")
    for connection in (google, meta):
        account = AdAccount.objects.get(connection=connection)
        campaign_ad_account_set(
            actor=owner,
            campaign_id=campaign.pk,
            channel=connection.provider,
            ad_account_id=account.pk,
        )
    return campaign


def _external_ids(campaign: Campaign) -> dict[str, Any]:
    return {
        "channels": {
            state.channel: state.external_id
            for state in CampaignChannel.objects.filter(campaign=campaign)
        },
        "units": sorted(
            unit.external_id for unit in CampaignUnit.objects.filter(campaign=campaign)
        ),
        "creatives": sorted(
            creative.external_id for creative in AdCreative.objects.filter(unit__campaign=campaign)
        ),
    }


def _platform_counts(sandbox: Sandbox) -> dict[str, int]:
    google, meta = sandbox.google_fake, sandbox.meta_fake
    return {
        "google_budgets": len(google.objects("campaignBudgets")),
        "google_campaigns": len(google.objects("campaigns")),
        "google_ad_groups": len(google.objects("adGroups")),
        "google_ads": len(google.objects("adGroupAds")),
        "meta_campaigns": len(meta.objects("campaign")),
        "meta_ad_sets": len(meta.objects("adset")),
        "meta_creatives": len(meta.objects("adcreative")),
        "meta_ads": len(meta.objects("ad")),
    }


ONE_OF_EACH = {
    "google_budgets": 1,
    "google_campaigns": 1,
    "google_ad_groups": 1,
    "google_ads": 1,
    "meta_campaigns": 1,
    "meta_ad_sets": 1,
    "meta_creatives": 1,
    "meta_ads": 1,
}


def test_connect_launch_pause_resume_and_metrics_on_both_platforms(
    sandbox: Sandbox, owner: Actor, run_tasks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = Browser(owner)

    # Connect both providers through the full OAuth round trip; accounts are synced.
    campaign = _launch_ready(owner, browser)
    accounts = browser.api("get", "ad-accounts").json()
    assert sorted((a["provider"], a["is_sandbox"], a["status"]) for a in accounts) == [
        ("google_ads", True, "active"),
        ("meta_ads", True, "active"),
    ]

    # Launch on both at once.
    launched = browser.api("post", f"campaigns/{campaign.pk}/launch", {})
    assert launched.status_code == 200, launched.content
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE, campaign.error_message
    ids = _external_ids(campaign)
    assert ids["channels"]["google_ads"].startswith("customers/1234567890/campaigns/")
    assert ids["channels"]["meta_ads"].isdigit()
    assert all(ids["units"]) and all(ids["creatives"])
    assert _platform_counts(sandbox) == ONE_OF_EACH
    platforms = browser.api("get", f"campaigns/{campaign.pk}/platforms").json()
    assert [(p["channel"], p["state"]) for p in platforms] == [
        ("google_ads", "live"),
        ("meta_ads", "live"),
    ]

    # Pause, then resume, on both.
    browser.api("post", f"campaigns/{campaign.pk}/pause", {"reason": "Stock check"})
    run_tasks()
    assert sandbox.google_fake.objects("campaigns")[0]["status"] == "PAUSED"
    assert sandbox.meta_fake.objects("campaign")[0]["status"] == "PAUSED"
    browser.api("post", f"campaigns/{campaign.pk}/resume", {})
    run_tasks()
    assert sandbox.google_fake.objects("campaigns")[0]["status"] == "ENABLED"
    assert sandbox.meta_fake.objects("campaign")[0]["status"] == "ACTIVE"

    # Sync metrics and read them back in one vocabulary.
    today = timezone.now().astimezone(ZoneInfo("America/New_York")).date()
    for account in AdAccount.objects.all():
        run = metrics_sync_account(ad_account_id=account.pk, date_from=today, date_to=today)
        assert run is not None and run.status == "succeeded", run.error if run else None
    metrics = browser.api("get", f"campaigns/{campaign.pk}/metrics?from={today}&to={today}").json()
    assert {row["channel"] for row in metrics["rows"]} == {"google_ads", "meta_ads"}
    for row in metrics["rows"]:
        assert set(row) >= {"impressions", "clicks", "spend", "conversions", "conversion_value"}
        assert row["impressions"] > 0
    # Re-syncing the same day replaces, never adds.
    before = [(r["channel"], r["impressions"]) for r in metrics["rows"]]
    for account in AdAccount.objects.all():
        metrics_sync_account(ad_account_id=account.pk, date_from=today, date_to=today)
    again = browser.api("get", f"campaigns/{campaign.pk}/metrics?from={today}&to={today}")
    assert [(r["channel"], r["impressions"]) for r in again.json()["rows"]] == before
    sync_runs = browser.api("get", "sync-runs?kind=metrics").json()
    assert sync_runs["count"] == 4

    # No token in plain text: database, logs, API responses.
    tokens = sandbox.tokens()
    assert tokens
    _assert_nowhere(tokens, browser.responses, caplog.text)


def _assert_nowhere(tokens: set[str], responses: list[bytes], log_text: str) -> None:
    stored: list[str] = []
    for model in apps.get_models():
        text_fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField, models.JSONField))
        ]
        for values in model._default_manager.values_list(*text_fields) if text_fields else []:
            stored.extend(json.dumps(value, default=str) for value in values)
    haystacks = {"database": "\n".join(stored), "logs": log_text}
    haystacks["api"] = "\n".join(body.decode("utf-8", "replace") for body in responses)
    for where, text in haystacks.items():
        leaked = [token[:6] for token in tokens if token in text]
        assert leaked == [], f"token(s) in {where}"


def test_rate_limits_are_waited_out_as_the_platform_asks(
    sandbox: Sandbox, owner: Actor, run_tasks: Any
) -> None:
    campaign = _launch_ready(owner, Browser(owner))
    sandbox.google_fake.inject(Failure(kind="rate_limit", match="adGroups:mutate", retry_after=7))
    sandbox.meta_fake.inject(Failure(kind="rate_limit", match="/adsets", retry_after=60))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert 7.0 in sandbox.sleeps
    assert _platform_counts(sandbox) == ONE_OF_EACH


def test_a_timeout_after_create_is_looked_up_not_duplicated(
    sandbox: Sandbox, owner: Actor, run_tasks: Any
) -> None:
    campaign = _launch_ready(owner, Browser(owner))
    sandbox.google_fake.inject(
        Failure(kind="timeout_after_create", match="campaigns:mutate", delay=1.5)
    )
    sandbox.meta_fake.inject(Failure(kind="timeout_after_create", match="/adsets", delay=1.5))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE, campaign.error_message
    assert _platform_counts(sandbox) == ONE_OF_EACH


def test_a_server_error_that_persists_is_retried_later_and_then_finishes(
    sandbox: Sandbox, owner: Actor, run_tasks: Any, settings: Any
) -> None:
    from datetime import timedelta

    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.HERALD_LAUNCH_MAX_ATTEMPTS = 3
    campaign = _launch_ready(owner, Browser(owner))
    sandbox.meta_fake.inject(Failure(kind="server_error", match="/campaigns", times=0))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.LAUNCHING
    assert CampaignChannel.objects.get(campaign=campaign, channel="google_ads").state == "live"
    assert CampaignChannel.objects.get(campaign=campaign, channel="meta_ads").state == "failed"

    sandbox.meta_fake.clear_failures()
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(
        run_after=timezone.now() - timedelta(seconds=1)
    )
    run_tasks()
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert _platform_counts(sandbox) == ONE_OF_EACH


def test_a_revoked_meta_token_marks_the_connection_and_refuses_launches_with_the_reason(
    sandbox: Sandbox, owner: Actor, run_tasks: Any
) -> None:
    campaign = _launch_ready(owner, Browser(owner))
    sandbox.meta_fake.inject(Failure(kind="auth", match="/campaigns", times=0))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    meta = Connection.objects.get(provider="meta_ads")
    assert meta.status == Connection.Status.NEEDS_REAUTH
    assert campaign.status == S.ERROR
    assert "Meta Ads" in campaign.error_message
    assert CampaignChannel.objects.get(campaign=campaign, channel="google_ads").state == "live"

    from herald.core.errors import PreconditionFailed

    with pytest.raises(PreconditionFailed) as refused:
        campaign_retry(actor=owner, campaign_id=campaign.pk)
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("channels.meta_ads.ad_account", "account_unavailable")
    ]
    assert "needs reconnecting" in refused.value.errors[0].message


def test_an_expired_google_token_is_refreshed_and_the_call_retried(
    sandbox: Sandbox, owner: Actor, run_tasks: Any
) -> None:
    campaign = _launch_ready(owner, Browser(owner))
    google = Connection.objects.get(provider="google_ads")
    refreshed_before = google.last_refreshed_at
    sandbox.google_fake.inject(Failure(kind="auth", match="campaignBudgets:mutate"))

    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()

    campaign.refresh_from_db()
    google.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert google.status == Connection.Status.ACTIVE
    assert google.last_refreshed_at != refreshed_before
    assert _platform_counts(sandbox) == ONE_OF_EACH


def test_oauth_refusals(sandbox: Sandbox, owner: Actor, editor: Actor) -> None:
    browser = Browser(owner)
    start = browser.api("post", "integrations", {"provider": "google_ads", "sandbox": True})
    url = start.json()["authorization_url"]
    consent = urlsplit(httpx.get(url, follow_redirects=False).headers["location"])
    callback = f"{consent.path}?{consent.query}"

    # Someone else's browser cannot redeem it.
    stranger = Browser(editor)
    refused = stranger.client.get(callback)
    assert refused.status_code == 400
    assert b"started by someone else" in refused.content

    # The rightful browser can, once; a replay is refused.
    assert browser.client.get(callback).status_code == 200
    replay = browser.client.get(callback)
    assert replay.status_code == 400
    assert b"already used" in replay.content

    # A state Herald never issued, and a platform-side refusal.
    forged = browser.client.get(f"{consent.path}?code=x&state=forged")
    assert forged.status_code == 400
    assert b"not one Herald issued" in forged.content
    again = browser.api("post", "integrations", {"provider": "google_ads", "sandbox": True})
    denied = urlsplit(
        httpx.get(again.json()["authorization_url"] + "&deny=1", follow_redirects=False).headers[
            "location"
        ]
    )
    page = browser.client.get(f"{denied.path}?{denied.query}")
    assert page.status_code == 400
    assert b"did not grant access" in page.content
    assert Connection.objects.count() == 1


def test_disconnect_revokes_and_forgets_the_tokens(sandbox: Sandbox, owner: Actor) -> None:
    browser = Browser(owner)
    connection = browser.connect("google_ads")
    refresh_tokens = set(sandbox.google_fake.state["oauth"]["refreshTokens"])

    response = browser.api("delete", f"integrations/{connection.pk}")

    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    connection.refresh_from_db()
    assert (connection.sealed_access_token, connection.sealed_refresh_token) == ("", "")
    assert any("revoke" in line for line in sandbox.google.app.requests)
    assert refresh_tokens  # the grant existed before


def test_a_ciphertext_moved_to_another_organization_does_not_decrypt(
    sandbox: Sandbox, owner: Actor, other_org: Any
) -> None:
    from herald.core.secretbox import SecretError, unseal

    connection = Browser(owner).connect("google_ads")
    with pytest.raises(SecretError):
        unseal(
            connection.sealed_access_token,
            organization_id=other_org.pk,
            purpose="google_ads.access_token",
        )


def test_rotate_secrets_reencrypts_every_token(
    sandbox: Sandbox, owner: Actor, settings: Any
) -> None:
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from herald.core import secretbox
    from herald.core.secretbox import unseal

    connection = Browser(owner).connect("google_ads")
    old_keys = list(settings.HERALD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.HERALD_ENCRYPTION_KEYS = [new_key, *old_keys]
    secretbox._box.cache_clear()
    output = io.StringIO()
    call_command("rotate_secrets", stdout=output)
    assert output.getvalue() == "Re-encrypted 2 secret(s) under the current key.\n"

    settings.HERALD_ENCRYPTION_KEYS = [new_key]
    connection.refresh_from_db()
    token = unseal(
        connection.sealed_access_token,
        organization_id=connection.organization_id,
        purpose="google_ads.access_token",
    )
    assert token in sandbox.google_fake.state["oauth"]["accessTokens"]


def test_account_sync_updates_and_never_duplicates(sandbox: Sandbox, owner: Actor) -> None:
    from herald.integrations.services.accounts import ad_accounts_sync

    connection = Browser(owner).connect("google_ads")
    assert AdAccount.objects.filter(connection=connection).count() == 1
    with sandbox.google_fake.lock:
        sandbox.google_fake.state["customers"]["1234567890"]["descriptiveName"] = "Renamed"

    run = ad_accounts_sync(connection=connection)

    assert (run.status, run.rows) == ("succeeded", 1)
    account = AdAccount.objects.get(connection=connection)
    assert account.name == "Renamed"


def test_a_budget_change_on_a_running_campaign_reaches_both_platforms(
    sandbox: Sandbox, owner: Actor, run_tasks: Any
) -> None:
    from decimal import Decimal

    from herald.campaigns.services.budgets import budget_set

    campaign = _launch_ready(owner, Browser(owner))
    campaign_launch(actor=owner, campaign_id=campaign.pk)
    run_tasks()
    budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("500.00"),
        allocations={"google_ads": Decimal("250.00"), "meta_ads": Decimal("120.00")},
    )
    run_tasks()

    google_budget = sandbox.google_fake.objects("campaignBudgets")[0]
    assert google_budget["amountMicros"] == "250000000"
    meta_ad_set = sandbox.meta_fake.objects("adset")[0]
    assert str(meta_ad_set["daily_budget"]) == "12000"
    log = campaign.log_entries.filter(action="budget_sync").values_list("outcome", "message")
    assert sorted(log) == [
        ("success", "Google Ads: budget updated."),
        ("success", "Meta Ads: budget updated."),
    ]
