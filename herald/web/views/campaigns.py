"""Campaign pages: the list with its row actions, the campaign page with its reports
(trend chart, funnel, breakdowns, budget pacing, platforms, log), lifecycle actions
and the ad-account choice.

Numbers come from ``herald.metrics.selectors`` (through ``reporting`` for display),
campaigns from ``herald.campaigns.selectors``; every change goes through the services,
so the list and the page offer exactly the actions the state machine allows and the
server refuses the rest anyway. htmx enhances the forms: a row action re-renders its
row, a lifecycle action the page header (and the platforms and log sections), the
trend controls the chart; without JavaScript each is a plain form and a redirect.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.accounts.models import Organization
from herald.campaigns import selectors
from herald.campaigns.channels import all_channels, get_channel
from herald.campaigns.choices import BudgetKind, CampaignStatus, Objective
from herald.campaigns.lifecycle import allowed_actions
from herald.campaigns.models import (
    AdCreative,
    Campaign,
    CampaignBudget,
    CampaignChannel,
    CampaignUnit,
)
from herald.campaigns.services import lifecycle
from herald.campaigns.services.campaigns import campaign_duplicate, campaign_get_for_actor
from herald.core.errors import DomainError, InvalidInput, NotFound
from herald.integrations import selectors as integration_selectors
from herald.integrations.models import AdAccount, CampaignAdAccount
from herald.integrations.providers import PROVIDERS
from herald.integrations.services.accounts import campaign_ad_account_set
from herald.metrics import selectors as reports
from herald.metrics.selectors import DEFAULT_TREND_METRICS, MAX_RANGE_DAYS, Granularity
from herald.web.access import actor_of, member_view
from herald.web.views.reporting import (
    TABLE_METRICS,
    Period,
    channel_label,
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

__all__ = [
    "campaign_accounts",
    "campaign_action",
    "campaign_detail",
    "campaign_list",
    "campaign_platforms",
    "campaign_trend",
]

LIST_PAGE_SIZE = 25
LIST_METRICS = ("impressions", "clicks", "ctr", "conversions", "roas")
# Lifecycle actions offered on a list row (the campaign page offers every allowed one).
ROW_ACTIONS = ("pause", "resume", "cancel")
SORTS: tuple[tuple[str, str], ...] = (
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("status", "Status"),
    ("start_at", "Start date, earliest first"),
    ("-start_at", "Start date, latest first"),
    ("end_at", "End date, earliest first"),
    ("-end_at", "End date, latest first"),
)
DEFAULT_SORT = "-created_at"
TILE_METRICS = ("impressions", "clicks", "ctr", "conversions", "spend", "roas", "cpa")
DEFAULT_TREND_METRIC = "impressions"
GRANULARITY_LABELS = {Granularity.DAY: "Day", Granularity.WEEK: "Week", Granularity.MONTH: "Month"}
FUNNEL_LABELS = {"impressions": "Impressions", "clicks": "Clicks", "conversions": "Conversions"}
# Each breakdown table: its key (``BreakdownBy``), title and first column.
BREAKDOWNS = {
    "channel": ("By channel", "Channel"),
    "unit": ("By unit", "Unit"),
    "creative": ("By creative", "Creative"),
    "placement": ("By placement", "Placement"),
    "device": ("By device", "Device"),
}
EXPORTS = (
    ("Performance", "api-v1:campaign_performance", {}),
    ("Funnel", "api-v1:campaign_funnel", {}),
    ("Trends by day", "api-v1:campaign_trends", {"granularity": "day"}),
    ("ROI", "api-v1:campaign_roi_report", {}),
    *(
        (f"Breakdown by {column.lower()}", "api-v1:campaign_breakdown", {"by": key})
        for key, (_title, column) in BREAKDOWNS.items()
    ),
)


def _problem(error: DomainError) -> str:
    details = " ".join(e.message for e in error.errors)
    return f"{error.detail} {details}".strip()


def _campaign_today(campaign: Campaign) -> date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(campaign.time_zone))


def _to_date_range(today: date) -> tuple[date, date]:
    """The widest range the reports take, ending tomorrow: a platform reports in its ad
    account's time zone, whose day may already be tomorrow here."""
    last = today + timedelta(days=1)
    return last - timedelta(days=MAX_RANGE_DAYS - 1), last


