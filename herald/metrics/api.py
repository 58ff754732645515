"""REST API of the reports: campaign performance, funnel, trends, breakdown and ROI, the
campaign comparison and the organization dashboard.

Handlers translate HTTP to ``herald.metrics.selectors`` and back, nothing more: the
campaign is resolved through the caller's organization (another organization's id
answers 404), every operation declares ``campaign.view`` and its problem responses.

Values are rounded for people here, once, with ``formulas.quantize_for_display``
(percentages and ratios to 2 places, money to the currency's minor units, fractional
conversions to 2 places); counts are exact integers. Decimals are JSON strings. Every
report also answers ``format=csv`` with a ``text/csv`` attachment of the same numbers
(``herald.metrics.csv_export``).
"""

import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.campaigns.services.campaigns import campaign_get_for_actor
from herald.core.api import problems, requires
from herald.core.errors import InvalidInput
from herald.core.money import currency_exponent
from herald.metrics import csv_export, selectors
from herald.metrics.formulas import (
    DISPLAY_ROUNDING,
    FORMULAS,
    PERCENT_DISPLAY_PLACES,
    quantize_for_display,
)
from herald.metrics.models import Source
from herald.metrics.selectors import (
    DEFAULT_TREND_METRICS,
    METRIC_KEYS,
    BreakdownBy,
    Granularity,
    RankOrder,
    ReportFilters,
)

__all__ = ["router"]

router = Router(tags=["reports"])

DASHBOARD_DEFAULT_DAYS = 30


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


# --- Query parameters -------------------------------------------------------------------------


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class RangeQuery(Schema):
    date_from: date = Field(alias="from", description="First day of the range, inclusive.")
    date_to: date = Field(
        alias="to",
        description=f"Last day, inclusive; at most {selectors.MAX_RANGE_DAYS} days after 'from'.",
    )


class FilterQuery(Schema):
    channel: str | None = Field(default=None, max_length=40, description="A channel key.")
    unit_id: UUID | None = Field(default=None, description="A unit of this campaign.")
    creative_id: UUID | None = Field(default=None, description="A creative of this campaign.")
    placement: str | None = Field(default=None, max_length=100)
    device: str | None = Field(default=None, max_length=10)
    source: Source | None = Field(
        default=None, description="Who measured: first_party (Herald) or a platform."
    )
    gross: bool = Field(
        default=False,
        description="Count impressions and clicks before invalid-traffic filtering.",
    )


class FormatQuery(Schema):
    format: ReportFormat = Field(
        default=ReportFormat.JSON, description="'csv' for a text/csv attachment."
    )


class TrendQuery(Schema):
    granularity: Granularity = Granularity.DAY
    metrics: str | None = Field(
        default=None,
        description="Comma-separated keys (default: "
        + ",".join(DEFAULT_TREND_METRICS)
        + "); any of "
        + ", ".join(METRIC_KEYS)
        + ".",
    )


class BreakdownQuery(Schema):
    by: BreakdownBy


class CompareQuery(Schema):
    metric: str = Field(default="roas", description="Any of " + ", ".join(METRIC_KEYS) + ".")
    order: RankOrder = Field(
        default=RankOrder.BEST,
        description="best: highest ROAS, lowest CPA … first (per the metric's direction).",
    )
    limit: int = Field(default=10, ge=1, le=selectors.MAX_COMPARE_LIMIT)
    campaign_ids: str | None = Field(
        default=None,
        description="Comma-separated campaign ids (default: every campaign with data).",
    )
    currency: str | None = Field(
        default=None, max_length=3, description="Only campaigns in this currency."
    )


class DashboardQuery(Schema):
    date_from: date | None = Field(default=None, alias="from", description="Default: 'to' − 29.")
    date_to: date | None = Field(
        default=None, alias="to", description="Default: today in the organization's time zone."
    )
    currency: str | None = Field(
        default=None,
        max_length=3,
        description="Currency of the summed sections (default: the organization's).",
    )


