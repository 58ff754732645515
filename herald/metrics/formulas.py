"""The metrics engine: every derived metric, computed from additive measures by one registry.

Duties
    * ``FORMULAS`` is the single definition of every derived metric (CTR, CPC, CPM, CPA,
      conversion rate, ROAS, ROI, average order value, frequency, viewability rate,
      engagement rate, marketing efficiency ratio, cost per result). Each formula is a
      signed sum of measures over a signed sum of measures, times a scale.
    * ``compute`` / ``metric_value`` evaluate them; ``add_measures`` sums rows of measures
      first (ratios are never averaged: a CTR over many days is total clicks over total
      impressions, not the mean of the daily CTRs).
    * ``quantize_for_display`` rounds a value for people; ``roi_report`` and ``kpi_status``
      answer the ROI calculator and the KPI dashboard from the same formulas.

Reports, exports, dashboards and rules read metrics through this module. **Callers must
not compute derived metrics themselves** — not even "just CTR" — or the numbers on two
screens will disagree the first time a rule changes here.

Measures (``MEASURES``), all non-negative, counts as ``int`` and money as ``Decimal`` in
the campaign's currency: ``impressions``, ``viewable_impressions``, ``clicks``,
``billable_clicks``, ``conversions`` (a ``Decimal`` may be fractional: platforms report
modelled conversions), ``conversion_value``, ``engagements``, ``spend``, ``reach``,
``total_marketing_spend`` and ``results``.

The caller's contract, which decides what a missing value means
    * Pass every additive measure, ``0`` when nothing happened. A key that is *absent* is
      therefore read as ``0``; a measure passed as ``None`` means *unknown* (the source
      does not measure it), and every metric that reads it is ``None``.
    * ``reach`` is a unique count, not additive: it is given for the whole result set and
      is never summed. Absent or ``None`` means unknown, so ``frequency`` is ``None``.
    * ``total_marketing_spend`` (for MER) falls back to ``spend`` and ``results`` (the
      objective's result count, for cost per result) to ``conversions`` when absent or
      ``None``.
    * A derived metric whose denominator is zero is ``None``: never a division error,
      never an invented 0 or infinity.

Units come from ``herald.metrics.definitions.METRICS`` (``percent`` is 0–100, ``ratio`` a
plain multiplier, ``currency`` the campaign's currency). The six keys it does not define
(``billable_clicks``, ``total_marketing_spend``, ``results``, ``average_order_value``,
``marketing_efficiency_ratio``, ``cost_per_result``) are defined in ``EXTRA_METRICS``
here; ``metric_definition`` looks a key up in both.

Precision: ``compute`` keeps full precision — it multiplies by the scale before dividing,
so there is one rounding, to 34 significant digits (IEEE decimal128) with
ROUND_HALF_EVEN, in a private decimal context the caller's context cannot change. It does
not round to cents: a CPM of 0.0001 on a tiny spend, or a CPC later multiplied by a
forecast click count, must not be rounded to zero or drift before anyone reads it.
Rounding for people happens once, at the edge, in ``quantize_for_display``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum

from herald.metrics.definitions import METRICS, MetricDefinition, MetricUnit

__all__ = [
    "ADDITIVE_MEASURES",
    "DISPLAY_ROUNDING",
    "EXTRA_METRICS",
    "FORMULAS",
    "KPI_AT_RISK_CEILING_PERCENT",
    "KPI_AT_RISK_FLOOR_PERCENT",
    "KPI_ON_TRACK_PERCENT",
    "MEASURES",
    "PERCENT_DISPLAY_PLACES",
    "RATIO_DISPLAY_PLACES",
    "Formula",
    "KpiStatus",
    "Projection",
    "RoiReport",
    "add_measures",
    "compute",
    "kpi_status",
    "metric_definition",
    "metric_value",
    "quantize_for_display",
    "roi_report",
]

type MeasureValue = int | Decimal
type Measures = Mapping[str, int | Decimal | None]

# --- Vocabulary ---------------------------------------------------------------------------

MEASURES: tuple[str, ...] = (
    "impressions",
    "viewable_impressions",
    "clicks",
    "billable_clicks",
    "conversions",
    "conversion_value",
    "engagements",
    "spend",
    "reach",
    "total_marketing_spend",
    "results",
)
# Everything but reach: a person reached on Monday and on Tuesday is one person, so reach
# summed over days or channels overstates the audience.
ADDITIVE_MEASURES: tuple[str, ...] = tuple(key for key in MEASURES if key != "reach")
_MEASURE_SET = frozenset(MEASURES)

# Measures that default to another measure when absent, resolved after the others.
_FALLBACKS: dict[str, str] = {"total_marketing_spend": "spend", "results": "conversions"}

# Keys the engine needs that ``definitions.METRICS`` does not (yet) define. Kept here, not
# there, so the registry of derived metrics stays in one module. A key that METRICS gains
# later is taken from METRICS and dropped here, so there is never a second label or unit.
_ENGINE_DEFINITIONS = (
    MetricDefinition("billable_clicks", "Billable clicks", MetricUnit.COUNT, additive=True),
    MetricDefinition(
        "total_marketing_spend",
        "Total marketing spend",
        MetricUnit.CURRENCY,
        additive=True,
        higher_is_better=False,
    ),
    MetricDefinition("results", "Results", MetricUnit.COUNT, additive=True),
    MetricDefinition(
        "average_order_value", "Average order value", MetricUnit.CURRENCY, additive=False
    ),
    MetricDefinition(
        "marketing_efficiency_ratio", "Marketing efficiency ratio", MetricUnit.RATIO, False
    ),
    MetricDefinition(
        "cost_per_result", "Cost per result", MetricUnit.CURRENCY, False, higher_is_better=False
    ),
)
EXTRA_METRICS: dict[str, MetricDefinition] = {
    definition.key: definition
    for definition in _ENGINE_DEFINITIONS
    if definition.key not in METRICS
}


def metric_definition(key: str) -> MetricDefinition:
    """The definition of a measure or derived metric, from ``METRICS`` or ``EXTRA_METRICS``."""
    definition = METRICS.get(key) or EXTRA_METRICS.get(key)
    if definition is None:
        raise KeyError(f"{key!r} is not a metric")
    return definition


# --- Arithmetic -----------------------------------------------------------------------------

# Every computation runs in this context, not the thread's current one: a caller that
# lowered the precision (or changed the rounding) elsewhere must not change a CTR here.
_CONTEXT = Context(
    prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def _checked(name: str, value: object) -> MeasureValue:
    """``value`` if it is a usable measure: an ``int`` or finite ``Decimal``, not negative."""
    # bool is an int subclass, and a float would smuggle binary rounding into Decimal
    # arithmetic; both are caller bugs, so they fail loudly rather than being converted.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{name} must be an int or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def _resolve(measures: Measures) -> dict[str, MeasureValue | None]:
    """Every measure's value under the caller's contract (see the module docstring)."""
    for key in measures:
        if key not in _MEASURE_SET:
            # A typo ("clicks " or "click") would otherwise read as 0 clicks.
            raise KeyError(f"{key!r} is not a measure; use one of {', '.join(MEASURES)}")
    resolved: dict[str, MeasureValue | None] = {}
    for key in MEASURES:
        if key in _FALLBACKS:
            continue
        if key not in measures:
            resolved[key] = None if key == "reach" else 0
            continue
        value = measures[key]
        resolved[key] = None if value is None else _checked(key, value)
    for key, fallback in _FALLBACKS.items():
        value = measures.get(key)
        resolved[key] = resolved[fallback] if value is None else _checked(key, value)
    return resolved


def _split_term(term: str) -> tuple[int, str]:
    """``"-spend"`` → ``(-1, "spend")``; ``"spend"`` → ``(1, "spend")``."""
    return (-1, term[1:]) if term.startswith("-") else (1, term)


@functools.cache
def _split_terms(terms: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """Every term split once (reports evaluate every formula for every row)."""
    return tuple(map(_split_term, terms))


def _signed_sum(
    terms: tuple[tuple[int, str], ...], values: Mapping[str, MeasureValue | None]
) -> MeasureValue | None:
    total: MeasureValue = 0
    for sign, measure in terms:
        value = values[measure]
        if value is None:
            # One unknown term makes the whole sum unknown, not smaller.
            return None
        total = total + value if sign > 0 else total - value
    return total


# --- Formulas -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """``scale × (signed sum of numerator) ÷ (signed sum of denominator)``.

    Terms are measure keys, prefixed with ``-`` to subtract: ROI's numerator is
    ``("conversion_value", "-spend")``. Strings keep the registry readable as data (and
    serialisable for the rules engine) while the sign stays explicit. ``label``, ``unit``
    and ``higher_is_better`` are copied from the metric's definition.
    """

    key: str
    label: str
    unit: MetricUnit
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    scale: Decimal
    higher_is_better: bool
    description: str

    def __post_init__(self) -> None:
        # Checked when the registry is built, so a misspelt measure fails at import,
        # not as a silent 0 on a dashboard.
        if not self.numerator or not self.denominator:
            raise ValueError(f"{self.key}: numerator and denominator need at least one term")
        for term in self.numerator + self.denominator:
            if _split_term(term)[1] not in _MEASURE_SET:
                raise ValueError(f"{self.key}: {term!r} does not name a measure")
        if not self.scale.is_finite() or self.scale <= 0:
            raise ValueError(f"{self.key}: scale must be a positive number")

    @property
    def measures(self) -> frozenset[str]:
        """The measures this formula reads (what a rule must fetch to evaluate it)."""
        return frozenset(_split_term(term)[1] for term in self.numerator + self.denominator)

    def evaluate(self, values: Mapping[str, MeasureValue | None]) -> Decimal | None:
        """The metric from resolved measure values; ``None`` when undefined or unknown."""
        with localcontext(_CONTEXT):
            return self._evaluate(values)

    def _evaluate(self, values: Mapping[str, MeasureValue | None]) -> Decimal | None:
        """``evaluate`` inside a ``localcontext(_CONTEXT)`` the caller has entered."""
        numerator = _signed_sum(_split_terms(self.numerator), values)
        denominator = _signed_sum(_split_terms(self.denominator), values)
        if numerator is None or denominator is None or denominator == 0:
            return None
        # Scale first, then divide: one rounding instead of two (3 ÷ 7 × 100 would
        # round the quotient and then the product).
        return Decimal(numerator) * self.scale / denominator


_PERCENT = Decimal(100)
_ONE = Decimal(1)


def _formula(
    key: str, numerator: tuple[str, ...], denominator: tuple[str, ...], scale: Decimal, text: str
) -> Formula:
    definition = metric_definition(key)
    return Formula(
        key=key,
        label=definition.label,
        unit=definition.unit,
        numerator=numerator,
        denominator=denominator,
        scale=scale,
        higher_is_better=definition.higher_is_better,
        description=text,
    )


FORMULAS: dict[str, Formula] = {
    formula.key: formula
    for formula in (
        _formula("ctr", ("clicks",), ("impressions",), _PERCENT, "Clicks per 100 impressions."),
        _formula("cpc", ("spend",), ("clicks",), _ONE, "Spend per click."),
        _formula(
            "cpm", ("spend",), ("impressions",), Decimal(1000), "Spend per 1,000 impressions."
        ),
        _formula("cpa", ("spend",), ("conversions",), _ONE, "Spend per conversion."),
        _formula(
            "conversion_rate",
            ("conversions",),
            ("clicks",),
            _PERCENT,
            "Conversions per 100 clicks.",
        ),
        _formula(
            "roas", ("conversion_value",), ("spend",), _ONE, "Conversion value per unit spent."
        ),
        _formula(
            "roi",
            ("conversion_value", "-spend"),
            ("spend",),
            _PERCENT,
            "Profit (conversion value minus spend) as a percentage of spend.",
        ),
        _formula(
            "average_order_value",
            ("conversion_value",),
            ("conversions",),
            _ONE,
            "Conversion value per conversion.",
        ),
        _formula(
            "frequency",
            ("impressions",),
            ("reach",),
            _ONE,
            "Impressions per person reached; unknown when reach is unknown.",
        ),
        _formula(
            "viewability_rate",
            ("viewable_impressions",),
            ("impressions",),
            _PERCENT,
            "Viewable impressions per 100 impressions.",
        ),
        _formula(
            "engagement_rate",
            ("engagements",),
            ("impressions",),
            _PERCENT,
            "Engagements per 100 impressions.",
        ),
        _formula(
            "marketing_efficiency_ratio",
            ("conversion_value",),
            ("total_marketing_spend",),
            _ONE,
            "Conversion value per unit of total marketing spend (spend when not given).",
        ),
        _formula(
            "cost_per_result",
            ("spend",),
            ("results",),
            _ONE,
            "Spend per objective result (per conversion when results are not given).",
        ),
    )
}


def _select(keys: Iterable[str] | None) -> list[Formula]:
    if keys is None:
        return list(FORMULAS.values())
    if isinstance(keys, str):
        # compute(m, "ctr") would otherwise iterate the letters and fail on 'c'.
        raise TypeError("keys must be an iterable of metric keys, not a single string")
    selected = []
    for key in keys:
        formula = FORMULAS.get(key)
        if formula is None:
            raise KeyError(f"{key!r} is not a derived metric; use one of {', '.join(FORMULAS)}")
        selected.append(formula)
    return selected


def compute(measures: Measures, keys: Iterable[str] | None = None) -> dict[str, Decimal | None]:
    """Derived metrics from ``measures``: all of them, or those named by ``keys``.

    Values are unrounded ``Decimal`` (see the module docstring); ``None`` means undefined
    (zero denominator) or unknown (a ``None`` measure). Raises ``KeyError`` naming an
    unknown metric or measure key, ``ValueError`` for a negative or non-finite measure and
    ``TypeError`` for anything but ``int`` or ``Decimal`` (floats included).
    """
    selected = _select(keys)
    values = _resolve(measures)
    with localcontext(_CONTEXT):
        return {formula.key: formula._evaluate(values) for formula in selected}


def metric_value(key: str, measures: Measures) -> MeasureValue | None:
    """One measure (with its contract defaults applied) or one derived metric, by key."""
    if key in _MEASURE_SET:
        return _resolve(measures)[key]
    if key not in FORMULAS:
        raise KeyError(f"{key!r} is neither a measure nor a derived metric")
    return compute(measures, (key,))[key]


def add_measures(rows: Iterable[Measures]) -> dict[str, MeasureValue]:
    """Sum additive measures over rows (days, units, channels), exactly.

    Sums stay ``int`` while every addend is an ``int``. ``reach`` is dropped — a unique
    count cannot be summed — so give the result set's own reach to ``compute`` separately.
    ``total_marketing_spend`` and ``results`` appear only when some row gives them; rows
    without them then contribute their ``spend`` / ``conversions``, as ``compute`` would,
    so mixing rows with and without them stays right. Raises ``ValueError`` naming the
    key for a negative or non-finite value, and for ``None`` (an unknown addend makes the
    sum unknown: pass 0 when nothing happened; ``None`` is accepted only where it means
    "not given": ``total_marketing_spend``, ``results`` and the ignored ``reach``), and
    ``KeyError`` for a key that is no measure.
    """
    totals: dict[str, MeasureValue] = dict.fromkeys(ADDITIVE_MEASURES, 0)
    given: set[str] = set()
    with localcontext(_CONTEXT):
        for index, row in enumerate(rows):
            _add_row(totals, given, index, row)
    for key in _FALLBACKS:
        if key not in given:
            # Equal to the fallback's total, which compute applies by itself.
            del totals[key]
    return totals


def _add_row(
    totals: dict[str, MeasureValue],
    given: set[str],
    index: int,
    row: Measures,
) -> None:
    """Add one row into ``totals``; ``given`` collects the fallback measures rows gave."""
    for key, value in row.items():
        if key not in _MEASURE_SET:
            raise KeyError(f"row {index}: {key!r} is not a measure")
        if value is None and key not in _FALLBACKS and key != "reach":
            raise ValueError(f"row {index}: {key} is None; pass 0 when nothing happened")
    for key in ADDITIVE_MEASURES:
        value = row.get(key)
        if key in _FALLBACKS and value is None:
            # This row did not give it, so it counts its fallback, as compute would.
            value = row.get(_FALLBACKS[key])
        elif key in _FALLBACKS:
            given.add(key)
        if value is not None:
            totals[key] += _checked(f"row {index}: {key}", value)


# --- Display --------------------------------------------------------------------------------

PERCENT_DISPLAY_PLACES = 2
RATIO_DISPLAY_PLACES = 2
# Half-even: a column of rounded values does not drift upward as half-up's would.
DISPLAY_ROUNDING = ROUND_HALF_EVEN
# Fractional (modelled) conversions keep two places; whole counts show none.
_FRACTIONAL_COUNT_PLACES = 2


def quantize_for_display(
    key: str, value: int | Decimal | None, *, currency_exponent: int = 2
) -> Decimal | None:
    """``value`` of ``key`` rounded for people, per its unit.

    percent and ratio: 2 places; currency: ``currency_exponent`` places (the currency's
    minor units: ``herald.core.money.currency_exponent``; pass more for a sub-cent CPM);
    count: none when whole, 2 when fractional. ``None`` stays ``None`` so an undefined
    metric is shown as such ("—"), never as 0. Round only here, never before computing.
    """
    unit = metric_definition(key).unit
    if currency_exponent < 0:
        raise ValueError("currency_exponent must be 0 or more")
    if value is None:
        return None
    amount = Decimal(_checked_display(key, value))
    if unit is MetricUnit.CURRENCY:
        places = currency_exponent
    elif unit is MetricUnit.PERCENT:
        places = PERCENT_DISPLAY_PLACES
    elif unit is MetricUnit.RATIO:
        places = RATIO_DISPLAY_PLACES
    else:
        places = 0 if amount == amount.to_integral_value() else _FRACTIONAL_COUNT_PLACES
    with localcontext(_CONTEXT):
        return amount.quantize(Decimal(1).scaleb(-places), rounding=DISPLAY_ROUNDING)


def _checked_display(key: str, value: object) -> MeasureValue:
    # Derived values may be negative (ROI of a losing campaign), so only type and
    # finiteness are checked here.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{key} must be an int or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{key} must be a finite number, not {value}")
    return value


# --- ROI calculator -------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The recent daily run-rate carried to the campaign end.

    ``days_elapsed`` is the number of recent days the run-rate averages over;
    ``days_remaining`` the days it is carried for. ``projected_*`` are campaign totals at
    the end (so far + to come). With a budget cap, delivery is assumed to stop when the
    budget runs out: spend stops at the cap and revenue and conversions are projected
    only over the days the budget funds (``budget_capped`` is then true).
    """

    days_elapsed: int
    days_remaining: int
    daily_spend: Decimal
    daily_revenue: Decimal
    daily_conversions: Decimal
    projected_spend: Decimal
    projected_revenue: Decimal
    projected_conversions: Decimal
    projected_roas: Decimal | None
    budget_capped: bool


