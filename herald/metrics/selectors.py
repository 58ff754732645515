"""Reports over the metrics fact store: performance, funnel, trends, breakdowns, campaign
comparison, ROI and the organization dashboard.

Duties
    * Read ``MetricFact`` rows of one organization (a campaign the caller already resolved
      through its organization, or the organization itself), sum the additive measures in
      SQL (``values(...).annotate(Sum(...))``) and hand the sums to
      ``herald.metrics.formulas`` for every derived metric. Nothing here divides one measure
      by another: a CTR on a report is the CTR of the formula registry.
    * Answer with plain dicts of exact values (``int`` counts, unrounded ``Decimal``
      money and metrics, ``None`` where a metric is undefined or unknown). Rounding for
      people happens at the edge (``herald.metrics.api``, for JSON and CSV alike).
    * Do a bounded number of queries whatever the number of rows: one aggregate query per
      grouping, one query for reach sketches only when reach is asked for (a report with
      reach reads its cells once, sketches and measures together, and adds the measures
      itself), and at most a handful of lookups (names, filters, budget).
    * Read sums from the coarsest table that holds the grouping: ``MetricCampaignDay``
      (the cells summed per campaign, channel, source and day, kept equal to them by the
      database) whenever no finer dimension (unit, creative, placement, device) is grouped
      or filtered on — the organization dashboard, comparisons, budgets, a campaign's
      trend, funnel and ROI; ``MetricFact`` otherwise, and always for reach sketches.

Days and periods
    Ranges are inclusive calendar days (``date_from`` … ``date_to``) compared with the
    facts' ``day``, which is already a date: a **UTC day for first-party rows** (Herald's
    own tracking) and **the ad account's day for platform rows** (as the platforms report
    it). Periods are meant in the campaign's time zone, but daily facts are not
    re-bucketed: trends group those dates into weeks (starting Monday) and months as they
    are, and hourly facts are not read. The campaign's time zone decides "today" (the ROI
    run-rate, days remaining); the organization's, the dashboard's default range.

Measures, gross and net
    Every report gives the fifteen fact measures (``FACT_MEASURES``). ``impressions`` and
    ``clicks`` are net of invalid traffic by default; with ``gross=True`` they are the
    gross counts (``impressions_gross`` / ``clicks_gross``), and so are every metric derived
    from them (CTR, CPM, …). Platform rows count ``impressions`` = ``impressions_gross``.

Sources
    Rows of every source are summed unless a ``source`` filter is given. Where the same ad
    is measured both by Herald's tracking and by its platform (clicks through a tracked
    link, conversions by the pixel), the two measurements add up: filter by ``source`` or
    use ``breakdown(by="source")`` to read one of them.

Reach
    Reach is the number of distinct visitors among **first-party** valid impressions: the
    union of the first-party cells' sketches, estimated (exact for small counts). It is
    ``None`` where no sketch exists (platform rows carry none), and ``frequency`` is the
    first-party impressions over that reach. Reach is never summed across rows.

Currency
    Money is read as in each campaign's currency (platform rows are synced in their ad
    account's currency, which must be the campaign's; nothing converts here). Sums across
    campaigns (the dashboard's totals, trend and channels; a comparison by a money
    metric) only ever add campaigns of one currency.

Do not
    * compute a derived metric here or in a caller: go through ``formulas.compute``;
    * loop over campaigns or days issuing a query each: group in SQL.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypedDict
from uuid import UUID

from django.db.models import QuerySet, Sum
from django.utils import timezone

from herald.accounts.models import Organization
from herald.campaigns.channels import get_channel, validate_channel
from herald.campaigns.choices import BudgetKind, CampaignStatus
from herald.campaigns.models import AdCreative, Campaign, CampaignBudget, CampaignUnit, KpiTarget
from herald.core.errors import InvalidInput
from herald.core.money import validate_currency
from herald.metrics.definitions import MetricUnit
from herald.metrics.formulas import (
    FORMULAS,
    Formula,
    KpiStatus,
    compute,
    kpi_status,
    metric_definition,
    roi_report,
)
from herald.metrics.models import (
    COUNT_MEASURES,
    FACT_MEASURES,
    MONEY_MEASURES,
    MetricCampaignDay,
    MetricFact,
    Source,
)
from herald.metrics.sketch import reach_by_group

__all__ = [
    "DEFAULT_TREND_METRICS",
    "FACT_MEASURES",
    "MAX_COMPARE_LIMIT",
    "MAX_RANGE_DAYS",
    "METRIC_KEYS",
    "NOT_SET",
    "RUN_RATE_DAYS",
    "TOP_CAMPAIGNS",
    "UNATTRIBUTED",
    "BreakdownBy",
    "Figures",
    "Granularity",
    "RankOrder",
    "ReportFilters",
    "breakdown",
    "campaign_info",
    "campaign_roi",
    "compare_campaigns",
    "funnel",
    "organization_dashboard",
    "performance_summary",
    "trends",
]

# Every key a trend or a comparison may ask for: a fact measure, reach, a derived metric.
METRIC_KEYS: tuple[str, ...] = (*FACT_MEASURES, "reach", *FORMULAS)
DEFAULT_TREND_METRICS: tuple[str, ...] = (
    "impressions",
    "clicks",
    "conversions",
    "spend",
    "ctr",
    "conversion_rate",
    "cpa",
    "roas",
)
MAX_RANGE_DAYS = 731
RUN_RATE_DAYS = 7
TOP_CAMPAIGNS = 5
MAX_COMPARE_LIMIT = 100
DASHBOARD_TREND_MEASURES = ("impressions", "clicks", "spend", "conversions")

# The measures the formula registry reads that the fact store holds.
_FORMULA_INPUTS = (
    "impressions",
    "viewable_impressions",
    "clicks",
    "billable_clicks",
    "conversions",
    "conversion_value",
    "engagements",
    "spend",
)
_GROSS_SWAP = {"impressions": "impressions_gross", "clicks": "clicks_gross"}
_GROSS_IMPRESSIONS_AT = FACT_MEASURES.index("impressions_gross")
_IMPRESSIONS_AT = FACT_MEASURES.index("impressions")
_REACH_METRICS = frozenset({"reach", "frequency"})
# The label of a row holding facts recorded without the dimension (a conversion that no
# click led to has no unit, creative or channel; most facts have no placement).
UNATTRIBUTED = "Unattributed"
NOT_SET = "(not set)"
_ONE_DAY = timedelta(days=1)

# Conversions per 100 impressions, for the funnel's overall rate. The registry has no
# key for it yet; until it does, the same Formula machinery evaluates it here.
_OVERALL_CONVERSION_RATE: Formula = FORMULAS.get("overall_conversion_rate") or Formula(
    key="overall_conversion_rate",
    label="Overall conversion rate",
    unit=MetricUnit.PERCENT,
    numerator=("conversions",),
    denominator=("impressions",),
    scale=Decimal(100),
    higher_is_better=True,
    description="Conversions per 100 impressions.",
)


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class BreakdownBy(StrEnum):
    CHANNEL = "channel"
    UNIT = "unit"
    CREATIVE = "creative"
    PLACEMENT = "placement"
    DEVICE = "device"
    SOURCE = "source"


class RankOrder(StrEnum):
    BEST = "best"
    WORST = "worst"


_BREAKDOWN_FIELDS: dict[BreakdownBy, str] = {
    BreakdownBy.CHANNEL: "channel",
    BreakdownBy.UNIT: "unit_id",
    BreakdownBy.CREATIVE: "creative_id",
    BreakdownBy.PLACEMENT: "placement",
    BreakdownBy.DEVICE: "device",
    BreakdownBy.SOURCE: "source",
}


@dataclass(frozen=True, kw_only=True)
class ReportFilters:
    """What a campaign report is narrowed to; ``None`` leaves a dimension open.

    ``placement=""`` / ``device=""`` select the facts recorded without one. ``gross``
    switches impressions and clicks to their gross counts (see the module docstring).
    """

    channel: str | None = None
    unit_id: UUID | None = None
    creative_id: UUID | None = None
    placement: str | None = None
    device: str | None = None
    source: str | None = None
    gross: bool = False

    @property
    def narrows(self) -> bool:
        """Whether any dimension is filtered (``gross`` changes numbers, not rows)."""
        return any(
            value is not None
            for value in (
                self.channel,
                self.unit_id,
                self.creative_id,
                self.placement,
                self.device,
                self.source,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "unit_id": self.unit_id,
            "creative_id": self.creative_id,
            "placement": self.placement,
            "device": self.device,
            "source": self.source,
            "gross": self.gross,
        }


_NO_FILTERS = ReportFilters()


class Figures(TypedDict):
    """The numbers of one report row: ``measures`` (every fact measure, impressions and
    clicks per the gross switch), first-party ``reach`` (``None`` without sketches) and
    ``metrics`` (every derived metric of the registry, ``None`` where undefined)."""

    measures: dict[str, int | Decimal]
    reach: int | None
    metrics: dict[str, Decimal | None]


# --- Sums -------------------------------------------------------------------------------------


def _zero_measures() -> dict[str, int | Decimal]:
    measures: dict[str, int | Decimal] = dict.fromkeys(COUNT_MEASURES, 0)
    measures.update(dict.fromkeys(MONEY_MEASURES, Decimal(0)))
    return measures


def _measure(name: str, value: object) -> int | Decimal:
    """A summed column as the formulas expect it: ``int`` counts, ``Decimal`` money."""
    if value is None:
        return 0 if name in COUNT_MEASURES else Decimal(0)
    if name in COUNT_MEASURES:
        return value if isinstance(value, int) else int(Decimal(str(value)))
    return value if isinstance(value, Decimal) else Decimal(str(value))


class _Sums:
    """Measures summed over fact rows of any source, plus the first-party impressions
    that ``frequency`` divides by the first-party reach."""

    __slots__ = ("first_party", "measures")

    def __init__(self) -> None:
        self.measures = _zero_measures()
        self.first_party: dict[str, int] = {"impressions": 0, "impressions_gross": 0}

    def add_row(self, row: Mapping[str, Any]) -> None:
        """Add one aggregate row (``FACT_MEASURES`` sums and its ``source``)."""
        for name in FACT_MEASURES:
            self.measures[name] += _measure(name, row[name])
        if row["source"] == Source.FIRST_PARTY:
            for name in self.first_party:
                self.first_party[name] += int(row[name])

    def add_cell(self, source: str, values: Sequence[Any]) -> None:
        """Add one fact row's own measures (``FACT_MEASURES`` order; never NULL)."""
        measures = self.measures
        for name, value in zip(FACT_MEASURES, values, strict=True):
            measures[name] += value
        if source == Source.FIRST_PARTY:
            self.first_party["impressions_gross"] += values[_GROSS_IMPRESSIONS_AT]
            self.first_party["impressions"] += values[_IMPRESSIONS_AT]

    def add(self, other: _Sums) -> None:
        for name in FACT_MEASURES:
            self.measures[name] += other.measures[name]
        for name in self.first_party:
            self.first_party[name] += other.first_party[name]

    def view(self, *, gross: bool) -> dict[str, int | Decimal]:
        """The measures as reported: impressions and clicks gross or net."""
        measures = dict(self.measures)
        if gross:
            for net, gross_name in _GROSS_SWAP.items():
                measures[net] = self.measures[gross_name]
        return measures

    def figures(self, *, gross: bool, reach: int | None) -> Figures:
        measures = self.view(gross=gross)
        metrics = compute({name: measures[name] for name in _FORMULA_INPUTS})
        if reach is not None:
            impressions = self.first_party["impressions_gross" if gross else "impressions"]
            metrics["frequency"] = compute(
                {"impressions": impressions, "reach": reach}, ("frequency",)
            )["frequency"]
        return {"measures": measures, "reach": reach, "metrics": metrics}