def _filters(query: FilterQuery) -> ReportFilters:
    # An empty parameter (``?channel=``, as a form sends it) leaves the dimension open.
    return ReportFilters(
        channel=query.channel or None,
        unit_id=query.unit_id,
        creative_id=query.creative_id,
        placement=query.placement or None,
        device=query.device or None,
        source=None if query.source is None else query.source.value,
        gross=query.gross,
    )


def _comma_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _uuids(value: str | None, *, field: str) -> list[UUID] | None:
    items = _comma_list(value)
    if not items:
        return None
    try:
        return [UUID(item) for item in items]
    except ValueError:
        raise InvalidInput.single(field, "uuid", "Give campaign ids separated by commas.") from None


# --- Output -----------------------------------------------------------------------------------

_METRICS_DESCRIPTION = (
    "Every derived metric, null where undefined (zero denominator) or unknown: "
    + ", ".join(FORMULAS)
    + ". Percent metrics are 0–100."
)


class MeasuresOut(Schema):
    impressions_gross: int
    impressions: int = Field(description="Net of invalid traffic; gross with gross=true.")
    viewable_impressions: int
    clicks_gross: int
    clicks: int = Field(description="Net of invalid traffic; gross with gross=true.")
    billable_clicks: int
    engagements: int
    likes: int
    shares: int
    comments: int
    saves: int
    follows: int
    conversions: Decimal = Field(description="May be fractional (modelled by a platform).")
    conversion_value: Decimal
    spend: Decimal


class FiguresOut(Schema):
    measures: MeasuresOut
    reach: int | None = Field(
        description="Distinct visitors of first-party impressions (estimated); null without."
    )
    metrics: dict[str, Decimal | None] = Field(description=_METRICS_DESCRIPTION)


class CampaignRefOut(Schema):
    id: UUID
    name: str
    status: str
    objective: str
    start_at: datetime | None
    end_at: datetime | None
    time_zone: str
    currency: str


class FiltersOut(Schema):
    channel: str | None
    unit_id: UUID | None
    creative_id: UUID | None
    placement: str | None
    device: str | None
    source: str | None
    gross: bool


class ReportOut(Schema):
    campaign: CampaignRefOut
    date_from: date
    date_to: date
    filters: FiltersOut


class UnitRowOut(FiguresOut):
    unit_id: UUID | None = Field(description="null: facts recorded without a unit.")
    label: str
    channel: str


class CreativeRowOut(FiguresOut):
    creative_id: UUID | None = Field(description="null: facts recorded without a creative.")
    unit_id: UUID | None
    channel: str
    label: str
    version: int | None


class PerformanceOut(ReportOut):
    totals: FiguresOut
    units: list[UnitRowOut]
    creatives: list[CreativeRowOut]


class FunnelStepOut(Schema):
    step: str
    count: int | Decimal
    rate_from_previous: Decimal | None = Field(description="Percent of the previous step.")
    rate_from_start: Decimal | None = Field(description="Percent of impressions.")


class FunnelOut(ReportOut):
    steps: list[FunnelStepOut]
    ctr: Decimal | None
    conversion_rate: Decimal | None
    overall_conversion_rate: Decimal | None = Field(description="Conversions per 100 impressions.")


class TrendPointOut(Schema):
    period: date = Field(description="First day of the period (a Monday for weeks).")
    date_from: date = Field(description="First day of the range in this period.")
    date_to: date = Field(description="Last day of the range in this period.")
    values: dict[str, int | Decimal | None]


class TrendsOut(ReportOut):
    granularity: Granularity
    metrics: list[str]
    points: list[TrendPointOut]


class BreakdownRowOut(FiguresOut):
    value: str | None = Field(description="The dimension's value; null or '' when not recorded.")
    label: str


class BreakdownOut(ReportOut):
    by: BreakdownBy
    rows: list[BreakdownRowOut]


class RunRateOut(Schema):
    date_from: date
    date_to: date
    days: int


class RoiBudgetOut(Schema):
    kind: str
    amount: Decimal
    currency: str
    spent_to_date: Decimal
    remaining: Decimal


