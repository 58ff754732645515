"""``GoogleAdsAdapter``: Herald's ``ProviderAdapter`` for Google Ads search campaigns.

Duties: the OAuth web-server flow (authorization URL, code exchange, refresh, revoke);
listing the ad accounts a user can reach; launching a ``LaunchPlan`` as one campaign
budget, one paused SEARCH campaign, one ad group per unit and one responsive search ad
(RSA) per creative, then enabling the campaign; pausing/resuming; changing the budget;
and reading daily metrics per ad group. Everything goes through ``GoogleAdsClient``;
the adapter holds no state and touches no database.

Budgets. Google campaign budgets are daily amounts in micros, multiples of the account
currency's minimum unit (10,000 micros for cents). A Herald *lifetime* budget is spread
evenly: amount ÷ number of calendar days the campaign serves, rounded *down* to the
minimum unit so the total never exceeds the lifetime amount. The days are counted in
the account's time zone, from the start date (never before today, since Google refuses
past start dates) to the end date inclusive: those are the days Google actually serves
and bills, and the dates sent to Google are in that same zone. An ``end_at`` falling
exactly on local midnight ends the campaign the day before. When a lifetime budget is
changed later, the new amount is spread over the campaign's full schedule (read back
from Google), so the daily rate changes but the total can never exceed the larger of the
old and new lifetime amounts.

Idempotent, resumable launch. Google mutates take no idempotency key, so:

- every object already recorded in the plan (``external_id`` / ``external_refs``) is
  reused, and each new one is handed to the ``LaunchRecorder`` the moment Google returns
  its resource name;
- a create that timed out (``AMBIGUOUS``) is followed by a lookup, and repeated only
  when the lookup finds nothing;
- the budget cannot be recorded before the campaign exists (the recorder has no hook
  for it), so a retry after a crash between the two would create it again; Google
  rejects that with ``DUPLICATE_NAME`` (budget names are unique per account), and the
  adapter then adopts the existing budget. The same goes for
  ``DUPLICATE_CAMPAIGN_NAME`` and ``DUPLICATE_ADGROUP_NAME``: Herald's labels embed the
  campaign's own id, so a same-named object can only be ours.
- Lookups use names for budgets, campaigns (``campaign.name``) and ad groups (name
  within the campaign). Ads are matched by content instead: ``Ad.name`` exists in the
  API but is only supported for display-upload, image, shopping-comparison and video
  ads, not RSAs. An ad matches when its final URLs, headline texts, description texts
  and paths equal the creative's, and it is not already recorded for another creative of
  the plan. An ad group that may predate this attempt is listed once before its missing
  ads are created, so an ad created just before a crash is adopted, not duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from herald.integrations.providers.base import (
    BudgetPlan,
    CreativePlan,
    DailyMetricRow,
    ErrorKind,
    LaunchPlan,
    LaunchRecorder,
    OAuthTokens,
    PlatformRefs,
    ProviderEndpoints,
    ProviderError,
    ProviderSession,
    RemoteAccount,
    UnitPlan,
)
from herald.integrations.providers.google_ads.client import (
    MICROS,
    GoogleAdsClient,
    api_version_number,
    micros_from_amount,
    oauth_post,
)

__all__ = ["SCOPE", "GoogleAdsAdapter", "gaql_query", "gaql_string"]

SCOPE = "https://www.googleapis.com/auth/adwords"
# v23 replaced start_date/end_date with start_date_time/end_date_time.
_DATE_TIME_VERSION = 23
# Up to v22 Google reports "no end date" as this far-future date.
_NO_END_DATE = date(2037, 12, 30)

_CUSTOMER_FIELDS = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
    "customer.status",
)
_METRIC_FIELDS = (
    "campaign.id",
    "ad_group.id",
    "segments.date",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)
_AD_FIELDS = (
    "ad_group_ad.resource_name",
    "ad_group_ad.ad.final_urls",
    "ad_group_ad.ad.responsive_search_ad.headlines",
    "ad_group_ad.ad.responsive_search_ad.descriptions",
    "ad_group_ad.ad.responsive_search_ad.path1",
    "ad_group_ad.ad.responsive_search_ad.path2",
)
_NETWORK_SETTINGS = {
    "targetGoogleSearch": True,
    "targetSearchNetwork": True,
    "targetContentNetwork": False,
    "targetPartnerSearchNetwork": False,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def gaql_string(value: str) -> str:
    """A GAQL string literal: single quotes, with backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gaql_query(fields: Sequence[str], resource: str, conditions: Sequence[str] = ()) -> str:
    """``SELECT … FROM … [WHERE … AND …]``; values in ``conditions`` must come quoted
    through ``gaql_string`` (Herald's labels are user text)."""
    parts = ["SELECT", ", ".join(fields), "FROM", resource]
    if conditions:
        parts += ["WHERE", " AND ".join(conditions)]
    return " ".join(parts)


