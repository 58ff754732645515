"""Organizations, memberships, API keys and the role → permission table."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from herald.accounts import services as account_services
from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import PERMISSION_TABLE, Permission, Role, role_allows
from herald.accounts.models import ApiKey, Membership, Organization
from herald.accounts.services import (
    API_KEY_PREFIX,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
)
from herald.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herald.testing.factories import make_actor, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


def _membership(actor: Actor) -> Membership:
    return Membership.objects.get(user=actor.user, organization=actor.organization)


@pytest.fixture
def admin(org):
    return make_actor(org, Role.ADMIN)


@pytest.fixture
def solo():
    """An organization whose only member is its one owner."""
    user = make_user()
    organization = organization_create(name="Solo Snacks", owner=user)
    return Actor(organization=organization, kind=ActorKind.USER, role=Role.OWNER, user=user)


# --- organization_create ----------------------------------------------------------------


def test_organization_create_makes_the_creator_its_owner(db):
    user = make_user()

    organization = organization_create(
        name="  Crunch & Co.  ", owner=user, default_currency="eur", time_zone="Europe/Paris"
    )

    stored = Organization.objects.get(pk=organization.pk)
    assert (stored.name, stored.slug) == ("Crunch & Co.", "crunch-co")
    assert (stored.default_currency, stored.time_zone) == ("EUR", "Europe/Paris")
    assert list(
        Membership.objects.filter(organization=organization).values_list("user_id", "role")
    ) == [(user.pk, "owner")]


def test_generated_slugs_are_de_duplicated(db):
    slugs = [organization_create(name="Tasty Chips", owner=make_user()).slug for _ in range(3)]

    assert slugs == ["tasty-chips", "tasty-chips-2", "tasty-chips-3"]


def test_a_name_without_slug_characters_gets_a_fallback_slug(db):
    organization = organization_create(name="!!!", owner=make_user())

    assert organization.slug == "organization"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "  "}, [("name", "required")]),
        ({"name": "x" * 201}, [("name", "max_length")]),
        ({"default_currency": "XYZ"}, [("default_currency", "iso_4217")]),
        ({"time_zone": "Moon/Base"}, [("time_zone", "iana_time_zone")]),
        ({"slug": "Not A Slug"}, [("slug", "slug")]),
    ],
)
def test_organization_create_refuses_invalid_input(db, fields, expected):
    user = make_user()

    with pytest.raises(InvalidInput) as excinfo:
        organization_create(owner=user, **{"name": "Acme", **fields})

    assert _rules(excinfo) == expected
    assert not Organization.objects.exists()
    assert not Membership.objects.exists()


def test_a_taken_explicit_slug_is_refused(db):
    organization_create(name="Acme", owner=make_user(), slug="acme")

    with pytest.raises(InvalidInput) as excinfo:
        organization_create(name="Other Acme", owner=make_user(), slug="acme")

    assert _rules(excinfo) == [("slug", "unique")]
    assert Organization.objects.count() == 1


# --- memberships ------------------------------------------------------------------------


def test_membership_add_creates_a_user_without_a_usable_password(admin):
    membership = membership_add(actor=admin, email="  New.Person@Example.com ", role="editor")

    user = User.objects.get(pk=membership.user_id)
    assert (user.username, user.email) == ("new.person@example.com", "new.person@example.com")
    assert user.has_usable_password() is False
    assert (membership.organization_id, membership.role) == (admin.organization.pk, "editor")


def test_membership_add_reuses_an_existing_user(admin):
    existing = make_user("known@example.com")
    users_before = User.objects.count()

    membership = membership_add(actor=admin, email="KNOWN@example.com", role="viewer")

    assert membership.user_id == existing.pk
    assert User.objects.count() == users_before
    existing.refresh_from_db()
    assert existing.check_password("correct horse battery")


def test_adding_an_existing_member_is_a_conflict(admin, editor):
    with pytest.raises(Conflict):
        membership_add(actor=admin, email=editor.user.email, role="viewer")

    assert _membership(editor).role == "editor"
    assert Membership.objects.filter(user=editor.user).count() == 1


@pytest.mark.parametrize("email", ["", "not-an-email", "@example.com"])
def test_membership_add_refuses_an_invalid_email(admin, email):
    users_before = User.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        membership_add(actor=admin, email=email, role="viewer")

    assert _rules(excinfo) == [("email", "email")]
    assert User.objects.count() == users_before


def test_membership_add_refuses_an_unknown_role(admin):
    with pytest.raises(InvalidInput) as excinfo:
        membership_add(actor=admin, email="x@example.com", role="superhero")

    assert _rules(excinfo) == [("role", "choice")]
    assert not User.objects.filter(email="x@example.com").exists()


def test_only_owners_grant_the_owner_role(owner, admin):
    # An admin cannot add an owner
    with pytest.raises(PermissionDenied):
        membership_add(actor=admin, email="boss@example.com", role="owner")
    assert not User.objects.filter(email="boss@example.com").exists()

    # An owner can
    membership = membership_add(actor=owner, email="boss@example.com", role="owner")
    assert membership.role == "owner"


def test_editor_cannot_manage_members(editor):
    with pytest.raises(PermissionDenied):
        membership_add(actor=editor, email="friend@example.com", role="viewer")

    assert not User.objects.filter(email="friend@example.com").exists()


def test_admin_cannot_promote_to_owner_or_change_an_owner(owner, admin, editor):
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=admin, membership=_membership(editor), role="owner")
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=admin, membership=_membership(owner), role="viewer")
    with pytest.raises(PermissionDenied):
        membership_remove(actor=admin, membership=_membership(owner))

    assert _membership(editor).role == "editor"
    assert _membership(owner).role == "owner"


def test_admin_changes_the_role_of_a_non_owner(admin, editor):
    membership_change_role(actor=admin, membership=_membership(editor), role="viewer")

    assert _membership(editor).role == "viewer"


def test_last_owner_cannot_be_demoted(solo):
    with pytest.raises(Conflict):
        membership_change_role(actor=solo, membership=_membership(solo), role="admin")

    assert _membership(solo).role == "owner"


def test_last_owner_cannot_be_removed(solo):
    with pytest.raises(Conflict):
        membership_remove(actor=solo, membership=_membership(solo))

    assert Membership.objects.filter(organization=solo.organization, role="owner").count() == 1


def test_an_owner_can_step_down_when_another_owner_remains(solo):
    membership_add(actor=solo, email="second@example.com", role="owner")

    membership_change_role(actor=solo, membership=_membership(solo), role="editor")

    assert _membership(solo).role == "editor"
    assert list(
        Membership.objects.filter(organization=solo.organization, role="owner").values_list(
            "user__email", flat=True
        )
    ) == ["second@example.com"]


def test_removing_a_member_revokes_their_keys_in_that_organization_only(
    owner, admin, editor, other_org
):
    # Given the editor has two keys here and one in another organization
    assert editor.user is not None and admin.user is not None
    key_one, _ = api_key_create(user=editor.user, organization=owner.organization, name="one")
    key_two, _ = api_key_create(user=editor.user, organization=owner.organization, name="two")
    Membership.objects.create(user=editor.user, organization=other_org, role=Role.EDITOR)
    elsewhere, _ = api_key_create(user=editor.user, organization=other_org, name="elsewhere")
    admins_key, _ = api_key_create(user=admin.user, organization=owner.organization, name="a")

    # When the editor is removed
    membership_remove(actor=admin, membership=_membership(editor))

    # Then their keys here are revoked, the rest untouched
    assert not Membership.objects.filter(user=editor.user, organization=owner.organization)
    for key in (key_one, key_two):
        key.refresh_from_db()
        assert key.revoked_at is not None
    for key in (elsewhere, admins_key):
        key.refresh_from_db()
        assert key.revoked_at is None


# --- API keys ---------------------------------------------------------------------------


def test_api_key_create_returns_the_plaintext_and_stores_only_its_hash(editor):
    api_key, raw_key = api_key_create(
        user=editor.user, organization=editor.organization, name=" CI deploys "
    )

    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw_key.startswith(API_KEY_PREFIX)
    assert stored.name == "CI deploys"
    assert stored.prefix == raw_key[: len(stored.prefix)]
    assert len(stored.prefix) == len(API_KEY_PREFIX) + 8
    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert (stored.user_id, stored.organization_id) == (editor.user.pk, editor.organization.pk)
    assert (stored.revoked_at, stored.last_used_at) == (None, None)
    secret = raw_key[len(stored.prefix) + 1 :]
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    for column, value in row.items():
        assert raw_key not in str(value), column
        assert secret not in str(value), column


def test_api_keys_are_unique(editor):
    raw_keys = {
        api_key_create(user=editor.user, organization=editor.organization, name=f"k{n}")[1]
        for n in range(5)
    }

    assert len(raw_keys) == 5
    assert ApiKey.objects.values("key_hash").distinct().count() == 5


def test_api_key_needs_a_membership(org, other_org):
    outsider = make_actor(other_org)
    assert outsider.user is not None

    with pytest.raises(InvalidInput) as excinfo:
        api_key_create(user=outsider.user, organization=org, name="sneaky")

    assert _rules(excinfo) == [("user", "membership")]
    assert not ApiKey.objects.exists()


def test_api_key_name_is_required(editor):
    with pytest.raises(InvalidInput) as excinfo:
        api_key_create(user=editor.user, organization=editor.organization, name=" ")

    assert _rules(excinfo) == [("name", "required")]


def test_authenticate_returns_an_actor_with_the_current_role(editor):
    # Given a key made while its user was an editor
    api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")

    actor = api_key_authenticate(raw_key=raw_key)

    assert actor is not None
    assert actor.user is not None and actor.api_key is not None
    assert (actor.kind, actor.role) == (ActorKind.API_KEY, "editor")
    assert (actor.user.pk, actor.organization.pk, actor.api_key.pk) == (
        editor.user.pk,
        editor.organization.pk,
        api_key.pk,
    )
    # When the membership is lowered to viewer, the key follows at once
    Membership.objects.filter(pk=_membership(editor).pk).update(role=Role.VIEWER)
    actor = api_key_authenticate(raw_key=raw_key)
    assert actor is not None
    assert actor.role == "viewer"
    assert actor.can(Permission.CAMPAIGN_EDIT) is False


def test_revoked_key_does_not_authenticate(editor):
    api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")
    api_key_revoke(actor=editor, api_key=api_key)

    assert api_key_authenticate(raw_key=raw_key) is None


@pytest.mark.parametrize(
    "transform",
    [
        lambda raw: raw[len(API_KEY_PREFIX) :],  # prefix missing
        lambda raw: "xk_" + raw[len(API_KEY_PREFIX) :],  # wrong prefix
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # one character off
        lambda raw: raw + "x" * 200,  # too long
        lambda raw: "",
    ],
)
def test_malformed_or_unknown_keys_do_not_authenticate(editor, transform):
    _api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")

    assert api_key_authenticate(raw_key=transform(raw_key)) is None


def test_key_of_a_removed_member_does_not_authenticate(admin, editor):
    api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")
    # Even if the key were somehow still active, the missing membership is enough
    Membership.objects.filter(pk=_membership(editor).pk).delete()

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    assert api_key_authenticate(raw_key=raw_key) is None


def test_key_of_a_deactivated_user_does_not_authenticate(editor):
    _api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")
    User.objects.filter(pk=editor.user.pk).update(is_active=False)

    assert api_key_authenticate(raw_key=raw_key) is None


def test_last_used_at_is_written_at_most_once_a_minute(editor):
    api_key, raw_key = api_key_create(user=editor.user, organization=editor.organization, name="k")

    # First use records the time
    before = timezone.now()
    api_key_authenticate(raw_key=raw_key)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None
    assert first >= before

    # A use within the minute does not write again
    api_key_authenticate(raw_key=raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first

    # 59 seconds ago is still within the minute
    recent = timezone.now() - timedelta(seconds=59)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=recent)
    api_key_authenticate(raw_key=raw_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == recent

    # A minute or more later it is written again
    old = timezone.now() - timedelta(seconds=61)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=old)
    before = timezone.now()
    api_key_authenticate(raw_key=raw_key)
    written = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert written is not None
    assert written >= before


def test_viewer_revokes_their_own_key(viewer):
    api_key, raw_key = api_key_create(user=viewer.user, organization=viewer.organization, name="k")

    api_key_revoke(actor=viewer, api_key=api_key)

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    assert api_key_authenticate(raw_key=raw_key) is None


def test_revoking_twice_keeps_the_first_revocation_time(viewer):
    api_key, _ = api_key_create(user=viewer.user, organization=viewer.organization, name="k")
    api_key_revoke(actor=viewer, api_key=api_key)
    first = ApiKey.objects.get(pk=api_key.pk).revoked_at

    api_key_revoke(actor=viewer, api_key=ApiKey.objects.get(pk=api_key.pk))

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == first


def test_revoking_another_members_key_needs_an_admin(editor, viewer, admin):
    # Given the viewer's key
    api_key, raw_key = api_key_create(user=viewer.user, organization=viewer.organization, name="k")

    # When an editor revokes it, it is refused and the key keeps working
    with pytest.raises(PermissionDenied):
        api_key_revoke(actor=editor, api_key=api_key)
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    assert api_key_authenticate(raw_key=raw_key) is not None

    # An admin can
    api_key_revoke(actor=admin, api_key=ApiKey.objects.get(pk=api_key.pk))
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None


def test_key_of_another_organization_is_not_found(owner, other_org):
    outsider = make_actor(other_org)
    assert outsider.user is not None
    api_key, _ = api_key_create(user=outsider.user, organization=other_org, name="theirs")

    with pytest.raises(NotFound):
        api_key_revoke(actor=owner, api_key=api_key)

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None


# --- Roles and permissions --------------------------------------------------------------


def test_every_permission_has_a_row_in_the_table():
    assert set(PERMISSION_TABLE) == set(Permission)


def test_owner_holds_every_permission():
    assert {p for p in Permission if role_allows(Role.OWNER, p)} == set(Permission)


def test_admin_holds_everything_but_deleting_the_organization():
    assert {p for p in Permission if not role_allows(Role.ADMIN, p)} == {
        Permission.ORGANIZATION_DELETE
    }


def test_editor_builds_and_runs_campaigns_only():
    assert {p for p in Permission if role_allows(Role.EDITOR, p)} == {
        Permission.ORGANIZATION_VIEW,
        Permission.MEMBER_VIEW,
        Permission.API_KEY_MANAGE_OWN,
        Permission.INTEGRATION_VIEW,
        Permission.CAMPAIGN_VIEW,
        Permission.CAMPAIGN_EDIT,
        Permission.CAMPAIGN_OPERATE,
    }


def test_viewer_only_reads_and_manages_their_own_keys():
    allowed = {p for p in Permission if role_allows(Role.VIEWER, p)}

    assert allowed == {p for p in Permission if p.value.endswith(".view")} | {
        Permission.API_KEY_MANAGE_OWN
    }
    assert allowed == {
        Permission.ORGANIZATION_VIEW,
        Permission.MEMBER_VIEW,
        Permission.INTEGRATION_VIEW,
        Permission.CAMPAIGN_VIEW,
        Permission.API_KEY_MANAGE_OWN,
    }


def test_system_actor_may_do_anything(org):
    system = Actor.system(org)

    assert all(system.can(permission) for permission in Permission)


def test_unknown_role_holds_nothing(org):
    actor = Actor(organization=org, kind=ActorKind.USER, role="intern")

    assert not any(actor.can(permission) for permission in Permission)
    with pytest.raises(PermissionDenied):
        actor.require(Permission.CAMPAIGN_VIEW)


@pytest.mark.parametrize("email", ["foo@", "a b@example.com", "a@b@example.com", "x@.com"])
def test_membership_add_refuses_malformed_addresses(admin, email):
    users_before = User.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        membership_add(actor=admin, email=email, role="viewer")

    assert _rules(excinfo) == [("email", "email")]
    assert User.objects.count() == users_before
    assert Membership.objects.filter(organization=admin.organization).count() == 2


def test_membership_add_refuses_a_new_address_too_long_for_a_username(admin):
    address = "a" * 140 + "@example.com"  # 152 characters: a valid email, too long a username
    users_before = User.objects.count()

    with pytest.raises(InvalidInput) as excinfo:
        membership_add(actor=admin, email=address, role="viewer")

    assert _rules(excinfo) == [("email", "max_length")]
    assert User.objects.count() == users_before


def test_membership_add_finds_an_existing_user_with_a_long_address(admin):
    address = "b" * 140 + "@example.com"
    existing = User.objects.create_user(username="long-address", email=address)

    membership = membership_add(actor=admin, email=address.upper(), role="viewer")

    assert membership.user_id == existing.pk


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks and concurrent connections"
)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(transactional_db, monkeypatch):
    # Given an organization with exactly two owners
    first, second = make_user(), make_user()
    organization = organization_create(name="Duo Snacks", owner=first)
    Membership.objects.create(user=second, organization=organization, role=Role.OWNER)
    actors = {
        name: Actor(organization=organization, kind=ActorKind.USER, role=Role.OWNER, user=user)
        for name, user in (("first", first), ("second", second))
    }
    # Each demotion waits (up to 2 s) after counting owners, for the other to count too
    barrier = threading.Barrier(2, timeout=2)
    real_owner_count = account_services._owner_count

    def count_then_wait(org: Organization) -> int:
        count = real_owner_count(org)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return count

    monkeypatch.setattr(account_services, "_owner_count", count_then_wait)
    results: dict[str, str] = {}

    def step_down(name: str) -> None:
        actor = actors[name]
        try:
            membership = Membership.objects.get(user=actor.user, organization=organization)
            membership_change_role(actor=actor, membership=membership, role="editor")
            results[name] = "demoted"
        except Conflict:
            results[name] = "conflict"
        finally:
            connection.close()

    # When both owners step down at the same time
    threads = [threading.Thread(target=step_down, args=(name,)) for name in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then exactly one succeeds and the organization keeps one owner
    assert sorted(results.values()) == ["conflict", "demoted"]
    assert Membership.objects.filter(organization=organization, role=Role.OWNER).count() == 1
