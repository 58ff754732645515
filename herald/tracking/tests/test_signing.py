"""Tracking tokens, click ids and postback signatures: nothing forged, re-pointed, stale
or malformed is accepted, and malformed input only ever raises the module's errors.

Pure Python (no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from dataclasses import replace
from uuid import UUID

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.tracking.signing import (
    InvalidSignature,
    InvalidToken,
    TrackingClaims,
    derive_key,
    destination_hash,
    new_click_id,
    read_token,
    sign_body,
    sign_token,
    verify_body_signature,
    verify_token,
)

MASTER = b"m" * 16 + b"-herald-tracking-master-secret-for-tests"
ORG = UUID("0b5c4a7e-3f1d-4c2a-9e8b-6d7f1a2b3c4d")
OTHER_ORG = UUID("7e1f2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
CAMPAIGN = UUID("1a2b3c4d-0000-4000-8000-000000000001")
UNIT = UUID("2b3c4d5e-0000-4000-8000-000000000002")
CREATIVE = UUID("3c4d5e6f-0000-4000-8000-000000000003")
KEY = derive_key(MASTER, str(ORG), "tracking")
OTHER_KEY = derive_key(MASTER, str(OTHER_ORG), "tracking")
DESTINATION = "https://www.tastychips.co/spicy"
NOW = 1_780_000_000
MAC_LABEL = b"herald.tracking.token.v1\x00"
TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")

CLICK = TrackingClaims(
    kind="c",
    organization_id=ORG,
    campaign_id=CAMPAIGN,
    unit_id=UNIT,
    creative_id=CREATIVE,
    expires_at=NOW + 30 * 86_400,
    destination_hash=destination_hash(DESTINATION),
)
BEACON = TrackingClaims(
    kind="i",
    organization_id=ORG,
    campaign_id=CAMPAIGN,
    unit_id=None,
    creative_id=None,
    expires_at=None,
    destination_hash=None,
)
ENGAGEMENT = replace(BEACON, kind="e", unit_id=UNIT, creative_id=CREATIVE, expires_at=NOW + 60)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(key: bytes, payload: bytes) -> bytes:
    """The MAC as the module docstring documents it, computed independently."""
    return hmac.new(key, MAC_LABEL + payload, hashlib.sha256).digest()[:16]


def _reason(excinfo: pytest.ExceptionInfo[InvalidToken] | pytest.ExceptionInfo[InvalidSignature]):
    return excinfo.value.reason


# --- round trip and layout ---------------------------------------------------------------


@pytest.mark.parametrize("claims", [CLICK, BEACON, ENGAGEMENT], ids=["click", "beacon", "engage"])
def test_round_trip(claims):
    token = sign_token(claims, key=KEY)
    assert TOKEN_ALPHABET.fullmatch(token)
    destination = DESTINATION if claims.kind == "c" else None
    verified = verify_token(token, key=KEY, kind=claims.kind, now=NOW, destination=destination)
    assert verified == claims
    assert read_token(token) == claims


def test_signing_is_deterministic_and_distinct_per_claim():
    assert sign_token(CLICK, key=KEY) == sign_token(CLICK, key=KEY)
    assert sign_token(CLICK, key=KEY) != sign_token(replace(CLICK, unit_id=None), key=KEY)


def test_tokens_are_short_enough_for_a_query_parameter():
    assert len(sign_token(BEACON, key=KEY)) == 68  # 51 bytes
    assert len(sign_token(CLICK, key=KEY)) == 143  # 107 bytes, the largest token


def test_layout_matches_the_documented_format():
    raw = _raw(sign_token(CLICK, key=KEY))
    assert raw[0] == 1
    assert raw[1:2] == b"c"
    assert raw[2] == 0x0F
    assert raw[3:19] == ORG.bytes
    assert raw[19:35] == CAMPAIGN.bytes
    assert raw[35:51] == UNIT.bytes
    assert raw[51:67] == CREATIVE.bytes
    assert struct.unpack(">Q", raw[67:75])[0] == CLICK.expires_at
    assert raw[75:91] == hashlib.sha256(DESTINATION.encode()).digest()[:16]
    assert raw[91:] == _mac(KEY, raw[:91])


# --- tampering ---------------------------------------------------------------------------


@pytest.mark.parametrize("claims", [CLICK, BEACON, ENGAGEMENT], ids=["click", "beacon", "engage"])
def test_every_single_bit_flip_is_refused(claims):
    raw = _raw(sign_token(claims, key=KEY))
    destination = DESTINATION if claims.kind == "c" else None
    refused = 0
    for index in range(len(raw)):
        for bit in range(8):
            tampered = bytearray(raw)
            tampered[index] ^= 1 << bit
            with pytest.raises(InvalidToken):
                verify_token(
                    _encode(bytes(tampered)),
                    key=KEY,
                    kind=claims.kind,
                    now=NOW,
                    destination=destination,
                )
            refused += 1
    assert refused == 8 * len(raw)


def test_every_byte_replacement_in_the_ids_is_refused_as_bad_signature():
    raw = _raw(sign_token(CLICK, key=KEY))
    for index in range(3, 91):  # every id, the expiry and the destination hash
        tampered = bytearray(raw)
        tampered[index] ^= 0xFF
        with pytest.raises(InvalidToken) as excinfo:
            verify_token(_encode(bytes(tampered)), key=KEY, kind="c", now=NOW, destination="x")
        assert _reason(excinfo) == "bad_signature"


def test_wrong_key_is_refused():
    token = sign_token(CLICK, key=KEY)
    for key in (OTHER_KEY, derive_key(MASTER, str(ORG), "postback"), b"k" * 32):
        with pytest.raises(InvalidToken) as excinfo:
            verify_token(token, key=key, kind="c", now=NOW, destination=DESTINATION)
        assert _reason(excinfo) == "bad_signature"


def test_claims_copied_into_another_organizations_token_do_not_verify():
    # An attacker who holds their own organization's key signs a token naming ours.
    forged = sign_token(CLICK, key=OTHER_KEY)
    assert read_token(forged).organization_id == ORG  # untrusted parse says "ours"
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(forged, key=KEY, kind="c", now=NOW, destination=DESTINATION)
    assert _reason(excinfo) == "bad_signature"


def test_a_correctly_maced_token_with_a_broken_layout_is_still_malformed():
    good = _raw(sign_token(BEACON, key=KEY))
    payload = good[:-16]
    cases = {
        "version 2": bytes([2]) + payload[1:],
        "unknown kind": payload[:1] + b"x" + payload[2:],
        "unknown flag bit": payload[:2] + bytes([0x10]) + payload[3:],
        "click without destination": payload[:1] + b"c" + payload[2:],
        "missing unit bytes": payload[:2] + bytes([0x01]) + payload[3:],
        "trailing byte": payload + b"\x00",
    }
    for name, broken in cases.items():
        token = _encode(broken + _mac(KEY, broken))
        with pytest.raises(InvalidToken) as excinfo:
            read_token(token)
        assert _reason(excinfo) == "malformed", name


# --- malformed input ---------------------------------------------------------------------


def _malformed_inputs() -> list[str]:
    token = sign_token(CLICK, key=KEY)
    last = token[-1]
    # 107 bytes leave 2 unused bits in the last character; another character with the
    # same top 4 bits decodes to the same bytes and must still be refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    sibling = alphabet[alphabet.index(last) ^ 1]
    return [
        "",
        "A",
        "AAAA",
        "====",
        token + "=",
        token + "A",
        token + "AAAA",
        token[:-1] + sibling,
        token.replace("-", "+").replace("_", "/") if ("-" in token or "_" in token) else "+",
        token[:40] + "!" + token[41:],
        token[:40] + " " + token[41:],
        token[:40] + "é" + token[41:],
        token + "\n",
        "A" * 100_000,
        "€" * 50,
        "null",
        "\x00" * 20,
        *(token[:cut] for cut in range(1, len(token))),
    ]


@pytest.mark.parametrize("token", _malformed_inputs())
def test_malformed_tokens(token):
    with pytest.raises(InvalidToken) as excinfo:
        read_token(token)
    assert _reason(excinfo) == "malformed"
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(token, key=KEY, kind="c", now=NOW, destination=DESTINATION)
    assert _reason(excinfo) == "malformed"


@pytest.mark.parametrize("value", [None, 123, b"bytes", ["list"]])
def test_non_string_tokens_are_malformed(value):
    with pytest.raises(InvalidToken) as excinfo:
        read_token(value)
    assert _reason(excinfo) == "malformed"


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_arbitrary_text_only_ever_raises_invalid_token(text):
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(text, key=KEY, kind="c", now=NOW, destination=DESTINATION)
    assert _reason(excinfo) == "malformed"
    with pytest.raises(InvalidToken):
        read_token(text)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_encoded_as_tokens_never_verify(raw):
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(_encode(raw), key=KEY, kind="i", now=NOW)
    assert _reason(excinfo) in {"malformed", "bad_signature"}


# --- kind, expiry, destination -----------------------------------------------------------


def test_expiry_is_exclusive():
    token = sign_token(CLICK, key=KEY)
    assert CLICK.expires_at is not None
    verify_token(token, key=KEY, kind="c", now=CLICK.expires_at - 1, destination=DESTINATION)
    for now in (CLICK.expires_at, CLICK.expires_at + 1, 2**40):
        with pytest.raises(InvalidToken) as excinfo:
            verify_token(token, key=KEY, kind="c", now=now, destination=DESTINATION)
        assert _reason(excinfo) == "expired"


def test_expiry_defaults_to_the_current_time():
    expired = sign_token(replace(ENGAGEMENT, expires_at=1_000), key=KEY)
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(expired, key=KEY, kind="e")
    assert _reason(excinfo) == "expired"
    never = sign_token(replace(ENGAGEMENT, expires_at=None), key=KEY)
    assert verify_token(never, key=KEY, kind="e").expires_at is None


@pytest.mark.parametrize(
    "destination",
    [
        "https://evil.example/spicy",
        "https://www.tastychips.co/spicy/",
        "https://www.tastychips.co/Spicy",
        "http://www.tastychips.co/spicy",
        "https://www.tastychips.co/spicy?utm_source=google",
        "https://www.tastychips.co.evil.example/spicy",
        "//evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_re_pointed_destination_is_refused(destination):
    token = sign_token(CLICK, key=KEY)
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(token, key=KEY, kind="c", now=NOW, destination=destination)
    assert _reason(excinfo) == "destination_mismatch"


def test_a_token_without_a_destination_never_matches_one():
    token = sign_token(ENGAGEMENT, key=KEY)
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(token, key=KEY, kind="e", now=NOW, destination=DESTINATION)
    assert _reason(excinfo) == "destination_mismatch"


def test_kind_mismatch():
    beacon = sign_token(BEACON, key=KEY)
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(beacon, key=KEY, kind="c", now=NOW, destination=DESTINATION)
    assert _reason(excinfo) == "wrong_kind"
    click = sign_token(CLICK, key=KEY)
    for kind in ("i", "e"):
        with pytest.raises(InvalidToken) as excinfo:
            verify_token(click, key=KEY, kind=kind, now=NOW)
        assert _reason(excinfo) == "wrong_kind"


def test_the_signature_is_checked_before_anything_it_protects():
    expired_click = sign_token(replace(CLICK, expires_at=1), key=OTHER_KEY)
    with pytest.raises(InvalidToken) as excinfo:
        verify_token(expired_click, key=KEY, kind="i", now=NOW, destination="https://x.example")
    assert _reason(excinfo) == "bad_signature"


# --- caller mistakes ---------------------------------------------------------------------


def test_caller_mistakes_raise_value_errors():
    token = sign_token(CLICK, key=KEY)
    with pytest.raises(ValueError, match="saved destination"):
        verify_token(token, key=KEY, kind="c", now=NOW)
    with pytest.raises(ValueError, match="kind"):
        verify_token(token, key=KEY, kind="x", now=NOW)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        verify_token(token, key=b"short", kind="i", now=NOW)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_token(CLICK, key=b"")


def test_claims_validate_on_construction():
    with pytest.raises(ValueError, match="kind"):
        replace(BEACON, kind="x")
    with pytest.raises(ValueError, match="destination"):
        replace(BEACON, kind="c")
    with pytest.raises(ValueError, match="destination_hash"):
        replace(CLICK, destination_hash=hashlib.sha256(b"x").digest())
    with pytest.raises(ValueError, match="expires_at"):
        replace(BEACON, expires_at=-1)
    with pytest.raises(ValueError, match="expires_at"):
        replace(BEACON, expires_at=2**64)
    with pytest.raises(TypeError, match="campaign_id"):
        replace(BEACON, campaign_id=str(CAMPAIGN))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unit_id"):
        replace(BEACON, unit_id=str(UNIT))  # type: ignore[arg-type]


def test_invalid_token_reasons_are_a_closed_set():
    with pytest.raises(ValueError, match="Unknown"):
        InvalidToken("nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown"):
        InvalidSignature("nope")  # type: ignore[arg-type]


# --- key derivation ----------------------------------------------------------------------


def test_derive_key_is_hkdf_sha256():
    expected = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"herald.tracking.kdf.v1",
        info=str(ORG).encode() + b"\x00tracking",
    ).derive(MASTER)
    assert expected == KEY
    assert len(KEY) == 32


def test_derive_key_separates_organizations_and_purposes():
    keys = {
        derive_key(MASTER, str(organization), purpose)
        for organization in (ORG, OTHER_ORG)
        for purpose in ("tracking", "postback", "tracking2")
    }
    assert len(keys) == 6
    assert derive_key(MASTER, str(ORG).upper(), "tracking") == KEY
    assert derive_key(MASTER, ORG.hex, "tracking") == KEY
    assert derive_key(MASTER + b"!", str(ORG), "tracking") != KEY


@pytest.mark.parametrize(
    ("master", "organization", "purpose"),
    [
        (b"x" * 31, str(ORG), "tracking"),
        (MASTER, "not-a-uuid", "tracking"),
        (MASTER, "", "tracking"),
        (MASTER, str(ORG), ""),
        (MASTER, str(ORG), "a\x00b"),
    ],
)
def test_derive_key_refuses_bad_input(master, organization, purpose):
    with pytest.raises(ValueError):
        derive_key(master, organization, purpose)


# --- click ids ---------------------------------------------------------------------------


def test_click_ids_are_unique_url_safe_and_128_bit():
    ids = [new_click_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(click_id) >= 22 and TOKEN_ALPHABET.fullmatch(click_id) for click_id in ids)
    assert len(_raw(ids[0])) == 16


# --- postback signatures -----------------------------------------------------------------

SECRET = b"whsec_current_0123456789abcdef"
OLD_SECRET = b"whsec_previous_fedcba9876543210"
BODY = b'{"event_id":"evt_123","type":"conversion","value_micros":12500000}'
SENT_AT = NOW


def _verify(body: bytes, header: str, *, now: int = SENT_AT, secrets=(SECRET,)) -> None:
    verify_body_signature(body, header, secrets=list(secrets), now=now)


def test_sign_body_format():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    expected = hmac.new(SECRET, f"{SENT_AT}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={SENT_AT},v1={expected}"


def test_a_valid_signature_is_accepted_within_the_window():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    for now in (SENT_AT, SENT_AT + 300, SENT_AT - 300):
        _verify(BODY, header, now=now)


def test_a_mutated_body_is_refused():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    for body in (BODY + b" ", BODY.replace(b"12500000", b"99900000"), b"", BODY[:-1]):
        with pytest.raises(InvalidSignature) as excinfo:
            _verify(body, header)
        assert _reason(excinfo) == "bad_signature"


def test_a_mutated_signature_or_timestamp_is_refused():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    signature = header.split("v1=")[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    for mutated in (f"t={SENT_AT},v1={flipped}", f"t={SENT_AT + 1},v1={signature}"):
        with pytest.raises(InvalidSignature) as excinfo:
            _verify(BODY, mutated)
        assert _reason(excinfo) == "bad_signature"


def test_stale_and_future_dated_signatures_are_refused():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    for now in (SENT_AT + 301, SENT_AT - 301, SENT_AT + 86_400):
        with pytest.raises(InvalidSignature) as excinfo:
            _verify(BODY, header, now=now)
        assert _reason(excinfo) == "stale"


def test_tolerance_is_configurable():
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    verify_body_signature(BODY, header, secrets=[SECRET], now=SENT_AT + 30, tolerance=30)
    with pytest.raises(InvalidSignature):
        verify_body_signature(BODY, header, secrets=[SECRET], now=SENT_AT + 31, tolerance=30)


def test_two_secrets_during_rotation():
    third = b"whsec_unrelated_secret_000000000"
    rotating = (SECRET, OLD_SECRET)
    for secret in rotating:
        _verify(BODY, sign_body(BODY, secret=secret, timestamp=SENT_AT), secrets=rotating)
    with pytest.raises(InvalidSignature) as excinfo:
        _verify(BODY, sign_body(BODY, secret=third, timestamp=SENT_AT), secrets=rotating)
    assert _reason(excinfo) == "bad_signature"


def test_several_v1_values_are_allowed_and_unknown_schemes_ignored():
    new = sign_body(BODY, secret=SECRET, timestamp=SENT_AT).split("v1=")[1]
    old = sign_body(BODY, secret=OLD_SECRET, timestamp=SENT_AT).split("v1=")[1]
    _verify(BODY, f"t={SENT_AT},v1={old},v1={new}")
    _verify(BODY, f"t={SENT_AT}, v1={'0' * 64}, v0=legacy, v1={new}")
    with pytest.raises(InvalidSignature):
        _verify(BODY, f"t={SENT_AT},v1={old},v0={new}")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=,v1=" + "0" * 64,
        "v1=" + "0" * 64,
        f"t={SENT_AT}",
        f"t={SENT_AT},v1=",
        f"t={SENT_AT},v1=xyz",
        f"t={SENT_AT},v1={'0' * 63}",
        f"t={SENT_AT},v1={'A' * 64}",
        f"t={SENT_AT},t={SENT_AT},v1={'0' * 64}",
        f"t=-{SENT_AT},v1={'0' * 64}",
        f"t=1e9,v1={'0' * 64}",
        f"t=١٧٨٠٠٠٠٠٠٠,v1={'0' * 64}",
        f"t={'9' * 5000},v1={'0' * 64}",
        f"t={SENT_AT},v1={'0' * 64}," + ",".join(["v1=" + "0" * 64] * 8),
        f"t={SENT_AT}," + "x" * 3000,
        f"t={SENT_AT};v1={'0' * 64}",
    ],
)
def test_malformed_headers(header):
    with pytest.raises(InvalidSignature) as excinfo:
        _verify(BODY, header)
    assert _reason(excinfo) == "malformed"


@pytest.mark.parametrize("secrets", [[], [b""]])
def test_verifying_without_secrets_is_a_caller_mistake(secrets):
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    with pytest.raises(ValueError):
        verify_body_signature(BODY, header, secrets=secrets, now=SENT_AT)


@st.composite
def _mutated_bodies(draw: st.DrawFn) -> bytes:
    body = bytearray(BODY)
    operation = draw(st.sampled_from(["flip", "insert", "delete", "replace", "append"]))
    if operation == "flip":
        index = draw(st.integers(0, len(body) - 1))
        body[index] ^= draw(st.integers(1, 255))
    elif operation == "insert":
        index = draw(st.integers(0, len(body)))
        body[index:index] = draw(st.binary(min_size=1, max_size=8))
    elif operation == "delete":
        start = draw(st.integers(0, len(body) - 1))
        del body[start : draw(st.integers(start + 1, len(body)))]
    elif operation == "replace":
        body = bytearray(draw(st.binary(max_size=200)))
    else:
        body += draw(st.binary(min_size=1, max_size=16))
    mutated = bytes(body)
    # A "mutation" that lands back on the original body is not one.
    return mutated if mutated != BODY else BODY + b"\x00"


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_bodies())
def test_random_body_mutations_are_all_refused(body):
    header = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    with pytest.raises(InvalidSignature) as excinfo:
        _verify(body, header, secrets=(SECRET, OLD_SECRET))
    assert _reason(excinfo) == "bad_signature"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_random_signatures_are_all_refused(signature):
    genuine = sign_body(BODY, secret=SECRET, timestamp=SENT_AT)
    forged = f"t={SENT_AT},v1={signature}"
    if forged == genuine:  # 2**-256: never, but the property must hold regardless
        return
    with pytest.raises(InvalidSignature):
        _verify(BODY, forged)


@settings(max_examples=1000, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_random_secrets_are_all_refused(secret):
    if secret in (SECRET, OLD_SECRET):
        return
    with pytest.raises(InvalidSignature):
        _verify(BODY, sign_body(BODY, secret=secret, timestamp=SENT_AT))


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_headers_only_ever_raise_invalid_signature(header):
    with pytest.raises(InvalidSignature):
        _verify(BODY, header)
