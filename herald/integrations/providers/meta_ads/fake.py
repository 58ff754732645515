"""A local stand-in for Meta's Graph API (Marketing API), speaking its wire protocol.

``FakeMetaAds`` is a ``FakePlatform`` (WSGI app) to run with ``serve(app)`` on loopback
for tests, or as Herald's sandbox. Its duties:

- **OAuth** (manual login flow): ``GET /{v}/dialog/oauth`` consents at once and
  redirects back with ``code`` and ``state`` (``deny=1`` answers
  ``error=access_denied&error_reason=user_denied``; ``decline=ads_read,…`` grants all
  but those); ``GET /{v}/oauth/access_token`` turns a code into a short-lived token and,
  with ``grant_type=fb_exchange_token``, a token into a long-lived one (``expires_in``
  5183944); ``GET``/``DELETE /{v}/me/permissions``. There are no refresh tokens.
- **Every other call** needs a token (``Authorization: Bearer`` or ``access_token``)
  and, unless ``require_appsecret_proof=False``, ``appsecret_proof``; bad ones get
  code 190 / 100 with HTTP 400, as Meta answers.
- **Objects**: ad accounts and Pages (constructor lists; default one sandbox account
  ``act_1122334455`` and Page ``9988776655``); campaigns, ad sets, ad images, ad
  creatives and ads created with form bodies whose dict/list/bool values are
  JSON-encoded (JSON bodies work too; images come multipart or as base64 ``bytes``);
  ``POST /{v}/{id}`` updates; ``GET /{v}/{id}``; list edges with ``fields``,
  ``filtering`` on names and statuses, and paging (``limit``, ``after``, absolute
  ``paging.next``; ``max_limit`` caps page sizes).
- **Validation like Meta's** (code 100): missing ``special_ad_categories``; an ad set
  without ``targeting_automation.advantage_audience`` ("Advantage Audience Flag
  Required") or location; a budget under 100 minor units ("Budget Is Too Low"); an
  optimization goal the objective does not allow (subcode 2490408); a creative without
  a known ``image_hash``; a CTA type Meta does not know; names over 400 characters.
  Only the codes, "Budget Is Too Low", "Advantage Audience Flag Required" and subcode
  2490408 come from the platform notes; other titles and subcodes (1885272, the OAuth
  code's 36007–36009, code 1 for a bad client secret) are as remembered or the fake's
  own wording: tests should rely on codes, not on those.
- **Insights**: deterministic, plausible daily numbers per delivering ad set (campaign
  and ad set ACTIVE at some moment of the day, in the account's time zone, from the ad
  set's start to ``min(end, today)``): spend within the daily budget, CTR 1–3 %,
  purchases 2–6 % of link clicks worth 30–60 each (scaled ×100 for currencies Meta
  budgets in whole units). Every value is a string and a purchase is listed under
  ``purchase``, ``omni_purchase`` and ``offsite_conversion.fb_pixel_purchase`` with the
  same count, as Meta does. Lead campaigns report ``lead`` instead.
- **Failures** (``Failure`` kinds) in Meta's shapes: ``rate_limit`` → HTTP 400, code
  80004 with ``X-Business-Use-Case-Usage`` ``estimated_time_to_regain_access``
  (minutes); ``auth`` → 190; ``server_error`` → HTTP 500, code 2, ``is_transient``;
  ``validation`` → code 100.

State is JSON (saved to ``state_file`` when given), so a sandbox survives restarts.
``clock`` (a callable returning an aware datetime) drives status history and "today".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from herald.integrations.fake_server import Failure, FakePlatform, FakeRequest, FakeResponse
from herald.integrations.providers.base import ProviderEndpoints

__all__ = [
    "LONG_LIVED_EXPIRES_IN",
    "SANDBOX_ACCOUNT",
    "SANDBOX_APP_ID",
    "SANDBOX_APP_SECRET",
    "SANDBOX_PAGE",
    "FakeAdAccount",
    "FakeMetaAds",
    "FakePage",
    "GraphError",
]

# The sandbox credentials Herald's sandbox connections use (not secrets: nothing real
# accepts them).
SANDBOX_APP_ID: Final = "herald-sandbox"
SANDBOX_APP_SECRET: Final = "herald-sandbox-secret"  # noqa: S105
LONG_LIVED_EXPIRES_IN: Final = 5183944  # about 60 days, as Meta answers
SHORT_LIVED_EXPIRES_IN: Final = 3600
_CODE_LIFETIME: Final = timedelta(minutes=10)
_FIRST_ID: Final = 120200000000000001  # Meta ids are long numeric strings
_NAME_MAX: Final = 400
_IMAGE_NAME_MAX: Final = 100
_MIN_BUDGET: Final = 100  # minor units
_DEFAULT_LIMIT: Final = 25

_OBJECTIVE_GOALS: Final[Mapping[str, frozenset[str]]] = {
    "OUTCOME_AWARENESS": frozenset({"REACH", "IMPRESSIONS", "AD_RECALL_LIFT", "THRUPLAY"}),
    "OUTCOME_TRAFFIC": frozenset({"LINK_CLICKS", "LANDING_PAGE_VIEWS", "REACH", "IMPRESSIONS"}),
    "OUTCOME_ENGAGEMENT": frozenset(
        {"POST_ENGAGEMENT", "THRUPLAY", "PAGE_LIKES", "IMPRESSIONS", "REACH", "LINK_CLICKS"}
    ),
    "OUTCOME_LEADS": frozenset({"LEAD_GENERATION", "QUALITY_LEAD", "OFFSITE_CONVERSIONS"}),
    "OUTCOME_SALES": frozenset(
        {"OFFSITE_CONVERSIONS", "VALUE", "LINK_CLICKS", "LANDING_PAGE_VIEWS", "IMPRESSIONS"}
    ),
    "OUTCOME_APP_PROMOTION": frozenset({"APP_INSTALLS", "LINK_CLICKS"}),
}
_SPECIAL_AD_CATEGORIES: Final = frozenset(
    {
        "NONE",
        "HOUSING",
        "CREDIT",
        "EMPLOYMENT",
        "FINANCIAL_PRODUCTS_SERVICES",
        "ISSUES_ELECTIONS_POLITICS",
        "ONLINE_GAMBLING_AND_GAMING",
    }
)
_BILLING_EVENTS: Final = frozenset({"IMPRESSIONS", "LINK_CLICKS", "THRUPLAY", "PAGE_LIKES"})
_BID_STRATEGIES: Final = frozenset(
    {"LOWEST_COST_WITHOUT_CAP", "LOWEST_COST_WITH_BID_CAP", "COST_CAP", "LOWEST_COST_WITH_MIN_ROAS"}
)
_CREATE_STATUSES: Final = frozenset({"ACTIVE", "PAUSED"})
_UPDATE_STATUSES: Final = frozenset({"ACTIVE", "PAUSED", "ARCHIVED", "DELETED"})
# Call-to-action types a link ad takes: a subset of the SDK's
# ``AdCreativeLinkDataCallToAction.Type``, enough to tell a real type from a typo.
_CTA_TYPES: Final = frozenset(
    {
        "SHOP_NOW",
        "LEARN_MORE",
        "SIGN_UP",
        "SUBSCRIBE",
        "APPLY_NOW",
        "BOOK_NOW",
        "BOOK_TRAVEL",
        "CONTACT_US",
        "BUY_NOW",
        "BUY_TICKETS",
        "DOWNLOAD",
        "GET_OFFER",
        "GET_QUOTE",
        "GET_STARTED",
        "ORDER_NOW",
        "WATCH_MORE",
        "WATCH_VIDEO",
        "WHATSAPP_MESSAGE",
        "MESSAGE_PAGE",
        "SEE_MORE",
        "SEE_MENU",
        "DONATE_NOW",
        "INSTALL_APP",
        "USE_APP",
        "PLAY_GAME",
        "LISTEN_NOW",
        "CALL_NOW",
        "GET_DIRECTIONS",
        "REQUEST_TIME",
        "INQUIRE_NOW",
        "OPEN_LINK",
        "NO_BUTTON",
    }
)
_IMAGE_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_IMAGE_EXTENSIONS: Final = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp"})
_PURCHASE_ALIASES: Final = ("offsite_conversion.fb_pixel_purchase", "omni_purchase", "purchase")
# Currencies Meta budgets in whole units (its "offset" 1). Kept apart from the adapter's
# table on purpose: the fake is the wire's stand-in, and a shared mistake would hide.
_OFFSET_ONE: Final = frozenset(
    {"JPY", "KRW", "CLP", "COP", "HUF", "IDR", "ISK", "PYG", "TWD", "VND", "CRC"}
)


@dataclass(frozen=True)
class FakeAdAccount:
    account_id: str  # digits; the Graph id is "act_<account_id>"
    name: str
    currency: str = "USD"
    timezone_name: str = "America/New_York"
    account_status: int = 1  # 1 active, 2 disabled, 101 closed, …


@dataclass(frozen=True)
class FakePage:
    id: str
    name: str


SANDBOX_ACCOUNT: Final = FakeAdAccount("1122334455", "Tasty Chips Sandbox")
SANDBOX_PAGE: Final = FakePage("9988776655", "Tasty Chips Co.")


class GraphError(Exception):
    """A Graph error envelope; handlers raise it and the router renders it."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 100,
        subcode: int | None = None,
        status: int = 400,
        user_title: str | None = None,
        user_msg: str | None = None,
        is_transient: bool = False,
        error_type: str = "OAuthException",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.envelope: dict[str, Any] = {
            "message": message,
            "type": error_type,
            "code": code,
            "is_transient": is_transient,
            "fbtrace_id": secrets.token_urlsafe(9),
        }
        if subcode is not None:
            self.envelope["error_subcode"] = subcode
        if user_title is not None:
            self.envelope["error_user_title"] = user_title
        if user_msg is not None:
            self.envelope["error_user_msg"] = user_msg

    def response(self) -> FakeResponse:
        return FakeResponse(self.status, {"error": self.envelope}, headers=dict(self.headers))


