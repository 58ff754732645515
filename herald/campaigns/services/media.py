"""Image uploads: checked for type, size and dimensions before anything is stored."""

from __future__ import annotations

import hashlib
import io
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.models import AdCreative, MediaAsset
from herald.campaigns.services._common import get_for_actor
from herald.core.errors import Conflict, InvalidInput

__all__ = [
    "MEDIA_MAX_DIMENSION",
    "MEDIA_MIN_DIMENSION",
    "MEDIA_TYPES",
    "media_delete",
    "media_get_for_actor",
    "media_upload",
]

# Pillow format name → the content type we store and serve.
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MEDIA_MIN_DIMENSION = 100
MEDIA_MAX_DIMENSION = 10_000


def media_get_for_actor(*, actor: Actor, media_id: object) -> MediaAsset:
    return get_for_actor(MediaAsset, actor=actor, pk=media_id, label="image")


def media_upload(*, actor: Actor, stream: IO[bytes], filename: str) -> MediaAsset:
    """Store an uploaded image after checking it is a real JPEG, PNG, GIF or WebP within
    the size limit (``HERALD_MEDIA_MAX_BYTES``) and 100–10,000 px on each side.

    The file's declared name and type are not trusted: the content decides. Nothing is
    written when a check fails.
    """
    actor.require(Permission.CAMPAIGN_EDIT)
    limit = settings.HERALD_MEDIA_MAX_BYTES
    content = stream.read(limit + 1)
    if not content:
        raise InvalidInput.single("file", "required", "The file is empty.")
    if len(content) > limit:
        raise InvalidInput.single(
            "file", "max_size", f"The image is larger than {limit // (1024 * 1024)} MB."
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            image_format = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput.single(
            "file", "image_type", "The file is not a readable JPEG, PNG, GIF or WebP image."
        ) from None
    content_type = MEDIA_TYPES.get(image_format)
    if content_type is None:
        raise InvalidInput.single(
            "file",
            "image_type",
            f"{image_format or 'This'} images are not supported; use JPEG, PNG, GIF or WebP.",
        )
    if min(width, height) < MEDIA_MIN_DIMENSION or max(width, height) > MEDIA_MAX_DIMENSION:
        raise InvalidInput.single(
            "file",
            "dimensions",
            f"The image is {width}×{height} px; each side must be between "
            f"{MEDIA_MIN_DIMENSION} and {MEDIA_MAX_DIMENSION} px.",
        )
    asset = MediaAsset(
        organization=actor.organization,
        original_name=(filename or "image")[:255],
        content_type=content_type,
        size_bytes=len(content),
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor.user,
    )
    asset.file.save("upload", ContentFile(content), save=False)
    try:
        asset.save()
    except Exception:
        if asset.file.name:
            asset.file.storage.delete(asset.file.name)
        raise
    return asset


@transaction.atomic
def media_delete(*, actor: Actor, media_id: object) -> None:
    actor.require(Permission.CAMPAIGN_EDIT)
    asset = media_get_for_actor(actor=actor, media_id=media_id)
    if AdCreative.objects.filter(media=asset).exists():
        raise Conflict(detail="The image is used by a creative; remove it there first.")
    stored = asset.file.name
    storage = asset.file.storage
    asset.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