def _sum_fields() -> dict[str, Sum]:
    return {f"sum_{name}": Sum(name) for name in FACT_MEASURES}


# Facts at either grain: the cells (MetricFact) or their campaign × day sums.
type _FactRows = QuerySet[MetricFact] | QuerySet[MetricCampaignDay]


def _grouped(facts: _FactRows, *dimensions: str) -> dict[tuple[Any, ...], _Sums]:
    """One aggregate query: the sums per value of ``dimensions`` (all sources added)."""
    groups: dict[tuple[Any, ...], _Sums] = defaultdict(_Sums)
    rows = facts.values(*dimensions, "source").annotate(**_sum_fields()).order_by()
    for row in rows:
        sums = {name: row[f"sum_{name}"] for name in FACT_MEASURES}
        groups[tuple(row[name] for name in dimensions)].add_row({**sums, "source": row["source"]})
    return groups


def _total(groups: Iterable[_Sums]) -> _Sums:
    total = _Sums()
    for sums in groups:
        total.add(sums)
    return total


type _Reach = dict[tuple[Any, ...], int]


def _reaches(facts: QuerySet[MetricFact], groupings: Sequence[Sequence[str]]) -> list[_Reach]:
    """One query: the first-party reach per value of each grouping (a grouping of no
    dimension is the whole set). Each stored sketch is decoded once."""
    dimensions = sorted({name for grouping in groupings for name in grouping})
    rows = (
        facts.filter(source=Source.FIRST_PARTY, reach_sketch__isnull=False)
        .values_list(*dimensions, "reach_sketch")
        .order_by()
    )
    positions = [[dimensions.index(name) for name in grouping] for grouping in groupings]
    return _split_reach(
        (
            ((number, tuple(row[at] for at in grouping)), row[-1])
            for row in rows
            for number, grouping in enumerate(positions)
        ),
        len(groupings),
    )


