"""manage.py up --prepare-only: migrations, static files, first user and demo data."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from herald.accounts.models import ApiKey, Membership, Organization
from herald.campaigns.capabilities import Severity
from herald.campaigns.demo import DEMO_ORGANIZATION_SLUG
from herald.campaigns.models import (
    AdCreative,
    Audience,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    ExecutionLogEntry,
    KpiTarget,
    MediaAsset,
)
from herald.campaigns.services.creatives import creative_findings

pytestmark = pytest.mark.django_db

User = get_user_model()

ADMIN_EMAIL = "admin@tastychips.test"
ADMIN_PASSWORD = "a demo passphrase 2030"
COUNTED = (
    User,
    Organization,
    Membership,
    ApiKey,
    Campaign,
    CampaignBudget,
    BudgetAllocation,
    CampaignUnit,
    AdCreative,
    Audience,
    MediaAsset,
    KpiTarget,
    ExecutionLogEntry,
)


@pytest.fixture
def admin_env(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("HERALD_ADMIN_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"


def _up() -> str:
    out = io.StringIO()
    call_command("up", "--prepare-only", "--demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_up_prepares_the_admin_and_the_demo_data(admin_env, settings):
    # When Herald is prepared with the demo data
    output = _up()

    # Then the superuser exists with the given password
    admin = User.objects.get(username=ADMIN_EMAIL)
    assert (admin.email, admin.is_superuser, admin.is_staff) == (ADMIN_EMAIL, True, True)
    assert admin.check_password(ADMIN_PASSWORD)
    # With --demo, the demo organization is the admin's organization (no empty one)
    assert list(
        Membership.objects.filter(user=admin).values_list("organization__slug", "role")
    ) == [(DEMO_ORGANIZATION_SLUG, "owner")]

    # The output says where to sign in and with what
    assert f"Sign in as {ADMIN_EMAIL} with password {ADMIN_PASSWORD}" in output
    assert "Herald is ready." in output
    # collectstatic ran into STATIC_ROOT
    assert (settings.STATIC_ROOT / "admin").is_dir()

    # The demo organization, owned by the admin
    demo = Organization.objects.get(slug=DEMO_ORGANIZATION_SLUG)
    assert (demo.name, demo.default_currency, demo.time_zone) == (
        "Tasty Chips Co.",
        "USD",
        "America/New_York",
    )
    assert Membership.objects.get(organization=demo).user_id == admin.pk

    # Its campaigns cover the lifecycle
    statuses = dict(Campaign.objects.filter(organization=demo).values_list("name", "status"))
    assert statuses == {
        "Spicy Jalapeño Chips": "draft",
        "Summer BBQ Flavours": "active",
        "Sour Cream Test": "paused",
        "Sea Salt Classic": "completed",
        "Holiday Gift Tins": "scheduled",
        "Cheddar Teaser": "cancelled",
    }


def test_the_spicy_campaign_matches_the_seed(admin_env):
    _up()

    spicy = Campaign.objects.get(name="Spicy Jalapeño Chips")
    budget = CampaignBudget.objects.get(campaign=spicy)
    assert (budget.kind, budget.amount, budget.currency) == ("lifetime", 3000, "USD")
    assert dict(
        BudgetAllocation.objects.filter(budget=budget).values_list("channel", "amount")
    ) == {
        "google_ads": 1200,
        "meta_ads": 1800,
    }
    assert sorted(KpiTarget.objects.filter(campaign=spicy).values_list("metric", "unit")) == [
        ("cpa", "currency"),
        ("roas", "ratio"),
    ]

    units = {unit.channel: unit for unit in CampaignUnit.objects.filter(campaign=spicy)}
    assert set(units) == {"google_ads", "meta_ads"}
    assert units["google_ads"].audience.name == "US snack lovers"

    meta_creative = AdCreative.objects.get(unit=units["meta_ads"])
    assert meta_creative.headlines == ["New Spicy Jalapeño Chips | 20% Off"]
    assert meta_creative.call_to_action == "SHOP_NOW"
    assert meta_creative.destination_url == "https://www.tastychips.co/spicy"
    media = meta_creative.media
    assert media is not None
    assert (media.content_type, media.width, media.height) == ("image/jpeg", 1080, 1080)
    assert media.original_name == "chips_bag_spicy.jpg"
    assert [f for f in creative_findings(meta_creative) if f.is_blocking] == []

    google_creative = AdCreative.objects.get(unit=units["google_ads"])
    headline = google_creative.headlines[0]
    assert headline == "New Spicy Jalapeño Chips | 20% Off"
    assert len(headline) == 34
    errors = [
        (f.field, f.code)
        for f in creative_findings(google_creative)
        if f.severity is Severity.ERROR
    ]
    assert errors == [("headlines.0", "headline_too_long")]


def test_running_up_twice_creates_nothing_new(admin_env):
    _up()
    counts = _counts()

    output = _up()

    assert _counts() == counts
    assert Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).count() == 1
    # The password did not change, so it is not shown again
    assert f"Sign in as {ADMIN_EMAIL} (password unchanged;" in output
    assert ADMIN_PASSWORD not in output


def test_without_a_password_one_is_generated_and_shown(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("HERALD_ADMIN_EMAIL", "first@herald.test")
    monkeypatch.delenv("HERALD_ADMIN_PASSWORD", raising=False)
    settings.STATIC_ROOT = tmp_path / "static"
    out = io.StringIO()

    call_command("up", "--prepare-only", stdout=out)

    line = next(line for line in out.getvalue().splitlines() if "Sign in as" in line)
    prefix = "  Sign in as first@herald.test with password "
    assert line.startswith(prefix)
    password = line[len(prefix) :]
    assert len(password) >= 12
    assert User.objects.get(username="first@herald.test").check_password(password)
    # Without --demo the admin gets an organization of their own, and no demo one
    admin = User.objects.get(username="first@herald.test")
    assert list(
        Membership.objects.filter(user=admin).values_list("organization__name", "role")
    ) == [("My Organization", "owner")]
    assert not Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).exists()
    # And a second run does not add another one
    call_command("up", "--prepare-only", stdout=io.StringIO())
    assert Organization.objects.filter(name="My Organization").count() == 1


def test_a_changed_password_is_applied_and_shown(admin_env, monkeypatch):
    _up()
    monkeypatch.setenv("HERALD_ADMIN_PASSWORD", "another passphrase 99")

    output = _up()

    assert User.objects.get(username=ADMIN_EMAIL).check_password("another passphrase 99")
    assert f"Sign in as {ADMIN_EMAIL} with password another passphrase 99" in output
