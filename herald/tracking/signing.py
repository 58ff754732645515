"""Tracking tokens that cannot be forged or re-pointed, click ids, and signed postbacks.

Duties
------
* ``sign_token`` / ``verify_token``: a compact, URL-safe token for an impression beacon
  (``"i"``), a click (``"c"``) or an engagement (``"e"``). It names the organization,
  campaign, unit and creative, may expire, and for clicks carries a hash of the
  creative's saved destination, all under one HMAC-SHA256. A click link therefore
  carries no destination of its own: the redirect view looks the creative up, checks
  that its saved destination is the one the token was signed for, and redirects only
  there (reference threat 9; ASVS 3.7.2).
* ``derive_key``: per-organization, per-purpose keys from one master secret, so a key
  leaked from one organization's links forges nothing for another.
* ``new_click_id``: a 128-bit CSPRNG value naming one click (ASVS 11.5.1; a UUID4 holds
  only 122 random bits and is not meant as a secret).
* ``sign_body`` / ``verify_body_signature``: Stripe-style signatures for server-to-server
  conversion postbacks: ``t=<unix>,v1=<hex>`` over ``f"{t}." + body``, a 300 s window
  and two secrets accepted while one rotates (threat 10).

Token layout (version 1), base64url without padding::

    offset  size  field
    0       1     version, 0x01
    1       1     kind, ASCII "i" | "c" | "e"
    2       1     presence bitmap: 0x01 unit, 0x02 creative, 0x04 expiry,
                  0x08 destination hash; every other bit must be 0
    3       16    organization id (UUID bytes)
    19      16    campaign id
    ..      16    unit id               (if 0x01)
    ..      16    creative id           (if 0x02)
    ..      8     expires_at, uint64 big-endian unix seconds (if 0x04)
    ..      16    destination hash      (if 0x08; required for clicks)
    ..      16    MAC

The MAC is HMAC-SHA256 under the caller's key over a fixed domain label followed by every
byte before it, truncated to 128 bits: forging it takes about 2**128 guesses, and each
guess costs the attacker a request. Parsing is strict (exact length, known version, kind
and bits, canonical base64), so one token string has exactly one meaning. A campaign-level
impression beacon is 35 + 16 = 51 bytes (68 characters); the largest click token, with
unit, creative, expiry and destination, is 107 bytes (143 characters).

What callers must not do
------------------------
* Never redirect to a URL taken from the request: redirect to the creative's saved
  destination, after ``verify_token(..., destination=saved)`` accepted it.
* Never trust ``read_token``'s result: it exists only to find which organization's key
  to verify with. Ids in it are attacker-chosen until ``verify_token`` returns.
* Never count a click or impression whose token did not verify, and never use the
  token string as a dedupe key (use the verified claims plus a click id).
* Never compare MACs or signatures with ``==``; this module uses
  ``hmac.compare_digest``.
* Never log keys or postback secrets. Tokens themselves hold no secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args
from uuid import UUID

__all__ = [
    "KINDS",
    "KIND_CLICK",
    "KIND_ENGAGEMENT",
    "KIND_IMPRESSION",
    "InvalidSignature",
    "InvalidToken",
    "SignatureError",
    "TokenError",
    "TrackingClaims",
    "derive_key",
    "destination_hash",
    "new_click_id",
    "read_token",
    "sign_body",
    "sign_token",
    "verify_body_signature",
    "verify_token",
]

KIND_IMPRESSION: Final = "i"
KIND_CLICK: Final = "c"
KIND_ENGAGEMENT: Final = "e"
KINDS: Final = frozenset({KIND_IMPRESSION, KIND_CLICK, KIND_ENGAGEMENT})

TokenError = Literal["malformed", "bad_signature", "wrong_kind", "expired", "destination_mismatch"]
SignatureError = Literal["malformed", "stale", "bad_signature"]

_VERSION: Final = 1
_UNIT: Final = 0x01
_CREATIVE: Final = 0x02
_EXPIRY: Final = 0x04
_DESTINATION: Final = 0x08
_KNOWN_FLAGS: Final = _UNIT | _CREATIVE | _EXPIRY | _DESTINATION
_HEADER_SIZE: Final = 3
_ID_SIZE: Final = 16
_EXPIRY_SIZE: Final = 8
_EXPIRY_MAX: Final = 2**64 - 1
_DESTINATION_HASH_SIZE: Final = 16
_MAC_SIZE: Final = 16
_MAX_TOKEN_BYTES: Final = (
    _HEADER_SIZE + 4 * _ID_SIZE + _EXPIRY_SIZE + _DESTINATION_HASH_SIZE + _MAC_SIZE
)
# base64 without padding: 4 characters per 3 bytes, rounded up.
_MAX_TOKEN_CHARS: Final = -(-_MAX_TOKEN_BYTES * 4 // 3)
_TOKEN_ALPHABET: Final = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)

# Fixed labels keep each HMAC use apart: a MAC made for one purpose never verifies as
# another, even if a caller were to reuse a key.
_TOKEN_MAC_LABEL: Final = b"herald.tracking.token.v1\x00"
_KDF_SALT: Final = b"herald.tracking.kdf.v1"
_MIN_KEY_BYTES: Final = 16
_MIN_MASTER_BYTES: Final = 32

_MAX_SIGNATURE_HEADER: Final = 2048
_MAX_V1_SIGNATURES: Final = 8
_MAX_TIMESTAMP_DIGITS: Final = 12
_HEX_SHA256: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)


class InvalidToken(Exception):
    """A tracking token was refused. ``reason`` says why, for metrics and logs; the
    public response must not reveal it (answer a tracking pixel or a click the same way
    whatever the reason)."""

    def __init__(self, reason: TokenError) -> None:
        if reason not in get_args(TokenError):
            raise ValueError(f"Unknown token error reason {reason!r}.")
        super().__init__(reason)
        self.reason: TokenError = reason


class InvalidSignature(Exception):
    """A postback's signature header was refused; ``reason`` says why."""

    def __init__(self, reason: SignatureError) -> None:
        if reason not in get_args(SignatureError):
            raise ValueError(f"Unknown signature error reason {reason!r}.")
        super().__init__(reason)
        self.reason: SignatureError = reason


