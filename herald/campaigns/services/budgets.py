"""A campaign's budget and its split across channels.

Invariants kept here: the budget is in the campaign's currency; a lifetime budget needs
the campaign's end date; the allocations never add up to more than the budget; the unit
budgets of a channel never add up to more than that channel's allocation. Changes lock
the budget row so two concurrent edits cannot together break these.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.channels import validate_channel
from herald.campaigns.choices import BudgetKind, CampaignStatus
from herald.campaigns.lifecycle import TERMINAL_STATUSES
from herald.campaigns.models import BudgetAllocation, Campaign, CampaignBudget, CampaignUnit
from herald.campaigns.services._common import raise_if_errors
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.errors import Conflict, FieldError, InvalidInput, NotFound
from herald.core.money import quantize_amount, validate_amount, validate_currency

__all__ = ["budget_reallocate", "budget_set", "unit_budgets_fit"]


def _push_when_running(campaign: Campaign) -> None:
    """A campaign on its platforms gets the new budget there, after commit."""
    if campaign.status not in {CampaignStatus.ACTIVE, CampaignStatus.PAUSED}:
        return

    def enqueue() -> None:
        from herald.campaigns.tasks import campaign_budget_task

        campaign_budget_task.enqueue(
            campaign_id=str(campaign.pk), organization_id=str(campaign.organization_id)
        )

    transaction.on_commit(enqueue)


def _require_changeable(campaign: Campaign) -> None:
    if campaign.status in TERMINAL_STATUSES:
        raise Conflict(
            detail=f"The campaign is {campaign.status}; its budget can no longer change."
        )


def unit_budgets_fit(
    *, campaign: Campaign, allocations: Mapping[str, Decimal], field_prefix: str
) -> list[FieldError]:
    """Errors for each channel whose units' own budgets exceed its allocation."""
    totals = (
        CampaignUnit.objects.filter(campaign=campaign, budget_amount__isnull=False)
        .values("channel")
        .annotate(total=Sum("budget_amount"))
    )
    errors = []
    for row in totals:
        allocated = allocations.get(row["channel"], Decimal(0))
        if row["total"] > allocated:
            errors.append(
                FieldError(
                    f"{field_prefix}.{row['channel']}",
                    "below_unit_budgets",
                    f"The {row['channel']} units have budgets totalling "
                    f"{quantize_amount(row['total'], campaign.currency)}, more than the "
                    f"{quantize_amount(allocated, campaign.currency)} allocated to the channel.",
                )
            )
    return errors


@transaction.atomic
def budget_set(
    *,
    actor: Actor,
    campaign_id: object,
    kind: str,
    amount: Decimal,
    currency: str | None = None,
    allocations: Mapping[str, Decimal] | None = None,
) -> CampaignBudget:
    """Create or replace the campaign's budget; ``allocations``, when given, replace the
    channel split as a whole (``None`` keeps the current split)."""
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    _require_changeable(campaign)
    if kind not in BudgetKind.values:
        raise InvalidInput.single(
            "kind", "choice", f"{kind!r} is not a budget kind; use daily or lifetime."
        )
    budget_currency = validate_currency(currency or campaign.currency)
    if budget_currency != campaign.currency:
        raise InvalidInput.single(
            "currency",
            "campaign_currency",
            f"The campaign is in {campaign.currency}; its budget must be too.",
        )
    amount = validate_amount(amount, currency=budget_currency, field="amount")
    if kind == BudgetKind.LIFETIME and campaign.end_at is None:
        raise InvalidInput.single(
            "kind", "end_date_required", "A lifetime budget needs the campaign's end date."
        )

    budget = CampaignBudget.objects.select_for_update().filter(campaign=campaign).first()
    if allocations is None:
        split = (
            {a.channel: a.amount for a in budget.allocations.all()} if budget is not None else {}
        )
    else:
        split = _validate_allocations(allocations, currency=budget_currency)
    errors = unit_budgets_fit(campaign=campaign, allocations=split, field_prefix="allocations")
    total = sum(split.values(), Decimal(0))
    if total > amount:
        errors.append(
            FieldError(
                "allocations",
                "exceeds_budget",
                f"The allocations add up to {total}, more than the budget of {amount}.",
            )
        )
    raise_if_errors(errors)

    if budget is None:
        budget = CampaignBudget(organization=campaign.organization, campaign=campaign)
    budget.kind, budget.amount, budget.currency = kind, amount, budget_currency
    budget.save()
    if allocations is not None:
        BudgetAllocation.objects.filter(budget=budget).exclude(channel__in=list(split)).delete()
        for channel, channel_amount in split.items():
            BudgetAllocation.objects.update_or_create(
                budget=budget,
                channel=channel,
                defaults={"amount": channel_amount, "organization": campaign.organization},
            )
    _push_when_running(campaign)
    return budget


def _validate_allocations(
    allocations: Mapping[str, Decimal], *, currency: str
) -> dict[str, Decimal]:
    errors: list[FieldError] = []
    split: dict[str, Decimal] = {}
    for channel, channel_amount in allocations.items():
        field = f"allocations.{channel}"
        try:
            validate_channel(channel, field=field)
            split[channel] = validate_amount(
                Decimal(channel_amount), currency=currency, field=field, allow_zero=True
            )
        except InvalidInput as error:
            errors.extend(error.errors)
    raise_if_errors(errors)
    return split


@transaction.atomic
def budget_reallocate(
    *,
    actor: Actor,
    campaign_id: object,
    from_channel: str,
    to_channel: str,
    amount: Decimal,
) -> CampaignBudget:
    """Move ``amount`` from one channel's allocation to another's in one step; the
    budget's total and every other channel stay as they were."""
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    _require_changeable(campaign)
    budget: CampaignBudget | None = (
        CampaignBudget.objects.select_for_update().filter(campaign=campaign).first()
    )
    if budget is None:
        raise NotFound(detail="The campaign has no budget yet.")
    validate_channel(from_channel, field="from_channel")
    validate_channel(to_channel, field="to_channel")
    if from_channel == to_channel:
        raise InvalidInput.single(
            "to_channel", "different_channel", "Choose two different channels."
        )
    amount = validate_amount(amount, currency=budget.currency, field="amount")
    split = {a.channel: a.amount for a in budget.allocations.all()}
    available = split.get(from_channel, Decimal(0))
    if amount > available:
        raise InvalidInput.single(
            "amount",
            "exceeds_allocation",
            f"{from_channel} has {quantize_amount(available, budget.currency)} allocated; "
            f"{amount} cannot be moved.",
        )
    split[from_channel] = available - amount
    split[to_channel] = split.get(to_channel, Decimal(0)) + amount
    raise_if_errors(unit_budgets_fit(campaign=campaign, allocations=split, field_prefix="amount"))
    for channel in (from_channel, to_channel):
        BudgetAllocation.objects.update_or_create(
            budget=budget,
            channel=channel,
            defaults={"amount": split[channel], "organization": campaign.organization},
        )
    _push_when_running(campaign)
    return budget