@dataclass(frozen=True)
class RoiReport:
    """Return on a campaign so far, and where the recent run-rate takes it.

    ``roi_percent`` and ``roas`` are ``None`` when cost is 0. ``break_even_conversions``
    is cost ÷ average order value (``None`` when there are no conversions, or when they
    carry no value — then no number of them recovers the cost). ``payback_days`` is
    cost ÷ the recent daily profit (revenue − spend per day): the days of the current
    run-rate that earn back the whole cost, ``None`` without a run-rate or when it loses
    money or breaks even. ``projection`` is ``None`` without recent days or
    ``days_remaining``.
    """

    revenue: Decimal
    cost: Decimal
    profit: Decimal
    roi_percent: Decimal | None
    roas: Decimal | None
    break_even_conversions: Decimal | None
    payback_days: Decimal | None
    projection: Projection | None


def roi_report(
    *,
    revenue: Decimal,
    cost: Decimal,
    conversions: Decimal,
    recent_days: Sequence[Mapping[str, Decimal]] = (),
    days_remaining: int | None = None,
    budget_remaining: Decimal | None = None,
) -> RoiReport:
    """The ROI calculator: totals so far plus a run-rate from ``recent_days``.

    ``recent_days`` are one mapping of measures per day (``spend``, ``conversion_value``,
    ``conversions``; absent means 0), most usefully the last 7 or 14. ``budget_remaining``
    caps the projected spend still to come. Raises ``ValueError`` for negative inputs.
    """
    for name, amount in (("revenue", revenue), ("cost", cost), ("conversions", conversions)):
        _checked(name, amount)
    if days_remaining is not None and days_remaining < 0:
        raise ValueError("days_remaining must be 0 or more")
    if budget_remaining is not None:
        _checked("budget_remaining", budget_remaining)

    derived = compute({"conversion_value": revenue, "spend": cost}, ("roi", "roas"))
    window = add_measures(recent_days) if recent_days else None
    with localcontext(_CONTEXT):
        profit = revenue - cost
        # cost ÷ (revenue ÷ conversions) written as one division, so it rounds once.
        break_even = None if conversions == 0 or revenue == 0 else cost * conversions / revenue
        payback = None
        if window is not None:
            window_profit = Decimal(window["conversion_value"]) - window["spend"]
            # cost ÷ (window profit ÷ days), again as one division.
            payback = cost * len(recent_days) / window_profit if window_profit > 0 else None
    projection = None
    if window is not None and days_remaining is not None:
        projection = _project(
            window=window,
            days=len(recent_days),
            so_far=(cost, revenue, conversions),
            days_remaining=days_remaining,
            budget_remaining=budget_remaining,
        )
    return RoiReport(
        revenue=revenue,
        cost=cost,
        profit=profit,
        roi_percent=derived["roi"],
        roas=derived["roas"],
        break_even_conversions=break_even,
        payback_days=payback,
        projection=projection,
    )


