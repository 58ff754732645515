"""Writes for organizations, memberships and API keys.

Rules kept here (and nowhere else): slugs are unique; only owners grant, change or
remove the owner role; an organization always keeps at least one owner; an API key is
shown once, at creation, and only its hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Permission, Role
from herald.accounts.models import ApiKey, Membership, Organization
from herald.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herald.core.money import validate_currency
from herald.core.validation import validate_time_zone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "API_KEY_PREFIX",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "membership_add",
    "membership_change_role",
    "membership_remove",
    "organization_create",
    "organization_delete",
    "organization_update",
]

API_KEY_PREFIX = "hk_"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _validate_name(name: str, *, field: str = "name", max_length: int = 200) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput.single(field, "required", "A name is required.")
    if len(cleaned) > max_length:
        raise InvalidInput.single(
            field, "max_length", f"The name is longer than {max_length} characters."
        )
    return cleaned


def _validate_role(role: str) -> Role:
    if role not in Role.values:
        raise InvalidInput.single(
            "role", "choice", f"{role!r} is not a role; use one of {', '.join(Role.values)}."
        )
    return Role(role)


def _unique_slug(base: str) -> str:
    root = slugify(base)[:70] or "organization"
    slug, counter = root, 2
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{root}-{counter}"
        counter += 1
    return slug


@transaction.atomic
def organization_create(
    *,
    name: str,
    owner: User,
    slug: str | None = None,
    default_currency: str = "USD",
    time_zone: str = "UTC",
) -> Organization:
    """Create an organization with ``owner`` as its first owner."""
    name = _validate_name(name)
    currency = validate_currency(default_currency, field="default_currency")
    time_zone = validate_time_zone(time_zone)
    if slug:
        if slugify(slug) != slug:
            raise InvalidInput.single(
                "slug", "slug", "Use lowercase letters, digits and hyphens only."
            )
        if Organization.objects.filter(slug=slug).exists():
            raise InvalidInput.single("slug", "unique", f"The slug {slug!r} is taken.")
    organization = Organization.objects.create(
        name=name,
        slug=slug or _unique_slug(name),
        default_currency=currency,
        time_zone=time_zone,
    )
    Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def organization_update(
    *,
    actor: Actor,
    name: str | None = None,
    default_currency: str | None = None,
    time_zone: str | None = None,
) -> Organization:
    actor.require(Permission.ORGANIZATION_EDIT)
    organization = actor.organization
    if name is not None:
        organization.name = _validate_name(name)
    if default_currency is not None:
        organization.default_currency = validate_currency(
            default_currency, field="default_currency"
        )
    if time_zone is not None:
        organization.time_zone = validate_time_zone(time_zone)
    organization.save()
    return organization


@transaction.atomic
def organization_delete(*, actor: Actor) -> None:
    """Delete the organization and everything it owns, uploaded files included (after
    commit). Owners only."""
    actor.require(Permission.ORGANIZATION_DELETE)
    organization = actor.organization
    # Uploads live under media/<organization id>/ (see campaigns.models._media_upload_to).
    uploads = f"media/{organization.pk}"
    organization.delete()
    transaction.on_commit(lambda: _delete_stored_tree(uploads))


def _delete_stored_tree(path: str) -> None:
    if not default_storage.exists(path):
        return
    directories, files = default_storage.listdir(path)
    for name in files:
        default_storage.delete(f"{path}/{name}")
    for name in directories:
        _delete_stored_tree(f"{path}/{name}")


def _owner_count(organization: Organization) -> int:
    # Lock the organization first so owner changes are serialized: two owners demoting
    # each other at once would otherwise both count two owners and leave none.
    Organization.objects.select_for_update().only("pk").get(pk=organization.pk)
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def _require_owner_for(actor: Actor, *roles: str) -> None:
    if Role.OWNER in roles and actor.kind is not ActorKind.SYSTEM and actor.role != Role.OWNER:
        raise PermissionDenied(detail="Only an owner can grant, change or remove the owner role.")


@transaction.atomic
def membership_add(*, actor: Actor, email: str, role: str) -> Membership:
    """Add the user with ``email`` to the organization, creating the user if needed.

    A user created here has no usable password until they set one through the
    password-reset flow.
    """
    actor.require(Permission.MEMBER_MANAGE)
    new_role = _validate_role(role)
    _require_owner_for(actor, new_role)
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput.single("email", "email", "Enter a valid email address.") from None
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=address).first()
    if user is None:
        if len(address) > (user_model._meta.get_field("username").max_length or 150):
            raise InvalidInput.single(
                "email", "max_length", "The address is too long to become a username."
            )
        user = user_model.objects.create_user(username=address, email=address)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Membership.objects.filter(user=user, organization=actor.organization).exists():
        raise Conflict(detail=f"{address} is already a member of this organization.")
    return Membership.objects.create(user=user, organization=actor.organization, role=new_role)


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    actor.require(Permission.MEMBER_MANAGE)
    new_role = _validate_role(role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _require_owner_for(actor, new_role, membership.role)
    if (
        membership.role == Role.OWNER
        and new_role != Role.OWNER
        and _owner_count(actor.organization) == 1
    ):
        raise Conflict(detail="The organization must keep at least one owner.")
    membership.role = new_role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    actor.require(Permission.MEMBER_MANAGE)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _require_owner_for(actor, membership.role)
    if membership.role == Role.OWNER and _owner_count(actor.organization) == 1:
        raise Conflict(detail="The organization must keep at least one owner.")
    ApiKey.objects.filter(
        organization=actor.organization, user=membership.user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    membership.delete()


def api_key_create(*, user: User, organization: Organization, name: str) -> tuple[ApiKey, str]:
    """Create a key for ``user`` in ``organization``; return it with its plaintext.

    The plaintext is returned once and never again: callers show it and forget it.
    The user must be a member; callers check the actor's right to create keys.
    """
    name = _validate_name(name, max_length=100)
    if not Membership.objects.filter(user=user, organization=organization).exists():
        raise InvalidInput.single("user", "membership", "The user is not a member.")
    for _attempt in range(3):
        public = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")[:8]
        raw_key = f"{API_KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    organization=organization,
                    user=user,
                    name=name,
                    prefix=f"{API_KEY_PREFIX}{public}",
                    key_hash=_hash_key(raw_key),
                )
        except IntegrityError:  # pragma: no cover - a 256-bit collision
            continue
        return api_key, raw_key
    raise RuntimeError("Could not generate a unique API key.")  # pragma: no cover


def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    """Revoke a key. Members revoke their own keys; admins revoke anyone's."""
    if api_key.organization_id != actor.organization.pk:
        raise NotFound(detail="No such API key.")
    own = actor.user is not None and api_key.user_id == actor.user.pk
    actor.require(Permission.API_KEY_MANAGE_OWN if own else Permission.API_KEY_MANAGE_ALL)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key


def api_key_authenticate(*, raw_key: str) -> Actor | None:
    """Return the actor a presented key stands for, or ``None`` if it is unknown,
    revoked, or its user is no longer an active member."""
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
        return None
    api_key = (
        ApiKey.objects.select_related("organization", "user")
        .filter(key_hash=_hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not api_key.user.is_active:
        return None
    membership = Membership.objects.filter(
        user_id=api_key.user_id, organization_id=api_key.organization_id
    ).first()
    if membership is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= _LAST_USED_RESOLUTION:
        # At most one write a minute per key: enough for "last used", cheap on hot keys.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return Actor(
        organization=api_key.organization,
        kind=ActorKind.API_KEY,
        role=membership.role,
        user=api_key.user,
        api_key=api_key,
    )
