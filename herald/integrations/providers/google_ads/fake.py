"""``FakeGoogleAds``: a local Google Ads + Google OAuth server speaking the real wire protocol.

Served over real HTTP with ``herald.integrations.fake_server.serve``; every path sits at
the server's root, so one base URL stands in for accounts.google.com,
oauth2.googleapis.com and googleads.googleapis.com (``FakeGoogleAds.endpoints(url)``
builds matching ``ProviderEndpoints``). Run it standalone with
``python -m herald.integrations.providers.google_ads.fake --port 8765``.

Duties:

- OAuth web-server flow: ``GET /o/oauth2/v2/auth`` checks the client and redirect URI
  and consents on the user's behalf (302 back with ``code`` and ``state``; ``deny=1`` or
  an injected failure answers ``error=access_denied``); ``POST /token`` (authorization
  code and refresh grants, single-use codes, ``invalid_grant`` for unknown, used, expired
  or revoked credentials); ``POST /revoke`` (revoking any token of a grant revokes the
  whole grant, as Google does). Access tokens last ``expires_in`` seconds.
- Google Ads REST under any ``/vNN/``: ``customers:listAccessibleCustomers``,
  ``googleAds:searchStream`` (a GAQL subset, see ``gaql.py``: customer, budget,
  campaign, ad group and ad queries, name lookups, daily metrics) and ``:mutate`` on
  ``campaignBudgets``, ``campaigns``, ``adGroups`` and ``adGroupAds`` with create,
  update (``updateMask``) and remove, all-or-nothing unless ``partialFailure``.
- Validating like Google: required fields (``fieldError: REQUIRED``); int64 fields must
  be JSON strings; budgets on a multiple of the currency's minimum unit; unique budget
  and campaign names per account and ad group names per campaign; campaign dates in
  the version's fields (``startDate`` up to v22, ``startDateTime`` from v23) and not in
  the past; RSA limits (3–15 headlines ≤ 30 characters, 2–4 descriptions ≤ 90, paths ≤
  15, ``path2`` needs ``path1``), every violation of a request reported together with
  its ``fieldPathElements``. Fields the resource does not have are refused the way
  Google's front end does (``Invalid JSON payload received. Unknown name …``). RSA ads
  have no ``name`` (the API keeps ``Ad.name`` for display/video ads), so one sent is
  dropped.
- Bearer tokens on every Ads call (401 ``OAUTH_TOKEN_INVALID`` / ``_EXPIRED`` /
  ``_REVOKED``), ``login-customer-id`` checked when present, ``developer-token``
  accepted and ignored; canceled or closed accounts answer 403 ``CUSTOMER_NOT_ENABLED``.
- Metrics that are deterministic and plausible: for every day an ENABLED campaign has
  an ENABLED ad group with an ENABLED ad, from the campaign's start (or creation) to
  the earlier of its end and today, numbers derived from a hash of (ad group id, date)
  and scaled by the daily budget shared among those ad groups: 800–1,500 impressions
  per 10 units of budget, 2–6 % CTR, spend 55–100 % of the share (so never above the
  budget), 2–8 % of clicks converting at 30–60 each. Status and budget changes are kept
  with their dates; a day counts with the status in force at its end. Rows with only
  zeros are left out, like Google's.
- Failures (``Failure``) rendered in Google's shapes: ``rate_limit`` → 429
  RESOURCE_EXHAUSTED with ``quotaErrorDetails.retryDelay``; ``auth`` → 401
  ``OAUTH_TOKEN_EXPIRED`` (``invalid_grant`` on the token endpoint, ``access_denied``
  on the consent page); ``server_error`` → 500 ``internalError``; ``validation`` → 400
  with the failure's message.

State (``self.state``) is plain JSON, kept in ``state_file`` when given. Objects are
stored as their wire JSON plus bookkeeping keys starting with ``_`` (history, creation
day) that the API never shows. The clock is injectable so tests can move through days.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import logging
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from herald.integrations.fake_server import (
    Failure,
    FakePlatform,
    FakeRequest,
    FakeResponse,
    serve,
)
from herald.integrations.providers.base import ProviderEndpoints
from herald.integrations.providers.google_ads.client import minimum_unit_micros
from herald.integrations.providers.google_ads.gaql import (
    GaqlError,
    GaqlQuery,
    compare_key,
    holds,
    parse_gaql,
)

__all__ = ["DEFAULT_CUSTOMERS", "SCOPE", "FakeCustomer", "FakeGoogleAds", "daily_metrics", "main"]

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/adwords"
_AUTHORIZE_PATHS = ("/o/oauth2/v2/auth", "/o/oauth2/auth")
_TOKEN_PATHS = ("/token", "/oauth2/v3/token", "/o/oauth2/token")
_REVOKE_PATHS = ("/revoke", "/o/oauth2/revoke")
_CODE_LIFETIME = 600  # seconds; Google's codes are short-lived too
_STREAM_BATCH = 10_000
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}
_STATUS_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "Internal error encountered.",
}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_INT64_RE = re.compile(r"-?\d+")
_CUSTOMER_ID_RE = re.compile(r"\d{10}")
_BIDDING = ("manualCpc", "maximizeConversions", "maximizeClicks", "targetSpend")
_INT_METRICS = frozenset({"metrics.impressions", "metrics.clicks", "metrics.cost_micros"})
_METRIC_FIELDS = (
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)

FieldPath = list[tuple[str, int | None]]  # fieldPathElements: (snake_case name, index)


@dataclass(frozen=True)
class FakeCustomer:
    id: str  # ten digits, no dashes
    name: str
    currency: str = "USD"
    time_zone: str = "America/New_York"
    status: str = "ENABLED"  # ENABLED | SUSPENDED | CANCELED | CLOSED


DEFAULT_CUSTOMERS = (FakeCustomer("1234567890", "Tasty Chips Sandbox"),)


@dataclass(frozen=True)
class _Resource:
    collection: str  # URL segment and state key: "adGroups"
    gaql: str  # GAQL name: "ad_group"
    result_key: str  # key of the object in a MUTABLE_RESOURCE result
    fields: frozenset[str]  # top-level fields a create or update may carry
    mutable: frozenset[str]  # fields an updateMask may name


_RESOURCES = {
    "campaignBudgets": _Resource(
        "campaignBudgets",
        "campaign_budget",
        "campaignBudget",
        frozenset(
            "resourceName name amountMicros deliveryMethod explicitlyShared period status".split()
        ),
        frozenset("name amountMicros deliveryMethod".split()),
    ),
    "campaigns": _Resource(
        "campaigns",
        "campaign",
        "campaign",
        frozenset(
            (
                "resourceName name status advertisingChannelType campaignBudget networkSettings "
                "containsEuPoliticalAdvertising startDate endDate startDateTime endDateTime "
                + " ".join(_BIDDING)
            ).split()
        ),
        frozenset(
            (
                "name status campaignBudget networkSettings containsEuPoliticalAdvertising "
                "startDate endDate startDateTime endDateTime " + " ".join(_BIDDING)
            ).split()
        ),
    ),
    "adGroups": _Resource(
        "adGroups",
        "ad_group",
        "adGroup",
        frozenset("resourceName name campaign status type cpcBidMicros".split()),
        frozenset("name status cpcBidMicros".split()),
    ),
    "adGroupAds": _Resource(
        "adGroupAds",
        "ad_group_ad",
        "adGroupAd",
        frozenset("resourceName adGroup status ad".split()),
        frozenset({"status"}),
    ),
}
_AD_FIELDS = frozenset(
    "finalUrls finalMobileUrls trackingUrlTemplate finalUrlSuffix urlCustomParameters "
    "responsiveSearchAd name".split()
)
_RSA_FIELDS = frozenset("headlines descriptions path1 path2".split())
# GAQL: the resources whose fields a row of each FROM resource may carry.
_ATTRIBUTED = {
    "customer": frozenset({"customer"}),
    "campaign_budget": frozenset({"campaign_budget", "customer"}),
    "campaign": frozenset({"campaign", "campaign_budget", "customer"}),
    "ad_group": frozenset({"ad_group", "campaign", "campaign_budget", "customer"}),
    "ad_group_ad": frozenset({"ad_group_ad", "ad_group", "campaign", "customer"}),
}
_WITH_METRICS = frozenset({"campaign", "ad_group"})


# ---- small helpers


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _path(*parts: str | int) -> FieldPath:
    path: FieldPath = []
    for part in parts:
        if isinstance(part, int):
            path[-1] = (path[-1][0], part)
        else:
            path.append((part, None))
    return path


def _path_text(path: FieldPath) -> str:
    return ".".join(name if index is None else f"{name}[{index}]" for name, index in path)


def _error(
    category: str,
    code: str,
    message: str,
    path: FieldPath | None = None,
    trigger: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"errorCode": {category: code}, "message": message}
    if trigger is not None:
        entry["trigger"] = {"stringValue": trigger}
    if path:
        entry["location"] = {
            "fieldPathElements": [
                {"fieldName": name} if index is None else {"fieldName": name, "index": index}
                for name, index in path
            ]
        }
    return entry


class _Reject(Exception):
    """A refused request: Ads errors (``GoogleAdsFailure``) or a front-end JSON error."""

    def __init__(
        self, status: int, errors: list[dict[str, Any]], *, message: str | None = None
    ) -> None:
        super().__init__(message or (errors[0]["message"] if errors else ""))
        self.status = status
        self.errors = errors
        self.message = message

    @classmethod
    def ads(
        cls,
        category: str,
        code: str,
        message: str,
        path: FieldPath | None = None,
        *,
        status: int = 400,
        trigger: str | None = None,
    ) -> _Reject:
        return cls(status, [_error(category, code, message, path, trigger)])

    @classmethod
    def payload(cls, message: str) -> _Reject:
        """What Google's front end says before the Ads backend sees the request."""
        return cls(400, [], message=f"Invalid JSON payload received. {message}")


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}


