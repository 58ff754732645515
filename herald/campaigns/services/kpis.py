"""KPI targets: a goal for one metric of a campaign (unit taken from the metric)."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.models import KpiTarget
from herald.campaigns.services._common import get_for_actor
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.errors import InvalidInput
from herald.metrics.definitions import validate_metric_key

__all__ = ["kpi_delete", "kpi_get_for_actor", "kpi_set"]

_MAX_TARGET = Decimal("1e13")


def kpi_get_for_actor(*, actor: Actor, kpi_id: object) -> KpiTarget:
    return get_for_actor(KpiTarget, actor=actor, pk=kpi_id, label="KPI target")


def _validate_target(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value >= _MAX_TARGET:
        raise InvalidInput.single(
            "target_value", "range", "The target must be a number from 0 up to 10^13."
        )
    if value != value.quantize(Decimal("0.0001")):
        raise InvalidInput.single("target_value", "decimal_places", "Use at most 4 decimal places.")
    return value


@transaction.atomic
def kpi_set(*, actor: Actor, campaign_id: object, metric: str, target_value: Decimal) -> KpiTarget:
    """Create or replace the campaign's target for ``metric``."""
    actor.require(Permission.CAMPAIGN_EDIT)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id, lock=True)
    definition = validate_metric_key(metric)
    value = _validate_target(target_value)
    try:
        kpi, _created = KpiTarget.objects.update_or_create(
            campaign=campaign,
            metric=definition.key,
            defaults={
                "organization": campaign.organization,
                "target_value": value,
                "unit": definition.unit.value,
            },
        )
    except IntegrityError:  # pragma: no cover - concurrent create of the same metric
        raise InvalidInput.single("metric", "unique", "This metric already has a target.") from None
    return kpi


@transaction.atomic
def kpi_delete(*, actor: Actor, kpi_id: object) -> None:
    actor.require(Permission.CAMPAIGN_EDIT)
    kpi_get_for_actor(actor=actor, kpi_id=kpi_id).delete()