def _customer_id(session: ProviderSession) -> str:
    return session.account_external_id.replace("-", "")


def _customer_of(resource_name: str, fallback: str) -> str:
    """The customer id inside ``customers/{cid}/…``: mutates must go to that account."""
    match = re.match(r"customers/(\d+)/", resource_name)
    return match.group(1) if match else fallback.replace("-", "")


def _with_ids(
    error: ProviderError, *, unit_id: UUID | None = None, creative_id: UUID | None = None
) -> ProviderError:
    return ProviderError(
        error.message,
        kind=error.kind,
        retry_after=error.retry_after,
        unit_id=unit_id or error.unit_id,
        creative_id=creative_id or error.creative_id,
        platform_code=error.platform_code,
    )


def _invalid(message: str) -> ProviderError:
    return ProviderError(message, kind=ErrorKind.VALIDATION)


@dataclass(frozen=True)
class _Schedule:
    """Serving days in the account's time zone; ``end`` None runs indefinitely."""

    start: date
    end: date | None

    @property
    def days(self) -> int | None:
        return None if self.end is None else max(1, (self.end - self.start).days + 1)


def _plan_schedule(plan: LaunchPlan, time_zone: str, today: date) -> _Schedule:
    zone = ZoneInfo(time_zone)
    start = plan.start_at.astimezone(zone).date() if plan.start_at else today
    start = max(start, today)  # Google refuses start dates in the past
    end: date | None = None
    if plan.end_at is not None:
        local_end = plan.end_at.astimezone(zone)
        # Ending on local midnight means the previous day was the last one served.
        end = local_end.date()
        if local_end.time() == time(0):
            end -= timedelta(days=1)
        if end < start:
            raise _invalid("The campaign would end before it starts on Google Ads.")
    return _Schedule(start, end)


def _daily_micros(budget: BudgetPlan, currency: str, days: int | None) -> int:
    """The daily amount Google needs, in micros; lifetime budgets spread over ``days``."""
    if budget.currency.upper() != currency.upper():
        raise _invalid(
            f"The budget is in {budget.currency} but the Google Ads account bills in {currency}."
        )
    if budget.kind == "lifetime":
        if days is None:
            raise _invalid("A lifetime budget on Google Ads needs an end date.")
        micros = micros_from_amount(budget.amount / days, currency, round_down=True)
    else:
        micros = micros_from_amount(budget.amount, currency)
    if micros <= 0:
        raise _invalid("The daily budget is below the currency's smallest unit.")
    return micros


def _date_fields(version: int, schedule: _Schedule) -> dict[str, str]:
    if version >= _DATE_TIME_VERSION:
        fields = {"startDateTime": f"{schedule.start.isoformat()} 00:00:00"}
        if schedule.end is not None:
            fields["endDateTime"] = f"{schedule.end.isoformat()} 23:59:59"
        return fields
    fields = {"startDate": schedule.start.isoformat()}
    if schedule.end is not None:
        fields["endDate"] = schedule.end.isoformat()
    return fields


def _ad_body(ad_group: str, creative: CreativePlan) -> dict[str, Any]:
    rsa: dict[str, Any] = {
        "headlines": [{"text": text} for text in creative.headlines],
        "descriptions": [{"text": text} for text in creative.descriptions],
    }
    paths = [part for part in creative.display_path if part]
    if paths:
        rsa["path1"] = paths[0]
    if len(paths) > 1:
        rsa["path2"] = paths[1]
    return {
        "adGroup": ad_group,
        "status": "ENABLED",
        "ad": {"finalUrls": [creative.destination_url], "responsiveSearchAd": rsa},
    }