def _flatten(prefix: str, obj: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    for key, value in obj.items():
        if key.startswith("_"):
            continue
        name = f"{prefix}.{_snake(key)}"
        if isinstance(value, dict) and value:
            _flatten(name, value, out)
        else:
            out[name] = value
    return out


def _set_nested(target: dict[str, Any], keys: Sequence[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _get_nested(source: dict[str, Any], keys: Sequence[str]) -> tuple[bool, Any]:
    current: Any = source
    for key in keys:
        if not isinstance(current, dict) or key not in current:
            return False, None
        current = current[key]
    return True, current


def _delete_nested(target: dict[str, Any], keys: Sequence[str]) -> None:
    found, parent = _get_nested(target, keys[:-1])
    if found and isinstance(parent, dict):
        parent.pop(keys[-1], None)


def _value_on(history: list[list[Any]], day: date) -> Any:
    """The value in force at the end of ``day``: the last change made on or before it."""
    current = None
    for changed, value in history:
        if changed <= day.isoformat():
            current = value
    return current


def _track(obj: dict[str, Any], today: date) -> None:
    """Remember status and amount changes with their day, for metrics."""
    day = today.isoformat()
    for key, history_key in (("status", "_statusHistory"), ("amountMicros", "_amountHistory")):
        if key in obj:
            history = obj.setdefault(history_key, [])
            if not history or history[-1][1] != obj[key]:
                history.append([day, obj[key]])


def _hash_fractions(*parts: str) -> list[float]:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 20, 4)]


def daily_metrics(ad_group_id: str, day: date, share_micros: int, unit: int) -> dict[str, Any]:
    """One ad group's day, from its budget share; same inputs, same numbers."""
    u = _hash_fractions(ad_group_id, day.isoformat())
    impressions = int(share_micros / 10_000_000 * (800 + 700 * u[0]))
    clicks = int(impressions * (0.02 + 0.04 * u[1]))
    cost = int(share_micros * (0.55 + 0.45 * u[2])) // unit * unit if clicks else 0
    conversions = float(int(clicks * (0.02 + 0.06 * u[3]) + 0.5))
    return {
        "metrics.impressions": impressions,
        "metrics.clicks": clicks,
        "metrics.cost_micros": cost,
        "metrics.conversions": conversions,
        "metrics.conversions_value": round(conversions * (30 + 30 * u[4]), 2),
    }


def _metric_json(name: str, value: Any) -> Any:
    """int64 metrics travel as strings, doubles as numbers; zeros are omitted."""
    if not value:
        return None
    return str(int(value)) if name in _INT_METRICS else float(value)


@dataclass
class _Context:
    version: str  # "v23"
    number: int  # 23
    customer_id: str
    currency: str
    today: date  # in the customer's time zone


class FakeGoogleAds(FakePlatform):
    """Google Ads and Google OAuth on loopback. See the module docstring."""

    name = "google_ads"

    def __init__(
        self,
        *,
        customers: Iterable[FakeCustomer] = DEFAULT_CUSTOMERS,
        client_id: str = "herald-google-client.apps.googleusercontent.com",
        client_secret: str = "herald-google-secret",  # noqa: S107 - the fake's own test client
        redirect_uris: Iterable[str] | None = None,
        expires_in: int = 3599,
        clock: Callable[[], datetime] | None = None,
        state_file: Path | None = None,
    ) -> None:
        # Read by initial_state(), which the base constructor calls.
        self.customers = tuple(customers)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = None if redirect_uris is None else frozenset(redirect_uris)
        self.expires_in = expires_in
        self.clock = clock or (lambda: datetime.now(UTC))
        super().__init__(state_file=state_file)
        version = r"(?P<version>v\d+)"
        customer = r"customers/(?P<customer_id>[^/:]+)"
        for path in _AUTHORIZE_PATHS:
            self.route("GET", re.escape(path), self._authorize)
        for path in _TOKEN_PATHS:
            self.route("POST", re.escape(path), self._token)
        for path in _REVOKE_PATHS:
            self.route("POST", re.escape(path), self._revoke)
        self.route("GET", rf"/{version}/customers:listAccessibleCustomers", self._list_customers)
        self.route("POST", rf"/{version}/{customer}/googleAds:searchStream", self._search_stream)
        resources = "|".join(_RESOURCES)
        self.route("POST", rf"/{version}/{customer}/(?P<resource>{resources}):mutate", self._mutate)

    @classmethod
    def for_sandbox(
        cls,
        *,
        client_id: str,
        client_secret: str,
        state_file: Path | None = None,
        **options: Any,
    ) -> FakeGoogleAds:
        """The fake as Herald's sandbox: Herald's sandbox client, any http(s) redirect URI
        (Herald's callback URL depends on where it is deployed), real time."""
        options.setdefault("redirect_uris", None)
        return cls(
            client_id=client_id, client_secret=client_secret, state_file=state_file, **options
        )

    def initial_state(self) -> dict[str, Any]:
        return {
            "nextId": 100_000_001,
            "customers": {
                customer.id: {
                    "resourceName": f"customers/{customer.id}",
                    "id": customer.id,
                    "descriptiveName": customer.name,
                    "currencyCode": customer.currency,
                    "timeZone": customer.time_zone,
                    "status": customer.status,
                    "manager": False,
                    "testAccount": True,
                }
                for customer in self.customers
            },
            "campaignBudgets": {},
            "campaigns": {},
            "adGroups": {},
            "adGroupAds": {},
            "oauth": {"codes": {}, "grants": {}, "accessTokens": {}, "refreshTokens": {}},
        }

    def endpoints(
        self, base_url: str, *, api_version: str = "v23", **extra: str
    ) -> ProviderEndpoints:
        """``ProviderEndpoints`` pointing at this fake served at ``base_url``."""
        return ProviderEndpoints(
            provider="google_ads",
            client_id=self.client_id,
            client_secret=self.client_secret,
            authorize_url=f"{base_url}{_AUTHORIZE_PATHS[0]}",
            token_url=f"{base_url}{_TOKEN_PATHS[0]}",
            revoke_url=f"{base_url}{_REVOKE_PATHS[0]}",
            api_url=base_url,
            api_version=api_version,
            sandbox=True,
            extra=dict(extra),
        )

    def objects(self, collection: str) -> list[dict[str, Any]]:
        """The stored objects of ``collection`` (``"campaigns"`` …), in creation order."""
        with self.lock:
            return copy.deepcopy(list(self.state[collection].values()))

    # ---- time

    def _now(self) -> float:
        return self.clock().timestamp()

    def _today(self, customer_id: str) -> date:
        zone = ZoneInfo(self.state["customers"][customer_id]["timeZone"])
        return self.clock().astimezone(zone).date()

    # ---- failures

    def render_failure(self, failure: Failure, request: FakeRequest) -> FakeResponse:
        if request.path in _AUTHORIZE_PATHS:
            return self._consent_answer(request, {"error": "access_denied"})
        if request.path in _TOKEN_PATHS + _REVOKE_PATHS:
            return self._oauth_failure(failure)
        version = _version_of(request.path)
        if failure.kind == "rate_limit":
            delay = f"{failure.retry_after:g}s"
            error = _error("quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED", "Too many requests.")
            error["details"] = {
                "quotaErrorDetails": {
                    "rateScope": "ACCOUNT",
                    "rateName": "Requests per service per method",
                    "retryDelay": delay,
                }
            }
            error["message"] = f"Too many requests. Retry in {failure.retry_after:g} seconds."
            return _failure_response(_Reject(429, [error]), version)
        if failure.kind == "auth":
            reject = _Reject.ads(
                "authenticationError",
                "OAUTH_TOKEN_EXPIRED",
                "The OAuth access token has expired.",
                status=401,
            )
            return _failure_response(reject, version)
        if failure.kind == "validation":
            message = failure.message or "The request was refused."
            reject = _Reject.ads("fieldError", "INVALID_VALUE", message, _path("operations", 0))
            return _failure_response(reject, version)
        reject = _Reject.ads("internalError", "INTERNAL_ERROR", "Internal error.", status=500)
        return _failure_response(reject, version)

    @staticmethod
    def _oauth_failure(failure: Failure) -> FakeResponse:
        if failure.kind == "rate_limit":
            return FakeResponse(429, {"error": "rate_limit_exceeded", "error_description": ""})
        if failure.kind == "auth":
            return FakeResponse(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        if failure.kind == "validation":
            return FakeResponse(
                400, {"error": "invalid_request", "error_description": failure.message}
            )
        return FakeResponse(500, {"error": "internal_failure", "error_description": "Backend"})

    # ---- OAuth

    def _consent_answer(self, request: FakeRequest, params: dict[str, str]) -> FakeResponse:
        redirect_uri = request.arg("redirect_uri") or ""
        if not self._redirect_allowed(redirect_uri):
            return _page(400, "redirect_uri_mismatch", "The redirect URI is not registered.")
        state = request.arg("state")
        if state is not None:
            params = {**params, "state": state}
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(params)}"
        return FakeResponse(302, raw=b"", headers={"Location": location}, content_type="text/html")

    def _redirect_allowed(self, redirect_uri: str) -> bool:
        if not redirect_uri.startswith(("http://", "https://")):
            return False
        return self.redirect_uris is None or redirect_uri in self.redirect_uris

    def _authorize(self, request: FakeRequest) -> FakeResponse:
        if request.arg("client_id") != self.client_id:
            return _page(401, "invalid_client", "The OAuth client was not found.")
        if not self._redirect_allowed(request.arg("redirect_uri") or ""):
            return _page(400, "redirect_uri_mismatch", "The redirect URI is not registered.")
        if request.arg("response_type") != "code":
            return self._consent_answer(request, {"error": "unsupported_response_type"})
        scopes = (request.arg("scope") or "").split()
        if SCOPE not in scopes:
            return self._consent_answer(request, {"error": "invalid_scope"})
        if request.arg("deny") == "1":
            return self._consent_answer(request, {"error": "access_denied"})
        code = "4/0A" + secrets.token_urlsafe(32)
        self.state["oauth"]["codes"][code] = {
            "redirectUri": request.arg("redirect_uri"),
            "scope": " ".join(scopes),
            "offline": request.arg("access_type") == "offline",
            "issuedAt": self._now(),
            "used": False,
        }
        return self._consent_answer(request, {"code": code, "scope": " ".join(scopes)})

    def _client_credentials(self, request: FakeRequest, form: dict[str, str]) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, request: FakeRequest) -> FakeResponse:
        form = {key: values[0] for key, values in request.form().items()}
        if self._client_credentials(request, form) != (self.client_id, self.client_secret):
            return FakeResponse(
                401, {"error": "invalid_client", "error_description": "Unauthorized"}
            )
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        return FakeResponse(
            400,
            {"error": "unsupported_grant_type", "error_description": f"Invalid {grant_type}"},
        )

    def _exchange(self, form: dict[str, str]) -> FakeResponse:
        oauth = self.state["oauth"]
        code = oauth["codes"].get(form.get("code", ""))
        if code is None:
            return _invalid_grant("Malformed auth code.")
        if code["used"] or self._now() - code["issuedAt"] > _CODE_LIFETIME:
            return _invalid_grant("Bad Request")
        if form.get("redirect_uri") != code["redirectUri"]:
            return FakeResponse(
                400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}
            )
        code["used"] = True
        grant_id = str(len(oauth["grants"]) + 1)
        refresh_token = "1//" + secrets.token_urlsafe(40) if code["offline"] else None
        oauth["grants"][grant_id] = {
            "scope": code["scope"],
            "refreshToken": refresh_token,
            "revoked": False,
        }
        body = self._issue_access(grant_id)
        if refresh_token is not None:
            oauth["refreshTokens"][refresh_token] = grant_id
            body["refresh_token"] = refresh_token
        return FakeResponse(200, body)

    def _refresh(self, form: dict[str, str]) -> FakeResponse:
        oauth = self.state["oauth"]
        grant_id = oauth["refreshTokens"].get(form.get("refresh_token", ""))
        if grant_id is None or oauth["grants"][grant_id]["revoked"]:
            return _invalid_grant("Token has been expired or revoked.")
        return FakeResponse(200, self._issue_access(grant_id))

    def _issue_access(self, grant_id: str) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(48)
        self.state["oauth"]["accessTokens"][token] = {
            "grant": grant_id,
            "expiresAt": self._now() + self.expires_in,
        }
        return {
            "access_token": token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
            "scope": self.state["oauth"]["grants"][grant_id]["scope"],
        }

    def _revoke(self, request: FakeRequest) -> FakeResponse:
        token = request.form().get("token", [""])[0] or request.arg("token") or ""
        oauth = self.state["oauth"]
        access = oauth["accessTokens"].get(token)
        grant_id = access["grant"] if access else oauth["refreshTokens"].get(token)
        if grant_id is None or oauth["grants"][grant_id]["revoked"]:
            return FakeResponse(
                400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
            )
        oauth["grants"][grant_id]["revoked"] = True
        return FakeResponse(200, {})

    # ---- Ads: access checks

    def _check_token(self, request: FakeRequest) -> None:
        token = request.bearer_token
        oauth = self.state["oauth"]
        record = oauth["accessTokens"].get(token or "")
        if record is None:
            raise _Reject.ads(
                "authenticationError",
                "OAUTH_TOKEN_INVALID",
                "Oauth token in the header is not valid.",
                status=401,
            )
        if oauth["grants"][record["grant"]]["revoked"]:
            raise _Reject.ads(
                "authenticationError",
                "OAUTH_TOKEN_REVOKED",
                "Oauth token in the header has been revoked.",
                status=401,
            )
        if record["expiresAt"] <= self._now():
            raise _Reject.ads(
                "authenticationError",
                "OAUTH_TOKEN_EXPIRED",
                "Oauth token in the header has expired.",
                status=401,
            )

    def _check_customer(self, request: FakeRequest, customer_id: str) -> None:
        self._check_token(request)
        login = request.headers.get("login-customer-id")
        if login is not None and not _CUSTOMER_ID_RE.fullmatch(login):
            raise _Reject.ads(
                "headerError", "INVALID_LOGIN_CUSTOMER_ID", "The login customer ID is invalid."
            )
        if not _CUSTOMER_ID_RE.fullmatch(customer_id):
            raise _Reject.ads("requestError", "INVALID_CUSTOMER_ID", "Invalid customer ID.")
        customers = self.state["customers"]
        if customer_id not in customers or (login is not None and login not in customers):
            raise _Reject.ads(
                "authorizationError",
                "USER_PERMISSION_DENIED",
                "User doesn't have permission to access customer.",
                status=403,
            )
        if customers[customer_id]["status"] in {"CANCELED", "CLOSED"}:
            raise _Reject.ads(
                "authorizationError",
                "CUSTOMER_NOT_ENABLED",
                "The customer account can't be accessed because it is not yet enabled or has "
                "been deactivated.",
                status=403,
            )

    def _context(self, version: str, customer_id: str) -> _Context:
        return _Context(
            version=version,
            number=int(version[1:]),
            customer_id=customer_id,
            currency=self.state["customers"][customer_id]["currencyCode"],
            today=self._today(customer_id),
        )

    # ---- Ads: routes

    def _list_customers(self, request: FakeRequest, version: str) -> FakeResponse:
        try:
            self._check_token(request)
        except _Reject as reject:
            return _failure_response(reject, version)
        names = [customer["resourceName"] for customer in self.state["customers"].values()]
        return FakeResponse(200, {"resourceNames": names})

    def _search_stream(self, request: FakeRequest, version: str, customer_id: str) -> FakeResponse:
        try:
            self._check_customer(request, customer_id)
            body = _json_body(request)
            try:
                query = parse_gaql(str(body.get("query", "")))
                rows = self._run_query(self._context(version, customer_id), query)
            except GaqlError as error:
                raise _Reject.ads("queryError", error.code, error.message) from error
        except _Reject as reject:
            return _failure_response(reject, version)
        request_id = secrets.token_hex(11)
        mask = ",".join(".".join(_camel(part) for part in name.split(".")) for name in query.fields)
        batches = [
            {"results": rows[start : start + _STREAM_BATCH], "fieldMask": mask}
            for start in range(0, len(rows), _STREAM_BATCH)
        ] or [{"fieldMask": mask}]
        for batch in batches:
            batch["requestId"] = request_id
        return FakeResponse(200, batches, headers={"request-id": request_id})

    def _mutate(
        self, request: FakeRequest, version: str, customer_id: str, resource: str
    ) -> FakeResponse:
        try:
            self._check_customer(request, customer_id)
            body = _json_body(request)
            answer = self._apply_mutate(self._context(version, customer_id), resource, body)
        except _Reject as reject:
            return _failure_response(reject, version)
        return FakeResponse(200, answer, headers={"request-id": secrets.token_hex(11)})

    # ---- mutate

    def _apply_mutate(
        self, context: _Context, resource: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        operations = body.get("operations")
        if not isinstance(operations, list) or not operations:
            raise _Reject.ads(
                "fieldError", "REQUIRED", "The required field was not present.", _path("operations")
            )
        partial = bool(body.get("partialFailure", False))
        content = body.get("responseContentType", "RESOURCE_NAME_ONLY")
        # All-or-nothing: work on a copy and keep it only when the request succeeds.
        working = copy.deepcopy(self.state)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, operation in enumerate(operations):
            try:
                name = self._operation(working, context, _RESOURCES[resource], index, operation)
            except _Reject as reject:
                if not partial or not reject.errors:
                    raise
                errors.extend(reject.errors)
                results.append({})
                continue
            result: dict[str, Any] = {"resourceName": name}
            if content == "MUTABLE_RESOURCE":
                result[_RESOURCES[resource].result_key] = _public(working[resource][name])
            results.append(result)
        if body.get("validateOnly"):
            return {}
        self.state.clear()
        self.state.update(working)
        answer: dict[str, Any] = {"results": results}
        if errors:
            answer["partialFailureError"] = {
                "code": 3,
                "message": errors[0]["message"],
                "details": [_failure_detail(errors, context.version)],
            }
        return answer

    def _operation(
        self,
        state: dict[str, Any],
        context: _Context,
        resource: _Resource,
        index: int,
        operation: Any,
    ) -> str:
        if not isinstance(operation, dict):
            raise _Reject.payload(f"Invalid value at 'operations[{index}]'.")
        if "create" in operation:
            return self._create(state, context, resource, index, operation["create"])
        if "update" in operation:
            return self._update(
                state, context, resource, index, operation["update"], operation.get("updateMask")
            )
        if "remove" in operation:
            return self._remove(state, context, resource, index, operation["remove"])
        raise _Reject.ads(
            "fieldError",
            "REQUIRED",
            "An operation needs one of create, update or remove.",
            _path("operations", index, "operation"),
        )

    def _create(
        self, state: dict[str, Any], context: _Context, resource: _Resource, index: int, body: Any
    ) -> str:
        path = _path("operations", index, "create")
        obj = _checked_fields(body, resource.fields - {"resourceName"}, path)
        self._validate(state, context, resource, obj, path, None)
        new_id = str(state["nextId"])
        state["nextId"] += 1
        prefix = f"customers/{context.customer_id}/{resource.collection}"
        if resource.collection == "adGroupAds":
            group_id = obj["adGroup"].rsplit("/", 1)[-1]
            name = f"{prefix}/{group_id}~{new_id}"
            obj["ad"].update(
                resourceName=f"customers/{context.customer_id}/ads/{new_id}",
                id=new_id,
                type="RESPONSIVE_SEARCH_AD",
            )
        else:
            name = f"{prefix}/{new_id}"
            obj["id"] = new_id
        obj["resourceName"] = name
        obj["_created"] = context.today.isoformat()
        _track(obj, context.today)
        state[resource.collection][name] = obj
        return name

    def _existing(
        self,
        state: dict[str, Any],
        context: _Context,
        resource: _Resource,
        name: Any,
        path: FieldPath,
    ) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise _Reject.ads("fieldError", "REQUIRED", "The resource name is required.", path)
        prefix = f"customers/{context.customer_id}/{resource.collection}/"
        if not name.startswith(prefix):
            raise _Reject.ads(
                "requestError", "RESOURCE_NAME_MALFORMED", "Resource name is malformed.", path
            )
        found: dict[str, Any] | None = state[resource.collection].get(name)
        if found is None:
            raise _Reject.ads(
                "mutateError", "RESOURCE_NOT_FOUND", "Resource was not found.", path, trigger=name
            )
        if found.get("status") == "REMOVED":
            raise _Reject.ads(
                "operationAccessDeniedError",
                "OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE",
                "Operation is not allowed for removed resources.",
                path,
            )
        return found

    def _update(
        self,
        state: dict[str, Any],
        context: _Context,
        resource: _Resource,
        index: int,
        body: Any,
        mask: Any,
    ) -> str:
        path = _path("operations", index, "update")
        fields = _checked_fields(body, resource.fields, path)
        name = fields.get("resourceName")
        existing = self._existing(state, context, resource, name, [*path, ("resource_name", None)])
        if not isinstance(mask, str) or not mask.strip():
            raise _Reject.ads(
                "fieldError",
                "REQUIRED",
                "The update mask is required.",
                _path("operations", index, "update_mask"),
            )
        candidate = copy.deepcopy(existing)
        changed = set()
        for entry in mask.split(","):
            keys = [_camel(part) for part in entry.strip().split(".")]
            if keys[0] not in resource.mutable:
                raise _Reject.ads(
                    "fieldError",
                    "IMMUTABLE_FIELD",
                    "The field cannot be modified.",
                    [*path, (_snake(keys[0]), None)],
                )
            found, value = _get_nested(fields, keys)
            if found:
                _set_nested(candidate, keys, value)
            else:
                _delete_nested(candidate, keys)  # in the mask but absent: cleared
            changed.add(keys[0])
        self._validate(state, context, resource, candidate, path, frozenset(changed))
        _track(candidate, context.today)
        state[resource.collection][name] = candidate
        return str(name)

    def _remove(
        self, state: dict[str, Any], context: _Context, resource: _Resource, index: int, name: Any
    ) -> str:
        existing = self._existing(
            state, context, resource, name, _path("operations", index, "remove")
        )
        existing["status"] = "REMOVED"
        _track(existing, context.today)
        return str(name)

    # ---- validation

    def _validate(
        self,
        state: dict[str, Any],
        context: _Context,
        resource: _Resource,
        obj: dict[str, Any],
        path: FieldPath,
        changed: frozenset[str] | None,
    ) -> None:
        """Check ``obj`` (a create, or an object after an update) and fill defaults.

        ``changed`` is None for a create, else the fields the update touched.
        """
        validators: dict[str, Callable[..., None]] = {
            "campaignBudgets": self._check_budget,
            "campaigns": self._check_campaign,
            "adGroups": self._check_ad_group,
            "adGroupAds": self._check_ad_group_ad,
        }
        validators[resource.collection](state, context, obj, path, changed)

    @staticmethod
    def _siblings(
        state: dict[str, Any], context: _Context, collection: str, obj: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """The customer's other live objects of ``collection``."""
        prefix = f"customers/{context.customer_id}/"
        for name, other in state[collection].items():
            if (
                name.startswith(prefix)
                and name != obj.get("resourceName")
                and other.get("status") != "REMOVED"
            ):
                yield other

    def _check_budget(
        self,
        state: dict[str, Any],
        context: _Context,
        obj: dict[str, Any],
        path: FieldPath,
        changed: frozenset[str] | None,
    ) -> None:
        _require(obj, ("name", "amountMicros"), path)
        micros = _int64(obj, "amountMicros", path)
        unit = minimum_unit_micros(context.currency)
        amount_path = [*path, ("amount_micros", None)]
        if micros <= 0:
            raise _Reject.ads(
                "campaignBudgetError",
                "BUDGET_BELOW_PER_DAY_MINIMUM",
                "The budget is below the per-day minimum.",
                amount_path,
                trigger=obj["amountMicros"],
            )
        if micros % unit:
            raise _Reject.ads(
                "campaignBudgetError",
                "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                "The budget amount must be a multiple of the currency's minimum unit.",
                amount_path,
                trigger=obj["amountMicros"],
            )
        _enum(obj, "deliveryMethod", ("STANDARD", "ACCELERATED"), path, default="STANDARD")
        _enum(obj, "period", ("DAILY", "CUSTOM_PERIOD"), path, default="DAILY")
        _enum(obj, "status", ("ENABLED", "REMOVED"), path, default="ENABLED")
        obj.setdefault("explicitlyShared", True)  # Google's default
        for other in self._siblings(state, context, "campaignBudgets", obj):
            if other["name"] == obj["name"]:
                raise _Reject.ads(
                    "campaignBudgetError",
                    "DUPLICATE_NAME",
                    "A budget with this name already exists.",
                    [*path, ("name", None)],
                    trigger=obj["name"],
                )

    def _check_campaign(
        self,
        state: dict[str, Any],
        context: _Context,
        obj: dict[str, Any],
        path: FieldPath,
        changed: frozenset[str] | None,
    ) -> None:
        _require(obj, ("name", "advertisingChannelType", "campaignBudget"), path)
        _enum(obj, "status", ("ENABLED", "PAUSED", "REMOVED"), path, default="ENABLED")
        _enum(
            obj,
            "advertisingChannelType",
            ("SEARCH", "DISPLAY", "SHOPPING", "VIDEO", "PERFORMANCE_MAX", "DEMAND_GEN"),
            path,
        )
        _enum(
            obj,
            "containsEuPoliticalAdvertising",
            ("CONTAINS_EU_POLITICAL_ADVERTISING", "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"),
            path,
        )
        # Accepted without it, but flagged: such campaigns cannot claim exemptions.
        obj["_missingEuPoliticalAdvertisingDeclaration"] = (
            "containsEuPoliticalAdvertising" not in obj
        )
        self._check_reference(
            state, context, "campaignBudgets", obj["campaignBudget"], path, "campaign_budget"
        )
        strategies = [name for name in _BIDDING if name in obj]
        if not strategies:
            raise _Reject.ads(
                "fieldError",
                "REQUIRED",
                "A bidding strategy is required.",
                [*path, ("campaign_bidding_strategy", None)],
            )
        if len(strategies) > 1:
            raise _Reject.payload(
                f"Oneof field 'campaign_bidding_strategy' is already set; cannot set "
                f"'{_snake(strategies[1])}'."
            )
        _check_dates(context, obj, path, changed)
        for other in self._siblings(state, context, "campaigns", obj):
            if other["name"] == obj["name"]:
                raise _Reject.ads(
                    "campaignError",
                    "DUPLICATE_CAMPAIGN_NAME",
                    "A campaign with this name already exists.",
                    [*path, ("name", None)],
                    trigger=obj["name"],
                )

    def _check_reference(
        self,
        state: dict[str, Any],
        context: _Context,
        collection: str,
        name: Any,
        path: FieldPath,
        field_name: str,
    ) -> None:
        prefix = f"customers/{context.customer_id}/{collection}/"
        target = state[collection].get(name) if isinstance(name, str) else None
        if target is None or not name.startswith(prefix) or target.get("status") == "REMOVED":
            raise _Reject.ads(
                "mutateError",
                "RESOURCE_NOT_FOUND",
                "Resource was not found.",
                [*path, (field_name, None)],
                trigger=str(name),
            )

    def _check_ad_group(
        self,
        state: dict[str, Any],
        context: _Context,
        obj: dict[str, Any],
        path: FieldPath,
        changed: frozenset[str] | None,
    ) -> None:
        _require(obj, ("name", "campaign"), path)
        self._check_reference(state, context, "campaigns", obj["campaign"], path, "campaign")
        _enum(obj, "status", ("ENABLED", "PAUSED", "REMOVED"), path, default="ENABLED")
        _enum(
            obj,
            "type",
            (
                "SEARCH_STANDARD",
                "DISPLAY_STANDARD",
                "SHOPPING_PRODUCT_ADS",
                "VIDEO_TRUE_VIEW_IN_STREAM",
            ),
            path,
            default="SEARCH_STANDARD",
        )
        if "cpcBidMicros" in obj:
            bid = _int64(obj, "cpcBidMicros", path)
            if bid % minimum_unit_micros(context.currency):
                raise _Reject.ads(
                    "biddingError",
                    "BID_TOO_MANY_FRACTIONAL_DIGITS",
                    "The bid has too many fractional digits for the currency.",
                    [*path, ("cpc_bid_micros", None)],
                    trigger=obj["cpcBidMicros"],
                )
        for other in self._siblings(state, context, "adGroups", obj):
            if other["campaign"] == obj["campaign"] and other["name"] == obj["name"]:
                raise _Reject.ads(
                    "adGroupError",
                    "DUPLICATE_ADGROUP_NAME",
                    "An ad group with this name already exists in the campaign.",
                    [*path, ("name", None)],
                    trigger=obj["name"],
                )

    def _check_ad_group_ad(
        self,
        state: dict[str, Any],
        context: _Context,
        obj: dict[str, Any],
        path: FieldPath,
        changed: frozenset[str] | None,
    ) -> None:
        _require(obj, ("adGroup", "ad"), path)
        self._check_reference(state, context, "adGroups", obj["adGroup"], path, "ad_group")
        _enum(obj, "status", ("ENABLED", "PAUSED", "REMOVED"), path, default="ENABLED")
        if changed is not None:
            return  # the ad itself is immutable: only the status could change
        ad_path = [*path, ("ad", None)]
        ad = _checked_fields(obj["ad"], _AD_FIELDS, ad_path)
        ad.pop("name", None)  # Ad.name is for display/video ads; RSAs do not keep one
        obj["ad"] = ad
        urls = ad.get("finalUrls")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise _Reject.ads(
                "fieldError",
                "REQUIRED",
                "The ad needs at least one final URL.",
                [*ad_path, ("final_urls", None)],
            )
        if "responsiveSearchAd" not in ad:
            raise _Reject.ads(
                "fieldError",
                "REQUIRED",
                "This sandbox only serves responsive search ads.",
                [*ad_path, ("responsive_search_ad", None)],
            )
        rsa_path = [*ad_path, ("responsive_search_ad", None)]
        rsa = _checked_fields(ad["responsiveSearchAd"], _RSA_FIELDS, rsa_path)
        errors = _rsa_errors(rsa, rsa_path)
        if errors:
            raise _Reject(400, errors)

    # ---- GAQL

    def _run_query(self, context: _Context, query: GaqlQuery) -> list[dict[str, Any]]:
        resource = query.resource
        if resource not in _ATTRIBUTED:
            raise GaqlError("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", f"Unsupported resource {resource}.")
        allowed = _ATTRIBUTED[resource] | {"segments", "metrics"}
        for name in query.fields + tuple(c.field for c in query.conditions):
            if name.split(".")[0] not in allowed or "." not in name:
                raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field {name}.")
        uses = {name.split(".")[0] for name in query.fields} | {
            c.field.split(".")[0] for c in query.conditions
        }
        if uses & {"segments", "metrics"}:
            rows = self._metric_rows(context, query)
        else:
            rows = [
                row
                for row in self._entity_rows(context, resource)
                if holds(query, row, context.today)
            ]
        for name, descending in reversed(query.order_by):
            rows.sort(key=_sort_key(name), reverse=descending)
        if query.limit is not None:
            rows = rows[: query.limit]
        return [_project(row, query.fields) for row in rows]

    def _entity_rows(self, context: _Context, resource: str) -> list[dict[str, Any]]:
        """Flattened rows of ``resource`` in the customer, with attributed fields."""
        state = self.state
        cid = context.customer_id
        prefix = f"customers/{cid}/"
        customer = _flatten("customer", state["customers"][cid], {})
        if resource == "customer":
            return [customer]

        def mine(collection: str) -> list[dict[str, Any]]:
            return [obj for name, obj in state[collection].items() if name.startswith(prefix)]

        budgets = {
            obj["resourceName"]: _flatten("campaign_budget", obj, dict(customer))
            for obj in mine("campaignBudgets")
        }
        if resource == "campaign_budget":
            return list(budgets.values())
        campaigns = {
            obj["resourceName"]: _flatten(
                "campaign", obj, dict(budgets.get(obj["campaignBudget"], customer))
            )
            for obj in mine("campaigns")
        }
        if resource == "campaign":
            return list(campaigns.values())
        groups = {
            obj["resourceName"]: _flatten("ad_group", obj, dict(campaigns[obj["campaign"]]))
            for obj in mine("adGroups")
        }
        if resource == "ad_group":
            return list(groups.values())
        return [
            _flatten("ad_group_ad", obj, dict(groups[obj["adGroup"]])) for obj in mine("adGroupAds")
        ]

    def _metric_rows(self, context: _Context, query: GaqlQuery) -> list[dict[str, Any]]:
        if query.resource not in _WITH_METRICS:
            raise GaqlError(
                "PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE",
                f"Metrics cannot be requested from {query.resource} in this sandbox.",
            )
        by_date = "segments.date" in query.fields
        if by_date and not query.filters_on("segments.date"):
            raise GaqlError(
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "Selecting segments.date requires a finite date range in the WHERE clause.",
            )
        entities = {
            row[f"{query.resource}.resource_name"]: row
            for row in self._entity_rows(context, query.resource)
        }
        totals: dict[tuple[str, str], dict[str, Any]] = {}
        for campaign, group, day, metrics in self._serving_days(context):
            owner = campaign if query.resource == "campaign" else group
            row = {**entities[owner], "segments.date": day.isoformat(), **metrics}
            if not holds(query, row, context.today):
                continue
            key = (owner, row["segments.date"] if by_date else "")
            if key in totals:
                for name in _METRIC_FIELDS:
                    totals[key][name] += row[name]
            else:
                totals[key] = row
        selected = [name for name in query.fields if name.startswith("metrics.")]
        return [
            row
            for row in totals.values()
            if not selected or any(row.get(name) for name in selected)
        ]

    def _serving_days(self, context: _Context) -> Iterator[tuple[str, str, date, dict[str, Any]]]:
        """(campaign, ad group, day, metrics) for every day an ad group served."""
        state = self.state
        prefix = f"customers/{context.customer_id}/"
        unit = minimum_unit_micros(context.currency)
        ads: dict[str, list[dict[str, Any]]] = {}
        for ad in state["adGroupAds"].values():
            ads.setdefault(ad["adGroup"], []).append(ad)
        for name, campaign in state["campaigns"].items():
            if not name.startswith(prefix):
                continue
            groups = [g for g in state["adGroups"].values() if g["campaign"] == name]
            budget = state["campaignBudgets"][campaign["campaignBudget"]]
            for day in _campaign_days(campaign, context.today):
                if _value_on(campaign["_statusHistory"], day) != "ENABLED":
                    continue
                live = [g for g in groups if _serves(g, ads.get(g["resourceName"], []), day)]
                amount = int(_value_on(budget["_amountHistory"], day) or 0)
                for group in live:
                    share = amount // len(live)
                    yield (
                        name,
                        group["resourceName"],
                        day,
                        daily_metrics(group["id"], day, share, unit),
                    )


# ---- module helpers used by the fake


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[int, float, str]]:
    def key(row: dict[str, Any]) -> tuple[int, float, str]:
        return compare_key(row.get(name))

    return key


def _version_of(path: str) -> str:
    match = re.match(r"/(v\d+)/", path)
    return match.group(1) if match else "v23"


def _failure_detail(errors: list[dict[str, Any]], version: str) -> dict[str, Any]:
    return {
        "@type": f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure",
        "errors": errors,
        "requestId": secrets.token_hex(11),
    }


def _failure_response(reject: _Reject, version: str) -> FakeResponse:
    status = reject.status
    error: dict[str, Any] = {
        "code": status,
        "message": reject.message or _STATUS_MESSAGES.get(status, "Error."),
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if reject.errors:
        error["details"] = [_failure_detail(reject.errors, version)]
    else:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"description": reject.message}],
            }
        ]
    return FakeResponse(status, {"error": error}, headers={"request-id": secrets.token_hex(11)})


