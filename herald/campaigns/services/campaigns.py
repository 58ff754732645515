"""Create, edit, duplicate and delete campaigns (the plan, not its lifecycle)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.choices import BudgetKind, CampaignStatus, Objective
from herald.campaigns.lifecycle import EDITABLE_STATUSES, TERMINAL_STATUSES
from herald.campaigns.models import (
    AdCreative,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    KpiTarget,
)
from herald.campaigns.services._common import (
    clean_text,
    clean_text_list,
    get_for_actor,
    raise_if_errors,
    require_aware,
)
from herald.core.errors import Conflict, FieldError, InvalidInput
from herald.core.money import validate_currency
from herald.core.validation import validate_time_zone

__all__ = [
    "UNSET",
    "campaign_create",
    "campaign_delete",
    "campaign_duplicate",
    "campaign_get_for_actor",
    "campaign_update",
]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def campaign_get_for_actor(*, actor: Actor, campaign_id: object, lock: bool = False) -> Campaign:
    return get_for_actor(Campaign, actor=actor, pk=campaign_id, lock=lock, label="campaign")


def _validate_objective(objective: str) -> str:
    if objective not in Objective.values:
        raise InvalidInput.single(
            "objective",
            "choice",
            f"{objective!r} is not an objective; use one of {', '.join(Objective.values)}.",
        )
    return objective


def _validate_tags(tags: list[str]) -> list[str]:
    cleaned = clean_text_list(tags, field="tags", max_items=MAX_TAGS, max_length=MAX_TAG_LENGTH)
    errors = [
        FieldError(f"tags.{index}", "required", "A tag cannot be empty.")
        for index, tag in enumerate(cleaned)
        if not tag
    ]
    lowered = [tag.lower() for tag in cleaned]
    errors += [
        FieldError(f"tags.{index}", "duplicate", f"The tag {tag!r} appears twice.")
        for index, tag in enumerate(cleaned)
        if tag and lowered.index(tag.lower()) != index
    ]
    raise_if_errors(errors)
    return cleaned


def _validate_dates(start_at: datetime | None, end_at: datetime | None) -> None:
    require_aware(start_at, field="start_at")
    require_aware(end_at, field="end_at")
    if start_at is not None and end_at is not None and end_at <= start_at:
        raise InvalidInput.single("end_at", "after_start", "The end must be after the start.")


@transaction.atomic
def campaign_create(
    *,
    actor: Actor,
    name: str,
    objective: str,
    description: str = "",
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    time_zone: str | None = None,
    currency: str | None = None,
    tags: list[str] | None = None,
) -> Campaign:
    """Create a draft campaign; time zone and currency default to the organization's."""
    actor.require(Permission.CAMPAIGN_EDIT)
    organization = actor.organization
    campaign = Campaign(
        organization=organization,
        name=clean_text(name, field="name", max_length=200, required=True),
        description=clean_text(description, field="description", max_length=5000),
        objective=_validate_objective(objective),
        start_at=start_at,
        end_at=end_at,
        time_zone=validate_time_zone(time_zone or organization.time_zone),
        currency=validate_currency(currency or organization.default_currency),
        tags=_validate_tags(list(tags or [])),
        created_by=actor.user,
        status=CampaignStatus.DRAFT,
    )
    _validate_dates(start_at, end_at)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor: Actor,
    campaign_id: object,
    name: str = UNSET,
    description: str = UNSET,
    objective: str = UNSET,
    start_at: datetime | None = UNSET,
    end_at: datetime | None = UNSET,
    time_zone: str = UNSET,
    currency: str = UNSET,
    tags: list[str] = UNSET,
) -> Campaign:
    """Change the given fields (``UNSET`` leaves a field as it is).

    Finished campaigns (completed, cancelled) are read-only. Objective, currency, time
    zone and start are part of the plan the platforms received, so they change only
    before a launch succeeded (draft, scheduled, error); a currency change also needs
    the budget to be in that currency or absent.
    """
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    if campaign.status in TERMINAL_STATUSES:
        raise Conflict(detail=f"The campaign is {campaign.status}; it can no longer change.")
    changes = {
        "name": name,
        "description": description,
        "objective": objective,
        "start_at": start_at,
        "end_at": end_at,
        "time_zone": time_zone,
        "currency": currency,
        "tags": tags,
    }
    _refuse_locked_changes(campaign, {field: changes[field] for field in _PLAN_FIELDS})
    cleaners: dict[str, Any] = {
        "name": lambda value: clean_text(value, field="name", max_length=200, required=True),
        "description": lambda value: clean_text(value, field="description", max_length=5000),
        "objective": _validate_objective,
        "start_at": lambda value: value,
        "end_at": lambda value: value,
        "time_zone": validate_time_zone,
        "currency": lambda value: _currency_matching_budget(campaign, value),
        "tags": lambda value: _validate_tags(list(value or [])),
    }
    for field, value in changes.items():
        if value is not UNSET:
            setattr(campaign, field, cleaners[field](value))
    _validate_dates(campaign.start_at, campaign.end_at)
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    removing_end = end_at is None  # explicitly cleared in this call, not merely unset
    if removing_end and budget is not None and budget.kind == BudgetKind.LIFETIME:
        raise InvalidInput.single(
            "end_at", "required_for_lifetime_budget", "A lifetime budget needs an end date."
        )
    campaign.save()
    return campaign