def _ad_fingerprint(ad: dict[str, Any]) -> tuple[Any, ...]:
    rsa = ad.get("responsiveSearchAd") or {}
    return (
        tuple(ad.get("finalUrls") or ()),
        tuple(asset.get("text", "") for asset in rsa.get("headlines") or ()),
        tuple(asset.get("text", "") for asset in rsa.get("descriptions") or ()),
        rsa.get("path1", ""),
        rsa.get("path2", ""),
    )


def _decimal(value: Any) -> Decimal:
    # Doubles arrive as JSON numbers; going through str keeps 0.1 as Decimal("0.1")
    # instead of its binary expansion 0.1000000000000000055511151231257827….
    return Decimal(str(value)) if value is not None else Decimal(0)


def _metric_row(customer_id: str, row: dict[str, Any]) -> DailyMetricRow:
    campaign = row.get("campaign") or {}
    ad_group = row.get("adGroup") or {}
    metrics = row.get("metrics") or {}
    campaign_name = campaign.get("resourceName") or (
        f"customers/{customer_id}/campaigns/{campaign.get('id')}"
    )
    ad_group_name = ad_group.get("resourceName") or (
        f"customers/{customer_id}/adGroups/{ad_group['id']}" if ad_group.get("id") else None
    )
    return DailyMetricRow(
        campaign_external_id=campaign_name,
        unit_external_id=ad_group_name,
        day=date.fromisoformat(row["segments"]["date"]),
        impressions=int(metrics.get("impressions", 0)),
        clicks=int(metrics.get("clicks", 0)),
        spend=Decimal(int(metrics.get("costMicros", 0))) / MICROS,
        conversions=_decimal(metrics.get("conversions", 0)),
        conversion_value=_decimal(metrics.get("conversionsValue", 0)),
    )