def _page(status: int, code: str, message: str) -> FakeResponse:
    html = f"<html><body><h1>Error {status}: {code}</h1><p>{message}</p></body></html>"
    return FakeResponse(status, raw=html.encode(), content_type="text/html; charset=utf-8")


def _invalid_grant(description: str) -> FakeResponse:
    return FakeResponse(400, {"error": "invalid_grant", "error_description": description})


def _json_body(request: FakeRequest) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as error:
        raise _Reject.payload(f"Unparseable JSON: {error}.") from error
    if not isinstance(body, dict):
        raise _Reject.payload("The request body must be a JSON object.")
    return body


def _checked_fields(body: Any, known: frozenset[str], path: FieldPath) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _Reject.payload(f"Invalid value at '{_path_text(path)}': expected an object.")
    unknown = sorted(set(body) - known)
    if unknown:
        raise _Reject.payload(
            f"Unknown name \"{unknown[0]}\" at '{_path_text(path)}': Cannot find field."
        )
    return copy.deepcopy(body)


def _require(obj: dict[str, Any], names: Iterable[str], path: FieldPath) -> None:
    for name in names:
        if obj.get(name) in (None, "", [], {}):
            raise _Reject.ads(
                "fieldError",
                "REQUIRED",
                "The required field was not present.",
                [*path, (_snake(name), None)],
            )


