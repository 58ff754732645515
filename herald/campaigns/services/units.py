"""Campaign units: an ad group on Google, an ad set on Meta; one channel each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.channels import validate_channel
from herald.campaigns.lifecycle import TERMINAL_STATUSES
from herald.campaigns.models import (
    AdCreative,
    Audience,
    BudgetAllocation,
    Campaign,
    CampaignUnit,
)
from herald.campaigns.services._common import clean_text, get_for_actor, raise_if_errors
from herald.campaigns.services.budgets import unit_budgets_fit
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.errors import Conflict, InvalidInput
from herald.core.money import quantize_amount, validate_amount

__all__ = ["unit_create", "unit_delete", "unit_get_for_actor", "unit_update"]

_UNSET: Any = object()


def unit_get_for_actor(*, actor: Actor, unit_id: object, lock: bool = False) -> CampaignUnit:
    return get_for_actor(CampaignUnit, actor=actor, pk=unit_id, lock=lock, label="unit")


def _audience_in_org(actor: Actor, audience_id: object | None) -> Audience | None:
    if audience_id is None:
        return None
    audience: Audience | None = (
        Audience.objects.for_org(actor.organization).filter(pk=audience_id).first()
    )
    if audience is None:
        raise InvalidInput.single(
            "audience_id", "not_found", "No such audience in this organization."
        )
    return audience


def _require_changeable(campaign: Campaign) -> None:
    if campaign.status in TERMINAL_STATUSES:
        raise Conflict(detail=f"The campaign is {campaign.status}; its units can no longer change.")


def _check_unit_budget(campaign: Campaign, unit: CampaignUnit) -> None:
    """The unit's budget (already on ``unit``) must fit its channel's allocation."""
    if unit.budget_amount is None:
        return
    validate_amount(unit.budget_amount, currency=campaign.currency, field="budget_amount")
    allocations = {
        allocation.channel: allocation.amount
        for allocation in BudgetAllocation.objects.filter(budget__campaign=campaign)
    }
    if unit.channel not in allocations:
        raise InvalidInput.single(
            "budget_amount",
            "no_allocation",
            f"Allocate part of the campaign budget to {unit.channel} before giving its "
            "units their own budgets.",
        )
    # Count this unit with its new amount and every other unit as stored.
    other_total = sum(
        (
            other.budget_amount
            for other in CampaignUnit.objects.filter(
                campaign=campaign, channel=unit.channel, budget_amount__isnull=False
            ).exclude(pk=unit.pk)
            if other.budget_amount is not None
        ),
        Decimal(0),
    )
    allocated = allocations[unit.channel]

    def money(value: Decimal) -> str:
        return f"{quantize_amount(value, campaign.currency)} {campaign.currency}"

    if other_total + unit.budget_amount > allocated:
        raise InvalidInput.single(
            "budget_amount",
            "exceeds_allocation",
            f"{unit.channel} has {money(allocated)} allocated and other units already take "
            f"{money(other_total)}; at most {money(allocated - other_total)} is left.",
        )
    raise_if_errors(
        unit_budgets_fit(campaign=campaign, allocations=allocations, field_prefix="allocations")
    )


def _save_unique(unit: CampaignUnit) -> CampaignUnit:
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError:
        raise InvalidInput.single(
            "name", "unique", f"The campaign already has a unit named {unit.name!r}."
        ) from None
    return unit


@transaction.atomic
def unit_create(
    *,
    actor: Actor,
    campaign_id: object,
    channel: str,
    name: str,
    audience_id: object | None = None,
    budget_amount: Decimal | None = None,
) -> CampaignUnit:
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    _require_changeable(campaign)
    unit = CampaignUnit(
        organization=campaign.organization,
        campaign=campaign,
        channel=validate_channel(channel).key,
        name=clean_text(name, field="name", max_length=200, required=True),
        audience=_audience_in_org(actor, audience_id),
        budget_amount=budget_amount,
    )
    _check_unit_budget(campaign, unit)
    return _save_unique(unit)


@transaction.atomic
def unit_update(
    *,
    actor: Actor,
    unit_id: object,
    name: str = _UNSET,
    audience_id: object | None = _UNSET,
    budget_amount: Decimal | None = _UNSET,
) -> CampaignUnit:
    """Edit a unit. Its channel never changes: a unit on another channel is another unit."""
    actor.require(Permission.CAMPAIGN_EDIT)
    unit = unit_get_for_actor(actor=actor, unit_id=unit_id, lock=True)
    campaign = Campaign.objects.select_for_update().get(pk=unit.campaign_id)
    _require_changeable(campaign)
    if name is not _UNSET:
        unit.name = clean_text(name, field="name", max_length=200, required=True)
    if audience_id is not _UNSET:
        unit.audience = _audience_in_org(actor, audience_id)
    if budget_amount is not _UNSET:
        unit.budget_amount = budget_amount
        _check_unit_budget(campaign, unit)
    return _save_unique(unit)


@transaction.atomic
def unit_delete(*, actor: Actor, unit_id: object) -> None:
    """Delete a unit that never reached a platform; launched units stay for history."""
    actor.require(Permission.CAMPAIGN_EDIT)
    unit = unit_get_for_actor(actor=actor, unit_id=unit_id, lock=True)
    launched = (
        unit.external_id or AdCreative.objects.filter(unit=unit, launched_at__isnull=False).exists()
    )
    if launched:
        raise Conflict(detail="The unit has run on its platform; pause the campaign instead.")
    unit.delete()
