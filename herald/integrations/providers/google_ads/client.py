"""The Google Ads REST wire client: headers, retries and error classification.

Duties:

- send every request through ``herald.core.http.outbound_request`` with the configured
  endpoints trusted (so a loopback fake works) and ``endpoints.extra["timeout"]`` seconds;
- add ``Authorization: Bearer``, and ``developer-token`` / ``login-customer-id`` when the
  endpoints carry them (``extra["developer_token"]``, ``extra["login_customer_id"]``);
- wrap the three calls the adapter needs: ``customers:listAccessibleCustomers``,
  ``googleAds:searchStream`` (batches flattened into one list of rows) and
  ``{resource}:mutate``;
- turn Google's error envelope (``GoogleAdsFailure``) and transport failures into
  ``ProviderError`` with the right ``ErrorKind``;
- retry what is safe to retry: rate limits (a 429 was not applied, so even a mutate may
  be resent) after the platform's ``retryDelay``, and transient failures of reads with a
  short exponential backoff. A mutate that timed out is never resent here: it may have
  been applied, and only the caller can look the object up by name.

Also the OAuth token/revoke form posts, which speak RFC 6749 error bodies rather than
the Ads envelope, and the currency/micros helpers shared with the fake.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from herald.core.http import OutboundConnectionError, OutboundTimeout, outbound_request
from herald.integrations.providers.base import ErrorKind, ProviderEndpoints, ProviderError

__all__ = [
    "MAX_ATTEMPTS",
    "GoogleAdsClient",
    "api_version_number",
    "error_from_response",
    "micros_from_amount",
    "minimum_unit_micros",
    "oauth_post",
    "trusted_hosts",
]

# Swapped out by tests so retries do not wait.
_sleep: Callable[[float], None] = time.sleep

MAX_ATTEMPTS = 3
_READ_BACKOFF = (0.5, 1.0)  # before the 2nd and 3rd attempt of a read
MICROS = 1_000_000

# ISO 4217 currencies whose minimum unit is not a hundredth. Google requires money
# amounts to be whole multiples of the currency's minimum unit.
_ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_THREE_DECIMAL_CURRENCIES = frozenset("BHD IQD JOD KWD LYD OMR TND".split())

_STATUS_KIND = {
    401: ErrorKind.AUTH,
    403: ErrorKind.PERMISSION,
    404: ErrorKind.NOT_FOUND,
    # CONCURRENT_MODIFICATION: someone else changed the object; safe to try again.
    409: ErrorKind.TRANSIENT,
    429: ErrorKind.RATE_LIMITED,
}
_OAUTH_AUTH_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def minimum_unit_micros(currency: str) -> int:
    """Micros in the smallest amount of ``currency`` (10,000 for USD's cent)."""
    code = currency.upper()
    if code in _ZERO_DECIMAL_CURRENCIES:
        return MICROS
    if code in _THREE_DECIMAL_CURRENCIES:
        return 1_000
    return 10_000


def micros_from_amount(amount: Decimal, currency: str, *, round_down: bool = False) -> int:
    """``amount`` (major units) in micros, on a multiple of the currency's minimum unit."""
    unit = minimum_unit_micros(currency)
    units = (amount * MICROS / unit).to_integral_value(
        rounding=ROUND_DOWN if round_down else ROUND_HALF_UP
    )
    return int(units) * unit


def api_version_number(version: str) -> int:
    """``"v23"`` → 23."""
    match = re.fullmatch(r"v(\d+)", version.strip().lower())
    if match is None:
        raise ValueError(f"Unrecognised Google Ads API version {version!r}; expected vNN.")
    return int(match.group(1))


def trusted_hosts(endpoints: ProviderEndpoints) -> tuple[str, ...]:
    """host[:port] of every configured endpoint, so a loopback fake is reachable."""
    hosts: set[str] = set()
    for url in (endpoints.api_url, endpoints.token_url, endpoints.revoke_url):
        parts = urlsplit(url)
        if parts.hostname:
            host = parts.hostname.lower()
            hosts.add(f"{host}:{parts.port}" if parts.port else host)
    return tuple(sorted(hosts))


def _timeout(endpoints: ProviderEndpoints) -> float:
    return float(endpoints.extra.get("timeout", 30))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _field_path(error: dict[str, Any]) -> str:
    """``operations[0].create.ad.responsive_search_ad.headlines[3].text``."""
    elements = (error.get("location") or {}).get("fieldPathElements") or []
    parts = []
    for element in elements:
        part = str(element.get("fieldName", ""))
        if "index" in element:
            part += f"[{element['index']}]"
        parts.append(part)
    return ".".join(parts)


def _retry_delay(errors: Iterable[dict[str, Any]]) -> float | None:
    for error in errors:
        delay = ((error.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def error_from_response(response: httpx.Response) -> ProviderError:
    """Classify a non-2xx Google Ads answer.

    The envelope is ``{"error": {code, message, status, details: [GoogleAdsFailure]}}``;
    errors raised by Google's front end before the Ads backend (malformed JSON, unknown
    fields) carry no ``GoogleAdsFailure``, only the top-level message.
    """
    status = response.status_code
    envelope = _json(response)
    error = envelope.get("error") if isinstance(envelope, dict) else None
    error = error if isinstance(error, dict) else {}
    message = str(error.get("message") or f"Google Ads answered HTTP {status}.")
    platform_code = str(error.get("status") or "")
    failures: list[dict[str, Any]] = []
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("GoogleAdsFailure"):
            failures.extend(e for e in detail.get("errors") or [] if isinstance(e, dict))
    category = ""
    if failures:
        first = failures[0]
        code = first.get("errorCode") or {}
        if code:
            category, value = next(iter(code.items()))
            platform_code = f"{category}.{value}"
        message = str(first.get("message") or message)
        path = _field_path(first)
        if path:
            message = f"{message} (field {path})"
    if status == 429 or category == "quotaError":
        return ProviderError(
            message,
            kind=ErrorKind.RATE_LIMITED,
            retry_after=_retry_delay(failures),
            platform_code=platform_code,
        )
    if status >= 500:
        kind = ErrorKind.TRANSIENT
    elif platform_code == "mutateError.RESOURCE_NOT_FOUND":
        kind = ErrorKind.NOT_FOUND
    else:
        kind = _STATUS_KIND.get(status, ErrorKind.VALIDATION)
    return ProviderError(message, kind=kind, platform_code=platform_code)


def oauth_post(endpoints: ProviderEndpoints, url: str, form: dict[str, str]) -> dict[str, Any]:
    """One form post to Google's OAuth endpoints, RFC 6749 errors classified.

    Not retried: a code exchange that timed out may have consumed the single-use code,
    and the callers (connect flow, token refresher) already retry on their own terms.
    """
    try:
        response = outbound_request(
            "POST",
            url,
            data=form,
            timeout=_timeout(endpoints),
            trusted_hosts=trusted_hosts(endpoints),
        )
    except (OutboundTimeout, OutboundConnectionError) as error:
        raise ProviderError(str(error), kind=ErrorKind.TRANSIENT) from error
    body = _json(response)
    body = body if isinstance(body, dict) else {}
    if response.status_code < 300:
        return body
    code = str(body.get("error") or "")
    message = str(body.get("error_description") or code or f"HTTP {response.status_code}")
    if code in _OAUTH_AUTH_ERRORS:
        kind = ErrorKind.AUTH
    elif response.status_code == 429:
        kind = ErrorKind.RATE_LIMITED
    elif response.status_code >= 500:
        kind = ErrorKind.TRANSIENT
    else:
        kind = ErrorKind.VALIDATION
    raise ProviderError(f"Google sign-in: {message}", kind=kind, platform_code=code)


class GoogleAdsClient:
    """Authenticated calls to the Google Ads REST API for one access token."""

    def __init__(self, endpoints: ProviderEndpoints, access_token: str) -> None:
        self.endpoints = endpoints
        self.access_token = access_token
        self.version = endpoints.api_version
        self._base = endpoints.api_url.rstrip("/")
        self._trusted = trusted_hosts(endpoints)

    # ---- operations

    def list_accessible_customers(self) -> list[str]:
        """Customer ids (``"1234567890"``) the token's user can reach directly."""
        body = self._call(
            "GET", "customers:listAccessibleCustomers", read=True, login_customer=False
        )
        names = (body.get("resourceNames") or []) if isinstance(body, dict) else []
        return [str(name).removeprefix("customers/") for name in names]

    def search_stream(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        """Every row of a GAQL query; the stream's batches are concatenated."""
        body = self._call(
            "POST",
            f"customers/{customer_id}/googleAds:searchStream",
            json={"query": query, "summaryRowSetting": "NO_SUMMARY_ROW"},
            read=True,
        )
        rows: list[dict[str, Any]] = []
        for batch in body if isinstance(body, list) else []:
            rows.extend(batch.get("results") or [])
        return rows

    def mutate(
        self, customer_id: str, resource: str, operations: list[dict[str, Any]]
    ) -> list[str]:
        """Apply ``operations`` all-or-nothing; the resource names, in order."""
        body = self._call(
            "POST",
            f"customers/{customer_id}/{resource}:mutate",
            json={
                "operations": operations,
                "partialFailure": False,
                "validateOnly": False,
                "responseContentType": "RESOURCE_NAME_ONLY",
            },
            read=False,
        )
        results = (body.get("results") or []) if isinstance(body, dict) else []
        return [str(result.get("resourceName", "")) for result in results]

    # ---- transport

    def _headers(self, *, login_customer: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access_token}"}
        extra = self.endpoints.extra
        if extra.get("developer_token"):
            # Optional since the 2026 sunset, and ignored by Google; still sent when
            # configured because older API versions require it.
            headers["developer-token"] = extra["developer_token"]
        if login_customer and extra.get("login_customer_id"):
            headers["login-customer-id"] = extra["login_customer_id"].replace("-", "")
        return headers

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        read: bool,
        login_customer: bool = True,
    ) -> Any:
        url = f"{self._base}/{self.version}/{path}"
        attempt = 1
        while True:
            try:
                response = outbound_request(
                    method,
                    url,
                    headers=self._headers(login_customer=login_customer),
                    json=json,
                    timeout=_timeout(self.endpoints),
                    trusted_hosts=self._trusted,
                )
            except OutboundTimeout as timeout:
                # A mutate that timed out may have been applied: the caller decides.
                kind = ErrorKind.TRANSIENT if read else ErrorKind.AMBIGUOUS
                error = ProviderError(f"Google Ads: {timeout}", kind=kind)
            except OutboundConnectionError as failure:
                error = ProviderError(f"Google Ads: {failure}", kind=ErrorKind.TRANSIENT)
            else:
                if response.status_code < 300:
                    return _json(response)
                error = error_from_response(response)
            delay = self._delay_before_retry(error, attempt, read=read)
            if delay is None:
                raise error
            _sleep(delay)
            attempt += 1

    def _delay_before_retry(
        self, error: ProviderError, attempt: int, *, read: bool
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up now."""
        if attempt >= MAX_ATTEMPTS:
            return None
        backoff = _READ_BACKOFF[attempt - 1]
        if error.kind is ErrorKind.RATE_LIMITED:
            cap = float(self.endpoints.extra.get("max_retry_sleep", 30))
            wanted = error.retry_after if error.retry_after is not None else backoff
            return min(wanted, cap)
        if error.kind is ErrorKind.TRANSIENT and read:
            return backoff
        return None