def _int64(obj: dict[str, Any], name: str, path: FieldPath) -> int:
    value = obj[name]
    if not isinstance(value, str) or not _INT64_RE.fullmatch(value):
        # Over REST, int64 values are JSON strings.
        raise _Reject.payload(
            f"Invalid value at '{_path_text([*path, (_snake(name), None)])}' (TYPE_INT64), "
            f"{value!r}: int64 values are JSON strings."
        )
    return int(value)


def _enum(
    obj: dict[str, Any],
    name: str,
    allowed: Sequence[str],
    path: FieldPath,
    *,
    default: str | None = None,
) -> None:
    if name not in obj:
        if default is not None:
            obj[name] = default
        return
    if obj[name] not in allowed:
        raise _Reject.payload(
            f"Invalid value at '{_path_text([*path, (_snake(name), None)])}' (TYPE_ENUM), "
            f'"{obj[name]}"'
        )


def _campaign_day(
    obj: dict[str, Any],
    key: str,
    pattern: re.Pattern[str],
    code: str,
    field_path: FieldPath,
) -> date:
    try:
        if not pattern.fullmatch(str(obj[key])):
            raise ValueError(obj[key])
        return date.fromisoformat(str(obj[key])[:10])
    except ValueError:
        raise _Reject.ads(
            "dateError", code, "The date is not in the expected format.", field_path
        ) from None


