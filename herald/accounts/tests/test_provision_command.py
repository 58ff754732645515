"""manage.py provision: a user, an organization, a membership and a fresh API key."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from herald.accounts.models import ApiKey, Membership, Organization
from herald.accounts.services import api_key_authenticate

pytestmark = pytest.mark.django_db

User = get_user_model()


def _provision(*args: str) -> str:
    out = io.StringIO()
    call_command("provision", *args, stdout=out)
    return out.getvalue()


def test_key_output_is_one_line_with_a_key_that_works_on_the_api():
    # When a new user and organization are provisioned for a script
    output = _provision("--email", "Ops@Example.com", "--organization", "Acme", "--output", "key")

    # Then exactly one line is printed: the key
    lines = output.splitlines()
    assert len(lines) == 1
    key = lines[0]
    assert key.startswith("hk_")
    assert output == key + "\n"

    # And the key lists the organization's campaigns through the API
    response = Client().get("/api/v1/campaigns", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0

    # As the owner of the new organization
    user = User.objects.get()
    assert (user.username, user.email) == ("ops@example.com", "ops@example.com")
    assert user.has_usable_password() is False
    organization = Organization.objects.get()
    assert (organization.name, organization.slug) == ("Acme", "acme")
    assert (organization.default_currency, organization.time_zone) == ("USD", "UTC")
    membership = Membership.objects.get()
    assert (membership.user_id, membership.organization_id, membership.role) == (
        user.pk,
        organization.pk,
        "owner",
    )
    actor = api_key_authenticate(raw_key=key)
    assert actor is not None
    assert (actor.organization.pk, actor.role) == (organization.pk, "owner")


def test_an_unknown_key_is_refused_by_the_api():
    _provision("--email", "ops@example.com", "--organization", "Acme", "--output", "key")

    response = Client().get("/api/v1/campaigns", HTTP_AUTHORIZATION="Bearer hk_nope_nope")

    assert response.status_code == 401


def test_rerunning_reuses_user_and_organization_and_adds_a_key():
    first = _provision("--email", "ops@example.com", "--organization", "Acme", "--output", "key")

    second = _provision("--email", "OPS@example.com", "--organization", "Acme", "--output", "key")

    assert first != second
    assert User.objects.count() == 1
    assert Organization.objects.count() == 1
    assert Membership.objects.count() == 1
    assert ApiKey.objects.count() == 2
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 2
    for key in (first.strip(), second.strip()):
        assert api_key_authenticate(raw_key=key) is not None


def test_json_output_has_the_documented_keys():
    output = _provision(
        "--email",
        "ops@example.com",
        "--organization",
        "Acme Foods",
        "--currency",
        "eur",
        "--time-zone",
        "Europe/Paris",
        "--key-name",
        "deploys",
        "--output",
        "json",
    )

    data = json.loads(output)
    organization = Organization.objects.get()
    api_key = ApiKey.objects.get()
    assert data == {
        "email": "ops@example.com",
        "organization": "Acme Foods",
        "organization_slug": "acme-foods",
        "organization_id": str(organization.pk),
        "role": "owner",
        "api_key_id": str(api_key.pk),
        "api_key": data["api_key"],
    }
    assert data["api_key"].startswith(api_key.prefix)
    assert api_key.name == "deploys"
    assert (organization.default_currency, organization.time_zone) == ("EUR", "Europe/Paris")


def test_text_output_names_the_user_organization_and_key():
    output = _provision("--email", "ops@example.com", "--organization", "Acme")

    key = ApiKey.objects.get()
    lines = output.splitlines()
    assert lines[0] == "User ops@example.com is owner of Acme (acme)."
    assert lines[1].startswith(f"API key (shown once): {key.prefix}")
    assert len(lines) == 2


def test_invalid_currency_is_a_command_error_naming_it():
    with pytest.raises(CommandError) as excinfo:
        _provision("--email", "ops@example.com", "--organization", "Acme", "--currency", "XYZ")

    message = str(excinfo.value)
    assert "default_currency" in message
    assert "'XYZ' is not an ISO 4217 currency code" in message
    # Nothing was left behind
    assert not User.objects.exists()
    assert not Organization.objects.exists()
    assert not ApiKey.objects.exists()


def test_invalid_time_zone_is_a_command_error_naming_it():
    with pytest.raises(CommandError) as excinfo:
        _provision("--email", "ops@example.com", "--organization", "Acme", "--time-zone", "Mars")

    assert "time_zone" in str(excinfo.value)
    assert not Organization.objects.exists()


def test_password_lets_the_user_sign_in():
    _provision(
        "--email",
        "ops@example.com",
        "--organization",
        "Acme",
        "--password",
        "a long passphrase 42",
        "--output",
        "key",
    )

    client = Client()
    assert client.login(username="ops@example.com", password="a long passphrase 42") is True
    assert client.login(username="ops@example.com", password="wrong") is False


def test_rerun_without_password_keeps_the_existing_password():
    _provision("--email", "ops@example.com", "--organization", "Acme", "--password", "pw one 1")

    _provision("--email", "ops@example.com", "--organization", "Acme", "--output", "key")

    assert User.objects.get().check_password("pw one 1")


def test_existing_member_gets_the_requested_role():
    _provision("--email", "boss@example.com", "--organization", "Acme")
    _provision("--email", "dev@example.com", "--organization", "Acme", "--role", "editor")

    output = _provision(
        "--email",
        "dev@example.com",
        "--organization",
        "Acme",
        "--role",
        "viewer",
        "--output",
        "json",
    )

    assert json.loads(output)["role"] == "viewer"
    assert dict(Membership.objects.values_list("user__email", "role")) == {
        "boss@example.com": "owner",
        "dev@example.com": "viewer",
    }


def test_provisioning_cannot_leave_an_organization_without_an_owner():
    # Given Acme whose only owner is boss@
    _provision("--email", "boss@example.com", "--organization", "Acme")

    # When boss@ is provisioned again with a lower role
    with pytest.raises(CommandError) as excinfo:
        _provision("--email", "boss@example.com", "--organization", "Acme", "--role", "editor")

    # Then it is refused and boss@ stays owner, without a new key
    assert "at least one owner" in str(excinfo.value)
    assert Membership.objects.get().role == "owner"
    assert ApiKey.objects.count() == 1


def test_new_organization_with_a_non_owner_role_is_refused():
    with pytest.raises(CommandError) as excinfo:
        _provision("--email", "dev@example.com", "--organization", "Acme", "--role", "editor")

    assert "at least one owner" in str(excinfo.value)
    assert not Organization.objects.exists()
    assert not Membership.objects.exists()
