"""The public tracking endpoints, independent of the web framework that carries them.

Each endpoint takes an :class:`Incoming` (what the HTTP request said) and returns an
:class:`Outgoing` (status, headers, body). Two carriers translate: the Django views of
``herald.tracking.views`` (the URLconf, the test client) and the tracking lane of
``herald.tracking.wsgi``, which serves the high-rate beacon and batch paths without
Django's request machinery. Both run exactly this code, so they answer alike.

They answer fast and say little: a refused token or malformed event is a 400 (a 404
for a click) with a problem body naming the field, never a redirect elsewhere and
never counted. ``record`` (default :func:`services.record`) is how accepted events are
stored; it returns only once they are durable.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings

from herald.core.api import problem_body
from herald.core.errors import DomainError, InvalidInput, NotFound
from herald.tracking import services
from herald.tracking.ingest import Event
from herald.tracking.services import RequestContext, TrackingRefused

__all__ = [
    "PIXEL",
    "Incoming",
    "Outgoing",
    "batch",
    "click",
    "conversions",
    "engagement",
    "impression",
]

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = ("Cache-Control", "no-store, no-cache, must-revalidate, private")
_JSON = "application/json"
_MAX_USER_AGENT = 500

Recorder = Callable[[list[Event]], None]


@dataclass(frozen=True)
class Incoming:
    """One tracking request. ``query`` holds the last value of each query parameter;
    ``headers`` are keyed by lower-case name; ``client_ip`` is the address the proxy
    configuration vouches for (see :func:`client_ip`)."""

    method: str
    query: Mapping[str, Any]
    body: bytes
    content_type: str
    headers: Mapping[str, str]
    client_ip: str | None
    received_at: datetime
    form: Mapping[str, Any] | None = None  # a form body the carrier has already parsed

    def context(self) -> RequestContext:
        return RequestContext(
            user_agent=self.headers.get("user-agent", "")[:_MAX_USER_AGENT],
            headers=self.headers,
            ip=self.client_ip,
            received_at=self.received_at,
        )


@dataclass(frozen=True)
class Outgoing:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def client_ip(remote_addr: str | None, forwarded_for: str) -> str | None:
    """The client's address: the first ``X-Forwarded-For`` hop only when Herald is told
    it sits behind a proxy (``SECURE_PROXY_SSL_HEADER`` set), else the socket's peer."""
    if settings.SECURE_PROXY_SSL_HEADER and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return remote_addr


def _problem(
    error: DomainError, *, status: int | None = None, detail: str | None = None
) -> Outgoing:
    body = problem_body(
        status=status or error.status,
        code="not-found" if status == 404 else error.code,
        title=None if status else error.title,
        detail=detail or error.detail,
        errors=error.errors,
    )
    return Outgoing(
        status=status or error.status,
        body=json.dumps(body).encode(),
        content_type="application/problem+json",
    )


def _data(incoming: Incoming) -> dict[str, Any]:
    if incoming.method == "GET":
        return dict(incoming.query)
    if incoming.content_type == _JSON:
        try:
            body = json.loads(incoming.body or b"{}")
        except ValueError:
            raise TrackingRefused.single("", "json", "The body is not JSON.") from None
        if not isinstance(body, dict):
            raise TrackingRefused.single("", "type", "Send a JSON object.")
        return body
    return dict(incoming.form or {})


def impression(incoming: Incoming, *, record: Recorder = services.record) -> Outgoing:
    """GET → a 1×1 GIF (an <img> beacon); POST → 204 (sendBeacon / fetch)."""
    try:
        data = _data(incoming)
        event = services.impression_event(
            str(data.get("t") or data.get("token") or ""), data, incoming.context()
        )
        record([event])
    except DomainError as error:
        return _problem(error)
    if incoming.method == "GET":
        return Outgoing(200, PIXEL, "image/gif", (_NO_STORE,))
    return Outgoing(204)


def click(incoming: Incoming, token: str) -> Outgoing:
    """Redirect to the ad's own destination; anything wrong is a 404, never a redirect."""
    try:
        outcome = services.click_event(token, dict(incoming.query), incoming.context())
        services.record([outcome.event])
    except InvalidInput as error:
        return _problem(error, status=404, detail="This link is not valid.")
    except NotFound as error:
        return _problem(error)
    return Outgoing(
        302,
        headers=(
            ("Location", outcome.redirect_to),
            _NO_STORE,
            ("Referrer-Policy", "no-referrer-when-downgrade"),
        ),
    )


def engagement(incoming: Incoming) -> Outgoing:
    try:
        data = _data(incoming)
        event = services.engagement_event(str(data.get("token") or ""), data, incoming.context())
        services.record([event])
    except DomainError as error:
        return _problem(error)
    return Outgoing(204)


def conversions(incoming: Incoming, organization_id: UUID) -> Outgoing:
    """Server-to-server conversions, signed with the organization's postback secret in
    ``Herald-Signature: t=<unix>,v1=<hex hmac-sha256 of "t." + body>``."""
    try:
        events = services.conversion_events(
            organization_id,
            incoming.body,
            incoming.headers.get("herald-signature", ""),
            incoming.context(),
        )
        services.record(events)
    except DomainError as error:
        return _problem(error)
    return Outgoing(202, json.dumps({"accepted": len(events)}).encode(), _JSON)


_BATCH_KINDS: dict[str, Callable[[Mapping[str, Any], RequestContext], Event]] = {
    "impression": lambda data, context: services.impression_event(
        str(data.get("token") or ""), data, context
    ),
    "engagement": lambda data, context: services.engagement_event(
        str(data.get("token") or ""), data, context
    ),
}


def batch(incoming: Incoming, *, record: Recorder = services.record) -> Outgoing:
    """Many events in one POST: ``{"events": [{"type": "impression", "token": …}, …]}``.
    A bad event is rejected on its own (its index and reason are returned); the others
    are stored, durably, before the answer."""
    try:
        body = _data(incoming)
    except DomainError as error:
        return _problem(error)
    items = body.get("events")
    if not isinstance(items, list):
        return _problem(TrackingRefused.single("events", "type", "Send a list of events."))
    limit = settings.HERALD_TRACKING_BATCH_MAX_EVENTS
    if len(items) > limit:
        return _problem(
            TrackingRefused.single("events", "max_items", f"Send at most {limit} events.")
        )
    context = incoming.context()
    accepted: list[Event] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise TrackingRefused.single("", "type", "Each event is an object.")
            handler = _BATCH_KINDS.get(str(item.get("type")))
            if handler is None:
                raise TrackingRefused.single(
                    "type", "choice", f"Use one of {', '.join(_BATCH_KINDS)}."
                )
            accepted.append(handler(item, context))
        except DomainError as error:
            rejected.append(
                {
                    "index": index,
                    "errors": [e.as_dict() for e in error.errors]
                    or [{"field": "", "rule": error.code, "message": error.detail}],
                }
            )
    record(accepted)
    answer = {"accepted": len(accepted), "rejected": rejected}
    return Outgoing(200, json.dumps(answer).encode(), _JSON)