def _check_dates(
    context: _Context, obj: dict[str, Any], path: FieldPath, changed: frozenset[str] | None
) -> None:
    """Dates in the version's fields and format, not in the past, start before end."""
    if context.number >= 23:
        start_key, end_key, wrong = "startDateTime", "endDateTime", ("startDate", "endDate")
        pattern, code, start_text = _DATE_TIME_RE, "INVALID_STRING_DATE_TIME_SECONDS", " 00:00:00"
    else:
        start_key, end_key, wrong = "startDate", "endDate", ("startDateTime", "endDateTime")
        pattern, code, start_text = _DATE_RE, "INVALID_STRING_DATE", ""
    for name in wrong:
        # Only what this request sends: a stored object keeps its creation version's keys.
        if name in obj and (changed is None or name in changed):
            raise _Reject.payload(
                f"Unknown name \"{name}\" at '{_path_text(path)}': Cannot find field."
            )
    if changed is None:
        obj.setdefault(start_key, context.today.isoformat() + start_text)  # Google: today
    days: dict[str, date] = {}
    for key in (start_key, end_key):
        if key in obj:
            field_path = [*path, (_snake(key), None)]
            days[key] = _campaign_day(obj, key, pattern, code, field_path)
            if (changed is None or key in changed) and days[key] < context.today:
                raise _Reject.ads(
                    "dateRangeError",
                    "CANNOT_SET_DATE_TO_PAST",
                    "Cannot set date to past.",
                    field_path,
                )
    if end_key in days and start_key in days and days[end_key] < days[start_key]:
        raise _Reject.ads(
            "dateRangeError",
            "START_DATE_AFTER_END_DATE",
            "The start date is after the end date.",
            [*path, (_snake(end_key), None)],
        )


