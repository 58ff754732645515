"""budget_set and budget_reallocate: the campaign's money and its split by channel."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.campaigns.models import BudgetAllocation, Campaign, CampaignBudget
from herald.campaigns.services.budgets import budget_reallocate, budget_set
from herald.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herald.testing.factories import make_campaign, make_unit

pytestmark = pytest.mark.django_db


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


def _split(campaign: Campaign) -> dict[str, Decimal]:
    return dict(
        BudgetAllocation.objects.filter(budget__campaign=campaign).values_list("channel", "amount")
    )


def _ending_campaign(actor: Actor, **fields: Any) -> Campaign:
    fields.setdefault("end_at", timezone.now() + timedelta(days=30))
    return make_campaign(actor, **fields)


def _with_budget(
    actor: Actor, campaign: Campaign, amount: str = "200.00", **allocations: str
) -> CampaignBudget:
    return budget_set(
        actor=actor,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal(amount),
        allocations={channel: Decimal(value) for channel, value in allocations.items()},
    )


# --- budget_set -------------------------------------------------------------------------


def test_daily_budget_is_created_with_its_allocations(owner):
    # Given a draft campaign in the organization's currency (USD)
    campaign = make_campaign(owner)

    # When a daily budget is set with a split across two channels
    budget = budget_set(
        actor=owner,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("150.00"),
        allocations={"google_ads": Decimal("100.00"), "meta_ads": Decimal("50.00")},
    )

    # Then one budget row holds it, in the campaign's currency and organization
    stored = CampaignBudget.objects.get(campaign=campaign)
    assert stored.pk == budget.pk
    assert (stored.kind, stored.amount, stored.currency) == ("daily", Decimal("150.00"), "USD")
    assert stored.organization_id == campaign.organization_id
    assert _split(campaign) == {"google_ads": Decimal("100.00"), "meta_ads": Decimal("50.00")}
    assert set(
        BudgetAllocation.objects.filter(budget=stored).values_list("organization_id", flat=True)
    ) == {campaign.organization_id}


def test_lifetime_budget_with_an_end_date_is_accepted(owner):
    campaign = _ending_campaign(owner)

    budget = budget_set(
        actor=owner, campaign_id=campaign.pk, kind="lifetime", amount=Decimal("3000")
    )

    assert (budget.kind, budget.amount) == ("lifetime", Decimal("3000"))
    assert CampaignBudget.objects.filter(campaign=campaign).count() == 1
    assert _split(campaign) == {}


def test_setting_again_replaces_the_single_budget_row(owner):
    campaign = make_campaign(owner)
    first = _with_budget(owner, campaign, "100.00", google_ads="100.00")

    second = budget_set(
        actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("250.00")
    )

    assert second.pk == first.pk
    assert CampaignBudget.objects.filter(campaign=campaign).count() == 1
    assert CampaignBudget.objects.get(campaign=campaign).amount == Decimal("250.00")


def test_lifetime_budget_without_an_end_date_is_refused(owner):
    # Given a campaign with no end date
    campaign = make_campaign(owner)

    # When a lifetime budget is set
    with pytest.raises(InvalidInput) as excinfo:
        budget_set(actor=owner, campaign_id=campaign.pk, kind="lifetime", amount=Decimal("100"))

    # Then the kind is refused and no budget is written
    assert _rules(excinfo) == [("kind", "end_date_required")]
    assert not CampaignBudget.objects.filter(campaign=campaign).exists()


def test_unknown_kind_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(actor=owner, campaign_id=campaign.pk, kind="weekly", amount=Decimal("100"))

    assert _rules(excinfo) == [("kind", "choice")]
    assert not CampaignBudget.objects.exists()


def test_budget_in_another_currency_than_the_campaign_is_refused(owner):
    campaign = make_campaign(owner)  # USD, the organization's default

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("100"),
            currency="EUR",
        )

    assert _rules(excinfo) == [("currency", "campaign_currency")]
    assert excinfo.value.errors[0].message == "The campaign is in USD; its budget must be too."
    assert not CampaignBudget.objects.exists()


def test_currency_is_normalized_before_comparing(owner):
    campaign = make_campaign(owner)

    budget = budget_set(
        actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("10"), currency="usd"
    )

    assert budget.currency == "USD"


def test_invalid_currency_code_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("1"), currency="XYZ"
        )

    assert _rules(excinfo) == [("currency", "iso_4217")]


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-0.01"), Decimal("-100")])
def test_amount_must_be_positive(owner, amount):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=amount)

    assert _rules(excinfo) == [("amount", "positive")]
    assert not CampaignBudget.objects.exists()


def test_yen_amount_with_decimals_is_refused(owner):
    # Given a campaign in JPY, a currency with no minor unit
    campaign = make_campaign(owner, currency="JPY")

    # When the budget carries decimals
    with pytest.raises(InvalidInput) as excinfo:
        budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("1000.5"))

    # Then the precision is refused; a whole yen amount is accepted
    assert _rules(excinfo) == [("amount", "currency_precision")]
    assert excinfo.value.errors[0].message == "JPY amounts have 0 decimal places at most."
    assert not CampaignBudget.objects.exists()
    budget = budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("1000"))
    assert (budget.amount, budget.currency) == (Decimal("1000"), "JPY")


def test_yen_allocation_with_decimals_is_refused_naming_the_channel(owner):
    campaign = make_campaign(owner, currency="JPY")

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("1000"),
            allocations={"google_ads": Decimal("10.5")},
        )

    assert _rules(excinfo) == [("allocations.google_ads", "currency_precision")]


def test_allocations_above_the_budget_are_refused_and_nothing_is_saved(owner):
    # Given a campaign without a budget
    campaign = make_campaign(owner)

    # When the allocations add up to more than the budget
    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("100.00"),
            allocations={"google_ads": Decimal("60.00"), "meta_ads": Decimal("40.01")},
        )

    # Then the split is refused and neither the budget nor any allocation is written
    assert _rules(excinfo) == [("allocations", "exceeds_budget")]
    assert excinfo.value.errors[0].message == (
        "The allocations add up to 100.01, more than the budget of 100.00."
    )
    assert not CampaignBudget.objects.exists()
    assert not BudgetAllocation.objects.exists()


def test_allocations_above_the_budget_leave_an_existing_budget_untouched(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "100.00", google_ads="70.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("500.00"),
            allocations={"google_ads": Decimal("300.00"), "meta_ads": Decimal("300.00")},
        )

    assert _rules(excinfo) == [("allocations", "exceeds_budget")]
    stored = CampaignBudget.objects.get(campaign=campaign)
    assert stored.amount == Decimal("100.00")
    assert _split(campaign) == {"google_ads": Decimal("70.00")}


def test_allocations_equal_to_the_budget_are_accepted(owner):
    campaign = make_campaign(owner)

    _with_budget(owner, campaign, "100.00", google_ads="60.00", meta_ads="40.00")

    assert _split(campaign) == {"google_ads": Decimal("60.00"), "meta_ads": Decimal("40.00")}


def test_lowering_the_amount_below_the_kept_split_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "100.00", google_ads="80.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("50.00"))

    assert _rules(excinfo) == [("allocations", "exceeds_budget")]
    assert CampaignBudget.objects.get(campaign=campaign).amount == Decimal("100.00")


def test_unknown_channel_in_allocations_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("100"),
            allocations={"google_ads": Decimal("50"), "tiktok": Decimal("10")},
        )

    assert _rules(excinfo) == [("allocations.tiktok", "choice")]
    assert not CampaignBudget.objects.exists()
    assert not BudgetAllocation.objects.exists()


def test_negative_allocation_is_refused_but_zero_is_allowed(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        budget_set(
            actor=owner,
            campaign_id=campaign.pk,
            kind="daily",
            amount=Decimal("100"),
            allocations={"meta_ads": Decimal("-1")},
        )
    assert _rules(excinfo) == [("allocations.meta_ads", "min_value")]

    _with_budget(owner, campaign, "100", meta_ads="0")
    assert _split(campaign) == {"meta_ads": Decimal("0")}


def test_allocations_none_keeps_the_current_split(owner):
    # Given a budget split across two channels
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")

    # When only the amount changes (allocations not given)
    budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("300.00"))

    # Then the split stays exactly as it was
    assert CampaignBudget.objects.get(campaign=campaign).amount == Decimal("300.00")
    assert _split(campaign) == {"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")}


def test_replacing_allocations_removes_omitted_channels(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")

    _with_budget(owner, campaign, "200.00", meta_ads="150.00")

    assert _split(campaign) == {"meta_ads": Decimal("150.00")}
    assert BudgetAllocation.objects.count() == 1


def test_empty_allocations_remove_the_whole_split(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00")

    budget_set(
        actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("200"), allocations={}
    )

    assert _split(campaign) == {}


def test_allocations_below_the_units_budgets_are_refused(owner):
    # Given google_ads units whose own budgets total 80
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="100.00", meta_ads="100.00")
    make_unit(owner, campaign, "google_ads", budget_amount=Decimal("50.00"))
    make_unit(owner, campaign, "google_ads", budget_amount=Decimal("30.00"))

    # When google_ads is given less than that
    with pytest.raises(InvalidInput) as excinfo:
        _with_budget(owner, campaign, "200.00", google_ads="79.99", meta_ads="100.00")

    # Then the channel is named and the split is unchanged
    assert _rules(excinfo) == [("allocations.google_ads", "below_unit_budgets")]
    assert _split(campaign) == {"google_ads": Decimal("100.00"), "meta_ads": Decimal("100.00")}
    # Exactly the units' total is enough
    _with_budget(owner, campaign, "200.00", google_ads="80.00", meta_ads="100.00")
    assert _split(campaign)["google_ads"] == Decimal("80.00")


def test_dropping_a_channel_whose_units_have_budgets_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="100.00", meta_ads="100.00")
    make_unit(owner, campaign, "meta_ads", budget_amount=Decimal("10.00"))

    with pytest.raises(InvalidInput) as excinfo:
        _with_budget(owner, campaign, "200.00", google_ads="100.00")

    assert _rules(excinfo) == [("allocations.meta_ads", "below_unit_budgets")]
    assert _split(campaign) == {"google_ads": Decimal("100.00"), "meta_ads": Decimal("100.00")}


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_budget_of_a_finished_campaign_cannot_change(owner, status):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "100.00", google_ads="100.00")
    Campaign.objects.filter(pk=campaign.pk).update(status=status)

    with pytest.raises(Conflict):
        budget_set(actor=owner, campaign_id=campaign.pk, kind="daily", amount=Decimal("50"))

    assert CampaignBudget.objects.get(campaign=campaign).amount == Decimal("100.00")


def test_viewer_cannot_set_a_budget(owner, viewer):
    campaign = make_campaign(owner)

    with pytest.raises(PermissionDenied):
        budget_set(actor=viewer, campaign_id=campaign.pk, kind="daily", amount=Decimal("10"))

    assert not CampaignBudget.objects.exists()


def test_campaign_of_another_organization_is_not_found(owner, other_org):
    from herald.testing.factories import make_actor

    stranger = make_actor(other_org)
    campaign = make_campaign(owner)

    with pytest.raises(NotFound):
        budget_set(actor=stranger, campaign_id=campaign.pk, kind="daily", amount=Decimal("10"))

    assert not CampaignBudget.objects.exists()


# --- budget_reallocate ------------------------------------------------------------------


def test_reallocate_moves_exactly_the_amount_and_keeps_the_total(owner):
    # Given 120 on Google and 80 on Meta out of 200
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")

    # When 20.50 moves from Google to Meta
    budget = budget_reallocate(
        actor=owner,
        campaign_id=campaign.pk,
        from_channel="google_ads",
        to_channel="meta_ads",
        amount=Decimal("20.50"),
    )

    # Then each side changes by exactly that much and the budget is unchanged
    assert _split(campaign) == {"google_ads": Decimal("99.50"), "meta_ads": Decimal("100.50")}
    assert CampaignBudget.objects.get(pk=budget.pk).amount == Decimal("200.00")
    assert sum(_split(campaign).values()) == Decimal("200.00")


def test_reallocate_to_a_channel_without_allocation_creates_it(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="100.00")

    budget_reallocate(
        actor=owner,
        campaign_id=campaign.pk,
        from_channel="google_ads",
        to_channel="meta_ads",
        amount=Decimal("30.00"),
    )

    assert _split(campaign) == {"google_ads": Decimal("70.00"), "meta_ads": Decimal("30.00")}


def test_reallocate_the_whole_allocation_leaves_zero(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="100.00", meta_ads="100.00")

    budget_reallocate(
        actor=owner,
        campaign_id=campaign.pk,
        from_channel="meta_ads",
        to_channel="google_ads",
        amount=Decimal("100.00"),
    )

    assert _split(campaign) == {"google_ads": Decimal("200.00"), "meta_ads": Decimal("0.00")}


def test_reallocate_more_than_available_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="meta_ads",
            to_channel="google_ads",
            amount=Decimal("80.01"),
        )

    assert _rules(excinfo) == [("amount", "exceeds_allocation")]
    assert _split(campaign) == {"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")}


def test_reallocate_to_the_same_channel_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="google_ads",
            amount=Decimal("10"),
        )

    assert _rules(excinfo) == [("to_channel", "different_channel")]
    assert _split(campaign) == {"google_ads": Decimal("120.00")}


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
def test_reallocate_needs_a_positive_amount(owner, amount):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=amount,
        )

    assert _rules(excinfo) == [("amount", "positive")]


def test_reallocate_from_an_unknown_channel_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00")

    with pytest.raises(InvalidInput) as excinfo:
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="tiktok",
            to_channel="google_ads",
            amount=Decimal("1"),
        )

    assert _rules(excinfo) == [("from_channel", "choice")]


def test_reallocate_below_the_units_budgets_is_refused(owner):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="100.00", meta_ads="100.00")
    make_unit(owner, campaign, "google_ads", budget_amount=Decimal("80.00"))

    with pytest.raises(InvalidInput) as excinfo:
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=Decimal("20.01"),
        )

    assert _rules(excinfo) == [("amount.google_ads", "below_unit_budgets")]
    assert _split(campaign) == {"google_ads": Decimal("100.00"), "meta_ads": Decimal("100.00")}


def test_reallocate_without_a_budget_is_not_found(owner):
    campaign = make_campaign(owner)

    with pytest.raises(NotFound):
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=Decimal("1"),
        )


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_reallocate_on_a_finished_campaign_is_a_conflict(owner, status):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")
    Campaign.objects.filter(pk=campaign.pk).update(status=status)

    with pytest.raises(Conflict):
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=Decimal("10"),
        )

    assert _split(campaign) == {"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")}


def test_reallocate_is_atomic_when_the_second_write_fails(owner, monkeypatch):
    # Given a split, and a database that fails while writing the receiving channel
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")
    real_update_or_create = BudgetAllocation.objects.update_or_create
    calls: list[str] = []

    def failing_on_second(**kwargs: Any) -> Any:
        calls.append(kwargs["channel"])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_update_or_create(**kwargs)

    monkeypatch.setattr(BudgetAllocation.objects, "update_or_create", failing_on_second)

    # When the reallocation runs
    with pytest.raises(RuntimeError):
        budget_reallocate(
            actor=owner,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=Decimal("20.00"),
        )

    # Then the first write was rolled back with the second
    monkeypatch.undo()
    assert calls == ["google_ads", "meta_ads"]
    assert _split(campaign) == {"google_ads": Decimal("120.00"), "meta_ads": Decimal("80.00")}


def test_editor_can_reallocate_but_viewer_cannot(owner, editor, viewer):
    campaign = make_campaign(owner)
    _with_budget(owner, campaign, "200.00", google_ads="120.00", meta_ads="80.00")

    with pytest.raises(PermissionDenied):
        budget_reallocate(
            actor=viewer,
            campaign_id=campaign.pk,
            from_channel="google_ads",
            to_channel="meta_ads",
            amount=Decimal("10"),
        )
    budget_reallocate(
        actor=editor,
        campaign_id=campaign.pk,
        from_channel="google_ads",
        to_channel="meta_ads",
        amount=Decimal("10"),
    )

    assert _split(campaign) == {"google_ads": Decimal("110.00"), "meta_ads": Decimal("90.00")}
