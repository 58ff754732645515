"""Herald's ``ProviderAdapter`` for Meta Ads (Marketing API over Graph).

Duties, per ``ProviderAdapter`` method:

- **OAuth** (manual login flow): the dialog URL; code → short-lived token → long-lived
  token (``fb_exchange_token``, about 60 days), then the permissions actually granted
  (people can untick some in the dialog; without ``ads_management`` the connection is
  useless, so that is refused at once). Meta has no refresh tokens: ``refresh`` always
  raises AUTH so Herald asks the person to reconnect. ``revoke`` deletes the app's
  permissions; a token that is already dead counts as revoked.
- **Accounts**: every ad account the person reaches (paged), each with the first
  Facebook Page they manage as ``extra["page_id"]``: link ads run as a Page.
- **Launch**, idempotent and resumable: campaign (PAUSED while it is built) → per unit
  an ad set → per creative an image, an ad creative and an ad → campaign ACTIVE.
  Objects whose ids the plan already carries are reused. Each id goes to the
  ``LaunchRecorder`` the moment Meta returns it. Before creating, an object is looked up
  by its (unique) label wherever an earlier attempt could have left it unrecorded: the
  campaign always (a plan without ids may be the retry of a create whose answer was
  lost), children only under a parent that existed before this call (a parent made just
  now has no children). After a create times out (AMBIGUOUS) the object is looked up by
  label at once and created only when nothing is found.
- **Pause / resume** at campaign level: ad sets and ads keep their own ACTIVE status, so
  the campaign switch alone starts or stops delivery.
- **Budgets** on the ad sets, in Meta's minor units (see ``meta_minor_units``).
- **Metrics**: daily ad-set insights; ``clicks`` are link clicks (``inline_link_clicks``,
  what Herald calls a click: someone went to the destination), conversions the first
  purchase alias present, never a sum (Meta reports one purchase under several names).

The adapter is pure: no Django models, no database; HTTP only through ``GraphClient``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

from herald.campaigns.audience_rules import audience_rules_validate, meta_targeting_spec
from herald.core.errors import InvalidInput
from herald.core.money import currency_exponent
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
from herald.integrations.providers.meta_ads.client import GraphClient

__all__ = [
    "LEAD_ACTION_TYPES",
    "OBJECTIVES",
    "PURCHASE_ACTION_TYPES",
    "SCOPES",
    "MetaAdsAdapter",
    "meta_currency_offset",
    "meta_minor_units",
    "unit_budgets",
]

SCOPES: Final = ("ads_management", "ads_read", "business_management")

# Meta reports one purchase under several action types at once; the first present is
# counted, in this order (the pixel's own event, then the cross-channel roll-up).
PURCHASE_ACTION_TYPES: Final = ("offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase")
LEAD_ACTION_TYPES: Final = ("lead",)
_LEAD_OBJECTIVES: Final = frozenset({"OUTCOME_LEADS", "LEAD_GENERATION"})


@dataclass(frozen=True)
class _Objective:
    campaign: str  # the campaign's ``objective``
    optimization_goal: str  # the ad sets' ``optimization_goal``


OBJECTIVES: Final[Mapping[str, _Objective]] = {
    "awareness": _Objective("OUTCOME_AWARENESS", "REACH"),
    "traffic": _Objective("OUTCOME_TRAFFIC", "LINK_CLICKS"),
    "engagement": _Objective("OUTCOME_ENGAGEMENT", "POST_ENGAGEMENT"),
    "leads": _Objective("OUTCOME_LEADS", "LEAD_GENERATION"),
    "sales": _Objective("OUTCOME_SALES", "OFFSITE_CONVERSIONS"),
}

_ACCOUNT_STATUSES: Final = {1: "active", 2: "disabled", 101: "closed"}
_ACCOUNT_FIELDS: Final = "id,account_id,name,currency,account_status,timezone_name"
_INSIGHT_FIELDS: Final = (
    "campaign_id,adset_id,objective,impressions,clicks,inline_link_clicks,spend,"
    "actions,action_values"
)
_LIST_LIMIT: Final = 100
_INSIGHTS_LIMIT: Final = 500
# Meta budgets are integers of the currency's "offset"; it is 1 (whole units) for these
# even where ISO 4217 has cents (COP, HUF, IDR), per Meta's currency table.
_META_OFFSET_ONE: Final = frozenset({"JPY", "KRW", "CLP", "COP", "HUF", "IDR"})
_IMAGE_NAME_MAX: Final = 100  # Meta's hard limit for an image name
_IMAGE_TYPES: Final = (
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"GIF87a", ".gif", "image/gif"),
    (b"GIF89a", ".gif", "image/gif"),
)


def meta_currency_offset(currency: str) -> int:
    """How many budget units Meta counts per major unit of ``currency``: 1 for the
    currencies Meta budgets in whole units, else ``10 ** ISO minor digits`` (100 for
    USD and EUR)."""
    code = currency.upper()
    if code in _META_OFFSET_ONE:
        return 1
    return int(10 ** currency_exponent(code))


def meta_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` (major units) in Meta's budget units, rounded down: a budget sent to
    Meta never exceeds what Herald allocated (100.50 COP → 100)."""
    scaled = amount * meta_currency_offset(currency)
    return int(scaled.to_integral_value(rounding=ROUND_FLOOR))