def _figures_by_campaign(
    organization: Organization, campaign_ids: Sequence[UUID], date_from: date, date_to: date
) -> dict[UUID, dict[str, Any]]:
    """Each campaign's figures over the range, by id (two queries, however many)."""
    report = reports.compare_campaigns(
        organization=organization,
        date_from=date_from,
        date_to=date_to,
        metric="impressions",
        limit=reports.MAX_COMPARE_LIMIT,
        campaign_ids=list(campaign_ids),
    )
    return {row["campaign"]["id"]: row for row in report["rows"]}


def _budget_of(campaign: Campaign) -> CampaignBudget | None:
    try:
        return campaign.budget
    except CampaignBudget.DoesNotExist:
        return None


def _budget_text(budget: CampaignBudget) -> str:
    amount = shown("spend", budget.amount, currency=budget.currency)
    return f"{amount} per day" if budget.kind == BudgetKind.DAILY else f"{amount} lifetime"


def _status_trigger(response: HttpResponse, message: str, level: str) -> HttpResponse:
    """Tell the page (herald.js) what happened: an ``herald:status`` event."""
    response["HX-Trigger"] = json.dumps({"herald:status": {"message": message, "level": level}})
    return response


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- The list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    """What the list is narrowed to and how it is ordered (``?status=…&channel=…``)."""

    status: str = ""
    channel: str = ""
    objective: str = ""
    running_from: date | None = None
    running_to: date | None = None
    q: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: QueryDict) -> tuple[ListFilters, str | None]:
        filters = cls(
            status=query.get("status", ""),
            channel=query.get("channel", ""),
            objective=query.get("objective", ""),
            q=query.get("q", "").strip(),
            sort=query.get("sort") or DEFAULT_SORT,
        )
        try:
            return (
                replace(
                    filters,
                    running_from=_day(query.get("running_from")),
                    running_to=_day(query.get("running_to")),
                ),
                None,
            )
        except ValueError:
            return filters, "Give dates as YYYY-MM-DD."

    def campaigns(self, organization: Organization) -> Any:
        return selectors.campaign_list(
            organization=organization,
            status=self.status or None,
            channel=self.channel or None,
            objective=self.objective or None,
            date_from=self.running_from,
            date_to=self.running_to,
            search=self.q or None,
            ordering=self.sort,
        )

    @property
    def narrows(self) -> bool:
        return any(
            (
                self.status,
                self.channel,
                self.objective,
                self.running_from,
                self.running_to,
                self.q,
            )
        )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _list_rows(actor: Actor, campaigns: list[Campaign], period: Period) -> list[dict[str, Any]]:
    """A row per campaign: its channels, budget, spend to date, the period's key metrics
    and the actions this member may take on it now."""
    if not campaigns:
        return []
    organization = actor.organization
    ids = [campaign.pk for campaign in campaigns]
    in_period = _figures_by_campaign(organization, ids, period.date_from, period.date_to)
    to_date = _figures_by_campaign(
        organization, ids, *_to_date_range(Period.last_days(organization.time_zone).date_to)
    )
    can_operate = actor.can(Permission.CAMPAIGN_OPERATE)
    can_edit = actor.can(Permission.CAMPAIGN_EDIT)
    rows = []
    for campaign in campaigns:
        budget = _budget_of(campaign)
        spent = to_date[campaign.pk]["measures"]["spend"]
        rows.append(
            {
                "campaign": campaign,
                "channels": sorted({channel_label(unit.channel) for unit in campaign.units.all()}),
                "budget": _budget_text(budget) if budget else None,
                "budget_meter": chart_value("spend", budget.amount, currency=campaign.currency)
                if budget and budget.kind == BudgetKind.LIFETIME
                else None,
                "spent": shown("spend", spent, currency=campaign.currency),
                "spent_value": chart_value("spend", spent, currency=campaign.currency),
                "metrics": shown_figures(
                    in_period[campaign.pk], currency=campaign.currency, keys=LIST_METRICS
                ),
                "actions": [a for a in allowed_actions(campaign.status) if a in ROW_ACTIONS]
                if can_operate
                else [],
                "can_duplicate": can_edit,
                "show_actions": can_operate or can_edit,
            }
        )
    return rows


