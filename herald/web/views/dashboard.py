"""The dashboard, Herald's home page: the organization at a glance over a period.

Everything on it is ``herald.metrics.selectors.organization_dashboard`` (the report the
API serves at ``/api/v1/dashboard``), rounded for display by ``reporting``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from herald.accounts.choices import Permission
from herald.accounts.models import Organization
from herald.campaigns import selectors as campaign_selectors
from herald.core.errors import InvalidInput
from herald.metrics import selectors as reports
from herald.metrics.formulas import KpiStatus
from herald.web.access import actor_of, member_view
from herald.web.views.reporting import (
    TABLE_METRICS,
    Period,
    chart_format,
    chart_json,
    chart_value,
    metric_label,
    percent,
    series_label,
    short_label,
    shown,
    shown_figures,
    table_cells,
)

__all__ = ["dashboard"]

TOTAL_METRICS = (
    "impressions",
    "clicks",
    "ctr",
    "conversions",
    "spend",
    "conversion_value",
    "roas",
    "cpa",
)
KPI_STATUS_LABELS = {
    KpiStatus.ON_TRACK: "On track",
    KpiStatus.AT_RISK: "At risk",
    KpiStatus.BEHIND: "Behind",
}
PRESETS = (7, 30, 90)


def _report(organization: Organization, period: Period, currency: str | None) -> dict[str, Any]:
    return reports.organization_dashboard(
        organization=organization,
        date_from=period.date_from,
        date_to=period.date_to,
        currency=currency,
    )


def _trend_chart(trend: list[Mapping[str, Any]], currency: str) -> dict[str, Any]:
    series = [("clicks", "left"), ("conversions", "left"), ("spend", "right")]
    return {
        "chart": chart_json(
            x=[point["day"] for point in trend],
            series=[
                {
                    "label": series_label(key),
                    "values": [chart_value(key, p[key], currency=currency) for p in trend],
                    "format": chart_format(key, currency=currency),
                    "axis": axis,
                }
                for key, axis in series
            ],
        ),
        "columns": [metric_label(key) for key, _axis in series],
        "rows": [
            (
                point["day"].isoformat(),
                [shown(key, point[key], currency=currency) for key, _axis in series],
            )
            for point in trend
        ],
        "has_data": any(point[key] for point in trend for key in ("impressions", *dict(series))),
    }


def _channel_chart(rows: list[Mapping[str, Any]], currency: str) -> dict[str, Any]:
    labels = [row["label"] for row in rows]
    return {
        "chart": chart_json(
            x=list(range(len(rows))),
            time=False,
            x_label="Channel",
            series=[
                {
                    "label": series_label("spend"),
                    "values": [
                        chart_value("spend", row["measures"]["spend"], currency=currency)
                        for row in rows
                    ],
                    "format": chart_format("spend", currency=currency),
                    "bars": True,
                }
            ],
        ),
        "categories": json.dumps(labels),
        "rows": [
            {
                "label": row["label"],
                "spend": shown("spend", row["measures"]["spend"], currency=currency),
                "cells": table_cells(row, currency=currency),
            }
            for row in rows
        ],
    }


def _campaign_rows(rows: list[Mapping[str, Any]], value_key: str | None) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        currency = row["campaign"]["currency"]
        out.append(
            {
                "rank": row.get("rank"),
                "campaign": row["campaign"],
                "value": shown(value_key, row["value"], currency=currency) if value_key else None,
                "cells": table_cells(row, currency=currency),
            }
        )
    return out


def _kpi_rows(kpis: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for kpi in kpis:
        currency = kpi["campaign"]["currency"]
        out.append(
            {
                "campaign": kpi["campaign"],
                "metric": short_label(kpi["metric"]),
                "metric_title": kpi["label"],
                "target": shown(kpi["metric"], kpi["target"], currency=currency),
                "current": shown(kpi["metric"], kpi["current"], currency=currency),
                "progress": percent(kpi["progress_percent"]),
                "paced": kpi["paced"],
                "status": kpi["status"],
                "status_label": KPI_STATUS_LABELS[kpi["status"]] if kpi["status"] else "No status",
            }
        )
    return out


def _presets(organization: Organization) -> list[dict[str, Any]]:
    home = reverse("web:home")
    presets = []
    for days in PRESETS:
        period = Period.last_days(organization.time_zone, days)
        presets.append(
            {
                "label": f"Last {days} days",
                "url": f"{home}?{urlencode(period.query())}",
                **vars(period),
            }
        )
    return presets


@require_GET
@member_view(Permission.CAMPAIGN_VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    organization = actor.organization
    period, readable = Period.from_query(request.GET, time_zone=organization.time_zone)
    if not readable:
        messages.error(request, "Give the period's dates as YYYY-MM-DD.")
    currency = request.GET.get("currency") or None
    try:
        report = _report(organization, period, currency)
    except InvalidInput as error:
        messages.error(request, " ".join([error.detail, *(e.message for e in error.errors)]))
        period, currency = Period.last_days(organization.time_zone), None
        report = _report(organization, period, currency)
    currency = report["currency"]
    has_campaigns = bool(report["active_campaigns"] or report["by_channel"]) or (
        campaign_selectors.campaign_list(organization=organization).exists()
    )
    return render(
        request,
        "web/dashboard.html",
        {
            "period": period,
            "presets": _presets(organization),
            "currency": currency,
            "other_currencies": report["other_currencies"],
            "has_campaigns": has_campaigns,
            "totals": [
                {"label": short_label(key), "title": metric_label(key), "value": value}
                for key, value in shown_figures(
                    report["totals"], currency=currency, keys=TOTAL_METRICS
                ).items()
            ],
            "trend": _trend_chart(report["trend"], currency),
            "by_channel": _channel_chart(report["by_channel"], currency),
            "active_count": report["active_campaign_count"],
            "active_campaigns": _campaign_rows(report["active_campaigns"], None),
            "top_by_roas": _campaign_rows(report["top_by_roas"], "roas"),
            "top_by_conversions": _campaign_rows(report["top_by_conversions"], "conversions"),
            "kpis": _kpi_rows(report["kpis"]),
            "table_columns": [short_label(key) for key in TABLE_METRICS],
        },
    )
