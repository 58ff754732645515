"""The tracking lane: the impression beacon and the batch endpoint straight from WSGI.

``/t/i`` and ``/t/batch`` take thousands of requests a second, each a few hundred bytes,
with no session, login, CSRF token or template. Django's request cycle (request and
response objects, signals, URL resolution, middleware) costs several times the tracking
work itself, so :class:`TrackingLane` answers those two paths from the WSGI environ,
through exactly the endpoint functions the Django views call
(``herald.tracking.endpoints``), and hands every other request to Django.

It keeps what Django would have given those responses: the security headers that
``SecurityMiddleware`` itself works out at start (nosniff, Referrer-Policy, COOP, HSTS on
HTTPS), the request body limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``, a 400 beyond it) and
database connection hygiene (``close_old_connections`` before each request, as
``request_started`` does). A request it would answer differently from Django — a plain
HTTP request when ``SECURE_SSL_REDIRECT`` is on, a multipart body, an unknown method —
goes to Django instead.

Callers must not route a path here that needs anything else from Django.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.utils import timezone

from herald.core.api import PROBLEM_CONTENT_TYPE, problem_body
from herald.tracking import endpoints
from herald.tracking.endpoints import Incoming, Outgoing

__all__ = ["TrackingLane"]

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_ROUTES: dict[str, tuple[Callable[[Incoming], Outgoing], frozenset[str]]] = {
    "/t/i": (endpoints.impression, frozenset({"GET", "POST"})),
    "/t/batch": (endpoints.batch, frozenset({"POST"})),
}
_FORM = "application/x-www-form-urlencoded"


def _security_headers(*, secure: bool) -> list[tuple[str, str]]:
    """The headers Django's SecurityMiddleware adds to a response to a plain (or, with
    ``secure``, an HTTPS) request. Worked out once, by that middleware itself, so the
    lane answers with exactly its headers under the current settings."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/t/i",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "https" if secure else "http",
    }
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = secure_value if secure else "http"
    response = HttpResponse()
    plain = set(response.headers)
    SecurityMiddleware(lambda request: response).process_response(WSGIRequest(environ), response)
    return [(name, value) for name, value in response.items() if name not in plain]


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class TrackingLane:
    """A WSGI application: the lane's paths answered here, everything else by ``django``."""

    def __init__(self, django: WSGIApp) -> None:
        self.django = django
        self.headers = {secure: _security_headers(secure=secure) for secure in (False, True)}

    @staticmethod
    def _is_secure(environ: dict[str, Any]) -> bool:
        """``HttpRequest.is_secure()`` on the bare environ."""
        proxy = settings.SECURE_PROXY_SSL_HEADER
        if proxy:
            header, secure_value = proxy
            value = environ.get(header)
            if value is not None:
                return bool(value.split(",", 1)[0].strip() == secure_value)
        return bool(environ.get("wsgi.url_scheme") == "https")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = _ROUTES.get(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD", "GET")
        if route is None or method not in route[1]:
            return self.django(environ, start_response)
        secure = self._is_secure(environ)
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if (settings.SECURE_SSL_REDIRECT and not secure) or (
            method == "POST" and content_type not in ("application/json", _FORM, "")
        ):
            return self.django(environ, start_response)
        close_old_connections()
        try:
            answer = self._answer(route[0], environ, method, content_type)
        except Exception:
            logger.exception("Tracking request failed: %s %s", method, environ.get("PATH_INFO"))
            answer = Outgoing(
                500,
                json.dumps(
                    problem_body(status=500, code="server-error", detail="Try again later.")
                ).encode(),
                PROBLEM_CONTENT_TYPE,
            )
        headers = list(answer.headers) + self.headers[secure]
        if answer.content_type:
            headers.append(("Content-Type", answer.content_type))
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(_STATUS_LINES[answer.status], headers)
        return [answer.body]

    def _answer(
        self,
        endpoint: Callable[[Incoming], Outgoing],
        environ: dict[str, Any],
        method: str,
        content_type: str,
    ) -> Outgoing:
        body = b""
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if length < 0 or (limit is not None and length > limit):
                return Outgoing(
                    400,
                    json.dumps(
                        problem_body(
                            status=400,
                            code="tracking-refused",
                            detail=f"Send a body of at most {limit} bytes with its Content-Length.",
                        )
                    ).encode(),
                    PROBLEM_CONTENT_TYPE,
                )
            body = environ["wsgi.input"].read(length) if length else b""
        # PEP 3333 hands over bytes as latin-1 text; Django reads them as UTF-8, so do we.
        query_string = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        incoming = Incoming(
            method=method,
            query=dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {},
            body=b"" if content_type == _FORM else body,
            content_type=content_type,
            headers=headers,
            client_ip=endpoints.client_ip(
                environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR", "")
            ),
            received_at=timezone.now(),
            form=dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            if content_type == _FORM
            else None,
        )
        return endpoint(incoming)