# Sortable columns: (ascending, descending) orderings of ``campaign_list``.
SORTABLE_COLUMNS = {
    "name": ("name", "-name"),
    "status": ("status", "status"),
    "dates": ("start_at", "-start_at"),
}


def _list_links(query: QueryDict, sort: str) -> dict[str, Any]:
    """Query strings for the pager and the sortable column headers: a header sorts by
    its column, and again the other way round when it already does."""
    base = query.copy()
    base.pop("page", None)
    headers = {}
    for column, (ascending, descending) in SORTABLE_COLUMNS.items():
        link = base.copy()
        link["sort"] = descending if sort == ascending else ascending
        aria_sort = None
        if sort == ascending:
            aria_sort = "ascending"
        elif sort == descending:
            aria_sort = "descending"
        headers[column] = {"query": link.urlencode(), "aria_sort": aria_sort}
    return {"base": base.urlencode(), "headers": headers}


@require_GET
@member_view(Permission.CAMPAIGN_VIEW)
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    organization = actor.organization
    filters, problem = ListFilters.from_query(request.GET)
    if problem:
        messages.error(request, problem)
    try:
        campaigns = filters.campaigns(organization)
    except InvalidInput as error:
        messages.error(request, _problem(error))
        filters = ListFilters()
        campaigns = filters.campaigns(organization)
    page = Paginator(campaigns, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    period, readable = Period.from_query(request.GET, time_zone=organization.time_zone)
    if not readable:
        messages.error(request, "Give the period's dates as YYYY-MM-DD.")
    try:
        rows = _list_rows(actor, list(page.object_list), period)
    except InvalidInput as error:
        messages.error(request, _problem(error))
        period = Period.last_days(organization.time_zone)
        rows = _list_rows(actor, list(page.object_list), period)
    has_campaigns = bool(rows) or selectors.campaign_list(organization=organization).exists()
    return render(
        request,
        "web/home.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "period": period,
            "links": _list_links(request.GET, filters.sort),
            "list_url": request.get_full_path(),
            "has_campaigns": has_campaigns,
            "status_choices": CampaignStatus.choices,
            "objective_choices": Objective.choices,
            "channel_choices": [(c.key, c.label) for c in all_channels()],
            "sorts": SORTS,
        },
    )


# --- Actions ----------------------------------------------------------------------------------

_LIFECYCLE: dict[str, Callable[..., Campaign]] = {
    "schedule": lifecycle.campaign_schedule,
    "launch": lifecycle.campaign_launch,
    "resume": lifecycle.campaign_resume,
    "complete": lifecycle.campaign_complete,
    "retry": lifecycle.campaign_retry,
}
_WITH_REASON: dict[str, Callable[..., Campaign]] = {
    "pause": lifecycle.campaign_pause,
    "cancel": lifecycle.campaign_cancel,
}


def _perform(actor: Actor, campaign_id: UUID, action: str, reason: str) -> Campaign:
    """Run ``action``; the campaign it leaves (for ``duplicate``, the new copy)."""
    if action in _WITH_REASON:
        return _WITH_REASON[action](actor=actor, campaign_id=campaign_id, reason=reason)
    if action in _LIFECYCLE:
        return _LIFECYCLE[action](actor=actor, campaign_id=campaign_id)
    if action == "duplicate":
        return campaign_duplicate(actor=actor, campaign_id=campaign_id)
    raise Http404("No such action.")


