"""Turning tracking requests into stored events.

Every public endpoint lands here: the impression beacon, the viewability report, the
signed click, the engagement report, the conversion postback and the batch. Each
checks the signature first (a tampered token or body is refused and never counted),
screens invalid traffic (bots, prefetches: stored as invalid, excluded from net and
billable counts), keeps no raw IP (only a coarse prefix), identifies the visitor by
a keyed digest, and appends through ``herald.tracking.ingest``.

Click rules: a click redirects only to the creative's saved destination, with the
campaign's UTM parameters and a fresh click id appended; a second click by the same
visitor on the same creative within ``HERALD_DUPLICATE_CLICK_WINDOW_SECONDS`` is stored
but not billable. A conversion carrying a click id is attributed to that click's
campaign, unit and creative.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from herald.campaigns.models import AdCreative, Campaign, CampaignUnit
from herald.core.errors import InvalidInput, NotFound
from herald.core.money import validate_currency
from herald.core.secretbox import seal, unseal
from herald.metrics.sketch import visitor_digest
from herald.tracking import ivt, signing, utm
from herald.tracking.ingest import Event, ingest
from herald.tracking.models import EventKind, PostbackSecret, TrackingClick, TrackingComment

__all__ = [
    "ENGAGEMENT_TYPES",
    "RequestContext",
    "TrackingRefused",
    "click_event",
    "conversion_events",
    "engagement_event",
    "impression_event",
    "postback_secret_rotate",
    "record",
    "tracking_key",
    "tracking_links",
]

ENGAGEMENT_TYPES = ("like", "share", "comment", "save", "bookmark", "follow")
_VIEWABLE_MIN_PIXELS = 50  # percent, IAB
_VIEWABLE_MIN_MS = {"display": 1000, "video": 2000}
_MAX_ID = 100


class TrackingRefused(InvalidInput):
    """A tracking request that is refused outright (bad signature, malformed event):
    400, as the tracking contract promises for anything forged or tampered with."""

    status = 400
    code = "tracking-refused"
    title = "Event refused"


@dataclass(frozen=True)
class RequestContext:
    """What Herald may keep of the HTTP request an event came with. The derived values
    are worked out once per request, however many events (a batch) share it."""

    user_agent: str
    headers: Mapping[str, str]
    ip: str | None
    received_at: datetime

    @cached_property
    def invalid_reason(self) -> str:
        reason = ivt.classify_request(user_agent=self.user_agent, headers=self.headers, ip=self.ip)
        return reason.value if reason is not None else ""

    @cached_property
    def device(self) -> str:
        return ivt.device_type(self.user_agent)

    @cached_property
    def ip_prefix(self) -> str:
        return (ivt.coarse_ip(self.ip) if self.ip else None) or ""


@lru_cache(maxsize=64)
def _master_key(secret_key: str) -> bytes:
    return hashlib.sha256(("herald-tracking:" + secret_key).encode()).digest()


# Derived keys depend only on their inputs (the secret key is one of them, so a rotated
# secret derives afresh); remembering them saves two HMACs per event on the hot path.
@lru_cache(maxsize=10_000)
def _derived_key(secret_key: str, organization_id: str, purpose: str) -> bytes:
    return signing.derive_key(_master_key(secret_key), organization_id, purpose)


def tracking_key(organization_id: object, purpose: str = "links") -> bytes:
    """The organization's key for signing its tracking tokens (derived from SECRET_KEY,
    never stored)."""
    return _derived_key(settings.SECRET_KEY, str(organization_id), purpose)


def _visitor(organization_id: object, visitor_id: str, context: RequestContext) -> str:
    """A keyed digest of the visitor: the client's id when it sends one, else a daily
    fingerprint of network prefix and browser, so raw identifiers are never stored."""
    key = visitor_id.strip()[:200] or (
        f"fp:{context.ip_prefix}:{context.user_agent}:{context.received_at:%Y-%m-%d}"
    )
    return visitor_digest(
        f"{organization_id}:{key}", secret=tracking_key(organization_id, "visitors")
    ).hex()


@lru_cache(maxsize=50_000)
def _unit_channel(unit_id: uuid.UUID) -> str:
    # A unit's channel never changes, so caching it per process is always right.
    return str(
        CampaignUnit.objects.filter(pk=unit_id).values_list("channel", flat=True).first() or ""
    )


def _clean_id(value: object, *, field: str, required: bool = False) -> str:
    text = str(value or "").strip()
    if not text:
        if required:
            raise TrackingRefused.single(field, "required", "This field is required.")
        return ""
    if len(text) > _MAX_ID or not text.isprintable():
        raise TrackingRefused.single(
            field, "format", f"Use at most {_MAX_ID} printable characters."
        )
    return text


def _occurred_at(value: object, context: RequestContext) -> datetime:
    """The event's own time when the client gives one (aware ISO 8601), within
    ``HERALD_EVENT_MAX_AGE_DAYS`` of now; otherwise the time it was received."""
    if value in (None, ""):
        return context.received_at
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise TrackingRefused.single(
            "occurred_at", "iso_datetime", "Give an ISO 8601 time."
        ) from None
    if moment.tzinfo is None:
        raise TrackingRefused.single("occurred_at", "aware_datetime", "Include the UTC offset.")
    limit = timedelta(days=settings.HERALD_EVENT_MAX_AGE_DAYS)
    if abs(moment - context.received_at) > limit:
        raise TrackingRefused.single(
            "occurred_at", "range", "The event time is too far from now to be accepted."
        )
    return moment.astimezone(UTC)


def _verify(token: str, kind: str, *, destination: str | None = None) -> signing.TrackingClaims:
    try:
        claims = _verified_claims(
            token,
            kind,
            destination,
            (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS),
        )
    except signing.InvalidToken as error:
        raise TrackingRefused.single(
            "token", str(error), "The tracking token is not valid."
        ) from None
    # A remembered verification may have outlived the token: expiry is checked each time.
    if claims.expires_at is not None and time.time() >= claims.expires_at:
        raise TrackingRefused.single("token", "expired", "The tracking token is not valid.")
    return claims


# An ad's beacon and click tokens arrive again and again, so each process remembers the
# ones that verified. The cache key holds everything the answer depends on — the whole
# token, the kind, the destination and the secret keys — so a hit is exactly what a fresh
# check would return; refused tokens raise and are never remembered.
@lru_cache(maxsize=50_000)
def _verified_claims(
    token: str, kind: str, destination: str | None, secrets: tuple[str, ...]
) -> signing.TrackingClaims:
    claims = signing.read_token(token)
    keys = [_derived_key(secret, str(claims.organization_id), "links") for secret in secrets]
    for key in keys[:-1]:
        try:
            return signing.verify_token(token, key=key, kind=kind, destination=destination)
        except signing.InvalidToken as error:
            if error.reason != "bad_signature":
                raise
    return signing.verify_token(token, key=keys[-1], kind=kind, destination=destination)


def _base_event(
    claims: signing.TrackingClaims,
    context: RequestContext,
    *,
    kind: EventKind,
    data: Mapping[str, Any],
) -> Event:
    occurred = _occurred_at(data.get("occurred_at"), context)
    invalid = context.invalid_reason
    return Event(
        day=occurred.date(),
        occurred_at=occurred,
        received_at=context.received_at,
        organization_id=claims.organization_id,
        campaign_id=claims.campaign_id,
        unit_id=claims.unit_id,
        creative_id=claims.creative_id,
        channel=_unit_channel(claims.unit_id) if claims.unit_id else "",
        placement=_clean_id(data.get("placement"), field="placement"),
        device=context.device,
        country=_clean_id(data.get("country"), field="country")[:2].upper(),
        region=_clean_id(data.get("region"), field="region"),
        kind=int(kind),
        engagement_type="",
        event_id=_clean_id(data.get("event_id"), field="event_id") or uuid.uuid4().hex,
        visitor=_visitor(claims.organization_id, str(data.get("visitor_id") or ""), context),
        session_id=_clean_id(data.get("session_id"), field="session_id"),
        click_id="",
        value=None,
        currency="",
        valid=not invalid,
        billable=not invalid,
        invalid_reason=invalid,
        utm_source="",
        utm_medium="",
        utm_campaign="",
        utm_content="",
        utm_term="",
        order_id="",
        ip_prefix=context.ip_prefix,
    )


def impression_event(token: str, data: Mapping[str, Any], context: RequestContext) -> Event:
    """An impression (or, with ``viewable`` data, a viewable impression per IAB: at
    least 50 % of pixels for 1 s — 2 s for video — as the client measured)."""
    claims = _verify(token, "i")
    if data.get("viewable") in (None, "", False, "0", "false"):
        return _base_event(claims, context, kind=EventKind.IMPRESSION, data=data)
    try:
        pixels = int(data.get("visible_percent", 0))
        duration = int(data.get("visible_ms", 0))
    except (TypeError, ValueError):
        raise TrackingRefused.single("visible_ms", "integer", "Give whole numbers.") from None
    media = str(data.get("media") or "display")
    if media not in _VIEWABLE_MIN_MS:
        raise TrackingRefused.single("media", "choice", "Use display or video.")
    if pixels < _VIEWABLE_MIN_PIXELS or duration < _VIEWABLE_MIN_MS[media]:
        raise TrackingRefused.single(
            "visible_ms",
            "not_viewable",
            f"Viewable needs ≥ {_VIEWABLE_MIN_PIXELS}% of pixels for "
            f"≥ {_VIEWABLE_MIN_MS[media]} ms ({media}).",
        )
    return _base_event(claims, context, kind=EventKind.VIEWABLE, data=data)


def engagement_event(token: str, data: Mapping[str, Any], context: RequestContext) -> Event:
    claims = _verify(token, "e")
    kind = str(data.get("type") or "")
    if kind not in ENGAGEMENT_TYPES:
        raise TrackingRefused.single("type", "choice", f"Use one of {', '.join(ENGAGEMENT_TYPES)}.")
    event = replace(
        _base_event(claims, context, kind=EventKind.ENGAGEMENT, data=data), engagement_type=kind
    )
    if kind == "comment":
        _store_comment(claims, event, data)
    return event


def _store_comment(claims: signing.TrackingClaims, event: Event, data: Mapping[str, Any]) -> None:
    body = str(data.get("body") or "").strip()
    if not body or len(body) > 5000:
        raise TrackingRefused.single("body", "length", "A comment needs 1 to 5,000 characters.")
    parent = None
    if data.get("parent_id"):
        parent = TrackingComment.objects.filter(
            organization_id=claims.organization_id,
            campaign_id=claims.campaign_id,
            pk=_uuid(data["parent_id"], field="parent_id"),
        ).first()
        if parent is None:
            raise TrackingRefused.single("parent_id", "not_found", "No such comment to reply to.")
    try:
        with transaction.atomic():
            TrackingComment.objects.create(
                organization_id=claims.organization_id,
                campaign_id=claims.campaign_id,
                creative_id=claims.creative_id,
                parent=parent,
                event_id=event.event_id,
                visitor=event.visitor,
                author_name=str(data.get("author_name") or "")[:100],
                body=body,
            )
    except IntegrityError:
        pass  # the same comment event sent again: stored once


def _uuid(value: object, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise TrackingRefused.single(field, "uuid", "Give a UUID.") from None


@dataclass(frozen=True)
class ClickOutcome:
    event: Event
    redirect_to: str


def click_event(token: str, data: Mapping[str, Any], context: RequestContext) -> ClickOutcome:
    """Record a click and say where to send the browser: the creative's saved
    destination (the token signs its hash, so it cannot be re-pointed), UTM-tagged,
    with the click id Herald attributes later conversions with."""
    try:
        claims = signing.read_token(token)
    except signing.InvalidToken:
        claims = None
    if claims is None or claims.creative_id is None:
        raise TrackingRefused.single("token", "malformed", "The tracking token is not valid.")
    creative = (
        AdCreative.objects.select_related("unit__campaign")
        .filter(pk=claims.creative_id, organization_id=claims.organization_id)
        .first()
    )
    if creative is None:
        raise NotFound(detail="This ad no longer exists.")
    claims = _verify(token, "c", destination=creative.destination_url)
    unit, campaign = creative.unit, creative.unit.campaign
    click_id = signing.new_click_id()
    base = _base_event(claims, context, kind=EventKind.CLICK, data=data)
    window = timedelta(seconds=settings.HERALD_DUPLICATE_CLICK_WINDOW_SECONDS)
    repeated = (
        base.valid
        and TrackingClick.objects.filter(
            creative_id=creative.pk,
            visitor=base.visitor,
            occurred_at__gte=base.occurred_at - window,
            occurred_at__lte=base.occurred_at,
        ).exists()
    )
    tags = utm.utm_defaults(
        channel=unit.channel,
        campaign_name=campaign.name,
        campaign_id=campaign.pk,
        unit_name=unit.name,
        creative_name=creative.name or None,
    )
    event = replace(
        base,
        click_id=click_id,
        billable=base.valid and not repeated,
        utm_source=tags.get("utm_source", "")[:200],
        utm_medium=tags.get("utm_medium", "")[:200],
        utm_campaign=tags.get("utm_campaign", "")[:200],
        utm_content=tags.get("utm_content", "")[:200],
        utm_term=tags.get("utm_term", "")[:200],
    )
    TrackingClick.objects.create(
        organization_id=claims.organization_id,
        click_id=click_id,
        campaign_id=campaign.pk,
        unit_id=unit.pk,
        creative_id=creative.pk,
        channel=unit.channel,
        placement=event.placement,
        device=event.device,
        visitor=event.visitor,
        occurred_at=event.occurred_at,
        valid=event.valid,
        billable=event.billable,
    )
    try:
        tagged = utm.append_utm(creative.destination_url, tags)
    except ValueError:
        # A destination saved before today's URL rules: never redirect somewhere odd.
        raise NotFound(detail="This ad's destination cannot be used.") from None
    destination = _with_click_id(tagged, click_id)
    return ClickOutcome(event=event, redirect_to=destination)


CLICK_ID_PARAMETER = "hclid"


def _with_click_id(url: str, click_id: str) -> str:
    """The landing page gets Herald's click id so its conversions can name the click.
    Appended as written: the advertiser's own query stays byte for byte."""
    parts = urlsplit(url)
    parameter = urlencode({CLICK_ID_PARAMETER: click_id})
    query = f"{parts.query}&{parameter}" if parts.query else parameter
    return urlunsplit(parts._replace(query=query))