def _split_reach(
    sketches: Iterable[tuple[tuple[int, tuple[Any, ...]], Any]], count: int
) -> list[_Reach]:
    """Every grouping's union in one vectorised pass: ``sketches`` are keyed (grouping
    number < ``count``, the grouping's values); the answer is {values: reach} per grouping."""
    per_grouping: list[_Reach] = [{} for _ in range(count)]
    for (number, key), estimate in reach_by_group(sketches).items():
        per_grouping[number][key] = estimate
    return per_grouping


def _grouped_with_reach(
    facts: QuerySet[MetricFact], dimensions: Sequence[str], groupings: Sequence[Sequence[str]]
) -> tuple[dict[tuple[Any, ...], _Sums], list[_Reach]]:
    """One query for a report that shows reach: the sums per value of ``dimensions`` (all
    sources added) and the first-party reach per value of each of ``groupings`` (each a
    subset of ``dimensions``; ``()`` is the whole set).

    The cells are read anyway for their sketches, so their measures come along and are
    added here — exactly, as ``int`` and ``Decimal`` — instead of by a second, aggregate
    query: a report's reach and sums cost one round trip and one ORM compilation.
    """
    width = len(dimensions)
    rows = facts.values_list(*dimensions, "source", *FACT_MEASURES, "reach_sketch").order_by()
    cells: dict[tuple[tuple[Any, ...], str], list[tuple[Any, ...]]] = defaultdict(list)
    positions = [[dimensions.index(name) for name in grouping] for grouping in groupings]
    sketches: list[tuple[tuple[int, tuple[Any, ...]], Any]] = []
    for row in rows:
        key, source, sketch = row[:width], row[width], row[-1]
        cells[key, source].append(row[width + 1 : -1])
        if sketch is not None and source == Source.FIRST_PARTY:
            sketches += [
                ((number, tuple(key[at] for at in grouping)), sketch)
                for number, grouping in enumerate(positions)
            ]
    groups: dict[tuple[Any, ...], _Sums] = defaultdict(_Sums)
    for (key, source), values in cells.items():
        # Column by column: exact (ints stay ints, Decimals add exactly), and at C speed.
        groups[key].add_cell(source, [sum(column) for column in zip(*values, strict=True)])
    return groups, _split_reach(sketches, len(groupings))


# --- Validation -------------------------------------------------------------------------------


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput.single("to", "after_start", "'to' must not be before 'from'.")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise InvalidInput.single("to", "max_range", f"Ask for {MAX_RANGE_DAYS} days at most.")


def _check_filters(campaign: Campaign, filters: ReportFilters) -> None:
    if filters.source is not None and filters.source not in Source.values:
        raise InvalidInput.single(
            "source",
            "choice",
            f"{filters.source!r} is not a source; use one of {', '.join(Source.values)}.",
        )
    if filters.channel is not None:
        validate_channel(filters.channel, field="channel")
    if (
        filters.unit_id is not None
        and not CampaignUnit.objects.filter(pk=filters.unit_id, campaign_id=campaign.pk).exists()
    ):
        raise InvalidInput.single("unit_id", "not_found", "No such unit in this campaign.")
    if (
        filters.creative_id is not None
        and not AdCreative.objects.filter(
            pk=filters.creative_id, unit__campaign_id=campaign.pk
        ).exists()
    ):
        raise InvalidInput.single("creative_id", "not_found", "No such creative in this campaign.")


def _choice[E: StrEnum](choices: type[E], value: str, *, field: str) -> E:
    try:
        return choices(value)
    except ValueError:
        raise InvalidInput.single(
            field, "choice", f"{value!r}: use one of {', '.join(choices)}."
        ) from None


def _check_metric(key: str, *, field: str) -> str:
    if key not in METRIC_KEYS:
        raise InvalidInput.single(
            field, "choice", f"{key!r} is not a metric; use one of {', '.join(METRIC_KEYS)}."
        )
    return key


def _facts(
    campaign: Campaign, date_from: date, date_to: date, filters: ReportFilters
) -> QuerySet[MetricFact]:
    """The campaign's facts in the range, narrowed by ``filters`` (already checked)."""
    facts = MetricFact.objects.filter(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        day__range=(date_from, date_to),
    )
    narrowing = {
        "channel": filters.channel,
        "unit_id": filters.unit_id,
        "creative_id": filters.creative_id,
        "placement": filters.placement,
        "device": filters.device,
        "source": filters.source,
    }
    return facts.filter(**{name: value for name, value in narrowing.items() if value is not None})