@dataclass(frozen=True)
class TrackingClaims:
    """What a tracking token asserts. Construction validates, so an instance that exists
    can always be signed.

    ``expires_at`` is unix seconds: the token is refused from that second on; ``None``
    never expires. ``destination_hash`` is ``destination_hash(saved_destination)``;
    clicks must carry one."""

    kind: str
    organization_id: UUID
    campaign_id: UUID
    unit_id: UUID | None
    creative_id: UUID | None
    expires_at: int | None
    destination_hash: bytes | None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {self.kind!r}.")
        for name in ("organization_id", "campaign_id"):
            if not isinstance(getattr(self, name), UUID):
                raise TypeError(f"{name} must be a UUID.")
        for name in ("unit_id", "creative_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, UUID):
                raise TypeError(f"{name} must be a UUID or None.")
        if self.expires_at is not None and (
            isinstance(self.expires_at, bool)
            or not isinstance(self.expires_at, int)
            or not 0 <= self.expires_at <= _EXPIRY_MAX
        ):
            raise ValueError("expires_at must be None or unix seconds in 0..2**64-1.")
        if self.destination_hash is not None and (
            not isinstance(self.destination_hash, bytes)
            or len(self.destination_hash) != _DESTINATION_HASH_SIZE
        ):
            raise ValueError(
                f"destination_hash must be {_DESTINATION_HASH_SIZE} bytes from destination_hash()."
            )
        if self.kind == KIND_CLICK and self.destination_hash is None:
            # A click token without a destination could be replayed against any creative
            # destination the key can reach; clicks are always bound to one.
            raise ValueError("A click token must carry the destination's hash.")


# --- keys --------------------------------------------------------------------------------


def derive_key(master: bytes, organization_id: str, purpose: str) -> bytes:
    """Return a 32-byte key for one organization and purpose (``"tracking"``,
    ``"postback"``), derived from ``master`` with HKDF-SHA256 (RFC 5869):

        PRK = HMAC-SHA256(salt=b"herald.tracking.kdf.v1", master)
        key = HMAC-SHA256(PRK, canonical_uuid(organization_id) || 0x00 || purpose || 0x01)

    HKDF's extract step makes this safe for a master that is not uniformly random (a
    Django ``SECRET_KEY`` string, say); the expand step binds the organization and
    purpose, so keys for different organizations or purposes are independent. The
    organization id is normalized to its canonical UUID form first, so ``"ABC…"`` and
    ``"abc…"`` derive the same key. Deriving is cheap (two HMACs), but callers may cache.

    Raises ``ValueError`` for a master under 32 bytes, a non-UUID organization id or an
    empty purpose."""
    if not isinstance(master, bytes) or len(master) < _MIN_MASTER_BYTES:
        raise ValueError(f"The master key must be at least {_MIN_MASTER_BYTES} bytes.")
    organization = str(UUID(organization_id))
    if not purpose or "\x00" in purpose:
        raise ValueError("purpose must be a non-empty string without NUL characters.")
    prk = hmac.new(_KDF_SALT, master, hashlib.sha256).digest()
    info = organization.encode("ascii") + b"\x00" + purpose.encode("utf-8")
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"A signing key must be at least {_MIN_KEY_BYTES} bytes.")


