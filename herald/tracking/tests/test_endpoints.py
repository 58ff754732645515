"""The public tracking endpoints: what is stored, what is refused, what counts."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from herald.campaigns.models import AdCreative
from herald.testing.user_agents import IPHONE
from herald.tracking import services
from herald.tracking.models import EventKind, TrackingClick, TrackingComment, TrackingEvent
from herald.tracking.signing import sign_body

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def browser(user_agent: str = IPHONE) -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR="203.0.113.9")


def events(kind: EventKind | None = None) -> list[TrackingEvent]:
    rows = TrackingEvent.objects.order_by("seq")
    return list(rows.filter(kind=kind) if kind is not None else rows)


def test_a_browser_beacon_lands_as_a_gif_and_is_counted_once(links: dict[str, str]) -> None:
    url = links["impression_url"] + "&event_id=imp-1&visitor_id=v1&placement=feed"
    first = browser().get(url)
    again = browser().get(url)

    assert (first.status_code, first["Content-Type"]) == (200, "image/gif")
    assert first["Cache-Control"].startswith("no-store")
    assert again.status_code == 200
    [event] = events()
    assert (event.kind, event.event_id, event.placement, event.device) == (
        EventKind.IMPRESSION,
        "imp-1",
        "feed",
        "mobile",
    )
    assert (event.valid, event.billable, event.invalid_reason) == (True, True, "")
    assert event.ip_prefix == "203.0.113.0/24"
    assert "203.0.113.9" not in json.dumps(TrackingEvent.objects.values().first(), default=str)
    assert len(event.visitor) == 32 and "v1" not in event.visitor


def test_a_posted_beacon_answers_204(links: dict[str, str]) -> None:
    token = links["impression_token"]
    response = browser().post(
        "/t/i", {"t": token, "event_id": "imp-2"}, content_type="application/json"
    )
    assert response.status_code == 204
    assert [e.event_id for e in events()] == ["imp-2"]


def test_a_tampered_or_forged_beacon_is_refused_and_not_counted(links: dict[str, str]) -> None:
    token = links["impression_token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "nonsense", links["engagement_token"]):
        response = browser().get(f"/t/i?t={bad}")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
    assert events() == []


def test_bots_and_prefetches_are_stored_as_invalid(links: dict[str, str]) -> None:
    browser(GOOGLEBOT).get(links["impression_url"] + "&event_id=bot-1")
    browser().get(links["impression_url"] + "&event_id=pre-1", HTTP_SEC_PURPOSE="prefetch")
    stored = {e.event_id: (e.valid, e.billable, e.invalid_reason) for e in events()}
    assert stored == {
        "bot-1": (False, False, "bot_user_agent"),
        "pre-1": (False, False, "prefetch"),
    }


def test_viewability_follows_the_iab_thresholds(links: dict[str, str]) -> None:
    token = links["impression_token"]
    ok = browser().post(
        "/t/i",
        {
            "t": token,
            "event_id": "view-1",
            "viewable": True,
            "visible_percent": 50,
            "visible_ms": 1000,
        },
        content_type="application/json",
    )
    short = browser().post(
        "/t/i",
        {
            "t": token,
            "event_id": "view-2",
            "viewable": True,
            "visible_percent": 60,
            "visible_ms": 999,
        },
        content_type="application/json",
    )
    video = browser().post(
        "/t/i",
        {
            "t": token,
            "event_id": "view-3",
            "viewable": True,
            "media": "video",
            "visible_percent": 50,
            "visible_ms": 1500,
        },
        content_type="application/json",
    )
    assert (ok.status_code, short.status_code, video.status_code) == (204, 400, 400)
    assert short.json()["errors"][0]["rule"] == "not_viewable"
    assert [e.event_id for e in events(EventKind.VIEWABLE)] == ["view-1"]


def test_a_click_redirects_to_the_saved_destination_with_utm_and_a_click_id(
    links: dict[str, str], creative: AdCreative
) -> None:
    response = browser().get(links["click_url"] + "?visitor_id=v1&placement=feed")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "www.tastychips.co", "/spicy")
    query = parse_qs(target.query)
    assert query["utm_source"] == ["facebook"]
    assert query["utm_medium"] == ["cpc"]
    assert query["utm_campaign"][0].startswith("spicy-jalapeno-chips-")
    click_id = query["hclid"][0]
    assert len(click_id) >= 22
    click = TrackingClick.objects.get(click_id=click_id)
    assert (click.creative_id, click.billable) == (creative.pk, True)
    [event] = events(EventKind.CLICK)
    assert (event.click_id, event.utm_source, event.billable) == (click_id, "facebook", True)


def test_a_tampered_click_never_redirects_and_is_not_counted(links: dict[str, str]) -> None:
    token = links["click_url"].removeprefix("/t/c/")
    for bad in (token[:-2] + "zz", links["impression_token"], "x"):
        response = browser().get(f"/t/c/{bad}")
        assert response.status_code == 404
        assert "Location" not in response
    assert events() == [] and TrackingClick.objects.count() == 0


def test_a_click_whose_creative_destination_changed_is_refused(
    links: dict[str, str], creative: AdCreative
) -> None:
    AdCreative.objects.filter(pk=creative.pk).update(destination_url="https://evil.example/")
    response = browser().get(links["click_url"])
    assert response.status_code == 404
    assert "Location" not in response


def test_a_repeat_click_in_the_window_is_recorded_but_not_billable(links: dict[str, str]) -> None:
    browser().get(links["click_url"] + "?visitor_id=v1")
    browser().get(links["click_url"] + "?visitor_id=v1")
    browser().get(links["click_url"] + "?visitor_id=v2")
    billable = [e.billable for e in events(EventKind.CLICK)]
    assert billable == [True, False, True]


def _postback(org_id: Any, body: dict[str, Any], secret: str, *, at: int | None = None) -> Any:
    raw = json.dumps(body).encode()
    signature = sign_body(raw, secret=secret.encode(), timestamp=at or int(time.time()))
    return Client().post(
        f"/t/o/{org_id}/conversions",
        raw,
        content_type="application/json",
        HTTP_HERALD_SIGNATURE=signature,
    )


def test_a_signed_postback_is_attributed_to_its_click_and_counted_once(
    links: dict[str, str], owner: Any, creative: AdCreative
) -> None:
    redirect = browser().get(links["click_url"] + "?visitor_id=v1&placement=feed")
    click_id = parse_qs(urlsplit(redirect["Location"]).query)["hclid"][0]
    secret = services.postback_secret_rotate(organization_id=owner.organization.pk)
    body = {"click_id": click_id, "value": "39.90", "currency": "USD", "order_id": "A-1"}

    first = _postback(owner.organization.pk, body, secret)
    again = _postback(owner.organization.pk, body, secret)

    assert (first.status_code, again.status_code) == (202, 202)
    [conversion] = events(EventKind.CONVERSION)
    assert (conversion.creative_id, conversion.placement, conversion.device) == (
        creative.pk,
        "feed",
        "mobile",
    )
    assert (str(conversion.value), conversion.currency, conversion.order_id) == (
        "39.900000",
        "USD",
        "A-1",
    )
    assert conversion.click_id == click_id


def test_postback_signatures_are_checked(owner: Any, creative: AdCreative) -> None:
    org_id = owner.organization.pk
    campaign_id = str(creative.unit.campaign_id)
    body = {"campaign_id": campaign_id, "value": "10", "order_id": "B-1"}
    assert _postback(org_id, body, "no-secret-yet").json()["errors"][0]["rule"] == "no_secret"
    old = services.postback_secret_rotate(organization_id=org_id)
    new = services.postback_secret_rotate(organization_id=org_id)

    assert _postback(org_id, body, "wrong").status_code == 400
    assert (
        _postback(org_id, body, new, at=int(time.time()) - 301).json()["errors"][0]["rule"]
        == "stale"
    )
    assert _postback(org_id, body, old).status_code == 202  # still valid during rotation
    assert _postback(org_id, {**body, "order_id": "B-2"}, new).status_code == 202
    assert sorted(e.order_id for e in events(EventKind.CONVERSION)) == ["B-1", "B-2"]


def test_engagement_comments_keep_their_thread(links: dict[str, str], creative: AdCreative) -> None:
    token = links["engagement_token"]
    post = browser().post(
        "/t/e",
        {"token": token, "type": "comment", "event_id": "c-1", "body": "Too spicy?!"},
        content_type="application/json",
    )
    parent = TrackingComment.objects.get()
    reply = browser().post(
        "/t/e",
        {
            "token": token,
            "type": "comment",
            "event_id": "c-2",
            "body": "Just right.",
            "parent_id": str(parent.pk),
        },
        content_type="application/json",
    )
    like = browser().post(
        "/t/e", {"token": token, "type": "like", "event_id": "l-1"}, content_type="application/json"
    )
    bad = browser().post("/t/e", {"token": token, "type": "poke"}, content_type="application/json")
    assert (post.status_code, reply.status_code, like.status_code, bad.status_code) == (
        204,
        204,
        204,
        400,
    )
    assert [(c.body, c.parent_id) for c in TrackingComment.objects.order_by("created_at")] == [
        ("Too spicy?!", None),
        ("Just right.", parent.pk),
    ]
    assert sorted(e.engagement_type for e in events(EventKind.ENGAGEMENT)) == [
        "comment",
        "comment",
        "like",
    ]


def test_a_batch_stores_the_good_events_and_names_the_bad_ones(links: dict[str, str]) -> None:
    token = links["impression_token"]
    response = browser().post(
        "/t/batch",
        {
            "events": [
                {"type": "impression", "token": token, "event_id": "b-1"},
                {"type": "impression", "token": "forged", "event_id": "b-2"},
                {"type": "teleport", "token": token},
                "not an object",
                {
                    "type": "engagement",
                    "token": links["engagement_token"],
                    "event_id": "b-5",
                    "type_": "x",
                },
                {"type": "impression", "token": token, "event_id": "b-1"},
            ]
        },
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 2
    assert [(r["index"], r["errors"][0]["field"]) for r in body["rejected"]] == [
        (1, "token"),
        (2, "type"),
        (3, ""),
        (4, "type"),
    ]
    assert [e.event_id for e in events()] == ["b-1"]  # the repeat of b-1 counted once


def test_the_tracking_links_api_is_tenant_scoped(
    api: Any, creative: AdCreative, other_org: Any
) -> None:
    from herald.testing.factories import make_actor, make_campaign, make_creative, make_unit

    response = api.get(f"creatives/{creative.pk}/tracking")
    assert response.status_code == 200
    body = response.json()
    assert body["impression_url"].startswith("http://127.0.0.1:8000/t/i?t=")
    assert body["click_url"].startswith("http://127.0.0.1:8000/t/c/")
    rival = make_actor(other_org)
    theirs = make_creative(rival, make_unit(rival, make_campaign(rival), "google_ads"))
    assert api.get(f"creatives/{theirs.pk}/tracking").status_code == 404
