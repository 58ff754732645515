"""CSV exports of the reports: one flat table per report, as an HTTP attachment.

The tables are built from the reports as the API presents them (already rounded for
people by ``herald.metrics.api``), so a CSV and the JSON answer agree digit for digit.

Format
    * A header row of keys, then one row per line of the report; comma-separated, RFC 4180
      quoting, ``\\r\\n`` line ends, UTF-8 without a byte-order mark.
    * ``Decimal`` as a plain string (``1234.50``, never ``1.2345E+3``), ``None`` as an
      empty cell, booleans as ``true``/``false``, dates as ``YYYY-MM-DD``.
    * Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
      ``@``, tab or carriage return: a campaign or creative name is user input) is
      prefixed with ``'``. Numbers are never altered.

Tables
    performance  ``level`` (total, unit, creative) with ids, label, every measure, reach,
                 every derived metric.
    funnel       one row per step.
    trends       one row per period, a column per requested metric.
    breakdown    one row per value of the dimension.
    roi          one row; the budget and projection flattened into ``budget_*`` and
                 ``projection_*`` columns.
    compare      one row per ranked campaign.
    dashboard    long format (``section``, ``key``, ``label``, ``currency``, ``metric``,
                 ``value``): its sections have different shapes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpResponse

from herald.metrics.formulas import FORMULAS
from herald.metrics.selectors import FACT_MEASURES

__all__ = [
    "CSV_CONTENT_TYPE",
    "FIGURE_COLUMNS",
    "breakdown_table",
    "cell",
    "compare_table",
    "csv_response",
    "dashboard_table",
    "funnel_table",
    "performance_table",
    "render_csv",
    "roi_table",
    "trends_table",
]

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FIGURE_COLUMNS: tuple[str, ...] = (*FACT_MEASURES, "reach", *FORMULAS)
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

type Table = tuple[list[str], list[dict[str, Any]]]


def cell(value: object) -> str:
    """One value as CSV text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | UUID):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def render_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def csv_response(table: Table, *, filename: str) -> HttpResponse:
    """``table`` as a ``text/csv`` attachment named ``filename``."""
    columns, rows = table
    response = HttpResponse(render_csv(columns, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row["measures"], "reach": row["reach"], **row["metrics"]}


# --- Tables -----------------------------------------------------------------------------------


def performance_table(report: Mapping[str, Any]) -> Table:
    columns = ["level", "id", "unit_id", "channel", "label", *FIGURE_COLUMNS]
    campaign = report["campaign"]
    rows = [
        {
            "level": "total",
            "id": campaign["id"],
            "label": campaign["name"],
            **_figures(report["totals"]),
        }
    ]
    rows += [
        {
            "level": "unit",
            "id": unit["unit_id"],
            "channel": unit["channel"],
            "label": unit["label"],
            **_figures(unit),
        }
        for unit in report["units"]
    ]
    rows += [
        {
            "level": "creative",
            "id": creative["creative_id"],
            "unit_id": creative["unit_id"],
            "channel": creative["channel"],
            "label": creative["label"],
            **_figures(creative),
        }
        for creative in report["creatives"]
    ]
    return columns, rows


def funnel_table(report: Mapping[str, Any]) -> Table:
    return ["step", "count", "rate_from_previous", "rate_from_start"], list(report["steps"])


def trends_table(report: Mapping[str, Any]) -> Table:
    columns = ["period", "date_from", "date_to", *report["metrics"]]
    rows = [
        {
            "period": point["period"],
            "date_from": point["date_from"],
            "date_to": point["date_to"],
            **point["values"],
        }
        for point in report["points"]
    ]
    return columns, rows


def breakdown_table(report: Mapping[str, Any]) -> Table:
    columns = ["by", "value", "label", *FIGURE_COLUMNS]
    rows = [
        {"by": report["by"], "value": row["value"], "label": row["label"], **_figures(row)}
        for row in report["rows"]
    ]
    return columns, rows


_ROI_COLUMNS = (
    "revenue",
    "cost",
    "profit",
    "conversions",
    "roi_percent",
    "roas",
    "break_even_conversions",
    "payback_days",
    "today",
    "days_remaining",
)
_BUDGET_COLUMNS = ("kind", "amount", "spent_to_date", "remaining")
_RUN_RATE_COLUMNS = ("date_from", "date_to", "days")
_PROJECTION_COLUMNS = (
    "days_elapsed",
    "days_remaining",
    "daily_spend",
    "daily_revenue",
    "daily_conversions",
    "projected_spend",
    "projected_revenue",
    "projected_conversions",
    "projected_roas",
    "budget_capped",
)


def _prefixed(prefix: str, keys: Sequence[str], values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {f"{prefix}{key}": None if values is None else values[key] for key in keys}


def roi_table(report: Mapping[str, Any]) -> Table:
    columns = [
        "campaign_id",
        "currency",
        "date_from",
        "date_to",
        *_ROI_COLUMNS,
        *(f"run_rate_{key}" for key in _RUN_RATE_COLUMNS),
        *(f"budget_{key}" for key in _BUDGET_COLUMNS),
        *(f"projection_{key}" for key in _PROJECTION_COLUMNS),
    ]
    row = {
        "campaign_id": report["campaign"]["id"],
        "currency": report["campaign"]["currency"],
        "date_from": report["date_from"],
        "date_to": report["date_to"],
        **{key: report[key] for key in _ROI_COLUMNS},
        **_prefixed("run_rate_", _RUN_RATE_COLUMNS, report["run_rate"]),
        **_prefixed("budget_", _BUDGET_COLUMNS, report["budget"]),
        **_prefixed("projection_", _PROJECTION_COLUMNS, report["projection"]),
    }
    return columns, [row]


def compare_table(report: Mapping[str, Any]) -> Table:
    columns = [
        "rank",
        "campaign_id",
        "campaign",
        "status",
        "currency",
        "metric",
        "value",
        *FIGURE_COLUMNS,
    ]
    rows = [
        {
            "rank": row["rank"],
            "campaign_id": row["campaign"]["id"],
            "campaign": row["campaign"]["name"],
            "status": row["campaign"]["status"],
            "currency": row["campaign"]["currency"],
            "metric": report["metric"],
            "value": row["value"],
            **_figures(row),
        }
        for row in report["rows"]
    ]
    return columns, rows


_DASHBOARD_COLUMNS = ["section", "key", "label", "currency", "metric", "value"]
_DASHBOARD_CAMPAIGN_METRICS = ("impressions", "clicks", "conversions", "spend", "roas")
_DASHBOARD_KPI_FIELDS = ("target", "current", "status", "progress_percent", "elapsed_fraction")


def _figure_lines(
    section: str, key: object, label: str, currency: str, row: Mapping[str, Any]
) -> list[dict[str, Any]]:
    figures = _figures(row)
    return [
        {
            "section": section,
            "key": key,
            "label": label,
            "currency": currency,
            "metric": metric,
            "value": figures[metric],
        }
        for metric in _DASHBOARD_CAMPAIGN_METRICS
    ]


def dashboard_table(report: Mapping[str, Any]) -> Table:
    currency = report["currency"]
    rows = _figure_lines("totals", "", "All campaigns", currency, report["totals"])
    for point in report["trend"]:
        rows += [
            {
                "section": "trend",
                "key": point["day"],
                "currency": currency,
                "metric": metric,
                "value": point[metric],
            }
            for metric in ("impressions", "clicks", "spend", "conversions")
        ]
    for channel in report["by_channel"]:
        rows += _figure_lines("by_channel", channel["value"], channel["label"], currency, channel)
    for section in ("active_campaigns", "top_by_roas", "top_by_conversions"):
        for row in report[section]:
            campaign = row["campaign"]
            rows += _figure_lines(
                section, campaign["id"], campaign["name"], campaign["currency"], row
            )
    for kpi in report["kpis"]:
        campaign = kpi["campaign"]
        rows += [
            {
                "section": "kpis",
                "key": kpi["kpi_id"],
                "label": f"{campaign['name']}: {kpi['label']}",
                "currency": campaign["currency"],
                "metric": f"{kpi['metric']}.{field}",
                "value": kpi[field],
            }
            for field in _DASHBOARD_KPI_FIELDS
        ]
    return _DASHBOARD_COLUMNS, rows
