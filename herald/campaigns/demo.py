"""Demo data: "Tasty Chips Co." and its "Spicy Jalapeño Chips" campaign (seed 001 §6),
plus campaigns in other states so every page has something to show.

Built through the same services as real data. Campaigns that are shown as already
running or finished have their history written as log rows marked "demo data": they
never reached a real platform.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Role
from herald.accounts.models import Membership, Organization
from herald.accounts.services import organization_create
from herald.campaigns.choices import LogOutcome
from herald.campaigns.models import Campaign
from herald.campaigns.services.audiences import audience_create
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.campaigns import campaign_create
from herald.campaigns.services.creatives import creative_create
from herald.campaigns.services.kpis import kpi_set
from herald.campaigns.services.lifecycle import campaign_schedule, execution_log_write
from herald.campaigns.services.media import media_upload
from herald.campaigns.services.units import unit_create

__all__ = ["DEMO_ORGANIZATION_SLUG", "demo_image", "demo_load"]

DEMO_ORGANIZATION_SLUG = "tasty-chips"
HEADLINE = "New Spicy Jalapeño Chips | 20% Off"
DESCRIPTION = "Made with organic potatoes and real jalapeños. Crunch into the heat today!"
DESTINATION = "https://www.tastychips.co/spicy"


def demo_image() -> bytes:
    """A 1080×1080 JPEG standing in for chips_bag_spicy.jpg, drawn here so the repository
    carries no binary: a chip bag in jalapeño green on a warm background."""
    image = Image.new("RGB", (1080, 1080), (252, 233, 196))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((300, 160, 780, 940), radius=60, fill=(46, 125, 50))
    draw.rectangle((300, 160, 780, 240), fill=(27, 94, 32))
    draw.ellipse((420, 420, 660, 660), fill=(255, 202, 40))
    draw.polygon([(540, 300), (600, 400), (480, 400)], fill=(211, 47, 47))
    draw.text((390, 720), "SPICY JALAPENO", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _history(campaign: Campaign, actor: Actor, steps: list[tuple[str, str, str]]) -> None:
    for action, from_status, to_status in steps:
        execution_log_write(
            campaign=campaign,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            outcome=LogOutcome.SUCCESS,
            message="Demo data: this history was written by the demo loader.",
        )
    campaign.status = steps[-1][2]
    campaign.status_changed_at = timezone.now()
    campaign.save(update_fields=["status", "status_changed_at", "updated_at"])


@transaction.atomic
def demo_load(*, owner: User) -> Organization:
    """Create the demo organization with ``owner`` as its owner; a second call only
    makes sure ``owner`` is a member."""
    existing = Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).first()
    if existing is not None:
        Membership.objects.get_or_create(
            user=owner, organization=existing, defaults={"role": Role.OWNER}
        )
        return existing
    organization = organization_create(
        name="Tasty Chips Co.",
        slug=DEMO_ORGANIZATION_SLUG,
        owner=owner,
        default_currency="USD",
        time_zone="America/New_York",
    )
    actor = Actor(organization=organization, kind=ActorKind.USER, role=Role.OWNER, user=owner)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)

    snack_lovers = audience_create(
        actor=actor,
        name="US snack lovers",
        description="Adults in the US and Canada who follow snack and food pages.",
        rules={
            "locations": {"countries": ["US", "CA"]},
            "age": {"min": 18, "max": 45},
            "interests": [{"name": "Snack foods"}, {"name": "Mexican cuisine"}],
            "languages": ["en"],
            "devices": ["mobile", "desktop"],
        },
    )
    image = media_upload(
        actor=actor, stream=io.BytesIO(demo_image()), filename="chips_bag_spicy.jpg"
    )

    spicy = campaign_create(
        actor=actor,
        name="Spicy Jalapeño Chips",
        objective="sales",
        description="Launch of the new Spicy Jalapeño flavour with 20% off.",
        start_at=now + timedelta(days=7),
        end_at=now + timedelta(days=37),
        tags=["launch", "spicy"],
    )
    budget_set(
        actor=actor,
        campaign_id=spicy.pk,
        kind="lifetime",
        amount=Decimal("3000.00"),
        allocations={"google_ads": Decimal("1200.00"), "meta_ads": Decimal("1800.00")},
    )
    google = unit_create(
        actor=actor,
        campaign_id=spicy.pk,
        channel="google_ads",
        name="Search: spicy chips",
        audience_id=snack_lovers.pk,
    )
    creative_create(
        actor=actor,
        unit_id=google.pk,
        name="Spicy launch search ad",
        headlines=[HEADLINE, "Spicy Jalapeño Chips", "20% Off This Week", "Organic Potato Chips"],
        descriptions=[DESCRIPTION, "Real jalapeños, organic potatoes. Free shipping over $25."],
        display_path=["spicy"],
        destination_url=DESTINATION,
    )
    meta = unit_create(
        actor=actor,
        campaign_id=spicy.pk,
        channel="meta_ads",
        name="Feed: snack lovers",
        audience_id=snack_lovers.pk,
    )
    creative_create(
        actor=actor,
        unit_id=meta.pk,
        name="Spicy launch feed ad",
        headlines=[HEADLINE],
        descriptions=["tastychips.co"],
        primary_text=DESCRIPTION,
        destination_url=DESTINATION,
        call_to_action="SHOP_NOW",
        media_id=image.pk,
    )
    kpi_set(actor=actor, campaign_id=spicy.pk, metric="roas", target_value=Decimal("3"))
    kpi_set(actor=actor, campaign_id=spicy.pk, metric="cpa", target_value=Decimal("12"))

    _other_campaigns(actor, audience_id=snack_lovers.pk, image_id=image.pk, now=now)
    return organization


def _simple_campaign(
    actor: Actor,
    *,
    name: str,
    objective: str,
    start_days: int,
    end_days: int,
    now: datetime,
    audience_id: object,
    image_id: object,
    amount: str,
) -> Campaign:
    campaign = campaign_create(
        actor=actor,
        name=name,
        objective=objective,
        start_at=now + timedelta(days=start_days),
        end_at=now + timedelta(days=end_days),
    )
    budget_set(
        actor=actor,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal(amount),
        allocations={"meta_ads": Decimal(amount)},
    )
    unit = unit_create(
        actor=actor,
        campaign_id=campaign.pk,
        channel="meta_ads",
        name="Feed",
        audience_id=audience_id,
    )
    creative_create(
        actor=actor,
        unit_id=unit.pk,
        headlines=[name],
        primary_text=f"{name}: crunchy, bold, gone too soon.",
        destination_url="https://www.tastychips.co/",
        call_to_action="SHOP_NOW",
        media_id=image_id,
    )
    return campaign


def _other_campaigns(actor: Actor, *, audience_id: object, image_id: object, now: datetime) -> None:
    common: dict[str, Any] = {"audience_id": audience_id, "image_id": image_id, "now": now}
    system = Actor.system(actor.organization)
    bbq = _simple_campaign(
        actor,
        name="Summer BBQ Flavours",
        objective="traffic",
        start_days=-20,
        end_days=25,
        amount="80.00",
        **common,
    )
    _history(
        bbq, system, [("launch", "draft", "launching"), ("launch_succeeded", "launching", "active")]
    )
    sour = _simple_campaign(
        actor,
        name="Sour Cream Test",
        objective="engagement",
        start_days=-12,
        end_days=18,
        amount="25.00",
        **common,
    )
    _history(
        sour,
        system,
        [
            ("launch", "draft", "launching"),
            ("launch_succeeded", "launching", "active"),
            ("pause", "active", "paused"),
        ],
    )
    Campaign.objects.filter(pk=sour.pk).update(pause_reason="Waiting for the new pack shots.")
    sea_salt = _simple_campaign(
        actor,
        name="Sea Salt Classic",
        objective="awareness",
        start_days=-60,
        end_days=-30,
        amount="50.00",
        **common,
    )
    _history(
        sea_salt,
        system,
        [
            ("launch", "draft", "launching"),
            ("launch_succeeded", "launching", "active"),
            ("complete", "active", "completed"),
        ],
    )
    holiday = _simple_campaign(
        actor,
        name="Holiday Gift Tins",
        objective="sales",
        start_days=10,
        end_days=40,
        amount="120.00",
        **common,
    )
    campaign_schedule(actor=actor, campaign_id=holiday.pk)
    cheddar = _simple_campaign(
        actor,
        name="Cheddar Teaser",
        objective="leads",
        start_days=3,
        end_days=20,
        amount="30.00",
        **common,
    )
    _history(cheddar, actor, [("cancel", "draft", "cancelled")])
    Campaign.objects.filter(pk=cheddar.pk).update(cancel_reason="Flavour postponed to spring.")