def _checked(
    campaign: Campaign, date_from: date, date_to: date, filters: ReportFilters | None
) -> ReportFilters:
    filters = filters or _NO_FILTERS
    _check_range(date_from, date_to)
    _check_filters(campaign, filters)
    return filters


def _campaign_facts(
    campaign: Campaign, date_from: date, date_to: date, filters: ReportFilters | None
) -> tuple[QuerySet[MetricFact], ReportFilters]:
    filters = _checked(campaign, date_from, date_to, filters)
    return _facts(campaign, date_from, date_to, filters), filters


def _campaign_sums(
    campaign: Campaign, date_from: date, date_to: date, filters: ReportFilters
) -> _FactRows:
    """The rows to sum for the campaign's totals or days: its campaign × day sums when
    ``filters`` (already checked) narrow by nothing finer than channel and source, else
    its cells. Both give the same sums; the first has one row per channel and day."""
    if any(
        value is not None
        for value in (filters.unit_id, filters.creative_id, filters.placement, filters.device)
    ):
        return _facts(campaign, date_from, date_to, filters)
    narrowing = {"channel": filters.channel, "source": filters.source}
    return MetricCampaignDay.objects.filter(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        day__range=(date_from, date_to),
        **{name: value for name, value in narrowing.items() if value is not None},
    )


def campaign_info(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "objective": campaign.objective,
        "start_at": campaign.start_at,
        "end_at": campaign.end_at,
        "time_zone": campaign.time_zone,
        "currency": campaign.currency,
    }


def _header(
    campaign: Campaign, date_from: date, date_to: date, filters: ReportFilters
) -> dict[str, Any]:
    return {
        "campaign": campaign_info(campaign),
        "date_from": date_from,
        "date_to": date_to,
        "filters": filters.as_dict(),
    }


