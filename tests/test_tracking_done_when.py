"""The tracking capability's acceptance scenario, through the public endpoints only:
a browser beacon, a signed click and an HMAC postback for Tasty Chips land, count
once, attribute the conversion to the click, and read back with exact values in every
report; forged, tampered, duplicated and bot events are handled; the rebuild agrees."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from herald.campaigns.models import AdCreative
from herald.testing.factories import make_launchable_campaign
from herald.tracking.rollup import rollup_rebuild, rollup_run
from herald.tracking.signing import sign_body

pytestmark = pytest.mark.django_db

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
BOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


def visitor(user_agent: str = IPHONE) -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR="198.51.100.7")


def test_beacon_click_and_postback_read_back_exactly_in_every_report(api: Any, owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",), name="Spicy Jalapeño Chips")
    creative = AdCreative.objects.get(unit__campaign=campaign)
    links = api.get(f"creatives/{creative.pk}/tracking").json()
    beacon = urlsplit(links["impression_url"])
    beacon_path = f"{beacon.path}?{beacon.query}"
    click_path = urlsplit(links["click_url"]).path

    # Three people see the ad; one beacon is sent twice; a crawler fetches it too.
    for number in (1, 2, 3):
        visitor().get(f"{beacon_path}&event_id=imp-{number}&visitor_id=v{number}&placement=feed")
    visitor().get(f"{beacon_path}&event_id=imp-1&visitor_id=v1&placement=feed")
    visitor(BOT).get(f"{beacon_path}&event_id=imp-bot&placement=feed")
    # Forged and tampered links are refused and never counted.
    assert visitor().get("/t/i?t=forged&event_id=imp-x").status_code == 400
    assert visitor().get(click_path[:-3] + "xyz").status_code == 404

    # Visitor 1 clicks twice (the second is not billable) and buys.
    first_click = visitor().get(f"{click_path}?visitor_id=v1&placement=feed")
    visitor().get(f"{click_path}?visitor_id=v1&placement=feed")
    target = urlsplit(first_click["Location"])
    assert (target.netloc, target.path) == ("www.tastychips.co", "/spicy")
    click_id = parse_qs(target.query)["hclid"][0]
    secret = api.post("tracking/postback-secret", {}).json()["secret"]
    body = json.dumps(
        {"click_id": click_id, "value": "39.90", "currency": "USD", "order_id": "A-1"}
    ).encode()
    for _ in range(2):  # the shop retries: one conversion
        signature = sign_body(body, secret=secret.encode(), timestamp=int(time.time()))
        response = Client().post(
            f"/t/o/{owner.organization.pk}/conversions",
            body,
            content_type="application/json",
            HTTP_HERALD_SIGNATURE=signature,
        )
        assert response.status_code == 202

    rollup_run()
    today = datetime.now(UTC).date()
    window = f"from={today}&to={today}"

    summary = api.get(f"campaigns/{campaign.pk}/performance?{window}").json()
    measures = summary["totals"]["measures"]
    assert {
        key: measures[key]
        for key in (
            "impressions_gross",
            "impressions",
            "clicks_gross",
            "clicks",
            "billable_clicks",
            "conversions",
            "conversion_value",
        )
    } == {
        "impressions_gross": 4,
        "impressions": 3,
        "clicks_gross": 2,
        "clicks": 2,
        "billable_clicks": 1,
        "conversions": "1",
        "conversion_value": "39.90",
    }
    assert summary["totals"]["reach"] == 3
    assert summary["totals"]["metrics"]["ctr"] == "66.67"
    assert summary["totals"]["metrics"]["conversion_rate"] == "50.00"
    assert summary["totals"]["metrics"]["frequency"] == "1.00"
    assert summary["totals"]["metrics"]["cpa"] == "0.00"  # no spend recorded on this campaign
    assert summary["totals"]["metrics"]["roas"] is None  # spend 0: undefined, not infinite

    gross = api.get(f"campaigns/{campaign.pk}/performance?{window}&gross=true").json()
    assert gross["totals"]["metrics"]["ctr"] == "50.00"  # 2 clicks / 4 gross impressions

    funnel = api.get(f"campaigns/{campaign.pk}/funnel?{window}").json()
    assert [(s["step"], str(s["count"])) for s in funnel["steps"]] == [
        ("impressions", "3"),
        ("clicks", "2"),
        ("conversions", "1"),
    ]
    assert (funnel["ctr"], funnel["conversion_rate"]) == ("66.67", "50.00")

    trends = api.get(
        f"campaigns/{campaign.pk}/trends?{window}&granularity=day&metrics=impressions,clicks,ctr"
    ).json()
    assert [(p["period"], p["values"]) for p in trends["points"]] == [
        (str(today), {"impressions": 3, "clicks": 2, "ctr": "66.67"})
    ]

    by_device = api.get(f"campaigns/{campaign.pk}/breakdown?{window}&by=device").json()
    rows = {row["value"]: row["measures"]["impressions_gross"] for row in by_device["rows"]}
    assert rows["mobile"] == 3
    assert sum(rows.values()) == 4

    roi = api.get(f"campaigns/{campaign.pk}/roi?{window}").json()
    assert (roi["revenue"], roi["cost"], roi["roi_percent"]) == ("39.90", "0.00", None)

    dashboard = api.get(f"dashboard?{window}").json()
    assert dashboard["totals"]["measures"]["conversions"] == "1"

    csv_export = api.get(f"campaigns/{campaign.pk}/performance?{window}&format=csv")
    assert csv_export["Content-Type"].startswith("text/csv")

    assert rollup_rebuild(date_from=today, date_to=today) == []
