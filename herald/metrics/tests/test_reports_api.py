"""The reports over HTTP: rounded JSON, CSV attachments line by line, tenancy, roles,
refused parameters naming the field, and the OpenAPI description.

These tests call ``herald.api.api``: they need ``herald.metrics.api.router`` mounted there
(``api.add_router("/", router)``). The data is the worked example of ``test_reports``.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.accounts.models import Organization
from herald.campaigns.models import Campaign, KpiTarget
from herald.campaigns.services.budgets import budget_set
from herald.core.api import PROBLEM_CONTENT_TYPE
from herald.metrics.models import Source
from herald.metrics.tests.test_reports import (
    DAY2,
    NEW_YORK_EVENING,
    Example,
    add_fact,
    example,
    roi_campaign,
    set_status,
    trio,
)
from herald.testing import factories

pytestmark = pytest.mark.django_db

__all__ = ["example", "roi_campaign", "trio"]  # fixtures shared with the selector tests

RANGE = "from=2026-03-02&to=2026-03-04"
CAMPAIGN_REPORTS = ("performance", "funnel", "trends", "breakdown", "roi")


def _url(campaign: Campaign, report: str, query: str = RANGE) -> str:
    extra = "&by=channel" if report == "breakdown" else ""
    return f"campaigns/{campaign.pk}/{report}?{query}{extra}"


def _lines(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text: str = response.content.decode()
    assert text.endswith("\r\n")
    return text.split("\r\n")[:-1]


def _problem_field(response: Any, status: int = 422) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    field: str = response.json()["errors"][0]["field"]
    return field


# --- JSON -------------------------------------------------------------------------------------


def test_performance_is_rounded_for_people_with_decimals_as_strings(
    api: Any, example: Example
) -> None:
    body = api.get(_url(example.campaign, "performance")).json()

    assert body["totals"] == {
        "measures": {
            "impressions_gross": 6250,
            "impressions": 5000,
            "viewable_impressions": 750,
            "clicks_gross": 320,
            "clicks": 250,
            "billable_clicks": 240,
            "engagements": 50,
            "likes": 30,
            "shares": 10,
            "comments": 6,
            "saves": 3,
            "follows": 1,
            "conversions": "10",
            "conversion_value": "300.00",
            "spend": "100.00",
        },
        "reach": 8,
        "metrics": {
            "ctr": "5.00",
            "cpc": "0.40",
            "cpm": "20.00",
            "cpa": "10.00",
            "conversion_rate": "4.00",
            "roas": "3.00",
            "roi": "200.00",
            "average_order_value": "30.00",
            "frequency": "125.00",
            "viewability_rate": "15.00",
            "engagement_rate": "1.00",
            "marketing_efficiency_ratio": "3.00",
            "cost_per_result": "10.00",
        },
    }
    assert [unit["label"] for unit in body["units"]] == ["Search", "Feed"]
    assert [row["label"] for row in body["creatives"]] == ["Unattributed", "Feed ad", "Search ad"]
    assert body["campaign"]["currency"] == "USD"
    assert body["filters"]["gross"] is False


def test_gross_and_filters_as_query_parameters(api: Any, example: Example) -> None:
    gross = api.get(_url(example.campaign, "funnel", RANGE + "&gross=true")).json()
    meta = api.get(
        _url(example.campaign, "performance", RANGE + f"&unit_id={example.meta.pk}&device=mobile")
    ).json()
    blank = api.get(_url(example.campaign, "performance", RANGE + "&channel=&placement=")).json()

    assert [step["count"] for step in gross["steps"]] == [6250, 320, "10"]
    assert (gross["ctr"], gross["conversion_rate"]) == ("5.12", "3.12")  # 3.125, half-even
    assert meta["totals"]["measures"]["impressions"] == 600
    assert meta["totals"]["reach"] == 5
    assert meta["filters"]["device"] == "mobile"
    # Empty parameters leave the dimension open.
    assert blank["totals"]["measures"]["impressions"] == 5000


def test_trends_with_chosen_metrics_by_week(api: Any, example: Example) -> None:
    body = api.get(
        _url(
            example.campaign,
            "trends",
            "from=2026-02-25&to=2026-03-10&granularity=week&metrics=clicks, cpa ,reach",
        )
    ).json()

    assert body["metrics"] == ["clicks", "cpa", "reach"]
    assert body["points"] == [
        {
            "period": "2026-02-23",
            "date_from": "2026-02-25",
            "date_to": "2026-03-01",
            "values": {"clicks": 0, "cpa": None, "reach": None},
        },
        {
            "period": "2026-03-02",
            "date_from": "2026-03-02",
            "date_to": "2026-03-08",
            "values": {"clicks": 250, "cpa": "10.00", "reach": 8},
        },
        {
            "period": "2026-03-09",
            "date_from": "2026-03-09",
            "date_to": "2026-03-10",
            "values": {"clicks": 0, "cpa": None, "reach": None},
        },
    ]


def test_breakdown_by_source(api: Any, example: Example) -> None:
    body = api.get(f"campaigns/{example.campaign.pk}/breakdown?{RANGE}&by=source").json()

    rows = [(row["value"], row["label"], row["reach"]) for row in body["rows"]]
    assert rows == [("google_ads", "Google Ads", None), ("first_party", "Herald tracking", 8)]
    assert body["by"] == "source"


def test_compare_best_cpa_with_chosen_campaigns(api: Any, trio: Any) -> None:
    ids = f"{trio.high_roas.pk},{trio.low_cpa.pk},{trio.no_spend.pk}"
    body = api.get(f"reports/compare?{RANGE}&metric=cpa&order=best&campaign_ids={ids}").json()

    ranked = [(row["rank"], row["campaign"]["name"], row["value"]) for row in body["rows"]]
    assert ranked == [(1, "Low CPA", "5.00"), (2, "High ROAS", "10.00"), (3, "Idle", None)]
    assert (body["metric"], body["order"], body["higher_is_better"]) == ("cpa", "best", False)


def test_dashboard_defaults_to_the_last_30_days_in_the_organization_time_zone(
    api: Any, org: Organization, owner: Actor
) -> None:
    Organization.objects.filter(pk=org.pk).update(time_zone="Pacific/Kiritimati")
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    now = timezone.now()
    campaign = set_status(
        factories.make_campaign(
            owner,
            name="Running",
            currency="USD",
            start_at=now - timedelta(days=5),
            end_at=now + timedelta(days=5),
        ),
        "active",
    )
    add_fact(campaign, today, channel="google_ads", impressions=100, spend=10, conversion_value=25)
    KpiTarget.objects.create(
        organization=org, campaign=campaign, metric="roas", target_value=Decimal(2), unit="ratio"
    )

    body = api.get("dashboard").json()

    assert (body["date_from"], body["date_to"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert len(body["trend"]) == 30
    assert body["trend"][-1] == {
        "day": today.isoformat(),
        "impressions": 100,
        "clicks": 0,
        "spend": "10.00",
        "conversions": "0",
    }
    assert body["active_campaign_count"] == 1
    assert [row["value"] for row in body["top_by_roas"]] == ["2.50"]
    (kpi,) = body["kpis"]
    assert (kpi["metric"], kpi["current"], kpi["status"], kpi["progress_percent"]) == (
        "roas",
        "2.50",
        "on_track",
        "125.00",
    )
    assert kpi["paced"] is False


# --- CSV --------------------------------------------------------------------------------------

FIGURE_HEADER = (
    "impressions_gross,impressions,viewable_impressions,clicks_gross,clicks,billable_clicks,"
    "engagements,likes,shares,comments,saves,follows,conversions,conversion_value,spend,reach,"
    "ctr,cpc,cpm,cpa,conversion_rate,roas,roi,average_order_value,frequency,viewability_rate,"
    "engagement_rate,marketing_efficiency_ratio,cost_per_result"
)


def test_funnel_csv(api: Any, example: Example) -> None:
    response = api.get(_url(example.campaign, "funnel", RANGE + "&format=csv"))

    assert _lines(response) == [
        "step,count,rate_from_previous,rate_from_start",
        "impressions,5000,,",
        "clicks,250,5.00,5.00",
        "conversions,10,4.00,0.20",
    ]
    assert response["Content-Disposition"] == (
        f'attachment; filename="herald-funnel-{example.campaign.pk}-2026-03-02-2026-03-04.csv"'
    )


def test_trends_csv(api: Any, example: Example) -> None:
    response = api.get(
        _url(
            example.campaign,
            "trends",
            "from=2026-03-01&to=2026-03-05&metrics=impressions,spend,ctr,frequency&format=csv",
        )
    )

    assert _lines(response) == [
        "period,date_from,date_to,impressions,spend,ctr,frequency",
        "2026-03-01,2026-03-01,2026-03-01,0,0.00,,",
        "2026-03-02,2026-03-02,2026-03-02,1600,20.00,4.38,120.00",
        "2026-03-03,2026-03-03,2026-03-03,1400,30.00,5.71,80.00",
        "2026-03-04,2026-03-04,2026-03-04,2000,50.00,5.00,",
        "2026-03-05,2026-03-05,2026-03-05,0,0.00,,",
    ]


def test_performance_csv(api: Any, example: Example) -> None:
    lines = _lines(api.get(_url(example.campaign, "performance", RANGE + "&format=csv")))

    campaign, google, meta = example.campaign, example.google, example.meta
    assert lines == [
        "level,id,unit_id,channel,label," + FIGURE_HEADER,
        f"total,{campaign.pk},,,Spicy Chips,6250,5000,750,320,250,240,50,30,10,6,3,1,10,300.00,"
        "100.00,8,5.00,0.40,20.00,10.00,4.00,3.00,200.00,30.00,125.00,15.00,1.00,3.00,10.00",
        f"unit,{google.pk},,google_ads,Search,4000,4000,0,200,200,200,0,0,0,0,0,0,10,300.00,"
        "100.00,,5.00,0.50,25.00,10.00,5.00,3.00,200.00,30.00,,0.00,0.00,3.00,10.00",
        f"unit,{meta.pk},,meta_ads,Feed,2250,1000,750,120,50,40,50,30,10,6,3,1,0,0.00,0.00,8,"
        "5.00,0.00,0.00,,0.00,,,,125.00,75.00,5.00,,",
        "creative,,,,Unattributed,4000,4000,0,200,200,200,0,0,0,0,0,0,10,300.00,100.00,,5.00,"
        "0.50,25.00,10.00,5.00,3.00,200.00,30.00,,0.00,0.00,3.00,10.00",
        f"creative,{example.meta_creative.pk},{meta.pk},meta_ads,Feed ad,2250,1000,750,120,50,"
        "40,50,30,10,6,3,1,0,0.00,0.00,8,5.00,0.00,0.00,,0.00,,,,125.00,75.00,5.00,,",
        f"creative,{example.google_creative.pk},{google.pk},google_ads,Search ad,"
        + ",".join(["0"] * 12)
        + ",0,0.00,0.00"
        + "," * 14,  # no reach, and no metric has a denominator
    ]


def test_breakdown_csv(api: Any, example: Example) -> None:
    lines = _lines(api.get(_url(example.campaign, "breakdown", RANGE + "&format=csv")))

    assert lines == [
        "by,value,label," + FIGURE_HEADER,
        "channel,google_ads,Google Ads,4000,4000,0,200,200,200,0,0,0,0,0,0,10,300.00,100.00,,"
        "5.00,0.50,25.00,10.00,5.00,3.00,200.00,30.00,,0.00,0.00,3.00,10.00",
        "channel,meta_ads,Meta Ads,2250,1000,750,120,50,40,50,30,10,6,3,1,0,0.00,0.00,8,"
        "5.00,0.00,0.00,,0.00,,,,125.00,75.00,5.00,,",
    ]


def test_roi_csv(
    api: Any, owner: Actor, roi_campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget_set(
        actor=owner,
        campaign_id=roi_campaign.pk,
        kind="lifetime",
        amount=Decimal(150),
        allocations={},
    )
    monkeypatch.setattr(timezone, "now", lambda: NEW_YORK_EVENING)

    response = api.get(f"campaigns/{roi_campaign.pk}/roi?from=2026-02-26&to=2026-03-05&format=csv")

    assert _lines(response) == [
        "campaign_id,currency,date_from,date_to,revenue,cost,profit,conversions,roi_percent,"
        "roas,break_even_conversions,payback_days,today,days_remaining,run_rate_date_from,"
        "run_rate_date_to,run_rate_days,budget_kind,budget_amount,budget_spent_to_date,"
        "budget_remaining,projection_days_elapsed,projection_days_remaining,"
        "projection_daily_spend,projection_daily_revenue,projection_daily_conversions,"
        "projection_projected_spend,projection_projected_revenue,"
        "projection_projected_conversions,projection_projected_roas,projection_budget_capped",
        f"{roi_campaign.pk},USD,2026-02-26,2026-03-05,260.00,80.00,180.00,13,225.00,3.25,4,4.0,"
        "2026-03-05,9,2026-02-26,2026-03-04,7,lifetime,150.00,90.00,60.00,7,9,10.00,30.00,1,"
        "140.00,440.00,19,3.14,true",
    ]


def test_compare_csv(api: Any, trio: Any) -> None:
    lines = _lines(api.get(f"reports/compare?{RANGE}&metric=roas&order=worst&format=csv"))

    assert lines[0] == "rank,campaign_id,campaign,status,currency,metric,value," + FIGURE_HEADER
    assert [line.split(",")[:7] for line in lines[1:]] == [
        ["1", str(trio.low_cpa.pk), "Low CPA", "draft", "USD", "roas", "2.00"],
        ["2", str(trio.high_roas.pk), "High ROAS", "draft", "USD", "roas", "4.00"],
        ["3", str(trio.no_spend.pk), "Idle", "draft", "USD", "roas", ""],
    ]


def test_dashboard_csv(api: Any, example: Example) -> None:
    lines = _lines(api.get("dashboard?from=2026-03-02&to=2026-03-03&format=csv"))

    campaign = example.campaign
    assert lines == [
        "section,key,label,currency,metric,value",
        "totals,,All campaigns,USD,impressions,4000",
        "totals,,All campaigns,USD,clicks,150",
        "totals,,All campaigns,USD,conversions,5",
        "totals,,All campaigns,USD,spend,50.00",
        "totals,,All campaigns,USD,roas,3.00",
        "trend,2026-03-02,,USD,impressions,2600",
        "trend,2026-03-02,,USD,clicks,70",
        "trend,2026-03-02,,USD,spend,20.00",
        "trend,2026-03-02,,USD,conversions,2",
        "trend,2026-03-03,,USD,impressions,1400",
        "trend,2026-03-03,,USD,clicks,80",
        "trend,2026-03-03,,USD,spend,30.00",
        "trend,2026-03-03,,USD,conversions,3",
        "by_channel,google_ads,Google Ads,USD,impressions,3000",
        "by_channel,google_ads,Google Ads,USD,clicks,100",
        "by_channel,google_ads,Google Ads,USD,conversions,5",
        "by_channel,google_ads,Google Ads,USD,spend,50.00",
        "by_channel,google_ads,Google Ads,USD,roas,3.00",
        "by_channel,meta_ads,Meta Ads,USD,impressions,1000",
        "by_channel,meta_ads,Meta Ads,USD,clicks,50",
        "by_channel,meta_ads,Meta Ads,USD,conversions,0",
        "by_channel,meta_ads,Meta Ads,USD,spend,0.00",
        "by_channel,meta_ads,Meta Ads,USD,roas,",
        f"top_by_roas,{campaign.pk},Spicy Chips,USD,impressions,3000",
        f"top_by_roas,{campaign.pk},Spicy Chips,USD,clicks,150",
        f"top_by_roas,{campaign.pk},Spicy Chips,USD,conversions,5",
        f"top_by_roas,{campaign.pk},Spicy Chips,USD,spend,50.00",
        f"top_by_roas,{campaign.pk},Spicy Chips,USD,roas,3.00",
        f"top_by_conversions,{campaign.pk},Spicy Chips,USD,impressions,3000",
        f"top_by_conversions,{campaign.pk},Spicy Chips,USD,clicks,150",
        f"top_by_conversions,{campaign.pk},Spicy Chips,USD,conversions,5",
        f"top_by_conversions,{campaign.pk},Spicy Chips,USD,spend,50.00",
        f"top_by_conversions,{campaign.pk},Spicy Chips,USD,roas,3.00",
        f"top_by_conversions,{example.other.pk},Other,USD,impressions,1000",
        f"top_by_conversions,{example.other.pk},Other,USD,clicks,0",
        f"top_by_conversions,{example.other.pk},Other,USD,conversions,0",
        f"top_by_conversions,{example.other.pk},Other,USD,spend,0.00",
        f"top_by_conversions,{example.other.pk},Other,USD,roas,",
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(
    api: Any, owner: Actor, example: Example
) -> None:
    Campaign.objects.filter(pk=example.campaign.pk).update(name='=HYPERLINK("http://x","y")')

    lines = _lines(api.get(_url(example.campaign, "performance", RANGE + "&format=csv")))

    assert lines[1].startswith(f'total,{example.campaign.pk},,,"\'=HYPERLINK(""http://x"",""y"")"')


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("report", CAMPAIGN_REPORTS)
def test_a_viewer_reads_every_report(
    api_as: Any, viewer: Actor, example: Example, report: str
) -> None:
    response = api_as(viewer).get(_url(example.campaign, report))
    csv = api_as(viewer).get(_url(example.campaign, report, RANGE + "&format=csv"))

    assert response.status_code == 200, response.content
    assert csv.status_code == 200


def test_a_viewer_reads_the_organization_reports(api_as: Any, viewer: Actor, trio: Any) -> None:
    client = api_as(viewer)

    assert client.get(f"reports/compare?{RANGE}").status_code == 200
    assert client.get("dashboard").status_code == 200


@pytest.mark.parametrize("report", CAMPAIGN_REPORTS)
def test_another_organizations_campaign_is_not_found(
    api_as: Any, other_org: Organization, example: Example, report: str
) -> None:
    stranger = api_as(factories.make_actor(other_org))

    response = stranger.get(_url(example.campaign, report))

    assert response.status_code == 404
    assert response.json()["type"] == "https://herald.dev/problems/not-found"


def test_organization_reports_see_only_the_callers_campaigns(
    api_as: Any, other_org: Organization, example: Example
) -> None:
    stranger = api_as(factories.make_actor(other_org))

    compare = stranger.get(f"reports/compare?{RANGE}&metric=impressions").json()
    dashboard = stranger.get("dashboard?from=2026-03-02&to=2026-03-04").json()

    assert [row["campaign"]["name"] for row in compare["rows"]] == ["Rival"]
    assert dashboard["totals"]["measures"]["impressions"] == 7777


def test_another_organizations_campaign_cannot_be_compared(
    api: Any, other_org: Organization, example: Example
) -> None:
    rival = Campaign.objects.get(organization=other_org)

    response = api.get(f"reports/compare?{RANGE}&campaign_ids={rival.pk}")

    assert _problem_field(response) == "campaign_ids"


def test_reports_need_authentication(client: Any, example: Example) -> None:
    response = client.get(f"/api/v1/{_url(example.campaign, 'performance')}")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


# --- Refused parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "query", "field"),
    [
        ("performance", "to=2026-03-04", "from"),
        ("performance", "from=2026-03-04&to=2026-03-02", "to"),
        ("performance", "from=2026-03-02&to=tomorrow", "to"),
        ("performance", "from=2024-01-01&to=2026-03-02", "to"),
        ("performance", RANGE + "&source=tiktok", "source"),
        ("performance", RANGE + "&channel=myspace", "channel"),
        ("performance", RANGE + "&unit_id=not-a-uuid", "unit_id"),
        ("performance", RANGE + "&creative_id=00000000-0000-0000-0000-000000000000", "creative_id"),
        ("performance", RANGE + "&gross=perhaps", "gross"),
        ("performance", RANGE + "&format=xlsx", "format"),
        ("funnel", RANGE + "&device=" + "d" * 11, "device"),
        ("trends", RANGE + "&metrics=ctr,clickz", "metrics"),
        ("trends", RANGE + "&metrics=,", "metrics"),
        ("trends", RANGE + "&granularity=hour", "granularity"),
        ("roi", RANGE + "&placement=" + "p" * 101, "placement"),
    ],
)
def test_bad_parameters_answer_422_naming_the_field(
    api: Any, example: Example, report: str, query: str, field: str
) -> None:
    response = api.get(f"campaigns/{example.campaign.pk}/{report}?{query}")

    assert _problem_field(response) == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"campaigns/{{pk}}/breakdown?{RANGE}", "by"),
        (f"campaigns/{{pk}}/breakdown?{RANGE}&by=country", "by"),
        (f"reports/compare?{RANGE}&metric=clickz", "metric"),
        (f"reports/compare?{RANGE}&order=middling", "order"),
        (f"reports/compare?{RANGE}&limit=0", "limit"),
        (f"reports/compare?{RANGE}&limit=101", "limit"),
        (f"reports/compare?{RANGE}&campaign_ids=1,2", "campaign_ids"),
        (f"reports/compare?{RANGE}&metric=spend&currency=XYZ", "currency"),
        ("reports/compare?from=2026-03-02", "to"),
        ("dashboard?currency=XYZ", "currency"),
        ("dashboard?from=2026-03-05&to=2026-03-01", "to"),
    ],
)
def test_bad_report_parameters_answer_422_naming_the_field(
    api: Any, example: Example, path: str, field: str
) -> None:
    response = api.get(path.format(pk=example.campaign.pk))

    assert _problem_field(response) == field


def test_comparing_a_money_metric_across_currencies_needs_a_currency(
    api: Any, owner: Actor, example: Example
) -> None:
    euro = factories.make_campaign(owner, name="Euro", currency="EUR")
    add_fact(euro, DAY2, channel="meta_ads", source=Source.META_ADS, spend=5)

    refused = api.get(f"reports/compare?{RANGE}&metric=cpc")
    chosen = api.get(f"reports/compare?{RANGE}&metric=spend&currency=EUR").json()

    assert _problem_field(refused) == "currency"
    assert [(row["campaign"]["name"], row["value"]) for row in chosen["rows"]] == [("Euro", "5.00")]


# --- OpenAPI ----------------------------------------------------------------------------------

OPERATIONS = {
    "/api/v1/campaigns/{campaign_id}/performance": {"401", "403", "404", "422"},
    "/api/v1/campaigns/{campaign_id}/funnel": {"401", "403", "404", "422"},
    "/api/v1/campaigns/{campaign_id}/trends": {"401", "403", "404", "422"},
    "/api/v1/campaigns/{campaign_id}/breakdown": {"401", "403", "404", "422"},
    "/api/v1/campaigns/{campaign_id}/roi": {"401", "403", "404", "422"},
    "/api/v1/reports/compare": {"401", "403", "422"},
    "/api/v1/dashboard": {"401", "403", "422"},
}


def test_openapi_documents_problems_and_describes_the_csv_alternative(api: Any) -> None:
    paths = api.get("/api/v1/openapi.json").json()["paths"]

    for path, problem_codes in OPERATIONS.items():
        operation = paths[path]["get"]
        responses = operation["responses"]
        assert set(responses) == {"200", *problem_codes}, path
        # The CSV alternative is described in words: the house keeps 2xx content JSON.
        assert set(responses["200"]["content"]) == {"application/json"}, path
        for code in problem_codes:
            assert set(responses[code]["content"]) == {PROBLEM_CONTENT_TYPE}, (path, code)
        assert "`format=csv`" in operation["description"], path
        assert "`text/csv` attachment" in operation["description"], path
        assert "Content-Disposition: attachment; filename=" in operation["description"], path
        parameters = {parameter["name"] for parameter in operation["parameters"]}
        assert "format" in parameters, path