def _by_impressions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by impressions, most first; ties by label then value, for a stable order."""
    return sorted(
        rows,
        key=lambda row: (
            -row["measures"]["impressions"],
            str(row.get("label", "")),
            str(row.get("value", "")),
        ),
    )


# --- Performance summary ----------------------------------------------------------------------


def performance_summary(
    *,
    campaign: Campaign,
    date_from: date,
    date_to: date,
    filters: ReportFilters | None = None,
) -> dict[str, Any]:
    """A campaign's totals, per unit and per creative, over ``date_from``…``date_to``.

    ``totals``/``units[]``/``creatives[]`` carry ``Figures``. Units list every unit of the
    campaign in scope (zero when it delivered nothing) and creatives every current
    version plus any older version with facts in the range; facts recorded without a
    unit or creative form a row whose id is ``None``. Rows are ordered by impressions.
    """
    facts, filters = _campaign_facts(campaign, date_from, date_to, filters)
    cells, (total_reach, unit_reach, creative_reach) = _grouped_with_reach(
        facts, ("unit_id", "creative_id"), [(), ("unit_id",), ("creative_id",)]
    )
    by_unit: dict[UUID | None, _Sums] = defaultdict(_Sums)
    by_creative: dict[UUID | None, _Sums] = defaultdict(_Sums)
    for (unit_id, creative_id), sums in cells.items():
        by_unit[unit_id].add(sums)
        by_creative[creative_id].add(sums)
    gross = filters.gross
    units = CampaignUnit.objects.filter(campaign_id=campaign.pk).order_by("created_at")
    if filters.unit_id is not None:
        units = units.filter(pk=filters.unit_id)
    if filters.channel is not None:
        units = units.filter(channel=filters.channel)
    if filters.creative_id is not None:
        units = units.filter(creatives__id=filters.creative_id)
    unit_rows = [
        {
            "unit_id": unit.pk,
            "label": unit.name,
            "channel": unit.channel,
            **by_unit.pop(unit.pk, _Sums()).figures(gross=gross, reach=unit_reach.get((unit.pk,))),
        }
        for unit in units
    ]
    unit_rows += [
        {
            "unit_id": unit_id,
            "label": UNATTRIBUTED if unit_id is None else str(unit_id),
            "channel": "",
            **sums.figures(gross=gross, reach=unit_reach.get((unit_id,))),
        }
        for unit_id, sums in by_unit.items()
    ]
    return {
        **_header(campaign, date_from, date_to, filters),
        "totals": _total(cells.values()).figures(gross=gross, reach=total_reach.get(())),
        "units": _by_impressions(unit_rows),
        "creatives": _creative_rows(campaign, filters, by_creative, creative_reach),
    }


def _creative_rows(
    campaign: Campaign,
    filters: ReportFilters,
    by_creative: dict[UUID | None, _Sums],
    reach: dict[tuple[Any, ...], int],
) -> list[dict[str, Any]]:
    creatives = AdCreative.objects.filter(unit__campaign_id=campaign.pk).values(
        "id", "name", "version", "unit_id", "unit__channel", "is_current"
    )
    if filters.unit_id is not None:
        creatives = creatives.filter(unit_id=filters.unit_id)
    if filters.creative_id is not None:
        creatives = creatives.filter(pk=filters.creative_id)
    if filters.channel is not None:
        creatives = creatives.filter(unit__channel=filters.channel)
    rows = []
    for creative in creatives.order_by("created_at"):
        sums = by_creative.pop(creative["id"], None)
        if sums is None and not creative["is_current"]:
            continue
        rows.append(
            {
                "creative_id": creative["id"],
                "unit_id": creative["unit_id"],
                "channel": creative["unit__channel"],
                "label": creative["name"] or f"Creative v{creative['version']}",
                "version": creative["version"],
                **(sums or _Sums()).figures(
                    gross=filters.gross, reach=reach.get((creative["id"],))
                ),
            }
        )
    rows += [
        {
            "creative_id": creative_id,
            "unit_id": None,
            "channel": "",
            "label": UNATTRIBUTED if creative_id is None else str(creative_id),
            "version": None,
            **sums.figures(gross=filters.gross, reach=reach.get((creative_id,))),
        }
        for creative_id, sums in by_creative.items()
    ]
    return _by_impressions(rows)


# --- Funnel -----------------------------------------------------------------------------------


def funnel(
    *,
    campaign: Campaign,
    date_from: date,
    date_to: date,
    filters: ReportFilters | None = None,
) -> dict[str, Any]:
    """Impressions → clicks → conversions with the step rates.

    Each step has ``count``, ``rate_from_previous`` (CTR for clicks, conversion rate for
    conversions) and ``rate_from_start`` (per 100 impressions); ``overall_conversion_rate``
    is conversions per 100 impressions. Rates are ``None`` when their base is 0.
    """
    filters = _checked(campaign, date_from, date_to, filters)
    sums = _campaign_sums(campaign, date_from, date_to, filters)
    measures = _total(_grouped(sums).values()).view(gross=filters.gross)
    rates = compute({name: measures[name] for name in _FORMULA_INPUTS}, ("ctr", "conversion_rate"))
    overall = _OVERALL_CONVERSION_RATE.evaluate(
        {"conversions": measures["conversions"], "impressions": measures["impressions"]}
    )
    steps = [
        {
            "step": "impressions",
            "count": measures["impressions"],
            "rate_from_previous": None,
            "rate_from_start": None,
        },
        {
            "step": "clicks",
            "count": measures["clicks"],
            "rate_from_previous": rates["ctr"],
            "rate_from_start": rates["ctr"],
        },
        {
            "step": "conversions",
            "count": measures["conversions"],
            "rate_from_previous": rates["conversion_rate"],
            "rate_from_start": overall,
        },
    ]
    return {
        **_header(campaign, date_from, date_to, filters),
        "steps": steps,
        "ctr": rates["ctr"],
        "conversion_rate": rates["conversion_rate"],
        "overall_conversion_rate": overall,
    }


# --- Trends -----------------------------------------------------------------------------------


def _period_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def _next_period(start: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    if granularity is Granularity.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + _ONE_DAY


def _periods(date_from: date, date_to: date, granularity: Granularity) -> list[date]:
    """The start of every period touching the range, first to last."""
    starts = []
    start = _period_start(date_from, granularity)
    while start <= date_to:
        starts.append(start)
        start = _next_period(start, granularity)
    return starts


def _check_trend_metrics(metrics: Sequence[str]) -> list[str]:
    if isinstance(metrics, str) or not metrics:
        raise InvalidInput.single("metrics", "required", "Name at least one metric.")
    chosen: list[str] = []
    for key in metrics:
        if _check_metric(key, field="metrics") not in chosen:
            chosen.append(key)
    return chosen


def _pick(figures: Mapping[str, Any], key: str) -> int | Decimal | None:
    """One value of a row by key: a measure, the reach or a derived metric."""
    value: int | Decimal | None
    if key == "reach":
        value = figures["reach"]
    elif key in figures["measures"]:
        value = figures["measures"][key]
    else:
        value = figures["metrics"][key]
    return value


def trends(
    *,
    campaign: Campaign,
    date_from: date,
    date_to: date,
    granularity: str = Granularity.DAY,
    metrics: Sequence[str] = DEFAULT_TREND_METRICS,
    filters: ReportFilters | None = None,
) -> dict[str, Any]:
    """``metrics`` per day, week (from Monday) or month, every period present.

    A point's ``period`` is the period's first day; ``date_from``/``date_to`` are the days
    of the range it covers (the first and last periods may be partial). Measures are 0 in
    a period without facts, derived metrics ``None`` where undefined, reach ``None``
    without first-party sketches. The dates grouped are the facts' days: UTC days for
    first-party rows, the ad account's days for platform rows (see the module docstring).
    Raises ``InvalidInput`` naming ``metrics`` or ``granularity``.
    """
    period = _choice(Granularity, granularity, field="granularity")
    chosen = _check_trend_metrics(metrics)
    facts, filters = _campaign_facts(campaign, date_from, date_to, filters)
    per_period: dict[date, _Sums] = defaultdict(_Sums)
    daily = _grouped(_campaign_sums(campaign, date_from, date_to, filters), "day")
    for (day,), sums in daily.items():
        per_period[_period_start(day, period)].add(sums)
    reach: dict[date, int] = {}
    if _REACH_METRICS & set(chosen):
        reach = _period_reach(facts, period)
    points = []
    for start in _periods(date_from, date_to, period):
        figures = per_period[start].figures(gross=filters.gross, reach=reach.get(start))
        points.append(
            {
                "period": start,
                "date_from": max(start, date_from),
                "date_to": min(_next_period(start, period) - _ONE_DAY, date_to),
                "values": {key: _pick(figures, key) for key in chosen},
            }
        )
    return {
        **_header(campaign, date_from, date_to, filters),
        "granularity": period.value,
        "metrics": chosen,
        "points": points,
    }


def _period_reach(facts: QuerySet[MetricFact], period: Granularity) -> dict[date, int]:
    """One query: the first-party reach per period. A visitor seen on two days of a week
    is one visitor of the week: the period's sketches are merged, daily reach never added."""
    rows = (
        facts.filter(source=Source.FIRST_PARTY, reach_sketch__isnull=False)
        .values_list("day", "reach_sketch")
        .order_by()
    )
    return reach_by_group(
        (_period_start(day, period), sketch) for day, sketch in rows if sketch is not None
    )


# --- Breakdown --------------------------------------------------------------------------------


def breakdown(
    *,
    campaign: Campaign,
    by: str,
    date_from: date,
    date_to: date,
    filters: ReportFilters | None = None,
) -> dict[str, Any]:
    """One row per value of ``by`` with its figures, most impressions first.

    A row's ``value`` is the dimension's value (a unit or creative id, a channel key …;
    ``None``/``""`` for facts recorded without one) and ``label`` its readable name.
    Raises ``InvalidInput`` naming ``by`` for an unknown dimension.
    """
    dimension = _choice(BreakdownBy, by, field="by")
    field = _BREAKDOWN_FIELDS[dimension]
    facts, filters = _campaign_facts(campaign, date_from, date_to, filters)
    groups, (reach,) = _grouped_with_reach(facts, (field,), [(field,)])
    labels = _labels(campaign, dimension, [key[0] for key in groups])
    rows = [
        {
            "value": value,
            "label": labels.get(value) or _fallback_label(dimension, value),
            **sums.figures(gross=filters.gross, reach=reach.get((value,))),
        }
        for (value,), sums in groups.items()
    ]
    return {
        **_header(campaign, date_from, date_to, filters),
        "by": dimension.value,
        "rows": _by_impressions(rows),
    }