def _rsa_errors(rsa: dict[str, Any], path: FieldPath) -> list[dict[str, Any]]:
    """Every RSA limit the ad breaks, as Google reports them: all at once."""
    errors: list[dict[str, Any]] = []
    for key, low, high, longest, pins in (
        ("headlines", 3, 15, 30, ("HEADLINE_1", "HEADLINE_2", "HEADLINE_3")),
        ("descriptions", 2, 4, 90, ("DESCRIPTION_1", "DESCRIPTION_2")),
    ):
        assets = rsa.get(key) or []
        list_path = [*path, (key, None)]
        if not isinstance(assets, list):
            raise _Reject.payload(f"Invalid value at '{_path_text(list_path)}': expected a list.")
        if len(assets) < low:
            errors.append(_error("collectionSizeError", "TOO_FEW", "Too few.", list_path))
        if len(assets) > high:
            errors.append(_error("collectionSizeError", "TOO_MANY", "Too many.", list_path))
        label = key[:-1].capitalize()
        for index, asset in enumerate(assets):
            errors.extend(_asset_errors(asset, label, longest, pins, [*path, (key, index)]))
    for key in ("path1", "path2"):
        text = rsa.get(key)
        if isinstance(text, str) and _length(text) > 15:
            errors.append(
                _error(
                    "stringLengthError",
                    "TOO_LONG",
                    f"{key} is too long ({_length(text)} characters; the maximum is 15).",
                    [*path, (key, None)],
                    trigger=text,
                )
            )
    if rsa.get("path2") and not rsa.get("path1"):
        errors.append(
            _error("fieldError", "REQUIRED", "path2 needs path1.", [*path, ("path1", None)])
        )
    return errors