def _act(account_external_id: str) -> str:
    if account_external_id.startswith("act_"):
        return account_external_id
    return f"act_{account_external_id}"


def _validation(
    message: str, *, unit_id: UUID | None = None, creative_id: UUID | None = None
) -> ProviderError:
    return ProviderError(
        message, kind=ErrorKind.VALIDATION, unit_id=unit_id, creative_id=creative_id
    )


def _blamed(
    error: ProviderError, *, unit_id: UUID | None = None, creative_id: UUID | None = None
) -> ProviderError:
    """``error`` pinned on the unit or creative whose object Meta refused."""
    return ProviderError(
        error.message,
        kind=error.kind,
        retry_after=error.retry_after,
        unit_id=unit_id or error.unit_id,
        creative_id=creative_id or error.creative_id,
        platform_code=error.platform_code,
    )


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _created_id(body: Mapping[str, Any]) -> str:
    identifier = body.get("id")
    if not identifier:
        raise ProviderError("Meta created an object but sent no id.", kind=ErrorKind.AMBIGUOUS)
    return str(identifier)


def unit_budgets(plan: LaunchPlan, currency: str) -> dict[UUID, int]:
    """Each unit's budget in Meta's minor units: its own ``budget_amount`` when set;
    otherwise an equal share of what the channel budget leaves after those, floored
    to the minor unit (Herald checks that own budgets fit the allocation)."""
    own = {u.unit_id: u.budget_amount for u in plan.units if u.budget_amount is not None}
    budgets = {unit_id: meta_minor_units(amount, currency) for unit_id, amount in own.items()}
    shared = [unit for unit in plan.units if unit.budget_amount is None]
    if shared:
        remaining = max(plan.budget.amount - sum(own.values(), Decimal(0)), Decimal(0))
        share = meta_minor_units(remaining, currency) // len(shared)
        budgets.update({unit.unit_id: share for unit in shared})
    return budgets


def _targeting(unit: UnitPlan) -> dict[str, object]:
    if unit.audience_rules is None:
        raise _validation(
            "Choose an audience for this unit: Meta needs at least a location.",
            unit_id=unit.unit_id,
        )
    try:
        rules = audience_rules_validate(unit.audience_rules)
    except InvalidInput as error:
        raise _validation(
            f"The unit's audience is not valid: {error.detail}", unit_id=unit.unit_id
        ) from error
    spec = meta_targeting_spec(rules)
    if not spec["geo_locations"]:
        raise _validation(
            "None of the audience's locations has a Meta location key yet; add a country "
            "or look the regions and cities up on Meta.",
            unit_id=unit.unit_id,
        )
    return spec


def _image_file(creative: CreativePlan, data: bytes) -> tuple[str, str]:
    """The upload's file name (Meta needs an extension, and at most 100 characters)
    and content type, both from the bytes' signature."""
    extension, content_type = ".jpg", "image/jpeg"
    for signature, known_extension, known_type in _IMAGE_TYPES:
        if data.startswith(signature):
            extension, content_type = known_extension, known_type
            break
    stem = (creative.image_name or f"herald-{creative.creative_id.hex[:12]}").rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = stem or f"herald-{creative.creative_id.hex[:12]}"
    return stem[: _IMAGE_NAME_MAX - len(extension)] + extension, content_type


def _story_spec(creative: CreativePlan, page_id: str, image_hash: str) -> dict[str, object]:
    link_data: dict[str, object] = {
        "message": creative.primary_text,
        "link": creative.destination_url,
        "image_hash": image_hash,
    }
    if creative.headlines:
        link_data["name"] = creative.headlines[0]
    if creative.descriptions:
        link_data["description"] = creative.descriptions[0]
    if creative.call_to_action:
        link_data["call_to_action"] = {
            "type": creative.call_to_action,
            "value": {"link": creative.destination_url},
        }
    return {"page_id": page_id, "link_data": link_data}


