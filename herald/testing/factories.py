"""Builders for tests: the smallest valid objects, made through the real services."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Role
from herald.accounts.models import Membership, Organization
from herald.accounts.services import organization_create
from herald.campaigns.models import AdCreative, Audience, Campaign, CampaignUnit, MediaAsset
from herald.campaigns.services.audiences import audience_create
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.campaigns import campaign_create
from herald.campaigns.services.creatives import creative_create
from herald.campaigns.services.media import media_upload
from herald.campaigns.services.units import unit_create

__all__ = [
    "GOOGLE_CREATIVE",
    "META_CREATIVE",
    "VALID_RULES",
    "make_actor",
    "make_audience",
    "make_campaign",
    "make_connection",
    "make_creative",
    "make_image",
    "make_launchable_campaign",
    "make_media",
    "make_organization",
    "make_unit",
    "make_user",
]

VALID_RULES: dict[str, Any] = {"locations": {"countries": ["US"]}, "age": {"min": 18, "max": 65}}

GOOGLE_CREATIVE: dict[str, Any] = {
    "headlines": ["Spicy Jalapeño Chips", "20% Off This Week", "Organic Potato Chips"],
    "descriptions": [
        "Made with organic potatoes and real jalapeños.",
        "Crunch into the heat today!",
    ],
    "display_path": ["spicy"],
    "destination_url": "https://www.tastychips.co/spicy",
}

META_CREATIVE: dict[str, Any] = {
    "headlines": ["New Spicy Jalapeño Chips | 20% Off"],
    "descriptions": ["tastychips.co"],
    "primary_text": "Made with organic potatoes and real jalapeños. Crunch into the heat today!",
    "destination_url": "https://www.tastychips.co/spicy",
    "call_to_action": "SHOP_NOW",
}

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_user(email: str | None = None, **extra: Any) -> User:
    address = email or f"user{_next()}@example.com"
    return get_user_model().objects.create_user(
        username=address, email=address, password="correct horse battery", **extra
    )


def make_organization(name: str | None = None, owner: User | None = None) -> Organization:
    return organization_create(name=name or f"Org {_next()}", owner=owner or make_user())


def make_actor(organization: Organization, role: str = Role.OWNER) -> Actor:
    """A member with ``role`` in ``organization`` (a new user)."""
    user = make_user()
    Membership.objects.create(user=user, organization=organization, role=role)
    return Actor(organization=organization, kind=ActorKind.USER, role=role, user=user)


def make_campaign(actor: Actor, **fields: Any) -> Campaign:
    fields.setdefault("name", f"Campaign {_next()}")
    fields.setdefault("objective", "sales")
    return campaign_create(actor=actor, **fields)


def make_audience(actor: Actor, **fields: Any) -> Audience:
    fields.setdefault("name", f"Audience {_next()}")
    fields.setdefault("rules", VALID_RULES)
    return audience_create(actor=actor, **fields)


def make_unit(
    actor: Actor, campaign: Campaign, channel: str = "google_ads", **fields: Any
) -> CampaignUnit:
    fields.setdefault("name", f"Unit {_next()}")
    if "audience_id" not in fields:
        fields["audience_id"] = make_audience(actor).pk
    return unit_create(actor=actor, campaign_id=campaign.pk, channel=channel, **fields)


def make_image(width: int = 1080, height: int = 1080, image_format: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format=image_format)
    return buffer.getvalue()


def make_media(actor: Actor, **image: Any) -> MediaAsset:
    return media_upload(actor=actor, stream=io.BytesIO(make_image(**image)), filename="chips.jpg")


def make_creative(actor: Actor, unit: CampaignUnit, **fields: Any) -> AdCreative:
    base = dict(META_CREATIVE if unit.channel == "meta_ads" else GOOGLE_CREATIVE)
    if unit.channel == "meta_ads" and "media_id" not in fields:
        base["media_id"] = make_media(actor).pk
    base.update(fields)
    return creative_create(actor=actor, unit_id=unit.pk, **base)


def make_connection(
    organization: Organization,
    provider: str = "google_ads",
    *,
    sandbox: bool = True,
    external_id: str | None = None,
    currency: str = "USD",
    access_token: str = "test-access-token",
    refresh_token: str | None = "test-refresh-token",
) -> Any:
    """A connected account without an OAuth round trip: a Connection with sealed tokens
    and one active AdAccount. Returns the AdAccount."""
    from herald.core.secretbox import seal
    from herald.integrations.models import AdAccount, Connection

    connection = Connection.objects.create(
        organization=organization,
        provider=provider,
        is_sandbox=sandbox,
        name=f"{provider} test",
        sealed_access_token=seal(
            access_token, organization_id=organization.pk, purpose=f"{provider}.access_token"
        ),
        sealed_refresh_token=seal(
            refresh_token, organization_id=organization.pk, purpose=f"{provider}.refresh_token"
        )
        if refresh_token
        else "",
        token_expires_at=timezone.now() + timedelta(hours=1),
    )
    return AdAccount.objects.create(
        organization=organization,
        connection=connection,
        provider=provider,
        external_id=external_id or f"{_next():010d}",
        name=f"{provider} account",
        currency=currency,
        time_zone="America/New_York",
        status=AdAccount.Status.ACTIVE,
        is_sandbox=sandbox,
    )


def make_launchable_campaign(
    actor: Actor, *, channels: tuple[str, ...] = ("google_ads", "meta_ads"), **fields: Any
) -> Campaign:
    """A campaign that passes every launch check except the ad-account one."""
    fields.setdefault("end_at", timezone.now() + timedelta(days=30))
    campaign = make_campaign(actor, **fields)
    share = Decimal("100.00")
    budget_set(
        actor=actor,
        campaign_id=campaign.pk,
        kind="daily",
        amount=share * len(channels),
        allocations=dict.fromkeys(channels, share),
    )
    for channel in channels:
        make_creative(actor, make_unit(actor, campaign, channel))
    return campaign