def _invalid(param: str, detail: str = "") -> GraphError:
    return GraphError(f"(#100) Invalid parameter: {param}{f' ({detail})' if detail else ''}")


def _missing_object(object_id: str, method: str) -> GraphError:
    return GraphError(
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        error_type="GraphMethodException",
    )


@dataclass
class _Call:
    request: FakeRequest
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    token: dict[str, Any] = field(default_factory=dict)


def _multipart(request: FakeRequest) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    head = f"Content-Type: {request.content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.body)
    fields: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode("utf-8")
    return fields, files


def _call(request: FakeRequest) -> _Call:
    params: dict[str, Any] = {key: values[-1] for key, values in request.query.items()}
    kind = request.content_type.split(";")[0].strip().lower()
    files: dict[str, tuple[str, bytes]] = {}
    if request.body and kind == "application/json":
        try:
            body = request.json()
        except ValueError:
            raise _invalid("body", "not JSON") from None
        if not isinstance(body, dict):
            raise _invalid("body", "expected a JSON object")
        params.update(body)
    elif request.body and kind == "multipart/form-data":
        fields, files = _multipart(request)
        params.update(fields)
    elif request.body:
        params.update({key: values[-1] for key, values in request.form().items()})
    return _Call(request=request, params=params, files=files)


# ---- parameter decoding: form values arrive as strings, JSON values typed


def _structured(params: Mapping[str, Any], key: str) -> Any:
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _invalid(key, "must be JSON") from None
    return value