def _done(action: str, campaign: Campaign) -> str:
    if action == "duplicate":
        return f"Duplicate: done. The copy “{campaign.name}” is a draft."
    status = campaign.get_status_display().lower()
    return f"{action.capitalize()}: done. “{campaign.name}” is now {status}."


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
@member_view(Permission.CAMPAIGN_OPERATE)
def campaign_action(request: HttpRequest, campaign_id: UUID, action: str) -> HttpResponse:
    """Run a lifecycle action (or duplicate) through the same services as the API; a
    refusal is shown with its reasons. From a list row, htmx gets the row back (and the
    copy's, after a duplicate); from the campaign page, its header and live sections."""
    actor = actor_of(request)
    next_url = _safe_next(request)
    copy: Campaign | None = None
    try:
        result = _perform(actor, campaign_id, action, request.POST.get("reason", ""))
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404(error.detail) from error
        message, level = _problem(error), "error"
    else:
        copy = result if action == "duplicate" else None
        message, level = _done(action, result), "success"
    if _is_htmx(request):
        if request.POST.get("fragment") == "row":
            extra = [copy.pk] if copy else []
            response = _rows_response(request, actor, [campaign_id, *extra], next_url)
        elif copy is not None:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("web:campaign_detail", args=[copy.pk])
        else:
            response = _live_sections_response(request, actor, campaign_id)
        return _status_trigger(response, message, level)
    getattr(messages, level)(request, message)
    if copy is not None and next_url is None:
        return HttpResponseRedirect(reverse("web:campaign_detail", args=[copy.pk]))
    return HttpResponseRedirect(next_url or reverse("web:campaign_detail", args=[campaign_id]))


def _rows_response(
    request: HttpRequest, actor: Actor, campaign_ids: list[UUID], list_url: str | None
) -> HttpResponse:
    list_url = list_url or reverse("web:campaigns")
    organization = actor.organization
    period, _readable = Period.from_query(
        QueryDict(urlsplit(list_url).query), time_zone=organization.time_zone
    )
    found = {
        campaign.pk: campaign
        for campaign in selectors.campaign_list(organization=organization).filter(
            pk__in=campaign_ids
        )
    }
    campaigns = [found[pk] for pk in campaign_ids if pk in found]
    try:
        rows = _list_rows(actor, campaigns, period)
    except InvalidInput:
        rows = _list_rows(actor, campaigns, Period.last_days(organization.time_zone))
    return HttpResponse(
        render_to_string(
            "web/partials/campaign_rows.html",
            {"rows": rows, "list_url": list_url},
            request=request,
        )
    )


def _live_sections_response(request: HttpRequest, actor: Actor, campaign_id: UUID) -> HttpResponse:
    """The campaign page's header, with its platforms and log sections out of band."""
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    context = {
        **_header_context(actor, campaign),
        **_platforms_context(campaign),
        "log": selectors.campaign_log(campaign=campaign)[:50],
    }
    return HttpResponse(
        render_to_string("web/partials/campaign_live.html", context, request=request)
    )


@require_POST
@member_view(Permission.CAMPAIGN_EDIT)
def campaign_accounts(request: HttpRequest, campaign_id: UUID) -> HttpResponse:
    actor = actor_of(request)
    try:
        for key in PROVIDERS:
            if key in request.POST:
                campaign_ad_account_set(
                    actor=actor,
                    campaign_id=campaign_id,
                    channel=key,
                    ad_account_id=request.POST[key] or None,
                )
    except DomainError as error:
        if isinstance(error, NotFound):
            raise Http404(error.detail) from error
        messages.error(request, _problem(error))
    else:
        messages.success(request, "Ad accounts saved.")
    return HttpResponseRedirect(reverse("web:campaign_detail", args=[campaign_id]))


# --- The campaign page ------------------------------------------------------------------------


def _header_context(actor: Actor, campaign: Campaign) -> dict[str, Any]:
    budget = CampaignBudget.objects.filter(campaign=campaign).first()
    channels = CampaignUnit.objects.filter(campaign=campaign).values_list("channel", flat=True)
    return {
        "campaign": campaign,
        "channels": sorted({channel_label(key) for key in channels}),
        "budget_text": _budget_text(budget) if budget else None,
        "actions": allowed_actions(campaign.status),
        "can_operate": actor.can(Permission.CAMPAIGN_OPERATE),
    }


def _platforms_context(campaign: Campaign) -> dict[str, Any]:
    rows = integration_selectors.campaign_platforms(campaign=campaign)
    return {
        "platforms": [
            {
                **row,
                "label": channel_label(row["channel"]),
                "state_label": CampaignChannel.State(row["state"]).label,
            }
            for row in rows
        ],
        "launching": campaign.status == CampaignStatus.LAUNCHING,
    }


