"""The public tracking endpoints (no login) as Django views: beacon, click, engagement,
batch, postback. Each translates the request into ``endpoints.Incoming`` and the answer
back; the endpoints themselves live in ``herald.tracking.endpoints``, shared with the
tracking lane of ``herald.tracking.wsgi``."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.tracking import endpoints
from herald.tracking.endpoints import Incoming, Outgoing

__all__ = ["batch", "click", "conversions", "engagement", "impression", "incoming", "outgoing"]


def incoming(request: HttpRequest) -> Incoming:
    """What the tracking endpoints need to know of a Django request."""
    is_form = request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    )
    return Incoming(
        method=request.method or "GET",
        query=dict(request.GET.items()),
        body=request.body if request.method == "POST" and not is_form else b"",
        content_type=request.content_type or "",
        headers={key.lower(): value for key, value in request.headers.items()},
        client_ip=endpoints.client_ip(
            request.META.get("REMOTE_ADDR"), request.headers.get("X-Forwarded-For", "")
        ),
        received_at=timezone.now(),
        form=dict(request.POST.items()) if is_form else None,
    )


def outgoing(answer: Outgoing) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def impression(request: HttpRequest) -> HttpResponse:
    """GET → a 1×1 GIF (an <img> beacon); POST → 204 (sendBeacon / fetch)."""
    return outgoing(endpoints.impression(incoming(request)))


@csrf_exempt
@require_http_methods(["GET"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Redirect to the ad's own destination; anything wrong is a 404, never a redirect."""
    return outgoing(endpoints.click(incoming(request), token))


@csrf_exempt
@require_http_methods(["POST"])
def engagement(request: HttpRequest) -> HttpResponse:
    return outgoing(endpoints.engagement(incoming(request)))


@csrf_exempt
@require_http_methods(["POST"])
def conversions(request: HttpRequest, organization_id: UUID) -> HttpResponse:
    """Server-to-server conversions (see ``endpoints.conversions``)."""
    return outgoing(endpoints.conversions(incoming(request), organization_id))


@csrf_exempt
@require_http_methods(["POST"])
def batch(request: HttpRequest) -> HttpResponse:
    """Many events in one POST (see ``endpoints.batch``)."""
    return outgoing(endpoints.batch(incoming(request)))
