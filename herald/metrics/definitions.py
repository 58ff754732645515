"""Metric definitions: the one vocabulary every report, KPI and rule speaks.

Each metric has a stable key, a label, a unit and whether it is additive (can be summed
across days, units and channels). Derived metrics (CTR, CPA, ROAS, …) are ratios of
additive ones; their formulas join this registry with the metrics engine, so a KPI
target can already name them and know its unit.

Units: ``count`` (a whole number), ``currency`` (in the campaign's currency),
``percent`` (0–100), ``ratio`` (a plain multiplier such as ROAS 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from herald.core.errors import InvalidInput

__all__ = ["METRICS", "MetricDefinition", "MetricUnit", "get_metric", "validate_metric_key"]


class MetricUnit(StrEnum):
    COUNT = "count"
    CURRENCY = "currency"
    PERCENT = "percent"
    RATIO = "ratio"


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    label: str
    unit: MetricUnit
    additive: bool
    # Whether a larger value is better; KPI progress reads it (a CPA target is met by
    # staying under it).
    higher_is_better: bool = True


_DEFINITIONS = [
    MetricDefinition("impressions", "Impressions", MetricUnit.COUNT, additive=True),
    MetricDefinition("viewable_impressions", "Viewable impressions", MetricUnit.COUNT, True),
    MetricDefinition("reach", "Reach", MetricUnit.COUNT, additive=False),
    MetricDefinition("clicks", "Clicks", MetricUnit.COUNT, additive=True),
    MetricDefinition("conversions", "Conversions", MetricUnit.COUNT, additive=True),
    MetricDefinition("conversion_value", "Conversion value", MetricUnit.CURRENCY, True),
    MetricDefinition("engagements", "Engagements", MetricUnit.COUNT, additive=True),
    MetricDefinition("spend", "Spend", MetricUnit.CURRENCY, additive=True, higher_is_better=False),
    MetricDefinition("ctr", "Click-through rate", MetricUnit.PERCENT, additive=False),
    MetricDefinition(
        "cpc", "Cost per click", MetricUnit.CURRENCY, additive=False, higher_is_better=False
    ),
    MetricDefinition(
        "cpm", "Cost per 1,000 impressions", MetricUnit.CURRENCY, False, higher_is_better=False
    ),
    MetricDefinition(
        "cpa", "Cost per acquisition", MetricUnit.CURRENCY, False, higher_is_better=False
    ),
    MetricDefinition("conversion_rate", "Conversion rate", MetricUnit.PERCENT, additive=False),
    MetricDefinition("roas", "Return on ad spend", MetricUnit.RATIO, additive=False),
    MetricDefinition("roi", "Return on investment", MetricUnit.PERCENT, additive=False),
    MetricDefinition("frequency", "Frequency", MetricUnit.RATIO, additive=False),
    MetricDefinition("viewability_rate", "Viewability rate", MetricUnit.PERCENT, False),
    MetricDefinition("engagement_rate", "Engagement rate", MetricUnit.PERCENT, False),
]

METRICS: dict[str, MetricDefinition] = {definition.key: definition for definition in _DEFINITIONS}


def get_metric(key: str) -> MetricDefinition:
    return METRICS[key]


def validate_metric_key(key: str, *, field: str = "metric") -> MetricDefinition:
    definition = METRICS.get(key)
    if definition is None:
        raise InvalidInput.single(
            field, "choice", f"{key!r} is not a metric; use one of {', '.join(METRICS)}."
        )
    return definition