@dataclass(frozen=True)
class TrendChoice:
    metric: str = DEFAULT_TREND_METRIC
    granularity: str = Granularity.DAY.value

    @classmethod
    def from_query(cls, query: QueryDict) -> TrendChoice:
        return cls(
            metric=query.get("metric") or DEFAULT_TREND_METRIC,
            granularity=query.get("granularity") or Granularity.DAY.value,
        )


def _period_label(point: Mapping[str, Any], granularity: str) -> str:
    start: date = point["period"]
    if granularity == Granularity.MONTH:
        return start.strftime("%B %Y")
    if granularity == Granularity.WEEK:
        return f"Week of {start.isoformat()}"
    return start.isoformat()


def _trend_context(campaign: Campaign, period: Period, choice: TrendChoice) -> dict[str, Any]:
    report = reports.trends(
        campaign=campaign,
        date_from=period.date_from,
        date_to=period.date_to,
        granularity=choice.granularity,
        metrics=[choice.metric],
    )
    currency, metric = campaign.currency, choice.metric
    points = report["points"]
    values = [point["values"][metric] for point in points]
    return {
        "trend": {
            "metric": metric,
            "granularity": report["granularity"],
            "title": f"{metric_label(metric)} by {report['granularity']}",
            "chart": chart_json(
                x=[point["period"] for point in points],
                series=[
                    {
                        "label": series_label(metric),
                        "values": [chart_value(metric, v, currency=currency) for v in values],
                        "format": chart_format(metric, currency=currency),
                        "bars": report["granularity"] != Granularity.DAY,
                    }
                ],
            ),
            "rows": [
                (_period_label(point, report["granularity"]), shown(metric, v, currency=currency))
                for point, v in zip(points, values, strict=True)
            ],
            "has_data": any(v not in (None, 0) for v in values),
        },
        "trend_choice": choice,
        "trend_metrics": [(key, metric_label(key)) for key in DEFAULT_TREND_METRICS],
        "granularities": [(g.value, label) for g, label in GRANULARITY_LABELS.items()],
    }


def _table(rows: Iterable[Mapping[str, Any]], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "label": row["label"],
            "detail": row.get("detail", ""),
            "cells": table_cells(row, currency=currency),
        }
        for row in rows
    ]


def _headlines(creative_ids: Iterable[UUID | None]) -> dict[UUID, str]:
    """The first headline of each creative (one query), to tell unnamed ones apart."""
    ids = [pk for pk in creative_ids if pk is not None]
    rows = AdCreative.objects.filter(pk__in=ids).values_list("id", "headlines")
    return {pk: headlines[0] for pk, headlines in rows if headlines}


def _creative_label(row: Mapping[str, Any], headlines: Mapping[UUID, str]) -> str:
    """A creative's name; an unnamed one (labelled "Creative v2") by its headline."""
    headline = headlines.get(row["creative_id"])
    if headline and row["label"] == f"Creative v{row['version']}":
        return headline
    return str(row["label"])


def _creative_detail(row: Mapping[str, Any]) -> str:
    parts = [channel_label(row["channel"]) if row["channel"] else ""]
    if row["version"]:
        parts.append(f"v{row['version']}")
    return " · ".join(part for part in parts if part)


def _breakdowns(
    summary: Mapping[str, Any], by: Mapping[str, Mapping[str, Any]], currency: str
) -> list[dict[str, Any]]:
    units = [{**row, "detail": channel_label(row["channel"])} for row in summary["units"]]
    headlines = _headlines(row["creative_id"] for row in summary["creatives"])
    creatives = [
        {**row, "label": _creative_label(row, headlines), "detail": _creative_detail(row)}
        for row in summary["creatives"]
    ]
    tables = {
        "channel": by["channel"]["rows"],
        "unit": units,
        "creative": creatives,
        "placement": by["placement"]["rows"],
        "device": by["device"]["rows"],
    }
    return [
        {
            "key": key,
            "title": BREAKDOWNS[key][0],
            "column": BREAKDOWNS[key][1],
            "rows": _table(rows, currency),
        }
        for key, rows in tables.items()
    ]