# --- tracking tokens ---------------------------------------------------------------------


def destination_hash(url: str) -> bytes:
    """SHA-256 of the destination, truncated to 128 bits (ample against second
    preimages). Hash the creative's destination exactly as saved, before any UTM
    tagging: ``append_utm`` runs after verification. Editing a saved destination
    invalidates click links signed for the old one, which is the point."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()[:_DESTINATION_HASH_SIZE]


def _token_mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _TOKEN_MAC_LABEL + payload, hashlib.sha256).digest()[:_MAC_SIZE]


def sign_token(claims: TrackingClaims, *, key: bytes) -> str:
    """Encode and sign ``claims``; the result is URL-safe and needs no escaping in a
    query parameter or path segment. Signing is deterministic: equal claims and key give
    an equal token."""
    _check_key(key)
    flags = 0
    body = bytearray()
    body += claims.organization_id.bytes
    body += claims.campaign_id.bytes
    if claims.unit_id is not None:
        flags |= _UNIT
        body += claims.unit_id.bytes
    if claims.creative_id is not None:
        flags |= _CREATIVE
        body += claims.creative_id.bytes
    if claims.expires_at is not None:
        flags |= _EXPIRY
        body += struct.pack(">Q", claims.expires_at)
    if claims.destination_hash is not None:
        flags |= _DESTINATION
        body += claims.destination_hash
    payload = bytes([_VERSION, ord(claims.kind), flags]) + bytes(body)
    raw = payload + _token_mac(key, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(token: object) -> bytes:
    if (
        not isinstance(token, str)
        or not 0 < len(token) <= _MAX_TOKEN_CHARS
        or not _TOKEN_ALPHABET.fullmatch(token)
    ):
        raise InvalidToken("malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed") from None
    # base64 ignores the unused low bits of the last character, so several strings
    # decode to the same bytes; accept only the canonical one.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise InvalidToken("malformed")
    return raw


def _parse(token: object) -> tuple[TrackingClaims, bytes, bytes]:
    """Split a token into (claims, signed payload, MAC) without checking the MAC."""
    raw = _decode(token)
    if len(raw) < _HEADER_SIZE + 2 * _ID_SIZE + _MAC_SIZE:
        raise InvalidToken("malformed")
    version, kind_byte, flags = raw[0], raw[1], raw[2]
    kind = chr(kind_byte)
    if version != _VERSION or kind not in KINDS or flags & ~_KNOWN_FLAGS:
        raise InvalidToken("malformed")
    if kind == KIND_CLICK and not flags & _DESTINATION:
        raise InvalidToken("malformed")
    expected_size = (
        _HEADER_SIZE
        + 2 * _ID_SIZE
        + (_ID_SIZE if flags & _UNIT else 0)
        + (_ID_SIZE if flags & _CREATIVE else 0)
        + (_EXPIRY_SIZE if flags & _EXPIRY else 0)
        + (_DESTINATION_HASH_SIZE if flags & _DESTINATION else 0)
        + _MAC_SIZE
    )
    if len(raw) != expected_size:
        raise InvalidToken("malformed")

    position = _HEADER_SIZE

    def take(size: int) -> bytes:
        nonlocal position
        chunk = raw[position : position + size]
        position += size
        return chunk

    organization_id = UUID(bytes=take(_ID_SIZE))
    campaign_id = UUID(bytes=take(_ID_SIZE))
    unit_id = UUID(bytes=take(_ID_SIZE)) if flags & _UNIT else None
    creative_id = UUID(bytes=take(_ID_SIZE)) if flags & _CREATIVE else None
    expires_at = struct.unpack(">Q", take(_EXPIRY_SIZE))[0] if flags & _EXPIRY else None
    dest = take(_DESTINATION_HASH_SIZE) if flags & _DESTINATION else None
    payload, mac = raw[:position], raw[position:]
    claims = TrackingClaims(
        kind=kind,
        organization_id=organization_id,
        campaign_id=campaign_id,
        unit_id=unit_id,
        creative_id=creative_id,
        expires_at=expires_at,
        destination_hash=dest,
    )
    return claims, payload, mac


def read_token(token: str) -> TrackingClaims:
    """Parse a token WITHOUT checking its MAC, to learn which organization's key to
    verify it with. Raises ``InvalidToken("malformed")`` for anything that is not a
    well-formed version-1 token, and never another exception, whatever the input.

    The result is untrusted: use it to pick a key, then call ``verify_token``."""
    claims, _payload, _mac = _parse(token)
    return claims


def verify_token(
    token: str,
    *,
    key: bytes,
    kind: str,
    now: int | None = None,
    destination: str | None = None,
) -> TrackingClaims:
    """Return the claims of ``token`` if it is authentic and usable now, else raise
    ``InvalidToken`` with a reason, checked in this order:

    ``malformed``             not a well-formed token (see ``read_token``);
    ``bad_signature``         the MAC does not verify under ``key`` (constant time);
    ``wrong_kind``            signed for another kind (a beacon token used as a click);
    ``expired``               ``now >= expires_at``;
    ``destination_mismatch``  ``destination`` is given and the token was signed for
                              another destination, or for none.

    ``destination`` is required when ``kind == "c"``: pass the creative's saved
    destination, never one from the request (``ValueError`` otherwise). ``now``
    defaults to the current unix time.

    Key rotation: try the current key, then each previous key, and accept the first
    that does not raise ``bad_signature``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}.")
    if kind == KIND_CLICK and destination is None:
        raise ValueError("Verify a click against the creative's saved destination.")
    _check_key(key)
    claims, payload, mac = _parse(token)
    if not hmac.compare_digest(_token_mac(key, payload), mac):
        raise InvalidToken("bad_signature")
    if claims.kind != kind:
        raise InvalidToken("wrong_kind")
    current = int(time.time()) if now is None else now
    if claims.expires_at is not None and current >= claims.expires_at:
        raise InvalidToken("expired")
    if destination is not None and (
        claims.destination_hash is None
        or not hmac.compare_digest(claims.destination_hash, destination_hash(destination))
    ):
        raise InvalidToken("destination_mismatch")
    return claims


