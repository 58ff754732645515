"""A small client for Meta's Graph API (Marketing API), over ``outbound_request``.

Duties:

- **Address** calls under ``{api_url}/{api_version}/`` and authenticate them with
  ``Authorization: Bearer`` plus ``appsecret_proof`` (hex HMAC-SHA256 of the token keyed
  with the app secret). The token never travels in a query string: URLs get logged.
- **Encode** bodies the way Meta's Python SDK does: form fields, with every dict, list
  or bool JSON-encoded into a string (``special_ad_categories=[]``); multipart when a
  file is attached (image upload).
- **Classify** failures into ``ProviderError`` by the error envelope's ``code`` (Meta
  answers HTTP 400 even when throttling, so the status alone says little):

  ===================  ==============  ===========================================
  code                 kind            notes
  ===================  ==============  ===========================================
  1, 2                 TRANSIENT
  4, 17, 32, 613,      RATE_LIMITED    ``retry_after`` from ``X-Business-Use-Case-
  80000–80014                          Usage`` ``estimated_time_to_regain_access``
                                       (minutes), else 60 s
  102, 190             AUTH
  10, 200–299          PERMISSION
  100 (subcode 33)     NOT_FOUND       "object does not exist" (a recorded id died)
  100 and the rest     VALIDATION      message: ``error_user_msg`` or ``message``
  ===================  ==============  ===========================================

  No envelope and HTTP 5xx, a connection failure, or a timeout on a read or an
  idempotent write: TRANSIENT. A timeout on a create: AMBIGUOUS (it may exist now).
- **Retry** inside one call: up to ``MAX_ATTEMPTS`` for RATE_LIMITED (sleeping
  ``min(retry_after, max_retry_sleep)``, ``endpoints.extra["max_retry_sleep"]``, default
  30 s) and, for reads and idempotent writes only, TRANSIENT (0.5 s, then 1 s). A create
  is never repeated after a timeout or a TRANSIENT answer: the caller decides, knowing
  how to look the object up by name.
- **Page** through lists by following ``paging.next``, re-rooted on the configured
  ``api_url`` so the token is only ever sent to the host Herald was configured with.

``_sleep`` is module-level so tests can replace it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import httpx

from herald.core.http import OutboundConnectionError, OutboundTimeout, outbound_request
from herald.integrations.providers.base import ErrorKind, ProviderEndpoints, ProviderError

__all__ = [
    "DEFAULT_RATE_LIMIT_WAIT",
    "MAX_ATTEMPTS",
    "CallKind",
    "GraphClient",
    "appsecret_proof",
    "encode_params",
    "error_from_response",
]

_sleep: Callable[[float], None] = time.sleep

MAX_ATTEMPTS: Final = 3
# Meta's throttling answers without a usage header give no wait; a minute is the block
# length its older scoring model used for the Standard tier.
DEFAULT_RATE_LIMIT_WAIT: Final = 60.0
_TRANSIENT_BACKOFF: Final = (0.5, 1.0)
# A guard against a server that keeps sending the same ``paging.next``.
_MAX_PAGES: Final = 1000

_TRANSIENT_CODES: Final = frozenset({1, 2})
_RATE_LIMIT_CODES: Final = frozenset({4, 17, 32, 613, *range(80000, 80015)})
_AUTH_CODES: Final = frozenset({102, 190})
_NOT_FOUND_SUBCODE: Final = 33  # code 100: "Object with ID … does not exist"


class CallKind(StrEnum):
    READ = "read"  # safe to repeat
    WRITE = "write"  # changes something, but repeating it gives the same result
    CREATE = "create"  # repeating it may make a second object


def appsecret_proof(app_secret: str, token: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def encode_params(params: Mapping[str, object]) -> dict[str, str]:
    """Graph parameters as form fields: dicts, lists and bools JSON-encoded, as the SDK
    does (Meta parses ``true``, not Python's ``True``); ``None`` values left out."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool | dict | list | tuple):
            encoded[key] = json.dumps(value, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _kind_for_code(code: int, subcode: int | None) -> ErrorKind:
    if code in _TRANSIENT_CODES:
        return ErrorKind.TRANSIENT
    if code in _RATE_LIMIT_CODES:
        return ErrorKind.RATE_LIMITED
    if code in _AUTH_CODES:
        return ErrorKind.AUTH
    if code == 10 or 200 <= code <= 299:
        return ErrorKind.PERMISSION
    if code == 100 and subcode == _NOT_FOUND_SUBCODE:
        return ErrorKind.NOT_FOUND
    return ErrorKind.VALIDATION


def _regain_seconds(header: str | None) -> float | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) in a
    ``X-Business-Use-Case-Usage`` header, in seconds; None when absent or zero."""
    if not header:
        return None
    try:
        usage = json.loads(header)
    except ValueError:
        return None
    if not isinstance(usage, dict):
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in usage.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    numbers = [
        float(value)
        for value in minutes
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    ]
    return max(numbers) * 60 if numbers else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def error_from_response(response: httpx.Response) -> ProviderError:
    """The ``ProviderError`` for a non-2xx Graph answer (see the module docstring)."""
    error = _envelope(response)
    if error is None or _int_or_none(error.get("code")) is None:
        kind = ErrorKind.TRANSIENT if response.status_code >= 500 else ErrorKind.VALIDATION
        return ProviderError(
            f"Meta answered HTTP {response.status_code} without an error description.",
            kind=kind,
            platform_code=str(response.status_code),
        )
    code = _int_or_none(error.get("code")) or 0
    subcode = _int_or_none(error.get("error_subcode"))
    kind = _kind_for_code(code, subcode)
    if kind is ErrorKind.VALIDATION and (
        response.status_code >= 500 or error.get("is_transient") is True
    ):
        # An unknown code on a failed server, or one Meta itself calls transient.
        kind = ErrorKind.TRANSIENT
    message = str(error.get("message") or "Meta refused the request.")
    if kind is ErrorKind.VALIDATION and error.get("error_user_msg"):
        message = str(error["error_user_msg"])
    retry_after = None
    if kind is ErrorKind.RATE_LIMITED:
        header = response.headers.get("x-business-use-case-usage")
        retry_after = _regain_seconds(header) or DEFAULT_RATE_LIMIT_WAIT
    return ProviderError(
        message,
        kind=kind,
        retry_after=retry_after,
        platform_code=str(code) if subcode is None else f"{code}/{subcode}",
    )


class GraphClient:
    """Graph API calls for one token (or none, for the OAuth token endpoint)."""

    def __init__(self, endpoints: ProviderEndpoints, access_token: str | None = None) -> None:
        self.endpoints = endpoints
        self._token = access_token
        self._api = urlsplit(endpoints.api_url.rstrip("/"))
        self._base = f"{endpoints.api_url.rstrip('/')}/{endpoints.api_version}/"
        self._timeout = float(endpoints.extra.get("timeout", 30))
        self._max_retry_sleep = float(endpoints.extra.get("max_retry_sleep", 30))
        self._trusted = {
            _host(url)
            for url in (endpoints.api_url, endpoints.token_url, endpoints.revoke_url)
            if url
        }

    # ---- public calls

    def url(self, path: str) -> str:
        """An absolute URL for a Graph path (``act_1/campaigns``); absolute URLs pass."""
        if path.startswith(("http://", "https://")):
            return path
        return self._base + path.lstrip("/")

    def get(self, path: str, params: Mapping[str, object] | None = None) -> dict[str, Any]:
        return self._call("GET", self.url(path), params=params, kind=CallKind.READ)

    def get_all(
        self, path: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a list edge, following ``paging.next`` to the last page."""
        items: list[dict[str, Any]] = []
        url, query = self.url(path), params
        seen: set[str] = set()
        for _page in range(_MAX_PAGES):
            body = self.get(url, query)
            items.extend(item for item in body.get("data", []) if isinstance(item, dict))
            paging = body.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            if not isinstance(following, str) or not following or following in seen:
                break
            seen.add(following)
            url, query = self._rebase(following)
        return items

    def create(
        self,
        path: str,
        params: Mapping[str, object],
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """POST that makes an object. ``idempotent`` for content-addressed uploads
        (an image sent twice gets the same hash), which may then be retried."""
        kind = CallKind.WRITE if idempotent else CallKind.CREATE
        return self._call("POST", self.url(path), data=params, files=files, kind=kind)

    def update(self, path: str, params: Mapping[str, object]) -> dict[str, Any]:
        """POST that sets fields of an existing object: repeating it is harmless."""
        return self._call("POST", self.url(path), data=params, kind=CallKind.WRITE)

    def delete(self, path: str, params: Mapping[str, object] | None = None) -> dict[str, Any]:
        return self._call("DELETE", self.url(path), params=params, kind=CallKind.WRITE)

    # ---- machinery

    def _rebase(self, following: str) -> tuple[str, dict[str, str]]:
        """``paging.next`` as a URL on our own ``api_url`` plus its query, minus any
        token or proof Meta echoed into it (ours are added per call)."""
        parts = urlsplit(following)
        version_prefix = f"/{self.endpoints.api_version}/"
        if parts.path.startswith(version_prefix):
            url = self._base + parts.path[len(version_prefix) :]
        else:
            url = f"{self._api.scheme}://{self._api.netloc}{parts.path}"
        query = {
            key: value
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in {"access_token", "appsecret_proof"}
        }
        return url, query

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._token is None:
            return {}, {}
        proof = appsecret_proof(self.endpoints.client_secret, self._token)
        return {"Authorization": f"Bearer {self._token}"}, {"appsecret_proof": proof}

    def _call(
        self,
        method: str,
        url: str,
        *,
        kind: CallKind,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        attempt = 1
        while True:
            try:
                return self._once(method, url, kind=kind, params=params, data=data, files=files)
            except ProviderError as error:
                wait = self._retry_wait(error, kind, attempt)
                if wait is None:  # not retryable, or the last attempt
                    raise
            _sleep(wait)
            attempt += 1

    def _retry_wait(self, error: ProviderError, kind: CallKind, attempt: int) -> float | None:
        if attempt >= MAX_ATTEMPTS:
            return None
        if error.kind is ErrorKind.RATE_LIMITED:
            return min(error.retry_after or DEFAULT_RATE_LIMIT_WAIT, self._max_retry_sleep)
        if error.kind is ErrorKind.TRANSIENT and kind is not CallKind.CREATE:
            return _TRANSIENT_BACKOFF[attempt - 1]
        return None

    def _once(
        self,
        method: str,
        url: str,
        *,
        kind: CallKind,
        params: Mapping[str, object] | None,
        data: Mapping[str, object] | None,
        files: dict[str, tuple[str, bytes, str]] | None,
    ) -> dict[str, Any]:
        headers, auth_query = self._auth()
        try:
            response = outbound_request(
                method,
                url,
                headers=headers,
                params={**encode_params(params or {}), **auth_query},
                data=encode_params(data) if data is not None else None,
                files=files,
                timeout=self._timeout,
                trusted_hosts=self._trusted,
            )
        except OutboundTimeout as error:
            if kind is CallKind.CREATE:
                raise ProviderError(
                    "Meta did not answer in time; the object may have been created.",
                    kind=ErrorKind.AMBIGUOUS,
                ) from error
            raise ProviderError(str(error), kind=ErrorKind.TRANSIENT) from error
        except OutboundConnectionError as error:
            raise ProviderError(str(error), kind=ErrorKind.TRANSIENT) from error
        if response.is_success:
            return self._body(response, kind)
        raise error_from_response(response)

    @staticmethod
    def _body(response: httpx.Response, kind: CallKind) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        # A success whose body we cannot read: for a create, it did happen.
        raise ProviderError(
            "Meta sent an answer Herald cannot read.",
            kind=ErrorKind.AMBIGUOUS if kind is CallKind.CREATE else ErrorKind.TRANSIENT,
        )
