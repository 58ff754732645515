"""campaign_create, campaign_update, campaign_delete and campaign_duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from herald.accounts.actors import Actor, ActorKind
from herald.accounts.choices import Role
from herald.accounts.services import organization_create
from herald.campaigns.models import (
    AdCreative,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    KpiTarget,
)
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.campaigns import (
    campaign_create,
    campaign_delete,
    campaign_duplicate,
    campaign_update,
)
from herald.campaigns.services.creatives import creative_update
from herald.campaigns.services.kpis import kpi_set
from herald.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herald.testing.factories import (
    make_actor,
    make_campaign,
    make_creative,
    make_launchable_campaign,
    make_unit,
    make_user,
)

pytestmark = pytest.mark.django_db

START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
END = datetime(2030, 4, 1, 9, 0, tzinfo=UTC)


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


def _set_status(campaign: Campaign, status: str) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)


# --- campaign_create --------------------------------------------------------------------


def test_create_defaults_currency_and_time_zone_from_the_organization(db):
    # Given an organization in EUR and Paris time
    user = make_user()
    organization = organization_create(
        name="Chips SARL", owner=user, default_currency="EUR", time_zone="Europe/Paris"
    )
    actor = Actor(organization=organization, kind=ActorKind.USER, role=Role.OWNER, user=user)

    # When a campaign is created without currency or time zone
    campaign = campaign_create(actor=actor, name="  Lancement  ", objective="sales")

    # Then it takes the organization's, starts as a draft and records its author
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.currency, stored.time_zone) == ("EUR", "Europe/Paris")
    assert (stored.name, stored.status, stored.objective) == ("Lancement", "draft", "sales")
    assert stored.organization_id == organization.pk
    assert stored.created_by_id == user.pk
    assert (stored.start_at, stored.end_at, stored.tags) == (None, None, [])


def test_create_with_explicit_values(owner):
    campaign = campaign_create(
        actor=owner,
        name="Spicy",
        objective="traffic",
        description="Launch",
        start_at=START,
        end_at=END,
        time_zone="America/New_York",
        currency="jpy",
        tags=[" launch ", "spicy"],
    )

    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.currency, stored.time_zone) == ("JPY", "America/New_York")
    assert (stored.start_at, stored.end_at) == (START, END)
    assert stored.tags == ["launch", "spicy"]
    assert stored.description == "Launch"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"currency": "XYZ"}, [("currency", "iso_4217")]),
        ({"currency": "XAU"}, [("currency", "iso_4217")]),
        ({"time_zone": "Mars/Olympus_Mons"}, [("time_zone", "iana_time_zone")]),
        ({"objective": "fame"}, [("objective", "choice")]),
        ({"name": "   "}, [("name", "required")]),
        ({"name": "x" * 201}, [("name", "max_length")]),
        ({"start_at": datetime(2030, 3, 1, 9, 0)}, [("start_at", "aware_datetime")]),  # noqa: DTZ001
        ({"end_at": datetime(2030, 3, 1, 9, 0)}, [("end_at", "aware_datetime")]),  # noqa: DTZ001
        ({"start_at": END, "end_at": START}, [("end_at", "after_start")]),
        ({"start_at": START, "end_at": START}, [("end_at", "after_start")]),
        ({"tags": ["Spicy", "launch", "spicy"]}, [("tags.2", "duplicate")]),
        ({"tags": ["Spicy", "SPICY"]}, [("tags.1", "duplicate")]),
        ({"tags": ["ok", " "]}, [("tags.1", "required")]),
        ({"tags": [f"tag{n}" for n in range(21)]}, [("tags", "max_items")]),
        ({"tags": ["x" * 51]}, [("tags.0", "max_length")]),
    ],
)
def test_create_refuses_invalid_input_and_writes_nothing(owner, fields, expected):
    fields = {"name": "Spicy", "objective": "sales", **fields}

    with pytest.raises(InvalidInput) as excinfo:
        campaign_create(actor=owner, **fields)

    assert _rules(excinfo) == expected
    assert not Campaign.objects.exists()


def test_twenty_tags_are_allowed(owner):
    campaign = make_campaign(owner, tags=[f"tag{n}" for n in range(20)])

    assert len(Campaign.objects.get(pk=campaign.pk).tags) == 20


def test_viewer_cannot_create_a_campaign(viewer):
    with pytest.raises(PermissionDenied):
        campaign_create(actor=viewer, name="Spicy", objective="sales")

    assert not Campaign.objects.exists()


# --- campaign_update --------------------------------------------------------------------


def test_draft_campaign_plan_can_change(owner):
    campaign = make_campaign(owner, start_at=START, end_at=END)

    campaign_update(
        actor=owner,
        campaign_id=campaign.pk,
        objective="leads",
        currency="EUR",
        time_zone="Europe/Paris",
        start_at=START + timedelta(days=1),
        name="Renamed",
        tags=["a"],
    )

    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.objective, stored.currency, stored.time_zone) == (
        "leads",
        "EUR",
        "Europe/Paris",
    )
    assert stored.start_at == START + timedelta(days=1)
    assert (stored.name, stored.tags) == ("Renamed", ["a"])


@pytest.mark.parametrize("status", ["active", "paused", "launching"])
def test_plan_is_locked_once_the_campaign_has_launched(owner, status):
    # Given a campaign that has launched
    campaign = make_campaign(owner, start_at=START, end_at=END)
    _set_status(campaign, status)

    # When its objective, currency and start change
    with pytest.raises(Conflict) as excinfo:
        campaign_update(
            actor=owner,
            campaign_id=campaign.pk,
            objective="leads",
            currency="EUR",
            start_at=START + timedelta(days=1),
            name="Renamed too",
        )

    # Then each locked field is named with the rule "locked" and nothing changes
    assert sorted((e.field, e.rule) for e in excinfo.value.errors) == [
        ("currency", "locked"),
        ("objective", "locked"),
        ("start_at", "locked"),
    ]
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.objective, stored.currency, stored.start_at) == ("sales", "USD", START)
    assert stored.name == campaign.name


def test_time_zone_is_locked_once_active(owner):
    campaign = make_campaign(owner)
    _set_status(campaign, "active")

    with pytest.raises(Conflict) as excinfo:
        campaign_update(actor=owner, campaign_id=campaign.pk, time_zone="Europe/Paris")

    assert [(e.field, e.rule) for e in excinfo.value.errors] == [("time_zone", "locked")]


def test_active_campaign_keeps_the_rest_editable(owner):
    campaign = make_campaign(owner, start_at=START, end_at=END)
    _set_status(campaign, "active")

    campaign_update(
        actor=owner,
        campaign_id=campaign.pk,
        name="Renamed",
        description="New words",
        tags=["late"],
        end_at=END + timedelta(days=10),
        # Sending the unchanged plan values is not a change
        objective="sales",
        currency="USD",
        start_at=START,
    )

    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.description, stored.tags) == ("Renamed", "New words", ["late"])
    assert stored.end_at == END + timedelta(days=10)


@pytest.mark.parametrize("status", ["scheduled", "error"])
def test_plan_is_editable_before_a_successful_launch(owner, status):
    campaign = make_campaign(owner)
    _set_status(campaign, status)

    campaign_update(actor=owner, campaign_id=campaign.pk, objective="awareness")

    assert Campaign.objects.get(pk=campaign.pk).objective == "awareness"


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_finished_campaign_cannot_change_at_all(owner, status):
    campaign = make_campaign(owner)
    _set_status(campaign, status)

    with pytest.raises(Conflict):
        campaign_update(actor=owner, campaign_id=campaign.pk, name="Renamed")
    with pytest.raises(Conflict):
        campaign_update(actor=owner, campaign_id=campaign.pk, tags=["x"])

    assert Campaign.objects.get(pk=campaign.pk).name == campaign.name


def test_currency_change_with_a_budget_in_another_currency_is_refused(owner):
    # Given a draft USD campaign with a USD budget
    campaign = make_campaign(owner)
    budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("10"))

    # When its currency changes to EUR
    with pytest.raises(InvalidInput) as excinfo:
        campaign_update(actor=owner, campaign_id=campaign.pk, currency="EUR")

    # Then it is refused; the campaign and the budget stay in USD
    assert _rules(excinfo) == [("currency", "budget_currency")]
    assert Campaign.objects.get(pk=campaign.pk).currency == "USD"
    assert CampaignBudget.objects.get(campaign=campaign).currency == "USD"


def test_currency_change_without_a_budget_is_allowed(owner):
    campaign = make_campaign(owner)

    campaign_update(actor=owner, campaign_id=campaign.pk, currency="gbp")

    assert Campaign.objects.get(pk=campaign.pk).currency == "GBP"


def test_removing_the_end_date_of_a_lifetime_budget_campaign_is_refused(owner):
    campaign = make_campaign(owner, start_at=START, end_at=END)
    budget_set(actor=owner, campaign_id=campaign.pk, kind="lifetime", amount=Decimal("3000"))

    with pytest.raises(InvalidInput) as excinfo:
        campaign_update(actor=owner, campaign_id=campaign.pk, end_at=None)

    assert _rules(excinfo) == [("end_at", "required_for_lifetime_budget")]
    assert Campaign.objects.get(pk=campaign.pk).end_at == END


def test_removing_the_end_date_with_a_daily_budget_is_allowed(owner):
    campaign = make_campaign(owner, start_at=START, end_at=END)
    budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("30"))

    campaign_update(actor=owner, campaign_id=campaign.pk, end_at=None)

    assert Campaign.objects.get(pk=campaign.pk).end_at is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"end_at": START - timedelta(days=1)}, [("end_at", "after_start")]),
        ({"start_at": END}, [("end_at", "after_start")]),
        ({"start_at": datetime(2030, 3, 1)}, [("start_at", "aware_datetime")]),  # noqa: DTZ001
        ({"time_zone": "Nowhere/Land"}, [("time_zone", "iana_time_zone")]),
        ({"currency": "XYZ"}, [("currency", "iso_4217")]),
        ({"tags": ["a", "A"]}, [("tags.1", "duplicate")]),
        ({"name": ""}, [("name", "required")]),
    ],
)
def test_update_refuses_invalid_input_and_keeps_the_row(owner, fields, expected):
    campaign = make_campaign(owner, start_at=START, end_at=END, tags=["keep"])
    before = Campaign.objects.filter(pk=campaign.pk).values().get()

    with pytest.raises(InvalidInput) as excinfo:
        campaign_update(actor=owner, campaign_id=campaign.pk, **fields)

    assert _rules(excinfo) == expected
    assert Campaign.objects.filter(pk=campaign.pk).values().get() == before


def test_campaign_of_another_organization_is_not_found(owner, other_org):
    campaign = make_campaign(owner)

    with pytest.raises(NotFound):
        campaign_update(actor=make_actor(other_org), campaign_id=campaign.pk, name="Mine now")

    assert Campaign.objects.get(pk=campaign.pk).name == campaign.name


# --- campaign_delete --------------------------------------------------------------------


def test_draft_campaign_is_deleted_with_its_plan(owner):
    campaign = make_launchable_campaign(owner)

    campaign_delete(actor=owner, campaign_id=campaign.pk)

    assert not Campaign.objects.exists()
    assert not CampaignBudget.objects.exists()
    assert not CampaignUnit.objects.exists()
    assert not AdCreative.objects.exists()


@pytest.mark.parametrize(
    "status", ["scheduled", "launching", "active", "paused", "completed", "cancelled", "error"]
)
def test_only_draft_campaigns_can_be_deleted(owner, status):
    campaign = make_campaign(owner)
    _set_status(campaign, status)

    with pytest.raises(Conflict) as excinfo:
        campaign_delete(actor=owner, campaign_id=campaign.pk)

    assert excinfo.value.extra == {"current_status": status}
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_viewer_cannot_delete(owner, viewer):
    campaign = make_campaign(owner)

    with pytest.raises(PermissionDenied):
        campaign_delete(actor=viewer, campaign_id=campaign.pk)

    assert Campaign.objects.filter(pk=campaign.pk).exists()


# --- campaign_duplicate -----------------------------------------------------------------


def _launched_source(
    owner: Actor,
) -> tuple[Campaign, CampaignUnit, CampaignUnit, AdCreative, AdCreative]:
    """An active campaign with budget, two units (one with its own budget), a creative
    with two versions, KPI targets, and platform ids everywhere."""
    source = make_campaign(
        owner,
        name="Spicy",
        description="Launch",
        tags=["launch"],
        start_at=START,
        end_at=END,
        time_zone="America/New_York",
    )
    budget_set(
        actor=owner,
        campaign_id=source.pk,
        kind="daily",
        amount=Decimal("200.00"),
        allocations={"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")},
    )
    google = make_unit(owner, source, "google_ads", name="Search", budget_amount=Decimal("50"))
    meta = make_unit(owner, source, "meta_ads", name="Feed")
    search_v1 = make_creative(owner, google, name="Search ad")
    feed = make_creative(owner, meta, name="Feed ad")
    AdCreative.objects.filter(pk=search_v1.pk).update(
        launched_at=timezone.now(), external_id="ad-1"
    )
    search_v2 = creative_update(
        actor=owner,
        creative_id=search_v1.pk,
        headlines=["Version two", "Spicy Chips", "Organic"],
    )
    AdCreative.objects.filter(pk=feed.pk).update(launched_at=timezone.now(), external_id="ad-2")
    CampaignUnit.objects.filter(pk=google.pk).update(external_id="adgroup-1", status="active")
    CampaignUnit.objects.filter(pk=meta.pk).update(external_id="adset-1", status="active")
    kpi_set(actor=owner, campaign_id=source.pk, metric="roas", target_value=Decimal("3"))
    kpi_set(actor=owner, campaign_id=source.pk, metric="cpa", target_value=Decimal("12.5"))
    Campaign.objects.filter(pk=source.pk).update(status="active", status_changed_at=timezone.now())
    return source, google, meta, search_v2, feed


def test_duplicate_copies_the_plan_into_a_fresh_draft(owner, editor):
    # Given an active campaign with its whole plan
    source, google, meta, search_v2, feed = _launched_source(owner)

    # When an editor duplicates it
    copy = campaign_duplicate(actor=editor, campaign_id=source.pk)

    # Then the copy is a draft with the same plan but no dates
    copy = Campaign.objects.get(pk=copy.pk)
    assert copy.pk != source.pk
    assert copy.name == "Spicy (copy)"
    assert (copy.status, copy.start_at, copy.end_at, copy.status_changed_at) == (
        "draft",
        None,
        None,
        None,
    )
    assert (copy.objective, copy.currency, copy.time_zone) == ("sales", "USD", "America/New_York")
    assert (copy.description, copy.tags) == ("Launch", ["launch"])
    assert copy.created_by_id == editor.user.pk
    assert copy.organization_id == source.organization_id

    # Budget and allocations
    budget = CampaignBudget.objects.get(campaign=copy)
    assert (budget.kind, budget.amount, budget.currency) == ("daily", Decimal("200.00"), "USD")
    assert dict(
        BudgetAllocation.objects.filter(budget=budget).values_list("channel", "amount")
    ) == {"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")}

    # Units: same channel, name, audience and own budget; never launched
    units = {unit.name: unit for unit in CampaignUnit.objects.filter(campaign=copy)}
    assert set(units) == {"Search", "Feed"}
    assert (units["Search"].channel, units["Search"].budget_amount) == ("google_ads", Decimal(50))
    assert units["Search"].audience_id == google.audience_id
    assert (units["Feed"].channel, units["Feed"].audience_id) == ("meta_ads", meta.audience_id)
    assert {(unit.status, unit.external_id) for unit in units.values()} == {("draft", "")}

    # Creatives: only the current version of each, as a new lineage at version 1
    copied = {c.unit_id: c for c in AdCreative.objects.filter(unit__campaign=copy)}
    assert len(copied) == 2
    search_copy = copied[units["Search"].pk]
    feed_copy = copied[units["Feed"].pk]
    assert search_copy.headlines == ["Version two", "Spicy Chips", "Organic"]
    assert (search_copy.name, feed_copy.name) == ("Search ad", "Feed ad")
    assert feed_copy.media_id == feed.media_id
    assert feed_copy.call_to_action == "SHOP_NOW"
    assert feed_copy.primary_text == feed.primary_text
    for creative in (search_copy, feed_copy):
        assert creative.version == 1
        assert creative.lineage_id == creative.pk
        assert creative.lineage_id not in {search_v2.lineage_id, feed.lineage_id}
        assert creative.parent_id is None
        assert creative.is_current is True
        assert (creative.launched_at, creative.external_id) == (None, "")
        assert creative.organization_id == source.organization_id

    # KPI targets
    assert sorted(
        KpiTarget.objects.filter(campaign=copy).values_list("metric", "target_value", "unit")
    ) == [("cpa", Decimal("12.5"), "currency"), ("roas", Decimal("3"), "ratio")]


def test_duplicate_leaves_the_source_untouched(owner):
    source, *_ = _launched_source(owner)
    before = {
        "campaign": Campaign.objects.filter(pk=source.pk).values().get(),
        "units": list(CampaignUnit.objects.filter(campaign=source).values().order_by("name")),
        "creatives": list(AdCreative.objects.filter(unit__campaign=source).values().order_by("id")),
        "kpis": list(KpiTarget.objects.filter(campaign=source).values().order_by("metric")),
    }

    campaign_duplicate(actor=owner, campaign_id=source.pk, name="Second run")

    assert Campaign.objects.filter(pk=source.pk).values().get() == before["campaign"]
    assert (
        list(CampaignUnit.objects.filter(campaign=source).values().order_by("name"))
        == before["units"]
    )
    assert (
        list(AdCreative.objects.filter(unit__campaign=source).values().order_by("id"))
        == before["creatives"]
    )
    assert (
        list(KpiTarget.objects.filter(campaign=source).values().order_by("metric"))
        == before["kpis"]
    )
    assert Campaign.objects.filter(name="Second run").count() == 1


def test_duplicate_of_a_bare_campaign_copies_no_budget(owner):
    source = make_campaign(owner, name="Bare")

    copy = campaign_duplicate(actor=owner, campaign_id=source.pk)

    assert copy.name == "Bare (copy)"
    assert not CampaignBudget.objects.filter(campaign=copy).exists()
    assert not CampaignUnit.objects.filter(campaign=copy).exists()


def test_duplicate_refuses_a_blank_name(owner):
    source = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        campaign_duplicate(actor=owner, campaign_id=source.pk, name="  ")

    assert _rules(excinfo) == [("name", "required")]
    assert Campaign.objects.count() == 1


def test_viewer_cannot_duplicate(owner, viewer):
    source = make_campaign(owner)

    with pytest.raises(PermissionDenied):
        campaign_duplicate(actor=viewer, campaign_id=source.pk)

    assert Campaign.objects.count() == 1


def test_duplicate_of_a_lifetime_budget_campaign_stays_editable(owner):
    # Given a campaign with a lifetime budget (it has an end date, which is not copied)
    source = make_campaign(owner, end_at=timezone.now() + timedelta(days=30))
    budget_set(actor=owner, campaign_id=source.pk, kind="lifetime", amount=Decimal("900"))
    copy = campaign_duplicate(actor=owner, campaign_id=source.pk)
    assert copy.end_at is None

    # When the copy is renamed, without touching its dates
    renamed = campaign_update(actor=owner, campaign_id=copy.pk, name="Spring relaunch")

    # Then it saves; only clearing the end date explicitly is refused
    assert renamed.name == "Spring relaunch"
    with pytest.raises(InvalidInput) as refused:
        campaign_update(actor=owner, campaign_id=copy.pk, end_at=None)
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("end_at", "required_for_lifetime_budget")
    ]


def test_resending_the_same_currency_in_lower_case_to_an_active_campaign_is_no_change(owner):
    # Given an active campaign in USD
    campaign = make_campaign(owner, currency="USD")
    Campaign.objects.filter(pk=campaign.pk).update(status="active")

    # When a client resends its currency as "usd" with a new name
    updated = campaign_update(actor=owner, campaign_id=campaign.pk, currency="usd", name="New")

    # Then nothing locked changed, so the edit goes through
    assert (updated.name, updated.currency) == ("New", "USD")