def _labels(campaign: Campaign, dimension: BreakdownBy, values: list[Any]) -> dict[Any, str]:
    """Readable names of breakdown values (one query for units and creatives)."""
    if dimension is BreakdownBy.UNIT:
        units = CampaignUnit.objects.filter(campaign_id=campaign.pk, pk__in=values)
        return dict(units.values_list("id", "name"))
    if dimension is BreakdownBy.CREATIVE:
        creatives = AdCreative.objects.filter(unit__campaign_id=campaign.pk, pk__in=values)
        return {
            pk: name or f"Creative v{version}"
            for pk, name, version in creatives.values_list("id", "name", "version")
        }
    if dimension is BreakdownBy.SOURCE:
        return {value: Source(value).label for value in values if value in Source.values}
    if dimension is BreakdownBy.CHANNEL:
        return {value: _channel_label(value) for value in values}
    return {}


def _fallback_label(dimension: BreakdownBy, value: object) -> str:
    if value is None or value == "":
        if dimension in (BreakdownBy.PLACEMENT, BreakdownBy.DEVICE):
            return NOT_SET
        return UNATTRIBUTED
    return str(value)


def _channel_label(key: str) -> str:
    if not key:
        return UNATTRIBUTED
    try:
        return get_channel(key).label
    except KeyError:
        return key


# --- Comparison -------------------------------------------------------------------------------


def _higher_is_better(metric: str) -> bool:
    if metric in FORMULAS:
        return FORMULAS[metric].higher_is_better
    try:
        return metric_definition(metric).higher_is_better
    except KeyError:
        return True  # a count with no definition (likes, gross impressions …)


def _is_money(metric: str) -> bool:
    try:
        return metric_definition(metric).unit is MetricUnit.CURRENCY
    except KeyError:
        return metric in MONEY_MEASURES and metric != "conversions"


def _rank(rows: list[dict[str, Any]], *, metric: str, order: RankOrder) -> list[dict[str, Any]]:
    """Rows by ``value``, best (or worst) first per the metric's direction; rows whose
    value is ``None`` last; ties by campaign name."""
    by_name = sorted(rows, key=lambda row: (row["campaign"]["name"], str(row["campaign"]["id"])))
    known = [row for row in by_name if row["value"] is not None]
    unknown = [row for row in by_name if row["value"] is None]
    descending = (order is RankOrder.BEST) == _higher_is_better(metric)
    # Python's sort is stable in both directions, so equal values keep the name order.
    known.sort(key=lambda row: row["value"], reverse=descending)
    return [{"rank": index, **row} for index, row in enumerate(known + unknown, start=1)]


def _campaign_rows(
    campaigns: Iterable[Campaign],
    sums: Mapping[UUID, _Sums],
    reach: Mapping[tuple[Any, ...], int],
    metric: str | None,
) -> list[dict[str, Any]]:
    """A row per campaign: its summary, figures and (given a ``metric``) that ``value``."""
    rows = []
    for campaign in campaigns:
        figures = sums.get(campaign.pk, _Sums()).figures(
            gross=False, reach=reach.get((campaign.pk,))
        )
        row: dict[str, Any] = {"campaign": campaign_info(campaign), **figures}
        if metric is not None:
            row["value"] = _pick(figures, metric)
        rows.append(row)
    return rows


def compare_campaigns(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    metric: str,
    order: str = RankOrder.BEST,
    limit: int = 10,
    campaign_ids: Sequence[UUID] | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The organization's campaigns ranked by ``metric`` over the range.

    ``best`` puts the best value first per the metric's ``higher_is_better`` (highest
    ROAS, lowest CPA); ``worst`` the reverse; campaigns whose metric is ``None`` come last
    either way. Without ``campaign_ids`` the campaigns with facts in the range take part;
    with them, exactly those (another organization's id is refused, naming
    ``campaign_ids``); with ``currency``, only the campaigns in it. A money metric
    (spend, CPA …) compares one currency only: give ``currency`` when the campaigns use
    several. Rows carry every figure (reach only when ranking by reach or frequency).
    """
    _check_range(date_from, date_to)
    _check_metric(metric, field="metric")
    rank_order = _choice(RankOrder, order, field="order")
    if not 1 <= limit <= MAX_COMPARE_LIMIT:
        raise InvalidInput.single("limit", "range", f"Use 1 to {MAX_COMPARE_LIMIT}.")
    if currency is not None:
        currency = validate_currency(currency)
    in_range = MetricCampaignDay.objects.for_org(organization).filter(
        day__range=(date_from, date_to)
    )
    campaigns = _compared_campaigns(organization, in_range, campaign_ids, currency)
    if _is_money(metric) and len({campaign.currency for campaign in campaigns}) > 1:
        raise InvalidInput.single(
            "currency",
            "required",
            f"These campaigns use several currencies; give a currency to compare {metric}.",
        )
    compared = [campaign.pk for campaign in campaigns]
    sums = {
        key[0]: value
        for key, value in _grouped(in_range.filter(campaign_id__in=compared), "campaign_id").items()
    }
    reach: dict[tuple[Any, ...], int] = {}
    if metric in _REACH_METRICS:
        facts = MetricFact.objects.for_org(organization).filter(
            day__range=(date_from, date_to), campaign_id__in=compared
        )
        (reach,) = _reaches(facts, [("campaign_id",)])
    rows = _rank(_campaign_rows(campaigns, sums, reach, metric), metric=metric, order=rank_order)
    return {
        "date_from": date_from,
        "date_to": date_to,
        "metric": metric,
        "order": rank_order.value,
        "higher_is_better": _higher_is_better(metric),
        "currency": currency,
        "count": len(rows),
        "rows": rows[:limit],
    }


def _compared_campaigns(
    organization: Organization,
    facts: QuerySet[MetricCampaignDay],
    campaign_ids: Sequence[UUID] | None,
    currency: str | None,
) -> list[Campaign]:
    campaigns = Campaign.objects.for_org(organization).order_by()
    if currency is not None:
        campaigns = campaigns.filter(currency=currency)
    if campaign_ids is None:
        return list(campaigns.filter(pk__in=facts.values("campaign_id")))
    wanted = set(campaign_ids)
    found = list(Campaign.objects.for_org(organization).filter(pk__in=wanted))
    missing = wanted - {campaign.pk for campaign in found}
    if missing:
        raise InvalidInput.single(
            "campaign_ids",
            "not_found",
            "No such campaign in this organization: " + ", ".join(sorted(map(str, missing))),
        )
    if currency is not None:
        found = [campaign for campaign in found if campaign.currency == currency]
    return found


# --- ROI --------------------------------------------------------------------------------------


def _local_today(campaign: Campaign, now: datetime) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(campaign.time_zone)).date()


def _days_remaining(campaign: Campaign, today: date) -> int | None:
    """Whole days after ``today`` up to the campaign's last day, in its time zone."""
    if campaign.end_at is None:
        return None
    end = campaign.end_at.astimezone(zoneinfo.ZoneInfo(campaign.time_zone))
    # An end at midnight means the day before was the last one.
    last_day = (end - timedelta(microseconds=1)).date()
    return max(0, (last_day - today).days)


