"""API for the caller's organization, its members and API keys."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission, Role
from herald.accounts.models import ApiKey, Membership
from herald.accounts.selectors import api_key_get, api_key_list, membership_get, membership_list
from herald.accounts.services import (
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
    organization_delete,
    organization_update,
)
from herald.core.api import problems, requires
from herald.core.errors import PermissionDenied

router = Router(tags=["organization"])


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class OrganizationOut(Schema):
    id: UUID
    name: str
    slug: str
    default_currency: str
    time_zone: str
    role: str = Field(description="The caller's role in this organization.")


class OrganizationPatch(Schema):
    name: str | None = None
    default_currency: str | None = None
    time_zone: str | None = None


def _organization_out(actor: Actor) -> OrganizationOut:
    org = actor.organization
    return OrganizationOut(
        id=org.id,
        name=org.name,
        slug=org.slug,
        default_currency=org.default_currency,
        time_zone=org.time_zone,
        role=actor.role or "system",
    )


@router.get(
    "/organization",
    response={200: OrganizationOut, **problems(401, 403)},
)
@requires(Permission.ORGANIZATION_VIEW)
def get_organization(request: HttpRequest) -> OrganizationOut:
    return _organization_out(_actor(request))


@router.patch(
    "/organization",
    response={200: OrganizationOut, **problems(400, 401, 403, 422)},
)
@requires(Permission.ORGANIZATION_EDIT)
def patch_organization(request: HttpRequest, payload: OrganizationPatch) -> OrganizationOut:
    actor = _actor(request)
    organization_update(actor=actor, **payload.dict(exclude_unset=True))
    return _organization_out(actor)


@router.delete(
    "/organization",
    response={204: None, **problems(401, 403)},
)
@requires(Permission.ORGANIZATION_DELETE)
def delete_organization(request: HttpRequest) -> Status[None]:
    organization_delete(actor=_actor(request))
    return Status(204, None)


class MemberOut(Schema):
    id: UUID
    user_id: int
    email: str
    name: str
    role: Role
    created_at: datetime

    @staticmethod
    def resolve_email(membership: Membership) -> str:
        return membership.user.email

    @staticmethod
    def resolve_name(membership: Membership) -> str:
        return membership.user.get_full_name() or membership.user.get_username()


class MemberIn(Schema):
    email: str = Field(max_length=254)
    role: Role


class MemberPatch(Schema):
    role: Role


@router.get(
    "/members",
    response={200: list[MemberOut], **problems(401, 403)},
)
@requires(Permission.MEMBER_VIEW)
def list_members(request: HttpRequest) -> list[Membership]:
    return list(membership_list(organization=_actor(request).organization))


@router.post(
    "/members",
    response={201: MemberOut, **problems(400, 401, 403, 409, 422)},
)
@requires(Permission.MEMBER_MANAGE)
def add_member(request: HttpRequest, payload: MemberIn) -> Status[Membership]:
    return Status(
        201, membership_add(actor=_actor(request), email=payload.email, role=payload.role)
    )


@router.patch(
    "/members/{uuid:membership_id}",
    response={200: MemberOut, **problems(400, 401, 403, 404, 409, 422)},
)
@requires(Permission.MEMBER_MANAGE)
def change_member_role(
    request: HttpRequest, membership_id: UUID, payload: MemberPatch
) -> Membership:
    actor = _actor(request)
    membership = membership_get(organization=actor.organization, membership_id=membership_id)
    return membership_change_role(actor=actor, membership=membership, role=payload.role)


@router.delete(
    "/members/{uuid:membership_id}",
    response={204: None, **problems(401, 403, 404, 409)},
)
@requires(Permission.MEMBER_MANAGE)
def remove_member(request: HttpRequest, membership_id: UUID) -> Status[None]:
    actor = _actor(request)
    membership = membership_get(organization=actor.organization, membership_id=membership_id)
    membership_remove(actor=actor, membership=membership)
    return Status(204, None)


class ApiKeyOut(Schema):
    id: UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it in lists.")
    user_email: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def resolve_user_email(api_key: ApiKey) -> str:
        return api_key.user.email


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key. Shown once: store it now.")


class ApiKeyIn(Schema):
    name: str = Field(min_length=1, max_length=100)


@router.get(
    "/api-keys",
    response={200: list[ApiKeyOut], **problems(401, 403)},
)
@requires(Permission.API_KEY_MANAGE_OWN)
def list_api_keys(request: HttpRequest) -> list[ApiKey]:
    return list(api_key_list(actor=_actor(request)))


@router.post(
    "/api-keys",
    response={201: ApiKeyCreated, **problems(400, 401, 403, 422)},
)
@requires(Permission.API_KEY_MANAGE_OWN)
def create_api_key(request: HttpRequest, payload: ApiKeyIn) -> Status[ApiKey]:
    actor = _actor(request)
    if actor.user is None:
        raise PermissionDenied(detail="Only members can hold API keys.")
    api_key, raw_key = api_key_create(
        user=actor.user, organization=actor.organization, name=payload.name
    )
    # Serialized from the model so resolvers (user_email) see an ApiKey, not a dict;
    # the plaintext rides along on the instance for this one response, never stored.
    api_key.key = raw_key  # type: ignore[attr-defined]
    return Status(201, api_key)


@router.delete(
    "/api-keys/{uuid:api_key_id}",
    response={204: None, **problems(401, 403, 404)},
)
@requires(Permission.API_KEY_MANAGE_OWN)
def revoke_api_key(request: HttpRequest, api_key_id: UUID) -> Status[None]:
    actor = _actor(request)
    api_key_revoke(actor=actor, api_key=api_key_get(actor=actor, api_key_id=api_key_id))
    return Status(204, None)
