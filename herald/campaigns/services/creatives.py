"""Ad creatives and their versions.

Storage rules (checked here) are loose caps that keep rows sane; platform rules
(headline lengths, counts, image needs) are *findings* from the capability validator,
shown while editing and enforced at launch, so a draft may be saved half-finished.

Versioning: a version that has been launched never changes. Editing it creates version
``n + 1`` with ``parent`` = the edited one, and the new version becomes current.
Only the current version of a creative can be edited.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.capabilities import (
    CALL_TO_ACTIONS,
    CreativeInput,
    Finding,
    MediaFacts,
    validate_creative,
)
from herald.campaigns.lifecycle import TERMINAL_STATUSES
from herald.campaigns.models import AdCreative, MediaAsset
from herald.campaigns.services._common import (
    clean_text,
    clean_text_list,
    get_for_actor,
)
from herald.campaigns.services.units import unit_get_for_actor
from herald.core.errors import Conflict, InvalidInput
from herald.core.validation import validate_http_url

__all__ = [
    "creative_create",
    "creative_delete",
    "creative_findings",
    "creative_get_for_actor",
    "creative_input",
    "creative_update",
]

_UNSET: Any = object()

# Storage caps, well above every platform's own limits.
MAX_TEXT_ITEMS = 20
MAX_ITEM_LENGTH = 300
MAX_PRIMARY_TEXT = 5000
MAX_PATH_PARTS = 2
MAX_PATH_LENGTH = 50


def creative_get_for_actor(*, actor: Actor, creative_id: object, lock: bool = False) -> AdCreative:
    return get_for_actor(AdCreative, actor=actor, pk=creative_id, lock=lock, label="creative")


def creative_input(creative: AdCreative) -> CreativeInput:
    """The validator's view of a stored creative."""
    media = creative.media
    return CreativeInput(
        headlines=list(creative.headlines),
        descriptions=list(creative.descriptions),
        primary_text=creative.primary_text,
        display_path=list(creative.display_path),
        destination_url=creative.destination_url,
        call_to_action=creative.call_to_action,
        media=MediaFacts(
            content_type=media.content_type,
            width=media.width,
            height=media.height,
            size_bytes=media.size_bytes,
        )
        if media is not None
        else None,
    )


def creative_findings(creative: AdCreative) -> list[Finding]:
    return validate_creative(creative.unit.channel, creative_input(creative))


def _media_in_org(actor: Actor, media_id: object | None) -> MediaAsset | None:
    if media_id is None:
        return None
    media: MediaAsset | None = (
        MediaAsset.objects.for_org(actor.organization).filter(pk=media_id).first()
    )
    if media is None:
        raise InvalidInput.single("media_id", "not_found", "No such image in this organization.")
    return media


