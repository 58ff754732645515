"""The WSGI application as granian runs it: the tracking lane answers the beacon and the
batch itself, exactly as the Django views would; everything else reaches Django."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.test import Client, override_settings

from herald.core.wsgi import build_application
from herald.testing.user_agents import IPHONE
from herald.tracking.models import EventKind, TrackingEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_event_table")]


@dataclass
class Answer:
    status: str
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def app() -> Iterator[Any]:
    yield build_application()


def call(
    app: Any,
    method: str,
    path: str,
    query: str = "",
    *,
    body: bytes = b"",
    content_type: str = "",
    scheme: str = "http",
) -> Answer:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_USER_AGENT": IPHONE,
        "REMOTE_ADDR": "203.0.113.9",
        "SERVER_NAME": "testserver",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": content_type,
        "wsgi.url_scheme": scheme,
    }
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, dict(headers)
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return Answer(seen["status"], seen["headers"], payload)


def stored() -> list[tuple[str, int, str, str]]:
    return [
        (e.event_id, e.kind, e.device, e.placement)
        for e in TrackingEvent.objects.order_by("event_id")
    ]


def test_the_beacon_is_answered_by_the_lane_and_stored_once(
    app: Any, links: dict[str, str]
) -> None:
    token = links["impression_token"]
    query = f"t={token}&event_id=lane-1&visitor_id=v1&placement=feed"
    first = call(app, "GET", "/t/i", query)
    again = call(app, "GET", "/t/i", query)

    assert (first.status, first.headers["Content-Type"]) == ("200 OK", "image/gif")
    assert first.body.startswith(b"GIF89a") and len(first.body) == 42
    assert first.headers["Cache-Control"].startswith("no-store")
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Content-Length"] == "42"
    assert again.status == "200 OK"
    assert stored() == [("lane-1", EventKind.IMPRESSION, "mobile", "feed")]


def test_json_and_form_posts_to_the_beacon_answer_204(app: Any, links: dict[str, str]) -> None:
    token = links["impression_token"]
    as_json = call(
        app,
        "POST",
        "/t/i",
        body=json.dumps({"t": token, "event_id": "lane-json"}).encode(),
        content_type="application/json",
    )
    as_form = call(
        app,
        "POST",
        "/t/i",
        body=f"t={token}&event_id=lane-form&placement=caf%C3%A9".encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert (as_json.code, as_form.code) == (204, 204)
    assert (as_json.body, as_form.body) == (b"", b"")
    assert stored() == [
        ("lane-form", EventKind.IMPRESSION, "mobile", "café"),
        ("lane-json", EventKind.IMPRESSION, "mobile", ""),
    ]


def test_a_forged_token_is_a_400_problem_and_nothing_is_stored(
    app: Any, links: dict[str, str]
) -> None:
    token = links["impression_token"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "forged", links["engagement_token"]):
        answer = call(app, "GET", "/t/i", f"t={bad}&event_id=x")
        assert answer.status == "400 Bad Request"
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "token"
    assert stored() == []


def test_the_lane_answers_exactly_as_the_django_view(app: Any, links: dict[str, str]) -> None:
    token = links["impression_token"]
    client = Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9")
    for query in (f"t={token}&event_id=same-1", "t=forged", f"t={token}&event_id={'x' * 101}"):
        lane = call(app, "GET", "/t/i", query)
        view = client.get(f"/t/i?{query}")
        assert lane.code == view.status_code
        assert lane.headers["Content-Type"] == view["Content-Type"]
        assert lane.body == view.content


def test_a_batch_stores_the_good_events_and_names_the_bad(app: Any, links: dict[str, str]) -> None:
    token = links["impression_token"]
    body = {
        "events": [
            {"type": "impression", "token": token, "event_id": "b-1", "placement": "story"},
            {"type": "impression", "token": "forged", "event_id": "b-2"},
            {"type": "poke", "token": token, "event_id": "b-3"},
            {"type": "impression", "token": token, "event_id": "b-4"},
        ]
    }
    answer = call(
        app, "POST", "/t/batch", body=json.dumps(body).encode(), content_type="application/json"
    )
    assert answer.status == "200 OK"
    result = answer.json()
    assert result["accepted"] == 2
    assert [(r["index"], r["errors"][0]["field"]) for r in result["rejected"]] == [
        (1, "token"),
        (2, "type"),
    ]
    assert stored() == [
        ("b-1", EventKind.IMPRESSION, "mobile", "story"),
        ("b-4", EventKind.IMPRESSION, "mobile", ""),
    ]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_over_the_limit_is_refused_before_reading(app: Any, links: dict[str, str]) -> None:
    body = json.dumps({"events": [{"type": "impression", "token": "x" * 200}]}).encode()
    answer = call(app, "POST", "/t/batch", body=body, content_type="application/json")
    assert answer.status == "400 Bad Request"
    assert answer.json()["detail"].startswith("Send a body of at most 100 bytes")
    assert stored() == []


def test_other_methods_and_paths_are_djangos(app: Any, links: dict[str, str]) -> None:
    # Django's own answers: 405 for a method the view refuses, the click redirect, and the
    # API's problem+json 401 (from the full middleware stack).
    assert call(app, "GET", "/t/batch").status == "405 Method Not Allowed"
    click = call(app, "GET", links["click_url"])
    assert click.code == 302
    assert click.headers["Location"].startswith("https://")
    api = call(app, "GET", "/api/v1/campaigns")
    assert (api.code, api.headers["Content-Type"]) == (401, "application/problem+json")
    login = call(app, "GET", "/login/")
    assert "Content-Security-Policy" in login.headers  # the full stack's middleware ran
    assert "Content-Security-Policy" not in call(app, "GET", "/t/i", "t=forged").headers


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_goes_to_django_for_its_https_redirect(links: dict[str, str]) -> None:
    app = build_application()  # SecurityMiddleware reads its settings when it is built
    token = links["impression_token"]
    answer = call(app, "GET", "/t/i", f"t={token}&event_id=http-1")
    assert answer.code == 301
    assert answer.headers["Location"] == f"https://testserver/t/i?t={token}&event_id=http-1"
    assert stored() == []
    secure = call(app, "GET", "/t/i", f"t={token}&event_id=https-1", scheme="https")
    assert secure.status == "200 OK"
    assert stored() == [("https-1", EventKind.IMPRESSION, "mobile", "")]


@override_settings(
    SECURE_HSTS_SECONDS=3600,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_REFERRER_POLICY="strict-origin",
)
def test_the_lane_sends_the_security_headers_django_would(links: dict[str, str]) -> None:
    app = build_application()  # SecurityMiddleware reads its settings when it is built
    token = links["impression_token"]
    names = (
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Strict-Transport-Security",
    )
    client = Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9")
    secure_view = client.get(f"/t/i?t={token}&event_id=h-1", secure=True)
    secure_lane = call(app, "GET", "/t/i", f"t={token}&event_id=h-2", scheme="https")
    plain_lane = call(app, "GET", "/t/i", f"t={token}&event_id=h-3")

    assert {name: secure_lane.headers.get(name) for name in names} == {
        name: secure_view.headers.get(name) for name in names
    }
    assert secure_lane.headers["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert secure_lane.headers["Referrer-Policy"] == "strict-origin"
    assert "Strict-Transport-Security" not in plain_lane.headers
    assert plain_lane.headers["X-Content-Type-Options"] == "nosniff"
