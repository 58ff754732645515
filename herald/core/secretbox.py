"""Secrets at rest: OAuth tokens and webhook secrets, encrypted and bound to their owner.

``seal`` encrypts a secret with the first key of ``HERALD_ENCRYPTION_KEYS`` (Fernet:
AES-128-CBC + HMAC-SHA256) after wrapping it with the organization id and a purpose
(``"google_ads.refresh_token"``); ``unseal`` accepts any configured key but refuses a
ciphertext whose organization or purpose differs from the caller's, so a value copied
onto another organization's row does not decrypt. ``reseal`` re-encrypts under the
current first key, for rotation (``manage.py rotate_secrets``).

Never log a plaintext or return it from the API; keep it in a local variable for the
one call that needs it.
"""

from __future__ import annotations

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["SecretError", "reseal", "seal", "unseal"]


class SecretError(Exception):
    """A sealed value could not be opened: wrong key, owner or purpose, or tampered."""


@cache
def _box(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise SecretError("HERALD_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from error


def _current_box() -> MultiFernet:
    return _box(tuple(settings.HERALD_ENCRYPTION_KEYS))


def seal(plaintext: str, *, organization_id: object, purpose: str) -> str:
    envelope = json.dumps({"o": str(organization_id), "p": purpose, "s": plaintext})
    return _current_box().encrypt(envelope.encode()).decode()


def unseal(token: str, *, organization_id: object, purpose: str) -> str:
    try:
        envelope = json.loads(_current_box().decrypt(token.encode()))
    except (InvalidToken, ValueError) as error:
        raise SecretError("The secret cannot be decrypted with the configured keys.") from error
    if envelope.get("o") != str(organization_id) or envelope.get("p") != purpose:
        raise SecretError("The secret belongs to another organization or purpose.")
    return str(envelope["s"])


def reseal(token: str) -> str:
    """The same secret encrypted under the current first key."""
    try:
        return _current_box().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SecretError("The secret cannot be decrypted with the configured keys.") from error