def _funnel_rows(funnel: Mapping[str, Any], currency: str) -> list[dict[str, Any]]:
    rows = []
    for step in funnel["steps"]:
        start = step["rate_from_start"]
        bar = 100 if step["step"] == "impressions" and step["count"] else start
        rows.append(
            {
                "label": FUNNEL_LABELS[step["step"]],
                "count": shown(step["step"], step["count"], currency=currency),
                "from_previous": percent(step["rate_from_previous"]),
                "from_start": percent(start),
                "bar": chart_value("ctr", bar, currency=currency) if bar is not None else 0,
            }
        )
    return rows


def _pacing(
    campaign: Campaign,
    channel_period: Mapping[str, Any],
    channel_to_date: Mapping[str, Any],
    roi: Mapping[str, Any],
) -> dict[str, Any]:
    """Spent against allocated, per channel and for the campaign (the ROI report's
    run-rate, projection and lifetime budget)."""
    currency = campaign.currency
    budget = (
        CampaignBudget.objects.filter(campaign=campaign).prefetch_related("allocations").first()
    )
    allocations = {a.channel: a.amount for a in budget.allocations.all()} if budget else {}
    period_spend = {row["value"]: row["measures"]["spend"] for row in channel_period["rows"]}
    to_date_spend = {row["value"]: row["measures"]["spend"] for row in channel_to_date["rows"]}
    lifetime = budget is not None and budget.kind == BudgetKind.LIFETIME
    channels = sorted(set(allocations) | set(period_spend) | set(to_date_spend), key=channel_label)
    projection = roi["projection"]
    return {
        "budget_text": _budget_text(budget) if budget else None,
        "lifetime": lifetime,
        "channels": [
            {
                "label": channel_label(key),
                "allocated": shown("spend", allocations[key], currency=currency)
                + ("" if lifetime else " per day")
                if key in allocations
                else "not allocated",
                "period": shown("spend", period_spend.get(key, 0), currency=currency),
                "to_date": shown("spend", to_date_spend.get(key, 0), currency=currency),
                "meter_max": chart_value("spend", allocations.get(key), currency=currency)
                if lifetime
                else None,
                "meter_value": chart_value("spend", to_date_spend.get(key, 0), currency=currency),
            }
            for key in channels
        ],
        "spent_to_date": shown("spend", roi["cost"], currency=currency),
        "remaining": shown("spend", roi["budget"]["remaining"], currency=currency)
        if roi["budget"]
        else None,
        "run_rate": roi["run_rate"],
        "daily_spend": shown("spend", projection["daily_spend"], currency=currency)
        if projection
        else None,
        "projected_spend": shown("spend", projection["projected_spend"], currency=currency)
        if projection
        else None,
        "budget_capped": bool(projection and projection["budget_capped"]),
        "days_remaining": roi["days_remaining"],
    }


def _reports_context(campaign: Campaign, period: Period, choice: TrendChoice) -> dict[str, Any]:
    """Every report section of the page; raises ``InvalidInput`` for a bad choice."""
    first, last = period.date_from, period.date_to
    summary = reports.performance_summary(campaign=campaign, date_from=first, date_to=last)
    funnel = reports.funnel(campaign=campaign, date_from=first, date_to=last)
    by = {
        key: reports.breakdown(campaign=campaign, by=key, date_from=first, date_to=last)
        for key in ("channel", "placement", "device")
    }
    trend = _trend_context(campaign, period, choice)
    first, last = _to_date_range(_campaign_today(campaign))
    roi = reports.campaign_roi(campaign=campaign, date_from=first, date_to=last)
    channel_to_date = reports.breakdown(
        campaign=campaign, by="channel", date_from=first, date_to=last
    )
    currency = campaign.currency
    return {
        **trend,
        "tiles": [
            {"label": short_label(key), "title": metric_label(key), "value": text}
            for key, text in shown_figures(
                summary["totals"], currency=currency, keys=TILE_METRICS
            ).items()
        ],
        "funnel": _funnel_rows(funnel, currency),
        "breakdowns": _breakdowns(summary, by, currency),
        "table_columns": [short_label(key) for key in TABLE_METRICS],
        "pacing": _pacing(campaign, by["channel"], channel_to_date, roi),
    }