def _integer(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _invalid(key, "must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdecimal():
        return int(value)
    raise _invalid(key, "must be an integer")


def _boolean(params: Mapping[str, Any], key: str) -> bool | None:
    value = params.get(key)
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in {"true", "1"}:
        return True
    if str(value).lower() in {"false", "0"}:
        return False
    raise _invalid(key, "must be true or false")


def _name(params: Mapping[str, Any], *, required: bool = True) -> str:
    name = params.get("name")
    if name is None or name == "":
        if required:
            raise GraphError("(#100) The parameter name is required")
        return ""
    if not isinstance(name, str):
        raise _invalid("name", "must be text")
    if len(name) > _NAME_MAX:
        raise GraphError(
            f"(#100) Invalid parameter: name must be at most {_NAME_MAX} characters",
            user_title="Name Too Long",
            user_msg=f"Use a name of at most {_NAME_MAX} characters.",
        )
    return name


def _status(params: Mapping[str, Any], allowed: frozenset[str], default: str) -> str:
    status = str(params.get("status") or default)
    if status not in allowed:
        raise _invalid("status", f"must be one of {', '.join(sorted(allowed))}")
    return status


def _fields(params: Mapping[str, Any], default: Sequence[str]) -> list[str]:
    raw = params.get("fields")
    if not raw:
        return list(default)
    # Nested selections ("creative{id}") are answered with the whole value.
    return [part.split("{", 1)[0].strip() for part in str(raw).split(",") if part.strip()]


def _project(view: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    projected = {"id": view["id"]} if "id" in view else {}
    projected.update({name: view[name] for name in fields if name in view})
    return projected


def _filter_matches(view: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    actual = view.get(str(rule.get("field")))
    operator, value = rule.get("operator"), rule.get("value")
    if operator == "EQUAL":
        return bool(actual == value)
    if operator == "NOT_EQUAL":
        return bool(actual != value)
    if operator == "IN" and isinstance(value, list):
        return actual in value
    if operator == "NOT_IN" and isinstance(value, list):
        return actual not in value
    if operator == "CONTAIN":
        return str(value) in str(actual)
    raise _invalid("filtering", f"operator {operator!r} is not supported here")


def _filtering(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    rules = _structured(params, "filtering") or []
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise _invalid("filtering", "must be a list of {field, operator, value}")
    return rules


def _encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{index}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("cursor:"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid("after", "unknown cursor") from None


def _offset(currency: str) -> int:
    return 1 if currency in _OFFSET_ONE else 100


def _money(amount: Decimal, currency: str) -> str:
    places = Decimal(1) if _offset(currency) == 1 else Decimal("0.01")
    return str(amount.quantize(places, rounding=ROUND_DOWN))


def _parse_time(params: Mapping[str, Any], key: str, zone: tzinfo) -> datetime | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _invalid(key, "must be an ISO-8601 time") from None
    # Meta reads a time without an offset in the ad account's time zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _check_targeting(targeting: object) -> None:
    if not isinstance(targeting, dict):
        raise GraphError("(#100) The parameter targeting is required")
    automation = targeting.get("targeting_automation")
    flag = automation.get("advantage_audience") if isinstance(automation, dict) else None
    if flag not in (0, 1) or isinstance(flag, bool):
        raise GraphError(
            "(#100) Invalid parameter",
            user_title="Advantage Audience Flag Required",
            user_msg="To save your ad set, enable or disable the Advantage audience "
            "feature: set targeting_automation.advantage_audience to 1 or 0.",
        )
    geo = targeting.get("geo_locations")
    if not isinstance(geo, dict) or not any(geo.get(key) for key in geo):
        raise GraphError(
            "(#100) Invalid parameter",
            user_title="Location Required",
            user_msg="Choose at least one location for your audience.",
        )
    age_min, age_max = targeting.get("age_min", 18), targeting.get("age_max", 65)
    if not (isinstance(age_min, int) and isinstance(age_max, int) and 13 <= age_min <= age_max):
        raise _invalid("targeting", "age_min and age_max must be whole years, min ≤ max")
    if age_max > 65:
        raise _invalid("targeting", "age_max is at most 65")


def _intervals(history: Iterable[Sequence[str]]) -> list[tuple[datetime, datetime]]:
    """The spans during which an object was ACTIVE, from its status history."""
    spans: list[tuple[datetime, datetime]] = []
    since: datetime | None = None
    for stamp, status in history:
        at = datetime.fromisoformat(stamp)
        if status == "ACTIVE" and since is None:
            since = at
        elif status != "ACTIVE" and since is not None:
            spans.append((since, at))
            since = None
    if since is not None:
        spans.append((since, datetime.max.replace(tzinfo=UTC)))
    return spans


def _overlaps(
    first: Sequence[tuple[datetime, datetime]],
    second: Sequence[tuple[datetime, datetime]],
    window: tuple[datetime, datetime],
) -> bool:
    """Whether both were active together at some moment inside ``window``."""
    for a_start, a_end in first:
        for b_start, b_end in second:
            start = max(a_start, b_start, window[0])
            end = min(a_end, b_end, window[1])
            if start < end:
                return True
    return False


@dataclass
class _DayNumbers:
    impressions: int = 0
    clicks: int = 0
    link_clicks: int = 0
    spend: Decimal = Decimal(0)
    purchases: int = 0
    purchase_value: Decimal = Decimal(0)
    leads: int = 0

    def add(self, other: _DayNumbers) -> None:
        self.impressions += other.impressions
        self.clicks += other.clicks
        self.link_clicks += other.link_clicks
        self.spend += other.spend
        self.purchases += other.purchases
        self.purchase_value += other.purchase_value
        self.leads += other.leads


def _fractions(seed: str) -> list[Decimal]:
    digest = hashlib.sha256(seed.encode()).digest()
    return [
        Decimal(int.from_bytes(digest[i : i + 4], "big")) / Decimal(2**32) for i in range(0, 32, 4)
    ]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeMetaAds(FakePlatform):
    """Meta's Graph API on loopback. See the module docstring for what it speaks.

    Test helpers: ``issue_token()`` mints a valid long-lived token, ``objects(kind)``
    lists stored campaigns / adsets / adcreatives / ads / images, ``endpoints(url)``
    builds the ``ProviderEndpoints`` for a served instance, ``reset()`` starts over.
    """

    name = "meta_ads"

    def __init__(
        self,
        *,
        app_id: str = SANDBOX_APP_ID,
        app_secret: str = SANDBOX_APP_SECRET,
        accounts: Sequence[FakeAdAccount] | None = None,
        pages: Sequence[FakePage] | None = None,
        access_tokens: Iterable[str] = (),
        require_appsecret_proof: bool = True,
        max_limit: int = 500,
        clock: Callable[[], datetime] | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self._accounts = tuple(accounts) if accounts is not None else (SANDBOX_ACCOUNT,)
        self._pages = tuple(pages) if pages is not None else (SANDBOX_PAGE,)
        self.require_appsecret_proof = require_appsecret_proof
        self.max_limit = max_limit
        self.clock = clock or _utc_now
        super().__init__(state_file=state_file)
        for token in access_tokens:
            self.issue_token(token)
        self._add_routes()

    # ---- state and helpers for tests and the sandbox

    def initial_state(self) -> dict[str, Any]:
        return {
            "next_id": _FIRST_ID,
            "accounts": [asdict(account) for account in self._accounts],
            "pages": [asdict(page) for page in self._pages],
            "codes": {},
            "tokens": {},
            "objects": {},
            "images": {},
        }

    def reset(
        self,
        *,
        accounts: Sequence[FakeAdAccount] | None = None,
        pages: Sequence[FakePage] | None = None,
    ) -> None:
        """Forget every object, token and failure; optionally change the accounts and
        Pages (a fresh sandbox, or one served fake reused across tests)."""
        with self.lock:
            if accounts is not None:
                self._accounts = tuple(accounts)
            if pages is not None:
                self._pages = tuple(pages)
            self.state = self.initial_state()
            self.requests.clear()
            self.save()
        self.clear_failures()

    def issue_token(
        self,
        token: str | None = None,
        *,
        scopes: Sequence[str] = ("ads_management", "ads_read", "business_management"),
        expires_in: int | None = LONG_LIVED_EXPIRES_IN,
        kind: str = "long",
    ) -> str:
        token = token or f"EAAG{secrets.token_urlsafe(32)}"
        now = self.clock()
        with self.lock:
            self.state["tokens"][token] = {
                "user": "fake-user-1",
                "kind": kind,
                "scopes": list(scopes),
                "expires_at": (
                    (now + timedelta(seconds=expires_in)).isoformat()
                    if expires_in is not None
                    else None
                ),
            }
            self.save()
        return token

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Stored objects of one kind (campaign, adset, adcreative, ad) or images."""
        with self.lock:
            if kind == "image":
                return [dict(image) for image in self.state["images"].values()]
            return [dict(o) for o in self.state["objects"].values() if o["kind"] == kind]

    @classmethod
    def for_sandbox(
        cls,
        *,
        client_id: str,
        client_secret: str,
        state_file: Path | None = None,
        **options: Any,
    ) -> FakeMetaAds:
        """The fake as Herald's sandbox: Herald's sandbox app, real time."""
        return cls(app_id=client_id, app_secret=client_secret, state_file=state_file, **options)

    def endpoints(
        self, base_url: str, *, api_version: str = "v25.0", **extra: str
    ) -> ProviderEndpoints:
        base = base_url.rstrip("/")
        return ProviderEndpoints(
            provider="meta_ads",
            client_id=self.app_id,
            client_secret=self.app_secret,
            authorize_url=base,
            token_url=f"{base}/{api_version}/oauth/access_token",
            revoke_url=f"{base}/{api_version}/me/permissions",
            api_url=base,
            api_version=api_version,
            sandbox=True,
            extra=dict(extra),
        )

    def _new_id(self) -> str:
        identifier = int(self.state["next_id"])
        self.state["next_id"] = identifier + 1
        return str(identifier)

    def _now_iso(self) -> str:
        return self.clock().astimezone(UTC).isoformat()

    def _account(self, account_id: str) -> dict[str, Any]:
        for account in self.state["accounts"]:
            if account["account_id"] == account_id:
                return dict(account)
        raise _missing_object(f"act_{account_id}", "GET")

    def _zone(self, account_id: str) -> ZoneInfo:
        return ZoneInfo(self._account(account_id)["timezone_name"])

    def _object(self, object_id: str, kind: str | None = None, method: str = "GET") -> Any:
        found = self.state["objects"].get(object_id)
        if found is None or (kind is not None and found["kind"] != kind):
            raise _missing_object(object_id, method)
        return found

    # ---- routing

    def _add_routes(self) -> None:
        v = r"/(?P<version>v\d+\.\d+)"
        act = rf"{v}/act_(?P<account_id>\d+)"
        graph = self._graph
        self.route("GET", f"{v}/dialog/oauth", graph(self._dialog, auth=False))
        self.route("GET", f"{v}/oauth/access_token", graph(self._access_token, auth=False))
        self.route("GET", f"{v}/me/permissions", graph(self._permissions))
        self.route("DELETE", f"{v}/me/permissions", graph(self._revoke))
        self.route("GET", f"{v}/me/adaccounts", graph(self._list_accounts))
        self.route("GET", f"{v}/me/accounts", graph(self._list_pages))
        self.route("GET", act, graph(self._read_account))
        self.route("GET", f"{act}/insights", graph(self._account_insights))
        self.route("GET", f"{act}/(?P<edge>campaigns|adsets|ads|adcreatives)", graph(self._list))
        self.route("GET", f"{act}/adimages", graph(self._list_images))
        self.route("POST", f"{act}/campaigns", graph(self._create_campaign, write=True))
        self.route("POST", f"{act}/adsets", graph(self._create_adset, write=True))
        self.route("POST", f"{act}/adimages", graph(self._upload_images, write=True))
        self.route("POST", f"{act}/adcreatives", graph(self._create_creative, write=True))
        self.route("POST", f"{act}/ads", graph(self._create_ad, write=True))
        self.route("GET", rf"{v}/(?P<object_id>\d+)/(?P<edge>adsets|ads)", graph(self._children))
        self.route("GET", rf"{v}/(?P<object_id>\d+)/insights", graph(self._object_insights))
        self.route("GET", rf"{v}/(?P<object_id>\d+)", graph(self._read_object))
        self.route("POST", rf"{v}/(?P<object_id>\d+)", graph(self._update_object, write=True))

    def _graph(
        self,
        handler: Callable[..., dict[str, Any] | FakeResponse],
        *,
        auth: bool = True,
        write: bool = False,
    ) -> Callable[..., FakeResponse]:
        def answer(request: FakeRequest, **groups: str) -> FakeResponse:
            groups.pop("version", None)
            try:
                call = _call(request)
                if auth:
                    call.token = self._authenticate(call, write=write)
                result = handler(call, **groups)
            except GraphError as error:
                return error.response()
            return result if isinstance(result, FakeResponse) else FakeResponse(200, result)

        return answer

    def _authenticate(self, call: _Call, *, write: bool) -> dict[str, Any]:
        token = call.request.bearer_token or call.params.get("access_token")
        record = self.state["tokens"].get(token) if isinstance(token, str) else None
        if record is None:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        expires = record.get("expires_at")
        if expires is not None and datetime.fromisoformat(expires) <= self.clock():
            raise GraphError(
                "Error validating access token: Session has expired.", code=190, subcode=463
            )
        self._check_proof(call, str(token))
        needed = "ads_management" if write else None
        if needed is not None and needed not in record["scopes"]:
            raise GraphError(f"(#200) Requires {needed} permission to manage the object", code=200)
        return dict(record)

    def _check_proof(self, call: _Call, token: str) -> None:
        proof = call.params.get("appsecret_proof")
        if proof is None:
            if self.require_appsecret_proof:
                raise GraphError(
                    "API calls from the server require an appsecret_proof argument",
                    error_type="GraphMethodException",
                )
            return
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(proof), expected):
            raise GraphError(
                "Invalid appsecret_proof provided in the API argument",
                error_type="GraphMethodException",
            )

    def render_failure(self, failure: Failure, request: FakeRequest) -> FakeResponse:
        if failure.kind == "rate_limit":
            return self._rate_limited(failure, request).response()
        if failure.kind == "auth":
            return GraphError(
                "Error validating access token: Session has expired.", code=190, subcode=463
            ).response()
        if failure.kind == "server_error":
            return GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                code=2,
                status=500,
                is_transient=True,
            ).response()
        message = failure.message or "Invalid parameter"
        return GraphError(f"(#100) {message}", user_msg=message).response()

    def _rate_limited(self, failure: Failure, request: FakeRequest) -> GraphError:
        account_id = self.state["accounts"][0]["account_id"] if self.state["accounts"] else "0"
        if "/act_" in request.path:
            account_id = request.path.split("/act_", 1)[1].split("/", 1)[0]
        usage = {
            account_id: [
                {
                    "type": "ads_management",
                    "call_count": 100,
                    "total_cputime": 25,
                    "total_time": 25,
                    "estimated_time_to_regain_access": math.ceil(failure.retry_after / 60),
                    "ads_api_access_tier": "standard_access",
                }
            ]
        }
        return GraphError(
            "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
            code=80004,
            subcode=2446079,
            is_transient=True,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    # ---- OAuth

    def _dialog(self, call: _Call) -> FakeResponse:
        params = call.params
        if params.get("client_id") != self.app_id:
            raise GraphError("Invalid App ID", code=101)
        redirect_uri = str(params.get("redirect_uri") or "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise _invalid("redirect_uri")
        if params.get("response_type", "code") != "code":
            raise _invalid("response_type", "only code is supported")
        answer: dict[str, str]
        if params.get("deny"):
            answer = {
                "error": "access_denied",
                "error_code": "200",
                "error_description": "Permissions error",
                "error_reason": "user_denied",
            }
        else:
            code = secrets.token_urlsafe(24)
            declined = set(str(params.get("decline") or "").split(","))
            requested = [s for s in str(params.get("scope") or "").split(",") if s]
            self.state["codes"][code] = {
                "redirect_uri": redirect_uri,
                "scopes": [scope for scope in requested if scope not in declined],
                "expires_at": (self.clock() + _CODE_LIFETIME).isoformat(),
                "used": False,
            }
            answer = {"code": code}
        if "state" in params:
            answer["state"] = str(params["state"])
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(answer)}"
        return FakeResponse(302, raw=b"", headers={"Location": location}, content_type="text/html")

    def _check_app(self, params: Mapping[str, Any]) -> None:
        if params.get("client_id") != self.app_id:
            raise GraphError("Error validating application. Invalid application ID.", code=101)
        if params.get("client_secret") != self.app_secret:
            # Meta answers code 1 here, as remembered from its replies (not in the notes).
            raise GraphError("Error validating client secret.", code=1)

    def _access_token(self, call: _Call) -> dict[str, Any]:
        params = call.params
        self._check_app(params)
        if params.get("grant_type") == "fb_exchange_token":
            return self._exchange_long_lived(params)
        code = self.state["codes"].get(str(params.get("code") or ""))
        if code is None:
            raise GraphError("Invalid verification code format.")
        if code["used"]:
            raise GraphError("This authorization code has been used.", subcode=36009)
        if datetime.fromisoformat(code["expires_at"]) <= self.clock():
            raise GraphError("This authorization code has expired.", subcode=36007)
        if params.get("redirect_uri") != code["redirect_uri"]:
            raise GraphError(
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request",
                subcode=36008,
            )
        code["used"] = True
        token = self.issue_token(
            scopes=code["scopes"], expires_in=SHORT_LIVED_EXPIRES_IN, kind="short"
        )
        return {"access_token": token, "token_type": "bearer", "expires_in": SHORT_LIVED_EXPIRES_IN}

    def _exchange_long_lived(self, params: Mapping[str, Any]) -> dict[str, Any]:
        record = self.state["tokens"].get(str(params.get("fb_exchange_token") or ""))
        expires = record.get("expires_at") if record is not None else None
        if record is None or (
            expires is not None and datetime.fromisoformat(expires) <= self.clock()
        ):
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        token = self.issue_token(scopes=record["scopes"], expires_in=LONG_LIVED_EXPIRES_IN)
        return {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED_EXPIRES_IN}

    def _permissions(self, call: _Call) -> dict[str, Any]:
        return {
            "data": [{"permission": scope, "status": "granted"} for scope in call.token["scopes"]]
        }

    def _revoke(self, call: _Call) -> dict[str, Any]:
        # Removing the app's permissions ends every token it holds for that person.
        user = call.token["user"]
        tokens = self.state["tokens"]
        for token in [t for t, record in tokens.items() if record["user"] == user]:
            del tokens[token]
        return {"success": True}

    # ---- listing and paging

    def _page(self, call: _Call, rows: list[dict[str, Any]]) -> dict[str, Any]:
        limit = _integer(call.params, "limit") or _DEFAULT_LIMIT
        limit = max(1, min(limit, self.max_limit))
        after = call.params.get("after")
        start = _decode_cursor(str(after)) + 1 if after else 0
        page = rows[start : start + limit]
        body: dict[str, Any] = {"data": page}
        if not page:
            return body
        last = start + len(page) - 1
        paging: dict[str, Any] = {
            "cursors": {"before": _encode_cursor(start), "after": _encode_cursor(last)}
        }
        if last + 1 < len(rows):
            query = {key: values[-1] for key, values in call.request.query.items()}
            query.pop("access_token", None)
            query.update({"limit": str(limit), "after": _encode_cursor(last)})
            host = call.request.headers.get("host", "127.0.0.1")
            paging["next"] = f"http://{host}{call.request.path}?{urlencode(query)}"
        body["paging"] = paging
        return body

    def _listing(
        self, call: _Call, views: Iterable[dict[str, Any]], default_fields: Sequence[str]
    ) -> dict[str, Any]:
        rules = _filtering(call.params)
        fields = _fields(call.params, default_fields)
        rows = [
            _project(view, fields)
            for view in views
            if all(_filter_matches(view, rule) for rule in rules)
        ]
        return self._page(call, rows)

    def _account_view(self, account: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": f"act_{account['account_id']}",
            "account_id": account["account_id"],
            "name": account["name"],
            "currency": account["currency"],
            "account_status": account["account_status"],
            "timezone_name": account["timezone_name"],
            "amount_spent": "0",
        }

    def _list_accounts(self, call: _Call) -> dict[str, Any]:
        views = [self._account_view(account) for account in self.state["accounts"]]
        return self._listing(call, views, ("id",))

    def _list_pages(self, call: _Call) -> dict[str, Any]:
        views = [
            {**page, "category": "Brand", "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT"]}
            for page in self.state["pages"]
        ]
        return self._listing(call, views, ("id", "name"))

    def _read_account(self, call: _Call, account_id: str) -> dict[str, Any]:
        view = self._account_view(self._account(account_id))
        return _project(view, _fields(call.params, ("id", "account_id")))

    def _list(self, call: _Call, account_id: str, edge: str) -> dict[str, Any]:
        self._account(account_id)
        kind = edge.removesuffix("s")
        views = [
            self._view(found)
            for found in self.state["objects"].values()
            if found["kind"] == kind and found["account_id"] == account_id
        ]
        return self._listing(call, views, ("id",))

    def _list_images(self, call: _Call, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        views = [
            {**image, "id": f"{account_id}:{image['hash']}"}
            for image in self.state["images"].values()
            if image["account_id"] == account_id
        ]
        return self._listing(call, views, ("hash", "name"))

    def _children(self, call: _Call, object_id: str, edge: str) -> dict[str, Any]:
        parent = self._object(object_id)
        kind = edge.removesuffix("s")
        if parent["kind"] not in {"campaign", "adset"} or (kind, parent["kind"]) == (
            "adset",
            "adset",
        ):
            raise _missing_object(f"{object_id}/{edge}", "GET")
        views = [
            self._view(found)
            for found in self.state["objects"].values()
            if found["kind"] == kind and found.get(f"{parent['kind']}_id") == object_id
        ]
        return self._listing(call, views, ("id",))

    # ---- reading objects

    def _effective_status(self, found: Mapping[str, Any]) -> str:
        objects = self.state["objects"]
        campaign = objects.get(found.get("campaign_id", ""))
        adset = objects.get(found.get("adset_id", ""))
        if found["status"] != "ACTIVE":
            return str(found["status"])
        if campaign is not None and campaign["status"] != "ACTIVE":
            return "CAMPAIGN_PAUSED"
        if adset is not None and adset["status"] != "ACTIVE":
            return "ADSET_PAUSED"
        return "ACTIVE"

    def _view(self, found: Mapping[str, Any]) -> dict[str, Any]:
        hidden = {"kind", "status_history"}
        view = {key: value for key, value in found.items() if key not in hidden}
        view["account_id"] = found["account_id"]
        if found["kind"] != "adcreative":
            view["effective_status"] = self._effective_status(found)
        for key in ("daily_budget", "lifetime_budget"):
            # Budgets come back as strings, as Meta sends them.
            if view.get(key) is not None:
                view[key] = str(view[key])
        if found["kind"] == "ad":
            view["creative"] = {"id": found["creative_id"]}
        return view

    def _read_object(self, call: _Call, object_id: str) -> dict[str, Any]:
        found = self._object(object_id)
        return _project(self._view(found), _fields(call.params, ("id",)))

    # ---- creating

    def _store(self, kind: str, account_id: str, values: dict[str, Any]) -> dict[str, Any]:
        identifier = self._new_id()
        now = self._now_iso()
        stored = {
            "id": identifier,
            "kind": kind,
            "account_id": account_id,
            **values,
            "created_time": now,
            "updated_time": now,
        }
        if "status" in values:
            stored["status_history"] = [[now, values["status"]]]
        self.state["objects"][identifier] = stored
        return {"id": identifier}

    def _create_campaign(self, call: _Call, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        params = call.params
        name = _name(params)
        objective = params.get("objective")
        if objective not in _OBJECTIVE_GOALS:
            raise _invalid("objective", f"must be one of {', '.join(sorted(_OBJECTIVE_GOALS))}")
        if params.get("special_ad_categories") is None:
            raise GraphError(
                "(#100) The parameter special_ad_categories is required",
                user_title="Special Ad Categories Required",
                user_msg="Say whether the campaign is in a special ad category ([] if none).",
            )
        categories = _structured(params, "special_ad_categories")
        if not isinstance(categories, list) or not set(categories) <= _SPECIAL_AD_CATEGORIES:
            raise _invalid("special_ad_categories")
        return self._store(
            "campaign",
            account_id,
            {
                "name": name,
                "objective": objective,
                "status": _status(params, _CREATE_STATUSES, "ACTIVE"),
                "special_ad_categories": categories,
                "is_adset_budget_sharing_enabled": _boolean(
                    params, "is_adset_budget_sharing_enabled"
                ),
            },
        )

    def _budget(self, params: Mapping[str, Any], currency: str) -> dict[str, int | None]:
        daily = _integer(params, "daily_budget")
        lifetime = _integer(params, "lifetime_budget")
        if daily is not None and lifetime is not None:
            raise _invalid("daily_budget", "give daily_budget or lifetime_budget, not both")
        if daily is None and lifetime is None:
            raise GraphError("(#100) Either daily_budget or lifetime_budget must be set")
        amount = daily if daily is not None else lifetime
        if amount is not None and amount < _MIN_BUDGET:
            minimum = Decimal(_MIN_BUDGET) / _offset(currency)
            raise GraphError(
                "(#100) Invalid parameter",
                subcode=1885272,
                user_title="Budget Is Too Low",
                user_msg=f"The budget must be at least {_money(minimum, currency)} {currency}.",
            )
        return {"daily_budget": daily, "lifetime_budget": lifetime}

    def _schedule(
        self, params: Mapping[str, Any], zone: tzinfo, lifetime: bool
    ) -> dict[str, str | None]:
        start = _parse_time(params, "start_time", zone) or self.clock()
        end = _parse_time(params, "end_time", zone)
        if lifetime and end is None:
            raise GraphError("(#100) end_time is required for an ad set with a lifetime_budget")
        if end is not None and end <= start:
            raise _invalid("end_time", "must be after start_time")
        return {
            "start_time": start.isoformat(),
            "end_time": end.isoformat() if end is not None else None,
        }

    def _create_adset(self, call: _Call, account_id: str) -> dict[str, Any]:
        account = self._account(account_id)
        params = call.params
        name = _name(params)
        campaign = self._object(str(params.get("campaign_id") or ""), "campaign", "POST")
        if campaign["account_id"] != account_id:
            raise _invalid("campaign_id", "belongs to another ad account")
        budget = self._budget(params, account["currency"])
        goal = str(params.get("optimization_goal") or "")
        if goal not in _OBJECTIVE_GOALS[campaign["objective"]]:
            raise GraphError(
                "(#100) Invalid parameter",
                subcode=2490408,
                user_title="Optimization Goal Not Valid",
                user_msg=f"{goal or 'No goal'} is not available for {campaign['objective']}.",
            )
        if params.get("billing_event") not in _BILLING_EVENTS:
            raise _invalid("billing_event")
        if params.get("bid_strategy", "LOWEST_COST_WITHOUT_CAP") not in _BID_STRATEGIES:
            raise _invalid("bid_strategy")
        targeting = _structured(params, "targeting")
        _check_targeting(targeting)
        schedule = self._schedule(
            params, self._zone(account_id), budget["lifetime_budget"] is not None
        )
        return self._store(
            "adset",
            account_id,
            {
                "name": name,
                "campaign_id": campaign["id"],
                **budget,
                "billing_event": params["billing_event"],
                "optimization_goal": goal,
                "bid_strategy": params.get("bid_strategy", "LOWEST_COST_WITHOUT_CAP"),
                "targeting": targeting,
                **schedule,
                "promoted_object": _structured(params, "promoted_object"),
                "status": _status(params, _CREATE_STATUSES, "ACTIVE"),
            },
        )

    def _uploads(self, call: _Call) -> list[tuple[str, bytes]]:
        uploads = list(call.files.values())
        encoded = call.params.get("bytes")
        if encoded:
            try:
                uploads.append(("bytes", base64.b64decode(str(encoded), validate=True)))
            except binascii.Error:
                raise _invalid("bytes", "must be base64") from None
        if not uploads:
            raise GraphError("(#100) No image file was sent")
        return uploads

    def _upload_images(self, call: _Call, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        answer: dict[str, dict[str, str]] = {}
        for filename, data in self._uploads(call):
            extension = Path(filename).suffix.lower()
            if filename != "bytes" and extension not in _IMAGE_EXTENSIONS:
                raise _invalid("filename", "an image file name needs an extension such as .jpg")
            if len(filename) > _IMAGE_NAME_MAX:
                raise _invalid("filename", f"at most {_IMAGE_NAME_MAX} characters")
            if not data.startswith(_IMAGE_SIGNATURES):
                raise GraphError("(#100) Invalid image file", user_title="Invalid Image")
            digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
            host = call.request.headers.get("host", "127.0.0.1")
            url = f"http://{host}/fake-images/{digest}{extension or '.jpg'}"
            self.state["images"][f"{account_id}:{digest}"] = {
                "hash": digest,
                "account_id": account_id,
                "name": filename,
                "url": url,
                "size": len(data),
            }
            answer[filename] = {"hash": digest, "url": url}
        return {"images": answer}

    def _check_link_data(self, account_id: str, link_data: object) -> None:
        if not isinstance(link_data, dict):
            raise _invalid("object_story_spec", "link_data is required for a link ad")
        link = link_data.get("link")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise _invalid("object_story_spec", "link_data.link must be a web address")
        image_hash = link_data.get("image_hash")
        if not image_hash:
            raise GraphError(
                "(#100) Invalid parameter",
                user_title="Image Required",
                user_msg="A link ad needs an image: give link_data.image_hash.",
            )
        if f"{account_id}:{image_hash}" not in self.state["images"]:
            raise _invalid("object_story_spec", f"image hash {image_hash} is not in the account")
        action = link_data.get("call_to_action")
        if action is not None:
            kind = action.get("type") if isinstance(action, dict) else None
            if kind not in _CTA_TYPES:
                raise GraphError(
                    "(#100) Invalid parameter",
                    user_title="Invalid Call to Action",
                    user_msg=f"{kind!r} is not a call to action type Meta offers.",
                )

    def _create_creative(self, call: _Call, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        params = call.params
        name = _name(params, required=False)
        spec = _structured(params, "object_story_spec")
        if not isinstance(spec, dict):
            raise GraphError("(#100) The parameter object_story_spec is required")
        if spec.get("page_id") not in {page["id"] for page in self.state["pages"]}:
            raise _invalid("object_story_spec", "page_id must be a Page you can advertise as")
        self._check_link_data(account_id, spec.get("link_data"))
        return self._store(
            "adcreative",
            account_id,
            {"name": name, "object_story_spec": spec, "url_tags": params.get("url_tags")},
        )

    def _create_ad(self, call: _Call, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        params = call.params
        name = _name(params)
        adset = self._object(str(params.get("adset_id") or ""), "adset", "POST")
        creative = _structured(params, "creative")
        creative_id = creative.get("creative_id") if isinstance(creative, dict) else None
        found = self.state["objects"].get(str(creative_id))
        if found is None or found["kind"] != "adcreative" or found["account_id"] != account_id:
            raise _invalid("creative", "creative_id must be a creative of this ad account")
        return self._store(
            "ad",
            account_id,
            {
                "name": name,
                "adset_id": adset["id"],
                "campaign_id": adset["campaign_id"],
                "creative_id": found["id"],
                "status": _status(params, _CREATE_STATUSES, "ACTIVE"),
            },
        )

    # ---- updating

    def _update_budget(self, found: dict[str, Any], params: Mapping[str, Any]) -> None:
        changes = {key: _integer(params, key) for key in ("daily_budget", "lifetime_budget")}
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return
        if found["kind"] != "adset" or len(changes) > 1:
            raise _invalid("daily_budget", "set one budget on an ad set")
        key, amount = next(iter(changes.items()))
        if found.get(key) is None:
            raise GraphError(
                "(#100) Invalid parameter",
                user_title="Budget Type Cannot Change",
                user_msg="An ad set keeps the budget type (daily or lifetime) it was made with.",
            )
        currency = self._account(found["account_id"])["currency"]
        self._budget({key: amount}, currency)
        found[key] = amount

    def _update_object(self, call: _Call, object_id: str) -> dict[str, Any]:
        found = self._object(object_id, method="POST")
        params = call.params
        if "name" in params:
            found["name"] = _name(params)
        self._update_budget(found, params)
        if "status" in params and found["kind"] != "adcreative":
            status = _status(params, _UPDATE_STATUSES, found["status"])
            if status != found["status"]:
                found["status"] = status
                found["status_history"].append([self._now_iso(), status])
        if "end_time" in params and found["kind"] == "adset":
            end = _parse_time(params, "end_time", self._zone(found["account_id"]))
            found["end_time"] = end.isoformat() if end is not None else None
        found["updated_time"] = self._now_iso()
        return {"success": True}

    # ---- insights

    def _delivers(self, adset: Mapping[str, Any], day: date, zone: ZoneInfo) -> bool:
        objects = self.state["objects"]
        campaign = objects[adset["campaign_id"]]
        if not any(
            o["kind"] == "ad" and o.get("adset_id") == adset["id"] for o in objects.values()
        ):
            return False  # an ad set without ads shows nothing
        window_start = datetime.combine(day, time(), zone)
        window = (window_start, window_start + timedelta(days=1))
        if day > self.clock().astimezone(zone).date():
            return False
        start = datetime.fromisoformat(adset["start_time"])
        end = datetime.fromisoformat(adset["end_time"]) if adset.get("end_time") else None
        window = (max(window[0], start), min(window[1], end) if end is not None else window[1])
        return _overlaps(
            _intervals(campaign["status_history"]), _intervals(adset["status_history"]), window
        )

    def _daily_budget(self, adset: Mapping[str, Any], currency: str) -> Decimal:
        offset = Decimal(_offset(currency))
        if adset.get("daily_budget") is not None:
            return Decimal(adset["daily_budget"]) / offset
        start = datetime.fromisoformat(adset["start_time"])
        end = datetime.fromisoformat(adset["end_time"])
        days = max(1, math.ceil((end - start) / timedelta(days=1)))
        return Decimal(adset["lifetime_budget"]) / offset / days

    def _numbers(self, adset: Mapping[str, Any], day: date, currency: str) -> _DayNumbers:
        """One ad set's day: deterministic, from a hash of its id and the date."""
        f = _fractions(f"{adset['id']}|{day.isoformat()}")
        # Currencies budgeted in whole units (JPY, KRW …) are worth about a hundredth.
        scale = Decimal(100) if _offset(currency) == 1 else Decimal(1)
        # Meta paces to the budget: 60–95 % of it on a full day.
        pacing = Decimal("0.6") + f[0] * Decimal("0.35")
        spend = Decimal(_money(self._daily_budget(adset, currency) * pacing, currency))
        cpm = (Decimal(6) + f[1] * 8) * scale
        impressions = max(1, int(spend * 1000 / cpm))
        link_clicks = max(1, int(impressions * (Decimal("0.01") + f[2] * Decimal("0.02"))))
        clicks = link_clicks + int(link_clicks * (Decimal("0.1") + f[3] * Decimal("0.3")))
        objective = self.state["objects"][adset["campaign_id"]]["objective"]
        numbers = _DayNumbers(impressions, clicks, link_clicks, spend)
        if objective == "OUTCOME_LEADS":
            numbers.leads = round(link_clicks * (Decimal("0.05") + f[4] * Decimal("0.1")))
        else:
            numbers.purchases = round(link_clicks * (Decimal("0.02") + f[4] * Decimal("0.04")))
            each = (Decimal(30) + f[5] * 30) * scale
            numbers.purchase_value = (numbers.purchases * each).quantize(Decimal("0.01"))
        return numbers

    def _time_range(self, params: Mapping[str, Any], zone: ZoneInfo) -> tuple[date, date]:
        today = self.clock().astimezone(zone).date()
        presets = {
            "today": (today, today),
            "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
            "last_7d": (today - timedelta(days=7), today - timedelta(days=1)),
            "last_30d": (today - timedelta(days=30), today - timedelta(days=1)),
        }
        if params.get("time_range"):
            window = _structured(params, "time_range")
            try:
                return date.fromisoformat(window["since"]), date.fromisoformat(window["until"])
            except (KeyError, TypeError, ValueError):
                raise _invalid("time_range", 'use {"since":"YYYY-MM-DD","until":…}') from None
        preset = str(params.get("date_preset") or "last_30d")
        if preset not in presets:
            raise _invalid("date_preset", f"use one of {', '.join(presets)}")
        return presets[preset]

    def _insight_rows(
        self, account_id: str, params: Mapping[str, Any], keep: Callable[[Mapping[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        account = self._account(account_id)
        zone = ZoneInfo(account["timezone_name"])
        since, until = self._time_range(params, zone)
        level = str(params.get("level") or "adset")
        if level not in {"adset", "campaign", "account"}:
            raise _invalid("level", "use adset, campaign or account")
        increment = str(params.get("time_increment") or "all_days")
        if increment not in {"1", "all_days"}:
            raise _invalid("time_increment", "this fake knows 1 and all_days")
        totals: dict[tuple[str, str, str], _DayNumbers] = {}
        adsets = [
            o
            for o in self.state["objects"].values()
            if o["kind"] == "adset" and o["account_id"] == account_id and keep(o)
        ]
        day = since
        while day <= until:
            for adset in adsets:
                if not self._delivers(adset, day, zone):
                    continue
                key = (
                    day.isoformat() if increment == "1" else since.isoformat(),
                    adset["campaign_id"] if level != "account" else "",
                    adset["id"] if level == "adset" else "",
                )
                totals.setdefault(key, _DayNumbers()).add(
                    self._numbers(adset, day, account["currency"])
                )
            day += timedelta(days=1)
        return [
            self._insight_row(key, numbers, account, increment, until)
            for key, numbers in sorted(totals.items())
        ]

    def _insight_row(
        self,
        key: tuple[str, str, str],
        numbers: _DayNumbers,
        account: Mapping[str, Any],
        increment: str,
        until: date,
    ) -> dict[str, Any]:
        day, campaign_id, adset_id = key
        currency = account["currency"]
        actions = [{"action_type": "link_click", "value": str(numbers.link_clicks)}]
        values: list[dict[str, str]] = []
        if numbers.purchases:
            for alias in _PURCHASE_ALIASES:
                actions.append({"action_type": alias, "value": str(numbers.purchases)})
                values.append({"action_type": alias, "value": str(numbers.purchase_value)})
        if numbers.leads:
            actions.append({"action_type": "lead", "value": str(numbers.leads)})
        row: dict[str, Any] = {
            "account_id": account["account_id"],
            "date_start": day,
            "date_stop": day if increment == "1" else until.isoformat(),
            "impressions": str(numbers.impressions),
            "clicks": str(numbers.clicks),
            "inline_link_clicks": str(numbers.link_clicks),
            "spend": _money(numbers.spend, currency),
            "actions": actions,
            "action_values": values,
        }
        if campaign_id:
            campaign = self.state["objects"][campaign_id]
            row.update(
                campaign_id=campaign_id,
                campaign_name=campaign["name"],
                objective=campaign["objective"],
            )
        if adset_id:
            row.update(adset_id=adset_id, adset_name=self.state["objects"][adset_id]["name"])
        return row

    def _insights(
        self, call: _Call, account_id: str, keep: Callable[[Mapping[str, Any]], bool]
    ) -> dict[str, Any]:
        rows = self._insight_rows(account_id, call.params, keep)
        fields = [*_fields(call.params, ("impressions", "spend")), "date_start", "date_stop"]
        # Empty action lists are left out, as Meta does.
        projected = [
            {name: row[name] for name in fields if name in row and row[name] != []} for row in rows
        ]
        return self._page(call, projected)

    def _account_insights(self, call: _Call, account_id: str) -> dict[str, Any]:
        return self._insights(call, account_id, lambda adset: True)

    def _object_insights(self, call: _Call, object_id: str) -> dict[str, Any]:
        found = self._object(object_id)
        if found["kind"] not in {"campaign", "adset"}:
            raise _missing_object(f"{object_id}/insights", "GET")
        params = dict(call.params)
        params.setdefault("level", found["kind"])
        key = "campaign_id" if found["kind"] == "campaign" else "id"
        return self._insights(
            _Call(call.request, params, call.files, call.token),
            found["account_id"],
            lambda adset: adset[key] == object_id,
        )