class _Launch:
    """One launch attempt; see the module docstring for the resumability rules."""

    def __init__(
        self,
        client: GoogleAdsClient,
        customer_id: str,
        plan: LaunchPlan,
        recorder: LaunchRecorder,
    ) -> None:
        self.client = client
        self.customer_id = customer_id
        self.plan = plan
        self.recorder = recorder
        # Ads recorded for some creative: never adopt them for another.
        self.claimed = {
            creative.external_id
            for unit in plan.units
            for creative in unit.creatives
            if creative.external_id
        }

    def run(self, budget_micros: int, dates: dict[str, str]) -> None:
        campaign = self.plan.external_id
        if not campaign:
            budget = self.plan.external_refs.get("budget") or self._budget(budget_micros)
            campaign = self._campaign(budget, dates)
            self.recorder.campaign_created(campaign, {"budget": budget})
        for unit in self.plan.units:
            self._unit(campaign, unit)
        self.client.mutate(
            self.customer_id,
            "campaigns",
            [{"update": {"resourceName": campaign, "status": "ENABLED"}, "updateMask": "status"}],
        )

    # ---- creation with lookup

    def _create(
        self,
        resource: str,
        body: dict[str, Any],
        find: Callable[[], str | None],
        adopt_codes: frozenset[str],
    ) -> tuple[str, bool]:
        """Create one object; (resource name, True when this call created it)."""
        try:
            return self.client.mutate(self.customer_id, resource, [{"create": body}])[0], True
        except ProviderError as error:
            ambiguous = error.kind is ErrorKind.AMBIGUOUS
            if not ambiguous and error.platform_code not in adopt_codes:
                raise
            found = find()
            if found:
                return found, False
            if not ambiguous:
                raise
        # The timed-out create never landed: this is the one retry.
        return self.client.mutate(self.customer_id, resource, [{"create": body}])[0], True

    def _find_one(self, query: str, key: str) -> str | None:
        rows = self.client.search_stream(self.customer_id, query)
        return str(rows[0][key]["resourceName"]) if rows else None

    def _budget(self, micros: int) -> str:
        name = f"{self.plan.label} budget"
        body = {
            "name": name,
            "amountMicros": str(micros),
            "deliveryMethod": "STANDARD",
            "period": "DAILY",
            "explicitlyShared": False,
        }
        query = gaql_query(
            ["campaign_budget.resource_name"],
            "campaign_budget",
            [f"campaign_budget.name = {gaql_string(name)}", "campaign_budget.status != 'REMOVED'"],
        )
        resource, _ = self._create(
            "campaignBudgets",
            body,
            lambda: self._find_one(query, "campaignBudget"),
            frozenset({"campaignBudgetError.DUPLICATE_NAME"}),
        )
        return resource

    def _campaign(self, budget: str, dates: dict[str, str]) -> str:
        body = {
            "name": self.plan.label,
            "status": "PAUSED",  # enabled only once every ad group and ad exists
            "advertisingChannelType": "SEARCH",
            "campaignBudget": budget,
            "manualCpc": {},
            "networkSettings": dict(_NETWORK_SETTINGS),
            "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            **dates,
        }
        query = gaql_query(
            ["campaign.resource_name"],
            "campaign",
            [f"campaign.name = {gaql_string(self.plan.label)}", "campaign.status != 'REMOVED'"],
        )
        resource, _ = self._create(
            "campaigns",
            body,
            lambda: self._find_one(query, "campaign"),
            frozenset({"campaignError.DUPLICATE_CAMPAIGN_NAME"}),
        )
        return resource

    def _ad_group(self, campaign: str, unit: UnitPlan) -> tuple[str, bool]:
        body = {
            "name": unit.label,
            "campaign": campaign,
            "status": "ENABLED",
            "type": "SEARCH_STANDARD",
            "cpcBidMicros": "1000000",
        }
        query = gaql_query(
            ["ad_group.resource_name"],
            "ad_group",
            [
                f"ad_group.campaign = {gaql_string(campaign)}",
                f"ad_group.name = {gaql_string(unit.label)}",
                "ad_group.status != 'REMOVED'",
            ],
        )
        try:
            return self._create(
                "adGroups",
                body,
                lambda: self._find_one(query, "adGroup"),
                frozenset({"adGroupError.DUPLICATE_ADGROUP_NAME"}),
            )
        except ProviderError as error:
            if error.kind is ErrorKind.VALIDATION:
                raise _with_ids(error, unit_id=unit.unit_id) from error
            raise

    def _unit(self, campaign: str, unit: UnitPlan) -> None:
        ad_group = unit.external_id
        existing: list[dict[str, Any]] | None = None  # the group's ads, fetched lazily
        if not ad_group:
            ad_group, created_now = self._ad_group(campaign, unit)
            self.recorder.unit_created(unit.unit_id, ad_group)
            if created_now:
                existing = []  # a group created by this very call holds no ads
        for creative in unit.creatives:
            if creative.external_id:
                continue
            if existing is None:
                existing = self._ads_in(ad_group)
            ad = self._ad(ad_group, creative, existing)
            self.claimed.add(ad)
            self.recorder.creative_created(creative.creative_id, ad, {})

    # ---- ads

    def _ads_in(self, ad_group: str) -> list[dict[str, Any]]:
        query = gaql_query(
            _AD_FIELDS,
            "ad_group_ad",
            [f"ad_group_ad.ad_group = {gaql_string(ad_group)}", "ad_group_ad.status != 'REMOVED'"],
        )
        return self.client.search_stream(self.customer_id, query)

    def _match(self, rows: list[dict[str, Any]], fingerprint: tuple[Any, ...]) -> str | None:
        for row in rows:
            ad_group_ad = row.get("adGroupAd") or {}
            resource = str(ad_group_ad.get("resourceName", ""))
            if resource in self.claimed:
                continue
            if _ad_fingerprint(ad_group_ad.get("ad") or {}) == fingerprint:
                return resource
        return None

    def _ad(self, ad_group: str, creative: CreativePlan, existing: list[dict[str, Any]]) -> str:
        body = _ad_body(ad_group, creative)
        fingerprint = _ad_fingerprint(body["ad"])
        found = self._match(existing, fingerprint)
        if found:
            return found
        try:
            resource, _ = self._create(
                "adGroupAds",
                body,
                lambda: self._match(self._ads_in(ad_group), fingerprint),
                frozenset(),
            )
        except ProviderError as error:
            if error.kind is ErrorKind.VALIDATION:
                raise _with_ids(error, creative_id=creative.creative_id) from error
            raise
        return resource