# Part of the plan the platforms received: fixed once a launch succeeded.
_PLAN_FIELDS = ("objective", "currency", "time_zone", "start_at")


def _refuse_locked_changes(campaign: Campaign, changes: dict[str, Any]) -> None:
    locked = [
        FieldError(
            field,
            "locked",
            f"{field} cannot change once the campaign has launched (it is {campaign.status}).",
        )
        for field, value in changes.items()
        if value is not UNSET
        and campaign.status not in EDITABLE_STATUSES
        and _comparable(field, value) != getattr(campaign, field)
    ]
    if locked:
        raise Conflict(detail=locked[0].message, errors=locked)


def _comparable(field: str, value: Any) -> Any:
    """A submitted value as it would be stored, so resending the same value is no change."""
    return value.strip().upper() if field == "currency" and isinstance(value, str) else value


def _currency_matching_budget(campaign: Campaign, currency: str) -> str:
    new_currency = validate_currency(currency)
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    if budget is not None and budget.currency != new_currency:
        raise InvalidInput.single(
            "currency",
            "budget_currency",
            f"The budget is in {budget.currency}; set the budget in {new_currency} first "
            "or remove it.",
        )
    return new_currency


@transaction.atomic
def campaign_delete(*, actor: Actor, campaign_id: object) -> None:
    """Delete a campaign that is still a draft; anything launched keeps its history."""
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(
            detail=f"Only draft campaigns can be deleted; this one is {campaign.status}. "
            "Cancel it instead.",
            extra={"current_status": campaign.status},
        )
    campaign.delete()


@transaction.atomic
def campaign_duplicate(*, actor: Actor, campaign_id: object, name: str | None = None) -> Campaign:
    """Copy a campaign's plan into a new draft: budget, allocations, units, the current
    version of each creative, KPI targets. Dates, statuses and external ids are not
    copied: the copy has never run anywhere."""
    actor.require(Permission.CAMPAIGN_EDIT)
    source = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    copy_name = clean_text(
        name if name is not None else f"{source.name} (copy)"[:200],
        field="name",
        max_length=200,
        required=True,
    )
    copy = Campaign.objects.create(
        organization=source.organization,
        name=copy_name,
        description=source.description,
        objective=source.objective,
        time_zone=source.time_zone,
        currency=source.currency,
        tags=list(source.tags),
        created_by=actor.user,
    )
    budget = CampaignBudget.objects.filter(campaign=source).first()
    if budget is not None:
        budget_copy = CampaignBudget.objects.create(
            organization=copy.organization,
            campaign=copy,
            kind=budget.kind,
            amount=budget.amount,
            currency=budget.currency,
        )
        BudgetAllocation.objects.bulk_create(
            BudgetAllocation(
                organization=copy.organization,
                budget=budget_copy,
                channel=allocation.channel,
                amount=allocation.amount,
            )
            for allocation in budget.allocations.all()
        )
    for unit in CampaignUnit.objects.filter(campaign=source).order_by("created_at"):
        unit_copy = CampaignUnit.objects.create(
            organization=copy.organization,
            campaign=copy,
            channel=unit.channel,
            audience_id=unit.audience_id,
            name=unit.name,
            budget_amount=unit.budget_amount,
        )
        for creative in AdCreative.objects.filter(unit=unit, is_current=True):
            new_id = uuid.uuid4()
            AdCreative.objects.create(
                id=new_id,
                organization=copy.organization,
                unit=unit_copy,
                lineage_id=new_id,
                **creative.content(),
            )
    KpiTarget.objects.bulk_create(
        KpiTarget(
            organization=copy.organization,
            campaign=copy,
            metric=kpi.metric,
            target_value=kpi.target_value,
            unit=kpi.unit,
        )
        for kpi in KpiTarget.objects.filter(campaign=source)
    )
    return copy
