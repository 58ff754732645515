"""Secrets at rest: sealed per organization and purpose, rotatable."""

import uuid

import pytest
from cryptography.fernet import Fernet

from herald.core import secretbox
from herald.core.secretbox import SecretError, reseal, seal, unseal

ORG_A = uuid.uuid4()
ORG_B = uuid.uuid4()


def test_a_sealed_secret_opens_for_its_organization_and_purpose():
    token = seal("ya29.secret", organization_id=ORG_A, purpose="google_ads.access_token")
    assert "ya29.secret" not in token
    assert unseal(token, organization_id=ORG_A, purpose="google_ads.access_token") == "ya29.secret"


def test_a_ciphertext_copied_to_another_organization_does_not_open():
    token = seal("ya29.secret", organization_id=ORG_A, purpose="google_ads.access_token")
    with pytest.raises(SecretError, match="another organization"):
        unseal(token, organization_id=ORG_B, purpose="google_ads.access_token")


def test_a_ciphertext_used_for_another_purpose_does_not_open():
    token = seal("refresh", organization_id=ORG_A, purpose="google_ads.refresh_token")
    with pytest.raises(SecretError):
        unseal(token, organization_id=ORG_A, purpose="google_ads.access_token")


def test_a_tampered_ciphertext_does_not_open():
    token = seal("ya29.secret", organization_id=ORG_A, purpose="p")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretError):
        unseal(tampered, organization_id=ORG_A, purpose="p")


def test_rotation_reseals_under_the_new_key_while_the_old_one_still_opens(settings):
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.HERALD_ENCRYPTION_KEYS = [old_key]
    secretbox._box.cache_clear()
    token = seal("secret", organization_id=ORG_A, purpose="p")

    settings.HERALD_ENCRYPTION_KEYS = [new_key, old_key]
    assert unseal(token, organization_id=ORG_A, purpose="p") == "secret"
    rotated = reseal(token)

    settings.HERALD_ENCRYPTION_KEYS = [new_key]
    assert unseal(rotated, organization_id=ORG_A, purpose="p") == "secret"
    with pytest.raises(SecretError):
        unseal(token, organization_id=ORG_A, purpose="p")