def _postback_secrets(organization_id: uuid.UUID) -> list[bytes]:
    now = timezone.now()
    return [
        unseal(secret.sealed_secret, organization_id=organization_id, purpose="postback").encode()
        for secret in PostbackSecret.objects.filter(organization_id=organization_id)
        if secret.expires_at is None or secret.expires_at > now
    ]


def conversion_events(
    organization_id: uuid.UUID, body: bytes, signature: str, context: RequestContext
) -> list[Event]:
    """Conversions posted server to server: the body must carry a valid
    ``Herald-Signature`` made with one of the organization's postback secrets."""
    secrets = _postback_secrets(organization_id)
    if not secrets:
        raise TrackingRefused.single(
            "signature", "no_secret", "This organization has no postback secret yet."
        )
    try:
        signing.verify_body_signature(
            body,
            signature,
            secrets=secrets,
            now=int(context.received_at.timestamp()),
        )
    except signing.InvalidSignature as error:
        raise TrackingRefused.single(
            "signature", str(error), "The signature is not valid."
        ) from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise TrackingRefused.single("", "json", "The body is not JSON.") from None
    items = payload.get("conversions") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        items = [payload]
    return [_conversion(organization_id, item, context, index) for index, item in enumerate(items)]


def _conversion(
    organization_id: uuid.UUID, item: object, context: RequestContext, index: int
) -> Event:
    if not isinstance(item, dict):
        raise TrackingRefused.single(
            f"conversions.{index}", "type", "Each conversion is an object."
        )
    click_id = _clean_id(item.get("click_id"), field="click_id")
    click = (
        TrackingClick.objects.filter(organization_id=organization_id, click_id=click_id).first()
        if click_id
        else None
    )
    if click is not None:
        # Attributed: the conversion lands in the same cell as the click it follows.
        campaign_id, unit_id, creative_id = click.campaign_id, click.unit_id, click.creative_id
        channel, placement, device = click.channel, click.placement, click.device
    else:
        campaign_id = _uuid(item.get("campaign_id"), field="campaign_id")
        unit_id, creative_id, channel, placement, device = None, None, "", "", ""
    if not Campaign.objects.filter(pk=campaign_id, organization_id=organization_id).exists():
        raise TrackingRefused.single("campaign_id", "not_found", "No such campaign.")
    try:
        value = Decimal(str(item.get("value", "0")))
    except InvalidOperation:
        raise TrackingRefused.single("value", "decimal", "Give the value as a number.") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise TrackingRefused.single("value", "range", "The value must be 0 or more.")
    currency = validate_currency(str(item.get("currency") or "USD"))
    order_id = _clean_id(item.get("order_id"), field="order_id")
    occurred = _occurred_at(item.get("occurred_at"), context)
    return Event(
        day=occurred.date(),
        occurred_at=occurred,
        received_at=context.received_at,
        organization_id=organization_id,
        campaign_id=campaign_id,
        unit_id=unit_id,
        creative_id=creative_id,
        channel=channel,
        placement=placement,
        device=device,
        country="",
        region="",
        kind=int(EventKind.CONVERSION),
        engagement_type="",
        # The same order posted twice counts once.
        event_id=_clean_id(item.get("event_id"), field="event_id")
        or (f"order:{order_id}" if order_id else uuid.uuid4().hex),
        visitor=click.visitor if click is not None else "",
        session_id="",
        click_id=click_id if click is not None else "",
        value=value,
        currency=currency,
        valid=True,
        billable=True,
        invalid_reason="",
        utm_source="",
        utm_medium="",
        utm_campaign="",
        utm_content="",
        utm_term="",
        order_id=order_id,
        ip_prefix="",
    )