def campaign_roi(
    *,
    campaign: Campaign,
    date_from: date,
    date_to: date,
    filters: ReportFilters | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ROI calculator (``formulas.roi_report``) over the range.

    Revenue is the conversion value, cost the spend. The run-rate is the last
    ``RUN_RATE_DAYS`` days of the range, never today or later (today, in the campaign's
    time zone, is still running), each day counted even without facts. ``days_remaining``
    counts the days after today up to the campaign's last day (``None`` if open-ended).
    ``budget`` is given for a lifetime budget: its amount, the spend to date (every fact
    of the campaign) and what remains, which caps the projection — unless filters narrow
    the report to part of the campaign, where the campaign's budget does not apply.
    """
    filters = _checked(campaign, date_from, date_to, filters)
    facts = _campaign_sums(campaign, date_from, date_to, filters)
    today = _local_today(campaign, now or timezone.now())
    daily = {key[0]: sums.view(gross=filters.gross) for key, sums in _grouped(facts, "day").items()}
    totals = _total_of_views(daily.values())
    window_end = min(date_to, today - _ONE_DAY)
    window_start = max(date_from, window_end - timedelta(days=RUN_RATE_DAYS - 1))
    window = _days(window_start, window_end)
    budget = _lifetime_budget(campaign) if not filters.narrows else None
    days_remaining = _days_remaining(campaign, today)
    report = roi_report(
        revenue=Decimal(totals["conversion_value"]),
        cost=Decimal(totals["spend"]),
        conversions=Decimal(totals["conversions"]),
        recent_days=[
            {name: Decimal(daily.get(day, _zero_measures())[name]) for name in MONEY_MEASURES}
            for day in window
        ],
        days_remaining=days_remaining,
        budget_remaining=None if budget is None else budget["remaining"],
    )
    projection = None if report.projection is None else asdict(report.projection)
    return {
        **_header(campaign, date_from, date_to, filters),
        "revenue": report.revenue,
        "cost": report.cost,
        "profit": report.profit,
        "conversions": Decimal(totals["conversions"]),
        "roi_percent": report.roi_percent,
        "roas": report.roas,
        "break_even_conversions": report.break_even_conversions,
        "payback_days": report.payback_days,
        "run_rate": {"date_from": window[0], "date_to": window[-1], "days": len(window)}
        if window
        else None,
        "today": today,
        "days_remaining": days_remaining,
        "budget": budget,
        "projection": projection,
    }


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _total_of_views(views: Iterable[Mapping[str, int | Decimal]]) -> dict[str, int | Decimal]:
    totals = _zero_measures()
    for view in views:
        for name in FACT_MEASURES:
            totals[name] += view[name]
    return totals


def _lifetime_budget(campaign: Campaign) -> dict[str, Any] | None:
    budget = CampaignBudget.objects.filter(campaign_id=campaign.pk).first()
    if budget is None or budget.kind != BudgetKind.LIFETIME:
        return None
    spent = MetricCampaignDay.objects.filter(
        organization_id=campaign.organization_id, campaign_id=campaign.pk
    ).aggregate(spent=Sum("spend"))["spent"]
    spent_to_date = Decimal(_measure("spend", spent))
    return {
        "kind": budget.kind,
        "amount": budget.amount,
        "currency": budget.currency,
        "spent_to_date": spent_to_date,
        "remaining": max(Decimal(0), budget.amount - spent_to_date),
    }


# --- Organization dashboard -------------------------------------------------------------------


def _elapsed_fraction(campaign: Campaign, now: datetime) -> Decimal | None:
    """How much of the campaign's schedule has passed, 0…1; ``None`` without both ends."""
    if campaign.start_at is None or campaign.end_at is None:
        return None
    tick = timedelta(microseconds=1)
    length = (campaign.end_at - campaign.start_at) // tick
    passed = (now - campaign.start_at) // tick
    return min(Decimal(1), max(Decimal(0), Decimal(passed) / Decimal(length)))


def _is_paced(metric: str) -> bool:
    """Whether ``kpi_status`` paces the metric over the schedule (a cumulative target)."""
    definition = metric_definition(metric)
    return definition.additive or definition.unit is MetricUnit.COUNT


def _kpi_row(kpi: KpiTarget, campaign: Campaign, figures: Figures, now: datetime) -> dict[str, Any]:
    """A KPI target against the campaign to date.

    Cumulative targets (impressions, spend, reach …) are paced over the schedule
    (``start_at``…``end_at``). A campaign without an end (or a start) has no pace to
    keep, so such a target gets no status; its progress is then the plain share of the
    target reached. Rates (CTR, ROAS, CPA …) are compared with their target directly.
    """
    current = _pick(figures, kpi.metric)
    elapsed = _elapsed_fraction(campaign, now)
    paced = _is_paced(kpi.metric)
    value = None if current is None else Decimal(current)
    status: KpiStatus | None
    status, progress = kpi_status(
        metric=kpi.metric,
        target=kpi.target_value,
        current=value,
        elapsed_fraction=Decimal(1) if elapsed is None else elapsed,
    )
    if paced and elapsed is None:
        status = None
    return {
        "kpi_id": kpi.pk,
        "campaign": campaign_info(campaign),
        "metric": kpi.metric,
        "label": metric_definition(kpi.metric).label,
        "unit": metric_definition(kpi.metric).unit.value,
        "target": kpi.target_value,
        "current": current,
        "paced": paced,
        "elapsed_fraction": elapsed,
        "status": None if status is None else status.value,
        "progress_percent": progress,
    }


def organization_dashboard(
    *,
    organization: Organization,
    date_from: date,
    date_to: date,
    currency: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The organization at a glance over the range.

    ``totals``, ``trend`` (per day: impressions, clicks, spend, conversions, every day
    present) and ``by_channel`` sum the campaigns in ``currency`` (default: the
    organization's); ``other_currencies`` names the currencies of other campaigns with
    facts in the range. ``active_campaigns`` (status active, with their figures),
    ``top_by_roas`` and ``top_by_conversions`` (best ``TOP_CAMPAIGNS`` with a value) cover
    every campaign, each in its own currency. ``kpis`` are the targets of active
    campaigns against the campaign to date (see ``_kpi_row``). Reach is not computed on
    the dashboard (``None``); campaign reports give it.
    """
    _check_range(date_from, date_to)
    currency = validate_currency(currency or organization.default_currency)
    now = now or timezone.now()
    facts = MetricCampaignDay.objects.for_org(organization).filter(day__range=(date_from, date_to))
    cells = _grouped(facts, "campaign_id", "channel")
    campaign_ids = {campaign_id for campaign_id, _channel in cells}
    campaigns = {
        campaign.pk: campaign
        for campaign in Campaign.objects.for_org(organization).filter(pk__in=campaign_ids)
        | Campaign.objects.for_org(organization).filter(status=CampaignStatus.ACTIVE)
    }
    per_campaign: dict[UUID, _Sums] = defaultdict(_Sums)
    per_channel: dict[str, _Sums] = defaultdict(_Sums)
    for (campaign_id, channel), sums in cells.items():
        per_campaign[campaign_id].add(sums)
        if campaigns[campaign_id].currency == currency:
            per_channel[channel].add(sums)
    active = sorted(
        (c for c in campaigns.values() if c.status == CampaignStatus.ACTIVE),
        key=lambda c: (c.name, str(c.pk)),
    )
    # Each campaign's row once, whether it is ranked, listed as active, or both.
    shown = {campaign_id: campaigns[campaign_id] for campaign_id in per_campaign}
    shown.update((campaign.pk, campaign) for campaign in active)
    rows = {
        row["campaign"]["id"]: row for row in _campaign_rows(shown.values(), per_campaign, {}, None)
    }
    ranked = [rows[campaign_id] for campaign_id in per_campaign]
    return {
        "date_from": date_from,
        "date_to": date_to,
        "currency": currency,
        "other_currencies": sorted({campaigns[pk].currency for pk in per_campaign} - {currency}),
        "totals": _total(per_channel.values()).figures(gross=False, reach=None),
        "trend": _dashboard_trend(facts, currency, date_from, date_to),
        "by_channel": _by_impressions(
            [
                {
                    "value": channel,
                    "label": _channel_label(channel),
                    **sums.figures(gross=False, reach=None),
                }
                for channel, sums in per_channel.items()
            ]
        ),
        "active_campaign_count": len(active),
        "active_campaigns": [rows[campaign.pk] for campaign in active],
        "top_by_roas": _top(ranked, "roas"),
        "top_by_conversions": _top(ranked, "conversions"),
        "kpis": _dashboard_kpis(organization, active, now),
    }


def _top(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    valued = [{**row, "value": _pick(row, metric)} for row in rows]
    ranked = _rank(
        [row for row in valued if row["value"] is not None], metric=metric, order=RankOrder.BEST
    )
    return ranked[:TOP_CAMPAIGNS]


def _dashboard_trend(
    facts: QuerySet[MetricCampaignDay], currency: str, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    per_day = _grouped(facts.filter(campaign__currency=currency), "day")
    points = []
    for day in _days(date_from, date_to):
        measures = per_day[(day,)].view(gross=False) if (day,) in per_day else _zero_measures()
        points.append({"day": day, **{name: measures[name] for name in DASHBOARD_TREND_MEASURES}})
    return points


def _dashboard_kpis(
    organization: Organization, active: list[Campaign], now: datetime
) -> list[dict[str, Any]]:
    by_id = {campaign.pk: campaign for campaign in active}
    kpis = list(
        KpiTarget.objects.for_org(organization)
        .filter(campaign_id__in=list(by_id))
        .order_by("campaign__name", "campaign_id", "metric")
    )
    if not kpis:
        return []
    # Targets are for the campaign as a whole: measure it to date, not over the range.
    campaign_ids = {kpi.campaign_id for kpi in kpis}
    campaign_days = MetricCampaignDay.objects.for_org(organization).filter(
        campaign_id__in=campaign_ids
    )
    sums = {key[0]: value for key, value in _grouped(campaign_days, "campaign_id").items()}
    reach: dict[tuple[Any, ...], int] = {}
    if any(kpi.metric in _REACH_METRICS for kpi in kpis):
        facts = MetricFact.objects.for_org(organization).filter(campaign_id__in=campaign_ids)
        (reach,) = _reaches(facts, [("campaign_id",)])
    rows = []
    for kpi in kpis:
        figures = sums.get(kpi.campaign_id, _Sums()).figures(
            gross=False, reach=reach.get((kpi.campaign_id,))
        )
        rows.append(_kpi_row(kpi, by_id[kpi.campaign_id], figures, now))
    return rows