class _Launch:
    """One run of ``MetaAdsAdapter.launch``: the plan, the client and what is built."""

    def __init__(
        self, session: ProviderSession, plan: LaunchPlan, recorder: LaunchRecorder
    ) -> None:
        self.session = session
        self.plan = plan
        self.recorder = recorder
        self.client = GraphClient(session.endpoints, session.access_token)
        self.account = _act(session.account_external_id)
        self.objective = self._objective()
        self.page_id = session.extra.get("page_id", "")

    # ---- checks before anything is created, so a doomed launch leaves nothing behind

    def _objective(self) -> _Objective:
        try:
            return OBJECTIVES[self.plan.objective]
        except KeyError:
            raise _validation(
                f"Meta has no objective for {self.plan.objective!r}; use one of "
                f"{', '.join(OBJECTIVES)}."
            ) from None

    def preflight(self) -> tuple[dict[UUID, int], dict[UUID, dict[str, object]]]:
        plan, session = self.plan, self.session
        if not plan.units:
            raise _validation("The campaign has no units for Meta.")
        if plan.budget.currency.upper() != session.account_currency.upper():
            raise _validation(
                f"The budget is in {plan.budget.currency} but the ad account spends in "
                f"{session.account_currency}."
            )
        if plan.budget.kind == "lifetime" and plan.end_at is None:
            raise _validation("A lifetime budget on Meta needs an end date.")
        targeting = {unit.unit_id: _targeting(unit) for unit in plan.units if not unit.external_id}
        for unit in plan.units:
            for creative in unit.creatives:
                self._check_creative(creative)
        return unit_budgets(plan, session.account_currency), targeting

    def _check_creative(self, creative: CreativePlan) -> None:
        if creative.external_id or "creative" in creative.external_refs:
            return
        if not self.page_id:
            raise _validation(
                "No Facebook Page is linked to this ad account; Meta ads run as a Page. "
                "Reconnect with a person who manages the Page.",
                creative_id=creative.creative_id,
            )
        if creative.image_bytes is None and "image_hash" not in creative.external_refs:
            raise _validation(
                "Meta link ads need an image; add one to this creative.",
                creative_id=creative.creative_id,
            )

    # ---- finding what an earlier attempt made

    def find(self, edge: str, name: str) -> str | None:
        rows = self.client.get_all(
            edge,
            {
                "fields": "id,name",
                "filtering": [{"field": "name", "operator": "EQUAL", "value": name}],
                "limit": _LIST_LIMIT,
            },
        )
        # Compared here too: an edge that ignores ``filtering`` lists everything.
        matches = [str(row["id"]) for row in rows if row.get("name") == name and row.get("id")]
        return matches[0] if matches else None

    def find_or_create(
        self, *, edge: str, create_path: str, params: Mapping[str, object], look_first: bool
    ) -> tuple[str, bool]:
        """The object's id and whether this call created it."""
        name = str(params["name"])
        if look_first and (found := self.find(edge, name)) is not None:
            return found, False
        try:
            return _created_id(self.client.create(create_path, params)), True
        except ProviderError as error:
            if error.kind is not ErrorKind.AMBIGUOUS:
                raise
        try:
            found = self.find(edge, name)
        except ProviderError as error:
            raise ProviderError(
                f"Meta did not confirm creating {name!r} and could not be asked: {error.message}",
                kind=ErrorKind.AMBIGUOUS,
                retry_after=error.retry_after,
                platform_code=error.platform_code,
            ) from error
        if found is not None:
            return found, False
        return _created_id(self.client.create(create_path, params)), True

    # ---- building

    def run(self) -> None:
        budgets, targeting = self.preflight()
        campaign_id = self.plan.external_id
        campaign_existed = bool(campaign_id)
        if not campaign_id:
            campaign_id, created = self.find_or_create(
                edge=f"{self.account}/campaigns",
                create_path=f"{self.account}/campaigns",
                params=self._campaign_params(),
                look_first=True,
            )
            campaign_existed = not created
            self.recorder.campaign_created(campaign_id, {})
        for unit in self.plan.units:
            self._unit(campaign_id, campaign_existed, unit, budgets[unit.unit_id], targeting)
        # Everything under it exists: only now may the campaign deliver.
        self.client.update(campaign_id, {"status": "ACTIVE"})

    def _campaign_params(self) -> dict[str, object]:
        return {
            "name": self.plan.label,
            "objective": self.objective.campaign,
            "status": "PAUSED",
            "special_ad_categories": [],
            # No campaign budget: each ad set spends its own.
            "is_adset_budget_sharing_enabled": False,
        }

    def _adset_params(
        self, campaign_id: str, unit: UnitPlan, budget: int, targeting: dict[str, object]
    ) -> dict[str, object]:
        plan = self.plan
        params: dict[str, object] = {
            "name": unit.label,
            "campaign_id": campaign_id,
            "lifetime_budget" if plan.budget.kind == "lifetime" else "daily_budget": budget,
            "billing_event": "IMPRESSIONS",
            "optimization_goal": self.objective.optimization_goal,
            "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
            "targeting": targeting,
            "status": "ACTIVE",
        }
        if plan.start_at is not None:
            params["start_time"] = plan.start_at.isoformat()
        if plan.end_at is not None:
            params["end_time"] = plan.end_at.isoformat()
        promoted = self._promoted_object()
        if promoted:
            params["promoted_object"] = promoted
        return params

    def _promoted_object(self) -> dict[str, str] | None:
        """What the ad set optimizes for: the Page's lead forms, or the pixel's
        purchases (only when the account has a ``pixel_id`` configured)."""
        if self.objective.campaign == "OUTCOME_LEADS" and self.page_id:
            return {"page_id": self.page_id}
        pixel_id = self.session.extra.get("pixel_id")
        if self.objective.campaign == "OUTCOME_SALES" and pixel_id:
            return {"pixel_id": pixel_id, "custom_event_type": "PURCHASE"}
        return None

    def _unit(
        self,
        campaign_id: str,
        campaign_existed: bool,
        unit: UnitPlan,
        budget: int,
        targeting: Mapping[UUID, dict[str, object]],
    ) -> None:
        adset_id, adset_existed = unit.external_id, bool(unit.external_id)
        if not adset_id:
            try:
                adset_id, created = self.find_or_create(
                    edge=f"{campaign_id}/adsets",
                    create_path=f"{self.account}/adsets",
                    params=self._adset_params(campaign_id, unit, budget, targeting[unit.unit_id]),
                    look_first=campaign_existed,
                )
            except ProviderError as error:
                raise _blamed(error, unit_id=unit.unit_id) from error
            adset_existed = not created
            self.recorder.unit_created(unit.unit_id, adset_id)
        for creative in unit.creatives:
            if not creative.external_id:
                self._creative(unit, adset_id, adset_existed, creative)

    def _creative(
        self, unit: UnitPlan, adset_id: str, adset_existed: bool, creative: CreativePlan
    ) -> None:
        refs = dict(creative.external_refs)
        try:
            if "creative" not in refs:
                if "image_hash" not in refs:
                    refs["image_hash"] = self._upload_image(creative)
                refs["creative"], _created = self.find_or_create(
                    edge=f"{self.account}/adcreatives",
                    create_path=f"{self.account}/adcreatives",
                    params={
                        "name": creative.label,
                        "object_story_spec": _story_spec(
                            creative, self.page_id, refs["image_hash"]
                        ),
                    },
                    look_first=adset_existed,
                )
                # Kept at once: a retry then reuses this creative instead of making a
                # second one. The ad id is not known yet, hence "".
                self.recorder.creative_created(creative.creative_id, "", dict(refs))
            ad_id, _created = self.find_or_create(
                edge=f"{adset_id}/ads",
                create_path=f"{self.account}/ads",
                params={
                    "name": creative.label,
                    "adset_id": adset_id,
                    "creative": {"creative_id": refs["creative"]},
                    "status": "ACTIVE",
                },
                look_first=adset_existed,
            )
        except ProviderError as error:
            raise _blamed(error, unit_id=unit.unit_id, creative_id=creative.creative_id) from (
                error
            )
        self.recorder.creative_created(creative.creative_id, ad_id, dict(refs))

    def _upload_image(self, creative: CreativePlan) -> str:
        data = creative.image_bytes or b""
        filename, content_type = _image_file(creative, data)
        body = self.client.create(
            f"{self.account}/adimages",
            {},
            files={filename: (filename, data, content_type)},
            # Content-addressed: the same bytes give the same hash, so a resend is safe.
            idempotent=True,
        )
        images = body.get("images")
        if isinstance(images, dict) and images:
            entry = images.get(filename) or next(iter(images.values()))
            if isinstance(entry, dict) and entry.get("hash"):
                return str(entry["hash"])
        raise ProviderError("Meta stored the image but sent no hash.", kind=ErrorKind.TRANSIENT)


