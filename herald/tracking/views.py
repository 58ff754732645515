"""The public tracking endpoints (no login): beacon, click, engagement, batch, postback.

They answer fast and say little: a refused token is a 400 (or 404 for a click) with a
problem body naming the field, never a redirect elsewhere and never counted.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.core.api import problem_response
from herald.core.errors import DomainError, InvalidInput, NotFound
from herald.tracking import services
from herald.tracking.services import RequestContext, TrackingRefused

__all__ = ["batch", "click", "conversions", "engagement", "impression"]

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = "no-store, no-cache, must-revalidate, private"


def _context(request: HttpRequest) -> RequestContext:
    forwarded = request.headers.get("X-Forwarded-For", "")
    # The client address is only trusted from the proxy Herald is told it sits behind.
    from django.conf import settings

    ip = (
        forwarded.split(",")[0].strip()
        if settings.SECURE_PROXY_SSL_HEADER and forwarded
        else request.META.get("REMOTE_ADDR")
    )
    return RequestContext(
        user_agent=request.headers.get("User-Agent", "")[:500],
        headers={key.lower(): value for key, value in request.headers.items()},
        ip=ip,
        received_at=timezone.now(),
    )


def _data(request: HttpRequest) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.GET.items())
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise TrackingRefused.single("", "json", "The body is not JSON.") from None
        if not isinstance(body, dict):
            raise TrackingRefused.single("", "type", "Send a JSON object.")
        return body
    return dict(request.POST.items())


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    return problem_response(
        request,
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        errors=error.errors,
    )


def _pixel() -> HttpResponse:
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = _NO_STORE
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def impression(request: HttpRequest) -> HttpResponse:
    """GET → a 1×1 GIF (an <img> beacon); POST → 204 (sendBeacon / fetch)."""
    try:
        data = _data(request)
        event = services.impression_event(
            str(data.get("t") or data.get("token") or ""), data, _context(request)
        )
        services.record([event])
    except DomainError as error:
        return _refused(request, error)
    return _pixel() if request.method == "GET" else HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Redirect to the ad's own destination; anything wrong is a 404, never a redirect."""
    try:
        outcome = services.click_event(token, dict(request.GET.items()), _context(request))
        services.record([outcome.event])
    except InvalidInput as error:
        return problem_response(
            request,
            status=404,
            code="not-found",
            detail="This link is not valid.",
            errors=error.errors,
        )
    except NotFound as error:
        return _refused(request, error)
    response = HttpResponseRedirect(outcome.redirect_to)
    response["Cache-Control"] = _NO_STORE
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


@csrf_exempt
@require_http_methods(["POST"])
def engagement(request: HttpRequest) -> HttpResponse:
    try:
        data = _data(request)
        event = services.engagement_event(str(data.get("token") or ""), data, _context(request))
        services.record([event])
    except DomainError as error:
        return _refused(request, error)
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["POST"])
def conversions(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Server-to-server conversions, signed with the organization's postback secret in
    ``Herald-Signature: t=<unix>,v1=<hex hmac-sha256 of "t." + body>``."""
    try:
        events = services.conversion_events(
            organization_id,
            request.body,
            request.headers.get("Herald-Signature", ""),
            _context(request),
        )
        services.record(events)
    except DomainError as error:
        return _refused(request, error)
    return JsonResponse({"accepted": len(events)}, status=202)


_BATCH_KINDS = {
    "impression": lambda data, context: services.impression_event(
        str(data.get("token") or ""), data, context
    ),
    "engagement": lambda data, context: services.engagement_event(
        str(data.get("token") or ""), data, context
    ),
}


@csrf_exempt
@require_http_methods(["POST"])
def batch(request: HttpRequest) -> HttpResponse:
    """Many events in one POST: ``{"events": [{"type": "impression", "token": …}, …]}``.
    A bad event is rejected on its own (its index and reason are returned); the others
    are stored, durably, before the answer."""
    from django.conf import settings

    try:
        body = _data(request)
    except DomainError as error:
        return _refused(request, error)
    items = body.get("events")
    if not isinstance(items, list):
        return _refused(request, TrackingRefused.single("events", "type", "Send a list of events."))
    limit = settings.HERALD_TRACKING_BATCH_MAX_EVENTS
    if len(items) > limit:
        return _refused(
            request, TrackingRefused.single("events", "max_items", f"Send at most {limit} events.")
        )
    context = _context(request)
    accepted, rejected = [], []
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
    services.record(accepted)
    return JsonResponse({"accepted": len(accepted), "rejected": rejected}, status=200)