def _project(
    *,
    window: Mapping[str, MeasureValue],
    days: int,
    so_far: tuple[Decimal, Decimal, Decimal],
    days_remaining: int,
    budget_remaining: Decimal | None,
) -> Projection:
    cost, revenue, conversions = so_far
    with localcontext(_CONTEXT):
        window_spend = Decimal(window["spend"])
        # What is still to come is the window's totals times share ÷ per: the remaining
        # days over the window's days, or — when the run-rate would overspend the budget —
        # the budget over the window's spend, because delivery (and with it revenue and
        # conversions) stops when the budget runs out. Kept as a fraction so each total
        # multiplies before it divides and rounds once.
        if budget_remaining is not None and window_spend * days_remaining > budget_remaining * days:
            capped, share, per = True, budget_remaining, window_spend
            # The cap itself, not rate × days, which could round a hair above it.
            future_spend = budget_remaining
        else:
            capped, share, per = False, Decimal(days_remaining), Decimal(days)
            future_spend = window_spend * share / per
        projected_spend = cost + future_spend
        projected_revenue = revenue + window["conversion_value"] * share / per
        projected_conversions = conversions + window["conversions"] * share / per
        daily_spend = window_spend / days
        daily_revenue = Decimal(window["conversion_value"]) / days
        daily_conversions = Decimal(window["conversions"]) / days
    projected_roas = compute(
        {"conversion_value": projected_revenue, "spend": projected_spend}, ("roas",)
    )["roas"]
    return Projection(
        days_elapsed=days,
        days_remaining=days_remaining,
        daily_spend=daily_spend,
        daily_revenue=daily_revenue,
        daily_conversions=daily_conversions,
        projected_spend=projected_spend,
        projected_revenue=projected_revenue,
        projected_conversions=projected_conversions,
        projected_roas=projected_roas,
        budget_capped=capped,
    )