def new_click_id() -> str:
    """A fresh click id: 128 bits from the OS CSPRNG, 22 URL-safe characters. Store it
    with the click; never derive it from ids, time or ``random``."""
    return secrets.token_urlsafe(16)


# --- postback signatures -----------------------------------------------------------------


def _body_hmac(secret: bytes, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign_body(body: bytes, *, secret: bytes, timestamp: int) -> str:
    """The signature header for ``body`` sent at ``timestamp`` (unix seconds):
    ``t=<timestamp>,v1=<hex HMAC-SHA256 of f"{timestamp}." + body>``, as Stripe does.
    Sign the exact bytes you send; re-serializing JSON changes them."""
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("A postback secret must be non-empty bytes.")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be non-negative unix seconds.")
    return f"t={timestamp},v1={_body_hmac(secret, timestamp, body)}"


def _parse_signature_header(header: object) -> tuple[int, list[str]]:
    if not isinstance(header, str) or not header or len(header) > _MAX_SIGNATURE_HEADER:
        raise InvalidSignature("malformed")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, separator, value = item.strip().partition("=")
        if not separator:
            raise InvalidSignature("malformed")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            if not _HEX_SHA256.fullmatch(value):
                raise InvalidSignature("malformed")
            signatures.append(value)
        # Other schemes (Stripe's v0, a future v2) are ignored, so a sender can add a
        # scheme before receivers understand it.
    if (
        len(timestamps) != 1
        or not signatures
        or len(signatures) > _MAX_V1_SIGNATURES
        or not timestamps[0].isascii()
        or not timestamps[0].isdigit()
        or len(timestamps[0]) > _MAX_TIMESTAMP_DIGITS
    ):
        raise InvalidSignature("malformed")
    return int(timestamps[0]), signatures


def verify_body_signature(
    body: bytes,
    header: str,
    *,
    secrets: Sequence[bytes],
    now: int,
    tolerance: int = 300,
) -> None:
    """Accept a postback, or raise ``InvalidSignature``:

    ``malformed``      the header is not ``t=<digits>,v1=<64 hex>[,v1=…]`` (one ``t``,
                       one to eight ``v1``; unknown schemes are ignored);
    ``bad_signature``  no ``v1`` equals the HMAC under any of ``secrets``;
    ``stale``          authentic, but ``|now - t| > tolerance`` (replayed, or a clock
                       off by more than the tolerance, in either direction).

    ``secrets`` holds every secret valid now: the current one and, while rotating, the
    previous one. The signature is checked before the time so that ``stale`` only ever
    describes an authentic request. ``body`` must be the raw request body, byte for
    byte. Accepting a signature does not make the event new: dedupe on its event id."""
    if not secrets or any(not isinstance(secret, bytes) or not secret for secret in secrets):
        raise ValueError("Pass at least one non-empty postback secret.")
    if tolerance < 0:
        raise ValueError("tolerance must not be negative.")
    timestamp, signatures = _parse_signature_header(header)
    # Every (secret, signature) pair is compared, without stopping at the first match,
    # so the time taken does not reveal which secret or which v1 value matched.
    matched = False
    for secret in secrets:
        expected = _body_hmac(secret, timestamp, body)
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise InvalidSignature("bad_signature")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("stale")