class GoogleAdsAdapter:
    """Google Ads through its REST API; ``clock`` is injectable for tests."""

    provider = "google_ads"

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or _utc_now

    # ---- OAuth

    def authorization_url(
        self, *, endpoints: ProviderEndpoints, state: str, redirect_uri: str
    ) -> str:
        params = {
            "client_id": endpoints.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            # offline + consent: Google only returns a refresh token with both.
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
        separator = "&" if "?" in endpoints.authorize_url else "?"
        return f"{endpoints.authorize_url}{separator}{urlencode(params)}"

    def exchange_code(
        self, *, endpoints: ProviderEndpoints, code: str, redirect_uri: str
    ) -> OAuthTokens:
        body = oauth_post(
            endpoints,
            endpoints.token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": endpoints.client_id,
                "client_secret": endpoints.client_secret,
                "redirect_uri": redirect_uri,
            },
        )
        return self._tokens(body, refresh_token=None)

    def refresh(self, *, endpoints: ProviderEndpoints, refresh_token: str) -> OAuthTokens:
        body = oauth_post(
            endpoints,
            endpoints.token_url,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": endpoints.client_id,
                "client_secret": endpoints.client_secret,
            },
        )
        # Google normally returns no new refresh token: the old one stays valid.
        return self._tokens(body, refresh_token=refresh_token)

    def revoke(self, *, endpoints: ProviderEndpoints, token: str) -> None:
        try:
            oauth_post(endpoints, endpoints.revoke_url, {"token": token})
        except ProviderError as error:
            # Already expired or revoked: the goal (no usable grant) is reached.
            if error.platform_code != "invalid_token":
                raise

    def _tokens(self, body: dict[str, Any], *, refresh_token: str | None) -> OAuthTokens:
        access_token = body.get("access_token")
        if not access_token:
            raise ProviderError("Google sign-in returned no access token.", kind=ErrorKind.AUTH)
        expires_in = body.get("expires_in")
        expires_at = (
            self._clock() + timedelta(seconds=int(expires_in)) if expires_in is not None else None
        )
        return OAuthTokens(
            access_token=str(access_token),
            refresh_token=str(body.get("refresh_token") or "") or refresh_token,
            expires_at=expires_at,
            scopes=tuple(str(body.get("scope", "")).split()),
        )

    # ---- accounts

    def list_accounts(
        self, *, endpoints: ProviderEndpoints, access_token: str
    ) -> list[RemoteAccount]:
        client = GoogleAdsClient(endpoints, access_token)
        accounts: list[RemoteAccount] = []
        for customer_id in client.list_accessible_customers():
            try:
                rows = client.search_stream(customer_id, gaql_query(_CUSTOMER_FIELDS, "customer"))
            except ProviderError as error:
                # Canceled/closed accounts are still "accessible" but refuse queries;
                # they cannot run campaigns, so they are not offered.
                if error.platform_code == "authorizationError.CUSTOMER_NOT_ENABLED":
                    continue
                raise
            accounts.extend(self._account(row.get("customer") or {}) for row in rows)
        return accounts

    @staticmethod
    def _account(customer: dict[str, Any]) -> RemoteAccount:
        status = str(customer.get("status", "UNKNOWN"))
        return RemoteAccount(
            external_id=str(customer.get("id", "")),
            name=str(customer.get("descriptiveName", "")),
            currency=str(customer.get("currencyCode", "")),
            time_zone=str(customer.get("timeZone", "")),
            status="active" if status == "ENABLED" else status.lower(),
        )

    # ---- launch and changes

    def _today(self, session: ProviderSession) -> date:
        return self._clock().astimezone(ZoneInfo(session.account_time_zone)).date()

    def launch(
        self, *, session: ProviderSession, plan: LaunchPlan, recorder: LaunchRecorder
    ) -> None:
        version = api_version_number(session.endpoints.api_version)
        schedule = _plan_schedule(plan, session.account_time_zone, self._today(session))
        # Checked before anything is created, even when the budget already exists.
        budget_micros = _daily_micros(plan.budget, session.account_currency, schedule.days)
        client = GoogleAdsClient(session.endpoints, session.access_token)
        _Launch(client, _customer_id(session), plan, recorder).run(
            budget_micros, _date_fields(version, schedule)
        )

    def set_active(self, *, session: ProviderSession, refs: PlatformRefs, active: bool) -> None:
        campaign = refs.campaign_external_id
        client = GoogleAdsClient(session.endpoints, session.access_token)
        client.mutate(
            _customer_of(campaign, session.account_external_id),
            "campaigns",
            [
                {
                    "update": {
                        "resourceName": campaign,
                        "status": "ENABLED" if active else "PAUSED",
                    },
                    "updateMask": "status",
                }
            ],
        )

    def update_budget(
        self, *, session: ProviderSession, refs: PlatformRefs, budget: BudgetPlan
    ) -> None:
        campaign = refs.campaign_external_id
        customer_id = _customer_of(campaign, session.account_external_id)
        client = GoogleAdsClient(session.endpoints, session.access_token)
        budget_name = refs.campaign_refs.get("budget", "")
        days: int | None = None
        if not budget_name or budget.kind == "lifetime":
            budget_name, schedule = self._campaign_budget_and_schedule(
                client, customer_id, campaign
            )
            budget_name = refs.campaign_refs.get("budget") or budget_name
            days = schedule.days
        micros = _daily_micros(budget, session.account_currency, days)
        client.mutate(
            customer_id,
            "campaignBudgets",
            [
                {
                    "update": {"resourceName": budget_name, "amountMicros": str(micros)},
                    # FieldMask paths travel in lowerCamel over REST.
                    "updateMask": "amountMicros",
                }
            ],
        )

    @staticmethod
    def _campaign_budget_and_schedule(
        client: GoogleAdsClient, customer_id: str, campaign: str
    ) -> tuple[str, _Schedule]:
        if api_version_number(client.version) >= _DATE_TIME_VERSION:
            fields = ("start_date_time", "end_date_time")
            keys = ("startDateTime", "endDateTime")
        else:
            fields, keys = ("start_date", "end_date"), ("startDate", "endDate")
        rows = client.search_stream(
            customer_id,
            gaql_query(
                ["campaign.campaign_budget", *(f"campaign.{name}" for name in fields)],
                "campaign",
                [f"campaign.resource_name = {gaql_string(campaign)}"],
            ),
        )
        if not rows:
            raise ProviderError(f"Google Ads has no campaign {campaign}.", kind=ErrorKind.NOT_FOUND)
        found = rows[0].get("campaign") or {}
        # "2026-09-02 00:00:00" from v23, "2026-09-02" before: the day is what counts.
        start_text = str(found.get(keys[0], ""))[:10]
        end_text = str(found.get(keys[1], ""))[:10]
        start = date.fromisoformat(start_text)
        end = date.fromisoformat(end_text) if end_text else None
        if end is not None and end >= _NO_END_DATE:
            end = None
        return str(found.get("campaignBudget", "")), _Schedule(start, end)

    # ---- reporting

    def fetch_metrics(
        self, *, session: ProviderSession, date_from: date, date_to: date
    ) -> list[DailyMetricRow]:
        if date_from > date_to:
            return []
        customer_id = _customer_id(session)
        client = GoogleAdsClient(session.endpoints, session.access_token)
        between = f"{gaql_string(date_from.isoformat())} AND {gaql_string(date_to.isoformat())}"
        rows = client.search_stream(
            customer_id,
            gaql_query(_METRIC_FIELDS, "ad_group", [f"segments.date BETWEEN {between}"]),
        )
        return [_metric_row(customer_id, row) for row in rows]