# --- KPI status -----------------------------------------------------------------------------


class KpiStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"


# Thresholds, as a percentage of the target (for cumulative metrics: of the target
# pro-rated to the time elapsed). At or past KPI_ON_TRACK_PERCENT is on track; for
# higher-is-better and cumulative metrics at or above the floor is at risk; for
# lower-is-better rates (CPA, CPC …) at or below the ceiling is at risk; else behind.
KPI_ON_TRACK_PERCENT = Decimal(100)
KPI_AT_RISK_FLOOR_PERCENT = Decimal(80)
KPI_AT_RISK_CEILING_PERCENT = Decimal(120)


def kpi_status(
    *, metric: str, target: Decimal, current: Decimal | None, elapsed_fraction: Decimal
) -> tuple[KpiStatus | None, Decimal | None]:
    """``(status, progress_percent)`` of a KPI target.

    Cumulative metrics (additive measures, and reach, which only grows during a campaign)
    are paced: progress = current ÷ (target × elapsed_fraction) × 100, assuming even
    delivery over the flight. A cumulative target is a delivery goal, so being ahead of
    pace is on track even for spend; overspending a budget is budget pacing's concern.
    Rates and ratios (CTR, ROAS, CPA …) are compared with the target directly, respecting
    ``higher_is_better``: progress = current ÷ target × 100 for both directions (so a CPA
    at 110 % of target is at risk). Progress is unrounded and ``None`` when the target
    (or the pro-rated target) is 0; the status is decided on exact values, not on a
    rounded progress. ``current`` ``None`` (unknown or undefined) gives ``(None, None)``.
    ``elapsed_fraction`` is clamped to [0, 1]; nothing elapsed yet means a cumulative
    metric is on track with no progress figure. Targets must be ≥ 0: proportional
    bands around a negative target would point the wrong way.
    """
    definition = metric_definition(metric)
    _checked("target", target)
    if not elapsed_fraction.is_finite():
        raise ValueError("elapsed_fraction must be a finite number")
    if current is None:
        return None, None
    if not current.is_finite():
        raise ValueError("current must be a finite number")
    elapsed = min(max(elapsed_fraction, Decimal(0)), Decimal(1))
    with localcontext(_CONTEXT):
        if definition.additive or definition.unit is MetricUnit.COUNT:
            if elapsed == 0:
                return KpiStatus.ON_TRACK, None
            return _band_at_least(current, target * elapsed)
        if definition.higher_is_better:
            return _band_at_least(current, target)
        return _band_at_most(current, target)


def _band_at_least(current: Decimal, goal: Decimal) -> tuple[KpiStatus, Decimal | None]:
    # Compared by cross-multiplying, so a goal of 0 needs no special case.
    if current * 100 >= goal * KPI_ON_TRACK_PERCENT:
        status = KpiStatus.ON_TRACK
    elif current * 100 >= goal * KPI_AT_RISK_FLOOR_PERCENT:
        status = KpiStatus.AT_RISK
    else:
        status = KpiStatus.BEHIND
    return status, _progress(current, goal)


def _band_at_most(current: Decimal, goal: Decimal) -> tuple[KpiStatus, Decimal | None]:
    if current * 100 <= goal * KPI_ON_TRACK_PERCENT:
        status = KpiStatus.ON_TRACK
    elif current * 100 <= goal * KPI_AT_RISK_CEILING_PERCENT:
        status = KpiStatus.AT_RISK
    else:
        status = KpiStatus.BEHIND
    return status, _progress(current, goal)


def _progress(current: Decimal, goal: Decimal) -> Decimal | None:
    return None if goal == 0 else current * 100 / goal
