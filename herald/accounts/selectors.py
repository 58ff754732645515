"""Reads for organizations, memberships and API keys, always scoped to one organization."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Permission
from herald.accounts.models import ApiKey, Membership, Organization
from herald.core.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "api_key_get",
    "api_key_list",
    "member_actor",
    "membership_get",
    "membership_list",
    "user_organizations",
]


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user")


def membership_get(*, organization: Organization, membership_id: UUID) -> Membership:
    membership = membership_list(organization=organization).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(detail="No such member in this organization.")
    return membership


def api_key_list(*, actor: Actor) -> QuerySet[ApiKey]:
    """Admins see every key of the organization; other members only their own."""
    keys = ApiKey.objects.filter(organization=actor.organization).select_related("user")
    if actor.can(Permission.API_KEY_MANAGE_ALL):
        return keys
    if actor.user is None:
        return keys.none()
    return keys.filter(user_id=actor.user.pk)


def api_key_get(*, actor: Actor, api_key_id: UUID) -> ApiKey:
    api_key = api_key_list(actor=actor).filter(pk=api_key_id).first()
    if api_key is None:
        raise NotFound(detail="No such API key.")
    return api_key


def user_organizations(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def member_actor(*, user: User, organization_id: UUID | str | None) -> Actor | None:
    """The actor a signed-in user is in the given organization (or their first one),
    or ``None`` if they belong to no organization."""
    memberships = Membership.objects.filter(user=user).select_related("organization")
    membership = None
    if organization_id:
        membership = memberships.filter(organization_id=organization_id).first()
    if membership is None:
        membership = memberships.order_by("organization__name").first()
    if membership is None:
        return None
    return Actor(
        organization=membership.organization,
        kind=ActorKind.USER,
        role=membership.role,
        user=user,
    )