def _clean_fields(actor: Actor, fields: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name in ("headlines", "descriptions"):
        if name in fields:
            cleaned[name] = clean_text_list(
                fields[name] or [], field=name, max_items=MAX_TEXT_ITEMS, max_length=MAX_ITEM_LENGTH
            )
    if "display_path" in fields:
        cleaned["display_path"] = clean_text_list(
            fields["display_path"] or [],
            field="display_path",
            max_items=MAX_PATH_PARTS,
            max_length=MAX_PATH_LENGTH,
        )
    if "primary_text" in fields:
        cleaned["primary_text"] = clean_text(
            fields["primary_text"], field="primary_text", max_length=MAX_PRIMARY_TEXT
        )
    if "name" in fields:
        cleaned["name"] = clean_text(fields["name"], field="name", max_length=200)
    if "destination_url" in fields:
        cleaned["destination_url"] = validate_http_url(
            fields["destination_url"], field="destination_url"
        )
    if "call_to_action" in fields:
        value = (fields["call_to_action"] or "").strip().upper()
        if value and value not in CALL_TO_ACTIONS:
            raise InvalidInput.single(
                "call_to_action",
                "choice",
                f"{fields['call_to_action']!r} is not a call to action; use one of "
                f"{', '.join(sorted(CALL_TO_ACTIONS))}.",
            )
        cleaned["call_to_action"] = value
    if "media_id" in fields:
        cleaned["media"] = _media_in_org(actor, fields["media_id"])
    return cleaned


def _require_campaign_open(creative_or_unit_campaign_status: str) -> None:
    if creative_or_unit_campaign_status in TERMINAL_STATUSES:
        raise Conflict(
            detail=f"The campaign is {creative_or_unit_campaign_status}; its creatives can no "
            "longer change."
        )


@transaction.atomic
def creative_create(
    *,
    actor: Actor,
    unit_id: object,
    destination_url: str,
    headlines: list[str] | None = None,
    descriptions: list[str] | None = None,
    primary_text: str = "",
    display_path: list[str] | None = None,
    call_to_action: str = "",
    media_id: object | None = None,
    name: str = "",
) -> AdCreative:
    actor.require(Permission.CAMPAIGN_EDIT)
    unit = unit_get_for_actor(actor=actor, unit_id=unit_id)
    _require_campaign_open(unit.campaign.status)
    cleaned = _clean_fields(
        actor,
        {
            "destination_url": destination_url,
            "headlines": headlines or [],
            "descriptions": descriptions or [],
            "primary_text": primary_text,
            "display_path": display_path or [],
            "call_to_action": call_to_action,
            "media_id": media_id,
            "name": name,
        },
    )
    creative_id = uuid.uuid4()
    return AdCreative.objects.create(
        id=creative_id,
        organization=unit.organization,
        unit=unit,
        lineage_id=creative_id,
        version=1,
        **cleaned,
    )


@transaction.atomic
def creative_update(*, actor: Actor, creative_id: object, **changes: Any) -> AdCreative:
    """Apply ``changes`` (any of the creative_create fields) to the current version.

    Returns the edited creative: the same row if it never launched, otherwise a new
    version. Editing an older version is refused (409) with the current version's id.
    """
    actor.require(Permission.CAMPAIGN_EDIT)
    creative = creative_get_for_actor(actor=actor, creative_id=creative_id, lock=True)
    _require_campaign_open(creative.unit.campaign.status)
    if not creative.is_current:
        current = AdCreative.objects.get(lineage_id=creative.lineage_id, is_current=True)
        raise Conflict(
            detail=f"This is version {creative.version}; edit the current version "
            f"{current.version} instead.",
            extra={"current_version_id": str(current.pk)},
        )
    unknown = set(changes) - {
        "destination_url",
        "headlines",
        "descriptions",
        "primary_text",
        "display_path",
        "call_to_action",
        "media_id",
        "name",
    }
    if unknown:
        raise InvalidInput.single(
            sorted(unknown)[0], "unknown_field", "This field cannot be changed."
        )
    cleaned = _clean_fields(actor, changes)
    if not creative.is_launched:
        for field, value in cleaned.items():
            setattr(creative, field, value)
        creative.save()
        return creative

    AdCreative.objects.filter(pk=creative.pk).update(is_current=False)
    new_version = AdCreative(
        id=uuid.uuid4(),
        organization=creative.organization,
        unit=creative.unit,
        lineage_id=creative.lineage_id,
        version=creative.version + 1,
        parent=creative,
        is_current=True,
        **creative.content(),
    )
    for field, value in cleaned.items():
        setattr(new_version, field, value)
    new_version.save()
    return new_version


@transaction.atomic
def creative_delete(*, actor: Actor, creative_id: object) -> None:
    """Delete a creative and all its versions, unless one of them was launched."""
    actor.require(Permission.CAMPAIGN_EDIT)
    creative = creative_get_for_actor(actor=actor, creative_id=creative_id, lock=True)
    versions = AdCreative.objects.filter(lineage_id=creative.lineage_id)
    if versions.filter(launched_at__isnull=False).exists():
        raise Conflict(
            detail="This creative has run on its platform and is kept for history; "
            "pause the campaign instead."
        )
    # Children point at parents; delete newest first so SET_NULL never has work to do.
    for version in versions.order_by("-version"):
        version.delete()