class ProjectionOut(Schema):
    days_elapsed: int = Field(description="Days the run-rate averages over.")
    days_remaining: int
    daily_spend: Decimal
    daily_revenue: Decimal
    daily_conversions: Decimal
    projected_spend: Decimal
    projected_revenue: Decimal
    projected_conversions: Decimal
    projected_roas: Decimal | None
    budget_capped: bool


class RoiOut(ReportOut):
    revenue: Decimal = Field(description="Conversion value.")
    cost: Decimal = Field(description="Spend.")
    profit: Decimal
    conversions: Decimal
    roi_percent: Decimal | None
    roas: Decimal | None
    break_even_conversions: Decimal | None
    payback_days: Decimal | None
    run_rate: RunRateOut | None
    today: date = Field(description="Today in the campaign's time zone.")
    days_remaining: int | None = Field(description="null for an open-ended campaign.")
    budget: RoiBudgetOut | None = Field(description="Lifetime budgets only, without filters.")
    projection: ProjectionOut | None


class RankedCampaignOut(FiguresOut):
    rank: int
    campaign: CampaignRefOut
    value: int | Decimal | None


class CompareOut(Schema):
    date_from: date
    date_to: date
    metric: str
    order: RankOrder
    higher_is_better: bool
    currency: str | None
    count: int = Field(description="Campaigns ranked, before the limit.")
    rows: list[RankedCampaignOut]


class CampaignFiguresOut(FiguresOut):
    campaign: CampaignRefOut


class DashboardDayOut(Schema):
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal


class KpiOut(Schema):
    kpi_id: UUID
    campaign: CampaignRefOut
    metric: str
    label: str
    unit: str
    target: Decimal
    current: int | Decimal | None
    paced: bool = Field(description="A cumulative target, paced over the schedule.")
    elapsed_fraction: Decimal | None = Field(description="Share of the schedule passed, 0–1.")
    status: str | None = Field(description="on_track, at_risk, behind; null when unknown.")
    progress_percent: Decimal | None


class DashboardOut(Schema):
    date_from: date
    date_to: date
    currency: str
    other_currencies: list[str]
    totals: FiguresOut
    trend: list[DashboardDayOut]
    by_channel: list[BreakdownRowOut]
    active_campaign_count: int
    active_campaigns: list[CampaignFiguresOut]
    top_by_roas: list[RankedCampaignOut]
    top_by_conversions: list[RankedCampaignOut]
    kpis: list[KpiOut]


# --- Rounding for people ----------------------------------------------------------------------


def _shown(key: str, value: Any, exponent: int) -> Any:
    """``value`` of metric ``key`` rounded for display; counts and unknown keys as given."""
    if value is None or isinstance(value, int):
        return value
    try:
        return quantize_for_display(key, value, currency_exponent=exponent)
    except KeyError:
        return value


def _places(value: Decimal | None, places: int) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=DISPLAY_ROUNDING)


def _shown_figures(row: Mapping[str, Any], exponent: int) -> dict[str, Any]:
    return {
        **row,
        "measures": {key: _shown(key, value, exponent) for key, value in row["measures"].items()},
        "metrics": {key: _shown(key, value, exponent) for key, value in row["metrics"].items()},
    }


def _exponent(campaign: Mapping[str, Any]) -> int:
    return currency_exponent(campaign["currency"])


def _present_performance(report: dict[str, Any]) -> dict[str, Any]:
    exponent = _exponent(report["campaign"])
    return {
        **report,
        "totals": _shown_figures(report["totals"], exponent),
        "units": [_shown_figures(row, exponent) for row in report["units"]],
        "creatives": [_shown_figures(row, exponent) for row in report["creatives"]],
    }


def _present_funnel(report: dict[str, Any]) -> dict[str, Any]:
    rate = "conversion_rate"  # every funnel rate is a percentage
    return {
        **report,
        "steps": [
            {
                **step,
                "count": _shown(step["step"], step["count"], 0),
                "rate_from_previous": _shown(rate, step["rate_from_previous"], 0),
                "rate_from_start": _shown(rate, step["rate_from_start"], 0),
            }
            for step in report["steps"]
        ],
        "ctr": _shown("ctr", report["ctr"], 0),
        "conversion_rate": _shown(rate, report["conversion_rate"], 0),
        "overall_conversion_rate": _shown(rate, report["overall_conversion_rate"], 0),
    }