def _length(text: str) -> int:
    # Counted like herald.campaigns.capabilities.character_count: NFC code points.
    return len(unicodedata.normalize("NFC", text))


def _asset_errors(
    asset: Any, label: str, longest: int, pins: Sequence[str], path: FieldPath
) -> list[dict[str, Any]]:
    text = asset.get("text") if isinstance(asset, dict) else None
    text_path = [*path, ("text", None)]
    if not isinstance(text, str):
        return [_error("fieldError", "REQUIRED", f"{label} text is required.", text_path)]
    if isinstance(asset, dict) and asset.get("pinnedField") not in (None, *pins):
        raise _Reject.payload(
            f"Invalid value at '{_path_text([*path, ('pinned_field', None)])}' (TYPE_ENUM), "
            f'"{asset["pinnedField"]}"'
        )
    if not text.strip():
        return [_error("stringLengthError", "EMPTY", f"{label} text is empty.", text_path)]
    if _length(text) > longest:
        return [
            _error(
                "adError",
                "TOO_LONG",
                f"{label} is too long ({_length(text)} characters; the maximum is {longest}).",
                text_path,
                trigger=text,
            )
        ]
    return []


def _campaign_days(campaign: dict[str, Any], today: date) -> Iterator[date]:
    """The days from the campaign's start (or creation) to the earlier of end and today."""
    created = date.fromisoformat(campaign["_created"])
    start_text = campaign.get("startDateTime") or campaign.get("startDate")
    end_text = campaign.get("endDateTime") or campaign.get("endDate")
    day = max(created, date.fromisoformat(start_text[:10])) if start_text else created
    last = min(date.fromisoformat(end_text[:10]), today) if end_text else today
    while day <= last:
        yield day
        day += timedelta(days=1)