def record(events: list[Event]) -> None:
    """Append already-validated events (durable once this returns)."""
    ingest(events)


def tracking_links(creative: AdCreative, *, base_url: str) -> dict[str, str]:
    """The signed beacon, click and engagement URLs of a creative, to put in the ad."""
    unit = creative.unit
    key = tracking_key(creative.organization_id)
    claims = signing.TrackingClaims(
        kind="i",
        organization_id=creative.organization_id,
        campaign_id=unit.campaign_id,
        unit_id=unit.pk,
        creative_id=creative.pk,
        expires_at=None,
        destination_hash=None,
    )
    impression = signing.sign_token(claims, key=key)
    click = signing.sign_token(
        replace(
            claims, kind="c", destination_hash=signing.destination_hash(creative.destination_url)
        ),
        key=key,
    )
    engagement = signing.sign_token(replace(claims, kind="e"), key=key)
    return {
        "impression_url": f"{base_url}/t/i?t={impression}",
        "click_url": f"{base_url}/t/c/{click}",
        "engagement_token": engagement,
        "impression_token": impression,
    }


def postback_secret_rotate(*, organization_id: uuid.UUID, keep_previous_hours: int = 72) -> str:
    """Make a new postback secret and return it (shown once). The previous one stays
    valid for ``keep_previous_hours`` so senders can switch without losing events."""
    import secrets as stdlib_secrets

    new_secret = stdlib_secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        PostbackSecret.objects.filter(
            organization_id=organization_id, expires_at__isnull=True
        ).update(expires_at=now + timedelta(hours=keep_previous_hours))
        PostbackSecret.objects.filter(organization_id=organization_id, expires_at__lte=now).delete()
        PostbackSecret.objects.create(
            organization_id=organization_id,
            sealed_secret=seal(new_secret, organization_id=organization_id, purpose="postback"),
            label=now.strftime("%Y%m%d%H%M%S"),
        )
    return new_secret
