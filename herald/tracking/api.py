"""Authenticated API around tracking: the signed links of a creative, comment threads,
and the postback secret."""

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.campaigns.services.creatives import creative_get_for_actor
from herald.core.api import problems, requires
from herald.tracking.models import TrackingComment
from herald.tracking.services import postback_secret_rotate, tracking_links

__all__ = ["router"]

router = Router(tags=["tracking"])


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class TrackingLinksOut(Schema):
    impression_url: str = Field(description="GET for an <img> beacon (1×1 GIF) or POST (204).")
    click_url: str = Field(description="Redirects to the ad's own destination with UTM tags.")
    engagement_token: str = Field(description="For POST /t/e (like, share, comment, …).")
    impression_token: str = Field(description="For the batch endpoint, type 'impression'.")
    batch_url: str
    engagement_url: str


@router.get(
    "/creatives/{uuid:creative_id}/tracking",
    response={200: TrackingLinksOut, **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def creative_tracking(request: HttpRequest, creative_id: UUID) -> TrackingLinksOut:
    """The signed tracking URLs to place in this creative's ad."""
    creative = creative_get_for_actor(actor=_actor(request), creative_id=creative_id)
    base = settings.HERALD_PUBLIC_URL
    return TrackingLinksOut(
        **tracking_links(creative, base_url=base),
        batch_url=f"{base}/t/batch",
        engagement_url=f"{base}/t/e",
    )


class CommentOut(Schema):
    id: UUID
    parent_id: UUID | None
    creative_id: UUID | None
    author_name: str
    body: str
    created_at: datetime


@router.get(
    "/campaigns/{uuid:campaign_id}/comments",
    response={200: list[CommentOut], **problems(401, 403, 404)},
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_comments(request: HttpRequest, campaign_id: UUID) -> list[TrackingComment]:
    """Comments people left on the campaign's ads, oldest first; replies name their
    parent."""
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    return list(TrackingComment.objects.filter(campaign=campaign).order_by("created_at", "id"))


class PostbackSecretOut(Schema):
    secret: str = Field(description="Shown once. Sign postbacks with it (see /t docs).")
    conversions_url: str
    previous_valid_hours: int


@router.post("/tracking/postback-secret", response={200: PostbackSecretOut, **problems(401, 403)})
@requires(Permission.INTEGRATION_MANAGE)
def rotate_postback_secret(request: HttpRequest) -> PostbackSecretOut:
    """Create a new secret for conversion postbacks; the previous one stays valid for
    72 hours so senders can switch without losing conversions."""
    organization = _actor(request).organization
    secret = postback_secret_rotate(organization_id=organization.pk)
    return PostbackSecretOut(
        secret=secret,
        conversions_url=f"{settings.HERALD_PUBLIC_URL}/t/o/{organization.pk}/conversions",
        previous_valid_hours=72,
    )