def _exports(campaign: Campaign, period: Period) -> list[tuple[str, str]]:
    links = []
    for label, name, extra in EXPORTS:
        query = urlencode({**period.query(), **extra, "format": "csv"})
        links.append((label, f"{reverse(name, args=[campaign.pk])}?{query}"))
    return links


def _paid_channels(actor: Actor, campaign: Campaign) -> list[dict[str, Any]]:
    keys = set(CampaignUnit.objects.filter(campaign=campaign).values_list("channel", flat=True))
    chosen = dict(
        CampaignAdAccount.objects.filter(campaign=campaign).values_list("channel", "ad_account_id")
    )
    return [
        {
            "key": key,
            "label": get_channel(key).label,
            "chosen": chosen.get(key),
            "accounts": AdAccount.objects.for_org(actor.organization).filter(
                provider=key, status=AdAccount.Status.ACTIVE
            ),
        }
        for key in sorted(keys)
        if key in PROVIDERS
    ]


@require_GET
@member_view(Permission.CAMPAIGN_VIEW)
def campaign_detail(request: HttpRequest, campaign_id: UUID) -> HttpResponse:
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    period, readable = Period.from_query(request.GET, time_zone=campaign.time_zone)
    if not readable:
        messages.error(request, "Give the period's dates as YYYY-MM-DD.")
    choice = TrendChoice.from_query(request.GET)
    try:
        report_context = _reports_context(campaign, period, choice)
    except InvalidInput as error:
        messages.error(request, _problem(error))
        period, choice = Period.last_days(campaign.time_zone), TrendChoice()
        report_context = _reports_context(campaign, period, choice)
    units = list(CampaignUnit.objects.filter(campaign=campaign).select_related("audience"))
    creatives_by_unit: dict[object, list[AdCreative]] = {}
    for creative in AdCreative.objects.filter(
        unit__campaign=campaign, is_current=True
    ).select_related("media"):
        creatives_by_unit.setdefault(creative.unit_id, []).append(creative)
    return render(
        request,
        "web/campaign_detail.html",
        {
            **_header_context(actor, campaign),
            **_platforms_context(campaign),
            **report_context,
            "period": period,
            "exports": _exports(campaign, period),
            "units": [(unit, creatives_by_unit.get(unit.pk, [])) for unit in units],
            "log": selectors.campaign_log(campaign=campaign)[:50],
            "paid_channels": _paid_channels(actor, campaign),
        },
    )


@require_GET
@member_view(Permission.CAMPAIGN_VIEW)
def campaign_trend(request: HttpRequest, campaign_id: UUID) -> HttpResponse:
    """The trend chart alone, for the page's metric and granularity controls."""
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    period, readable = Period.from_query(request.GET, time_zone=campaign.time_zone)
    choice = TrendChoice.from_query(request.GET)
    problem = None if readable else "Give the period's dates as YYYY-MM-DD."
    try:
        context = _trend_context(campaign, period, choice)
    except InvalidInput as error:
        problem = _problem(error)
        context = _trend_context(campaign, period, TrendChoice())
    response = render(
        request,
        "web/partials/campaign_trend.html",
        {**context, "campaign": campaign, "trend_problem": problem},
    )
    query = urlencode(
        {**period.query(), "metric": choice.metric, "granularity": choice.granularity}
    )
    response["HX-Replace-Url"] = f"{reverse('web:campaign_detail', args=[campaign.pk])}?{query}"
    return response


@require_GET
@member_view(Permission.CAMPAIGN_VIEW)
def campaign_platforms(request: HttpRequest, campaign_id: UUID) -> HttpResponse:
    """The platforms section, polled every 2 s while a launch runs; once the campaign
    has settled it comes back without the poll, with the header and log out of band."""
    actor = actor_of(request)
    campaign = campaign_get_for_actor(actor=actor, campaign_id=campaign_id)
    context = {
        **_header_context(actor, campaign),
        **_platforms_context(campaign),
        "log": selectors.campaign_log(campaign=campaign)[:50],
    }
    return render(request, "web/partials/campaign_platforms_poll.html", context)
