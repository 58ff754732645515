"""Reusable audiences: named, validated targeting rules of one organization."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.audience_rules import audience_rules_to_json, audience_rules_validate
from herald.campaigns.models import Audience, CampaignUnit
from herald.campaigns.services._common import clean_text, get_for_actor
from herald.core.errors import Conflict, InvalidInput, NotFound

__all__ = ["audience_create", "audience_delete", "audience_get_for_actor", "audience_update"]

_UNSET: Any = object()


def audience_get_for_actor(*, actor: Actor, audience_id: object, lock: bool = False) -> Audience:
    return get_for_actor(Audience, actor=actor, pk=audience_id, lock=lock, label="audience")


def _normalized_rules(rules: object) -> dict[str, object]:
    try:
        return audience_rules_to_json(audience_rules_validate(rules))
    except InvalidInput as error:
        # Paths are relative to the rules object; the API field is "rules".
        error.errors = [
            type(item)(f"rules.{item.field}" if item.field else "rules", item.rule, item.message)
            for item in error.errors
        ]
        raise


def _save_unique(audience: Audience) -> Audience:
    try:
        with transaction.atomic():
            audience.save()
    except IntegrityError:
        raise InvalidInput.single(
            "name", "unique", f"An audience named {audience.name!r} already exists."
        ) from None
    return audience


def audience_create(*, actor: Actor, name: str, rules: object, description: str = "") -> Audience:
    actor.require(Permission.CAMPAIGN_EDIT)
    audience = Audience(
        organization=actor.organization,
        name=clean_text(name, field="name", max_length=200, required=True),
        description=clean_text(description, field="description", max_length=2000),
        rules=_normalized_rules(rules),
    )
    return _save_unique(audience)


def audience_update(
    *,
    actor: Actor,
    audience_id: object,
    name: str = _UNSET,
    description: str = _UNSET,
    rules: object = _UNSET,
) -> Audience:
    """Edit an audience. Units that use it pick up the new rules at their next launch
    or sync; the platforms keep what they were sent until then."""
    actor.require(Permission.CAMPAIGN_EDIT)
    audience = audience_get_for_actor(actor=actor, audience_id=audience_id)
    if name is not _UNSET:
        audience.name = clean_text(name, field="name", max_length=200, required=True)
    if description is not _UNSET:
        audience.description = clean_text(description, field="description", max_length=2000)
    if rules is not _UNSET:
        audience.rules = _normalized_rules(rules)
    return _save_unique(audience)


@transaction.atomic
def audience_delete(*, actor: Actor, audience_id: object) -> None:
    """Delete an audience no unit uses; one in use is protected (409)."""
    actor.require(Permission.CAMPAIGN_EDIT)
    audience = audience_get_for_actor(actor=actor, audience_id=audience_id, lock=True)
    in_use = CampaignUnit.objects.filter(audience=audience).count()
    if in_use:
        raise Conflict(
            detail=f"The audience is used by {in_use} unit(s); choose another audience for "
            "them first.",
            extra={"units_using_it": in_use},
        )
    try:
        audience.delete()
    except Audience.DoesNotExist:  # pragma: no cover - deleted concurrently
        raise NotFound(detail="No such audience in this organization.") from None