def _serves(group: dict[str, Any], ads: list[dict[str, Any]], day: date) -> bool:
    if _value_on(group["_statusHistory"], day) != "ENABLED":
        return False
    return any(_value_on(ad["_statusHistory"], day) == "ENABLED" for ad in ads)


def _project(row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """A flattened row as Google's JSON: camelCase, nested, unset fields omitted, and
    ``resourceName`` for every resource whose fields were selected."""
    out: dict[str, Any] = {}
    for name in fields:
        if name not in row:
            continue
        value = row[name]
        if name.startswith("metrics."):
            value = _metric_json(name, value)
            if value is None:
                continue
        _set_nested(out, [_camel(part) for part in name.split(".")], value)
    for prefix in {name.split(".")[0] for name in fields} - {"metrics", "segments"}:
        resource_name = row.get(f"{prefix}.resource_name")
        if resource_name is not None:
            _set_nested(out, [_camel(prefix), "resourceName"], resource_name)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the fake until interrupted: a Google Ads sandbox for local development."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state-file", type=Path, default=None)
    parser.add_argument("--redirect-uri", action="append", default=None)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = FakeGoogleAds(redirect_uris=options.redirect_uri, state_file=options.state_file)
    running = serve(app, host=options.host, port=options.port)
    logger.info("Fake Google Ads on %s (client_id %s)", running.url, app.client_id)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