class MetaAdsAdapter:
    """``ProviderAdapter`` for Meta Ads.

    ``conversion_action_types``: the action types counted as conversions, first present
    wins (default: the purchase aliases); ``lead_action_types``: the same for campaigns
    with a leads objective (default ``("lead",)``).
    """

    provider = "meta_ads"

    def __init__(
        self,
        *,
        conversion_action_types: Sequence[str] = PURCHASE_ACTION_TYPES,
        lead_action_types: Sequence[str] = LEAD_ACTION_TYPES,
    ) -> None:
        self.conversion_action_types = tuple(conversion_action_types)
        self.lead_action_types = tuple(lead_action_types)

    # ---- OAuth

    def authorization_url(
        self, *, endpoints: ProviderEndpoints, state: str, redirect_uri: str
    ) -> str:
        query = urlencode(
            {
                "client_id": endpoints.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": ",".join(SCOPES),
                "response_type": "code",
            }
        )
        return f"{endpoints.authorize_url.rstrip('/')}/{endpoints.api_version}/dialog/oauth?{query}"

    def exchange_code(
        self, *, endpoints: ProviderEndpoints, code: str, redirect_uri: str
    ) -> OAuthTokens:
        client = GraphClient(endpoints)
        token_url = endpoints.token_url or client.url("oauth/access_token")
        credentials = {"client_id": endpoints.client_id, "client_secret": endpoints.client_secret}
        short = self._token_call(
            client, token_url, {**credentials, "redirect_uri": redirect_uri, "code": code}
        )
        # Short-lived tokens last an hour or two; the exchange gives about 60 days.
        long = self._token_call(
            client,
            token_url,
            {
                **credentials,
                "grant_type": "fb_exchange_token",
                "fb_exchange_token": str(short.get("access_token", "")),
            },
        )
        access_token = str(long.get("access_token") or "")
        if not access_token:
            raise ProviderError("Meta sent no access token.", kind=ErrorKind.AUTH)
        expires_in = long.get("expires_in")
        expires_at = (
            datetime.now(UTC) + timedelta(seconds=int(expires_in))
            if isinstance(expires_in, int | str) and str(expires_in).isdecimal()
            else None  # system-user tokens do not expire
        )
        scopes = self._granted_scopes(endpoints, access_token)
        if scopes and "ads_management" not in scopes:
            raise ProviderError(
                "Meta did not grant ads_management; reconnect and allow managing ads.",
                kind=ErrorKind.PERMISSION,
            )
        return OAuthTokens(
            access_token=access_token, refresh_token=None, expires_at=expires_at, scopes=scopes
        )

    @staticmethod
    def _token_call(
        client: GraphClient, token_url: str, params: Mapping[str, object]
    ) -> dict[str, Any]:
        try:
            return client.get(token_url, params)
        except ProviderError as error:
            if error.kind in {ErrorKind.VALIDATION, ErrorKind.PERMISSION}:
                # A used, expired or foreign code: only a new round trip helps.
                raise ProviderError(
                    error.message, kind=ErrorKind.AUTH, platform_code=error.platform_code
                ) from error
            raise

    @staticmethod
    def _granted_scopes(endpoints: ProviderEndpoints, access_token: str) -> tuple[str, ...]:
        """The permissions granted; () when Meta cannot say right now (best effort:
        the token itself is good)."""
        try:
            rows = GraphClient(endpoints, access_token).get_all("me/permissions")
        except ProviderError:
            return ()
        return tuple(
            str(row["permission"])
            for row in rows
            if row.get("status") == "granted" and row.get("permission")
        )

    def refresh(self, *, endpoints: ProviderEndpoints, refresh_token: str) -> OAuthTokens:
        """Meta issues no refresh tokens: a long-lived token that ends must be replaced
        by connecting again."""
        raise ProviderError("Meta tokens cannot be refreshed; reconnect", kind=ErrorKind.AUTH)

    def revoke(self, *, endpoints: ProviderEndpoints, token: str) -> None:
        client = GraphClient(endpoints, token)
        try:
            client.delete(endpoints.revoke_url or client.url("me/permissions"))
        except ProviderError as error:
            if error.kind is not ErrorKind.AUTH:
                raise
            # The token is already invalid: nothing is left to revoke.

    # ---- accounts

    def list_accounts(
        self, *, endpoints: ProviderEndpoints, access_token: str
    ) -> list[RemoteAccount]:
        client = GraphClient(endpoints, access_token)
        rows = client.get_all("me/adaccounts", {"fields": _ACCOUNT_FIELDS, "limit": _LIST_LIMIT})
        page_id = self._first_page_id(client)
        extra = {"page_id": page_id} if page_id else {}
        return [
            RemoteAccount(
                external_id=_act(str(row.get("id") or row.get("account_id") or "")),
                name=str(row.get("name") or ""),
                currency=str(row.get("currency") or ""),
                time_zone=str(row.get("timezone_name") or ""),
                status=_ACCOUNT_STATUSES.get(_status_code(row.get("account_status")), "pending"),
                extra=dict(extra),
            )
            for row in rows
        ]

    @staticmethod
    def _first_page_id(client: GraphClient) -> str:
        try:
            body = client.get("me/accounts", {"fields": "id,name"})
        except ProviderError as error:
            # Listing Pages needs pages_show_list, which not every grant has; the ad
            # accounts are still worth having, and launch says what is missing.
            if error.kind is ErrorKind.PERMISSION:
                return ""
            raise
        pages = body.get("data")
        if isinstance(pages, list) and pages and isinstance(pages[0], dict):
            return str(pages[0].get("id") or "")
        return ""

    # ---- campaigns

    def launch(
        self, *, session: ProviderSession, plan: LaunchPlan, recorder: LaunchRecorder
    ) -> None:
        _Launch(session, plan, recorder).run()

    def set_active(self, *, session: ProviderSession, refs: PlatformRefs, active: bool) -> None:
        GraphClient(session.endpoints, session.access_token).update(
            refs.campaign_external_id, {"status": "ACTIVE" if active else "PAUSED"}
        )

    def update_budget(
        self, *, session: ProviderSession, refs: PlatformRefs, budget: BudgetPlan
    ) -> None:
        """Split ``budget`` evenly over the ad sets (floored to Meta's minor unit): the
        plan's per-unit amounts are not part of ``PlatformRefs``."""
        if not refs.unit_external_ids:
            return
        total = meta_minor_units(budget.amount, session.account_currency)
        share = total // len(refs.unit_external_ids)
        key = "lifetime_budget" if budget.kind == "lifetime" else "daily_budget"
        client = GraphClient(session.endpoints, session.access_token)
        for adset_id in refs.unit_external_ids:
            client.update(adset_id, {key: share})

    # ---- metrics

    def fetch_metrics(
        self, *, session: ProviderSession, date_from: date, date_to: date
    ) -> list[DailyMetricRow]:
        client = GraphClient(session.endpoints, session.access_token)
        rows = client.get_all(
            f"{_act(session.account_external_id)}/insights",
            {
                "level": "adset",
                "fields": _INSIGHT_FIELDS,
                "time_increment": 1,
                "time_range": {"since": date_from.isoformat(), "until": date_to.isoformat()},
                "limit": _INSIGHTS_LIMIT,
            },
        )
        return [self._metric_row(row) for row in rows]

    def _metric_row(self, row: Mapping[str, Any]) -> DailyMetricRow:
        lead = row.get("objective") in _LEAD_OBJECTIVES
        types = self.lead_action_types if lead else self.conversion_action_types
        conversions, value = _first_action(row, types)
        return DailyMetricRow(
            campaign_external_id=str(row.get("campaign_id") or ""),
            unit_external_id=str(row["adset_id"]) if row.get("adset_id") else None,
            day=date.fromisoformat(str(row["date_start"])),
            impressions=int(_decimal(row.get("impressions"))),
            clicks=int(_decimal(row.get("inline_link_clicks"))),
            spend=_decimal(row.get("spend")),
            conversions=conversions,
            conversion_value=value,
        )


def _status_code(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _actions(entries: object) -> dict[str, object]:
    if not isinstance(entries, list):
        return {}
    return {
        str(entry["action_type"]): entry.get("value")
        for entry in entries
        if isinstance(entry, dict) and "action_type" in entry
    }


def _first_action(row: Mapping[str, Any], types: Sequence[str]) -> tuple[Decimal, Decimal]:
    """Count and value of the first of ``types`` present in the row's ``actions``:
    the aliases describe the same events, so adding them up would count each twice or
    three times."""
    actions = _actions(row.get("actions"))
    values = _actions(row.get("action_values"))
    for action_type in types:
        if action_type in actions:
            return _decimal(actions[action_type]), _decimal(values.get(action_type))
    return Decimal(0), Decimal(0)