def _present_trends(report: dict[str, Any]) -> dict[str, Any]:
    exponent = _exponent(report["campaign"])
    return {
        **report,
        "points": [
            {
                **point,
                "values": {
                    key: _shown(key, value, exponent) for key, value in point["values"].items()
                },
            }
            for point in report["points"]
        ],
    }


def _present_breakdown(report: dict[str, Any]) -> dict[str, Any]:
    exponent = _exponent(report["campaign"])
    return {
        **report,
        "rows": [
            {**_shown_figures(row, exponent), "value": _text(row["value"])}
            for row in report["rows"]
        ],
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# The metric whose unit each ROI figure has.
_ROI_UNITS = {
    "revenue": "conversion_value",
    "cost": "spend",
    "profit": "spend",
    "conversions": "conversions",
    "roi_percent": "roi",
    "roas": "roas",
    "break_even_conversions": "conversions",
}
_PROJECTION_UNITS = {
    "daily_spend": "spend",
    "daily_revenue": "conversion_value",
    "daily_conversions": "conversions",
    "projected_spend": "spend",
    "projected_revenue": "conversion_value",
    "projected_conversions": "conversions",
    "projected_roas": "roas",
}
_DAYS_PLACES = 1


def _present_roi(report: dict[str, Any]) -> dict[str, Any]:
    exponent = _exponent(report["campaign"])
    shown = {**report, "payback_days": _places(report["payback_days"], _DAYS_PLACES)}
    for key, unit in _ROI_UNITS.items():
        shown[key] = _shown(unit, report[key], exponent)
    if report["budget"] is not None:
        budget = report["budget"]
        shown["budget"] = {
            **budget,
            **{
                key: _shown("spend", budget[key], exponent)
                for key in ("amount", "spent_to_date", "remaining")
            },
        }
    if report["projection"] is not None:
        projection = report["projection"]
        shown["projection"] = {
            **projection,
            **{
                key: _shown(unit, projection[key], exponent)
                for key, unit in _PROJECTION_UNITS.items()
            },
        }
    return shown


def _present_ranked(rows: list[dict[str, Any]], metric: str | None) -> list[dict[str, Any]]:
    shown = []
    for row in rows:
        exponent = _exponent(row["campaign"])
        entry = _shown_figures(row, exponent)
        if metric is not None:
            entry["value"] = _shown(metric, row["value"], exponent)
        shown.append(entry)
    return shown


def _present_compare(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "rows": _present_ranked(report["rows"], report["metric"])}


def _present_kpi(kpi: dict[str, Any]) -> dict[str, Any]:
    exponent = _exponent(kpi["campaign"])
    return {
        **kpi,
        "target": _shown(kpi["metric"], kpi["target"], exponent),
        "current": _shown(kpi["metric"], kpi["current"], exponent),
        "progress_percent": _places(kpi["progress_percent"], PERCENT_DISPLAY_PLACES),
        "elapsed_fraction": _places(kpi["elapsed_fraction"], 4),
    }


def _present_dashboard(report: dict[str, Any]) -> dict[str, Any]:
    exponent = currency_exponent(report["currency"])
    return {
        **report,
        "totals": _shown_figures(report["totals"], exponent),
        "trend": [
            {
                **point,
                "spend": _shown("spend", point["spend"], exponent),
                "conversions": _shown("conversions", point["conversions"], exponent),
            }
            for point in report["trend"]
        ],
        "by_channel": [
            {**_shown_figures(row, exponent), "value": _text(row["value"])}
            for row in report["by_channel"]
        ],
        "active_campaigns": _present_ranked(report["active_campaigns"], None),
        "top_by_roas": _present_ranked(report["top_by_roas"], "roas"),
        "top_by_conversions": _present_ranked(report["top_by_conversions"], "conversions"),
        "kpis": [_present_kpi(kpi) for kpi in report["kpis"]],
    }


# --- Operations -------------------------------------------------------------------------------

_CSV_NOTE = (
    " With `format=csv` the answer is a `text/csv` attachment (`Content-Disposition: "
    "attachment; filename=…`) of the same, rounded numbers: a header row of keys, decimals "
    "as plain strings, empty cells for null."
)
_DAYS_NOTE = (
    " Days are the facts' days: UTC days for Herald's own tracking, the ad account's days "
    "for platform data. Sources are summed unless `source` is given."
)


def _csv_name(kind: str, subject: object, date_from: date, date_to: date) -> str:
    return f"herald-{kind}-{subject}-{date_from.isoformat()}-{date_to.isoformat()}.csv"


_CAMPAIGN_PROBLEMS = problems(401, 403, 404, 422)


@router.get(
    "/campaigns/{uuid:campaign_id}/performance",
    response={200: PerformanceOut, **_CAMPAIGN_PROBLEMS},
    description=(
        "Totals of every measure and derived metric over the range, with reach from "
        "Herald's own tracking, per unit and per creative." + _DAYS_NOTE + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_performance(
    request: HttpRequest,
    campaign_id: UUID,
    period: Query[RangeQuery],
    filters: Query[FilterQuery],
    output: Query[FormatQuery],
) -> Any:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    report = selectors.performance_summary(
        campaign=campaign,
        date_from=period.date_from,
        date_to=period.date_to,
        filters=_filters(filters),
    )
    shown = _present_performance(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.performance_table(shown),
            filename=_csv_name("performance", campaign.pk, period.date_from, period.date_to),
        )
    return shown


@router.get(
    "/campaigns/{uuid:campaign_id}/funnel",
    response={200: FunnelOut, **_CAMPAIGN_PROBLEMS},
    description=(
        "Impressions → clicks → conversions with the rate of each step and the overall "
        "conversions per 100 impressions; rates are null when their base is 0."
        + _DAYS_NOTE
        + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_funnel(
    request: HttpRequest,
    campaign_id: UUID,
    period: Query[RangeQuery],
    filters: Query[FilterQuery],
    output: Query[FormatQuery],
) -> Any:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    report = selectors.funnel(
        campaign=campaign,
        date_from=period.date_from,
        date_to=period.date_to,
        filters=_filters(filters),
    )
    shown = _present_funnel(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.funnel_table(shown),
            filename=_csv_name("funnel", campaign.pk, period.date_from, period.date_to),
        )
    return shown


@router.get(
    "/campaigns/{uuid:campaign_id}/trends",
    response={200: TrendsOut, **_CAMPAIGN_PROBLEMS},
    description=(
        "The chosen metrics per day, week (from Monday) or month, every period present: "
        "measures are 0 in a period without data, derived metrics null where undefined. "
        "Weeks and months group the facts' days; the first and last periods may cover only "
        "part of the range (see each point's date_from/date_to)." + _DAYS_NOTE + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_trends(
    request: HttpRequest,
    campaign_id: UUID,
    period: Query[RangeQuery],
    trend: Query[TrendQuery],
    filters: Query[FilterQuery],
    output: Query[FormatQuery],
) -> Any:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    metrics = list(DEFAULT_TREND_METRICS) if trend.metrics is None else _comma_list(trend.metrics)
    report = selectors.trends(
        campaign=campaign,
        date_from=period.date_from,
        date_to=period.date_to,
        granularity=trend.granularity,
        metrics=metrics,
        filters=_filters(filters),
    )
    shown = _present_trends(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.trends_table(shown),
            filename=_csv_name("trends", campaign.pk, period.date_from, period.date_to),
        )
    return shown


@router.get(
    "/campaigns/{uuid:campaign_id}/breakdown",
    response={200: BreakdownOut, **_CAMPAIGN_PROBLEMS},
    description=(
        "One row per channel, unit, creative, placement, device or source, with its "
        "measures, derived metrics and reach where Herald's tracking measured it; most "
        "impressions first." + _DAYS_NOTE + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_breakdown(
    request: HttpRequest,
    campaign_id: UUID,
    period: Query[RangeQuery],
    dimension: Query[BreakdownQuery],
    filters: Query[FilterQuery],
    output: Query[FormatQuery],
) -> Any:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    report = selectors.breakdown(
        campaign=campaign,
        by=dimension.by,
        date_from=period.date_from,
        date_to=period.date_to,
        filters=_filters(filters),
    )
    shown = _present_breakdown(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.breakdown_table(shown),
            filename=_csv_name(
                f"breakdown-{dimension.by.value}", campaign.pk, period.date_from, period.date_to
            ),
        )
    return shown


@router.get(
    "/campaigns/{uuid:campaign_id}/roi",
    response={200: RoiOut, **_CAMPAIGN_PROBLEMS},
    description=(
        "Return on the campaign over the range (revenue = conversion value, cost = spend) "
        "and a projection to its end from the run-rate of the range's last "
        f"{selectors.RUN_RATE_DAYS} complete days (today, in the campaign's time zone, is "
        "excluded), capped by what remains of a lifetime budget." + _DAYS_NOTE + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def campaign_roi_report(
    request: HttpRequest,
    campaign_id: UUID,
    period: Query[RangeQuery],
    filters: Query[FilterQuery],
    output: Query[FormatQuery],
) -> Any:
    campaign = campaign_get_for_actor(actor=_actor(request), campaign_id=campaign_id)
    report = selectors.campaign_roi(
        campaign=campaign,
        date_from=period.date_from,
        date_to=period.date_to,
        filters=_filters(filters),
    )
    shown = _present_roi(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.roi_table(shown),
            filename=_csv_name("roi", campaign.pk, period.date_from, period.date_to),
        )
    return shown


@router.get(
    "/reports/compare",
    response={200: CompareOut, **problems(401, 403, 422)},
    description=(
        "The organization's campaigns ranked by any measure or metric over the range: "
        "`best` puts the best value first per the metric's direction (highest ROAS, lowest "
        "CPA), `worst` the reverse; campaigns whose metric is undefined come last. A money "
        "metric needs `currency` when the campaigns use several." + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def compare_campaigns_report(
    request: HttpRequest,
    period: Query[RangeQuery],
    compare: Query[CompareQuery],
    output: Query[FormatQuery],
) -> Any:
    report = selectors.compare_campaigns(
        organization=_actor(request).organization,
        date_from=period.date_from,
        date_to=period.date_to,
        metric=compare.metric,
        order=compare.order,
        limit=compare.limit,
        campaign_ids=_uuids(compare.campaign_ids, field="campaign_ids"),
        currency=compare.currency or None,
    )
    shown = _present_compare(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.compare_table(shown),
            filename=_csv_name("compare", compare.metric, period.date_from, period.date_to),
        )
    return shown


@router.get(
    "/dashboard",
    response={200: DashboardOut, **problems(401, 403, 422)},
    description=(
        f"The organization at a glance, by default over the last {DASHBOARD_DEFAULT_DAYS} "
        "days: totals, daily trend and channels of the campaigns in one currency (the "
        "organization's unless `currency` is given), active campaigns, the top "
        f"{selectors.TOP_CAMPAIGNS} campaigns by ROAS and by conversions, and the KPI "
        "targets of active campaigns measured to date (cumulative targets are paced over "
        "each campaign's schedule; without an end date they have no status)." + _CSV_NOTE
    ),
)
@requires(Permission.CAMPAIGN_VIEW)
def organization_dashboard_report(
    request: HttpRequest, query: Query[DashboardQuery], output: Query[FormatQuery]
) -> Any:
    organization = _actor(request).organization
    date_to = query.date_to or timezone.localdate(
        timezone=zoneinfo.ZoneInfo(organization.time_zone)
    )
    date_from = query.date_from or date_to - timedelta(days=DASHBOARD_DEFAULT_DAYS - 1)
    report = selectors.organization_dashboard(
        organization=organization,
        date_from=date_from,
        date_to=date_to,
        currency=query.currency or None,
    )
    shown = _present_dashboard(report)
    if output.format is ReportFormat.CSV:
        return csv_export.csv_response(
            csv_export.dashboard_table(shown),
            filename=_csv_name("dashboard", organization.slug, date_from, date_to),
        )
    return shown
