"""The foundation's acceptance scenario, driven the way a script would drive Herald:
a key from the management command, then the API alone."""

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from herald.testing.factories import make_image

pytestmark = pytest.mark.django_db


class Script:
    def __init__(self, key: str) -> None:
        self.client = Client()
        self.auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def call(self, method: str, path: str, body: object = None):
        kwargs: dict[str, Any] = dict(self.auth)
        if body is None and method == "post":
            body = {}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        return getattr(self.client, method)(f"/api/v1/{path}", **kwargs)


def provision(email: str, organization: str) -> str:
    out = io.StringIO()
    call_command(
        "provision",
        "--email",
        email,
        "--organization",
        organization,
        "--output",
        "key",
        stdout=out,
    )
    return out.getvalue().strip()


def test_a_script_builds_tasty_chips_and_meets_every_guard_rail():
    # Given: a key made from nothing by the management command.
    script = Script(provision("ops@tastychips.co", "Tasty Chips Co."))

    # When: the campaign is built through the API alone.
    response = script.call(
        "post",
        "campaigns",
        {
            "name": "Spicy Jalapeño Chips",
            "objective": "sales",
            "start_at": "2030-01-10T09:00:00-05:00",
            "end_at": "2030-02-10T23:59:00-05:00",
            "time_zone": "America/New_York",
        },
    )
    assert response.status_code == 201, response.content
    campaign_id = response.json()["id"]
    budget = script.call(
        "put",
        f"campaigns/{campaign_id}/budget",
        {
            "kind": "lifetime",
            "amount": "3000",
            "allocations": {"google_ads": "1200", "meta_ads": "1800"},
        },
    )
    assert budget.status_code == 200, budget.content
    assert budget.json()["unallocated"] == "0.00"
    audience = script.call(
        "post",
        "audiences",
        {
            "name": "US snack lovers",
            "rules": {"locations": {"countries": ["US"]}, "age": {"min": 18, "max": 45}},
        },
    )
    assert audience.status_code == 201, audience.content
    image = script.client.post(
        "/api/v1/media",
        {"file": SimpleUploadedFile("chips_bag_spicy.jpg", make_image())},
        **script.auth,
    )
    assert image.status_code == 201, image.content
    units = {}
    for channel, name in (("google_ads", "Search"), ("meta_ads", "Feed")):
        unit = script.call(
            "post",
            f"campaigns/{campaign_id}/units",
            {
                "channel": channel,
                "name": name,
                "audience_id": audience.json()["id"],
            },
        )
        assert unit.status_code == 201, unit.content
        units[channel] = unit.json()["id"]
    google = script.call(
        "post",
        f"units/{units['google_ads']}/creatives",
        {
            "headlines": ["Spicy Jalapeño Chips", "20% Off This Week", "Organic Potato Chips"],
            "descriptions": [
                "Made with organic potatoes and real jalapeños.",
                "Crunch into the heat today!",
            ],
            "display_path": ["spicy"],
            "destination_url": "https://www.tastychips.co/spicy",
        },
    )
    assert google.status_code == 201, google.content
    assert google.json()["findings"] == []
    meta = script.call(
        "post",
        f"units/{units['meta_ads']}/creatives",
        {
            "headlines": ["New Spicy Jalapeño Chips | 20% Off"],
            "primary_text": (
                "Made with organic potatoes and real jalapeños. Crunch into the heat today!"
            ),
            "destination_url": "https://www.tastychips.co/spicy",
            "call_to_action": "SHOP_NOW",
            "media_id": image.json()["id"],
        },
    )
    assert meta.status_code == 201, meta.content
    assert [f["severity"] for f in meta.json()["findings"]] == []

    # Then: the too-long headline is a finding on Google, from the same validator.
    findings = script.call(
        "post",
        "creatives/validate",
        {
            "channel": "google_ads",
            "headlines": [
                "New Spicy Jalapeño Chips | 20% Off",
                "Spicy Jalapeño Chips",
                "20% Off This Week",
            ],
            "descriptions": ["Made with organic potatoes.", "Crunch into the heat today!"],
            "destination_url": "https://www.tastychips.co/spicy",
        },
    ).json()
    assert findings["blocking"] is True
    assert [(f["severity"], f["field"], f["code"]) for f in findings["findings"]] == [
        ("error", "headlines.0", "headline_too_long")
    ]

    # And: it schedules (start in the future) ...
    scheduled = script.call("post", f"campaigns/{campaign_id}/schedule")
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["status"] == "scheduled"

    # ... but launching on a paid channel is refused until an account is connected,
    launch = script.call("post", f"campaigns/{campaign_id}/launch")
    assert launch.status_code == 422
    assert launch["Content-Type"] == "application/problem+json"
    problem = launch.json()
    assert problem["type"].endswith("/account-not-connected")
    assert sorted(e["field"] for e in problem["errors"]) == [
        "channels.google_ads.ad_account",
        "channels.meta_ads.ad_account",
    ]
    # with a log row saying so, and the campaign still scheduled.
    log = script.call("get", f"campaigns/{campaign_id}/log").json()["items"]
    assert [(e["action"], e["from_status"], e["to_status"], e["outcome"]) for e in log] == [
        ("launch", "scheduled", "", "failure"),
        ("schedule", "draft", "scheduled", "success"),
    ]
    assert "Connect an ad account" in log[0]["message"]
    assert script.call("get", f"campaigns/{campaign_id}").json()["status"] == "scheduled"

    # A forbidden transition is a 409 naming both states.
    resume = script.call("post", f"campaigns/{campaign_id}/resume")
    assert resume.status_code == 409
    assert "resume" in resume.json()["detail"] and "scheduled" in resume.json()["detail"]

    # Another organization's objects are 404, lists included.
    rival = Script(provision("ops@rival.example", "Rival Snacks"))
    assert rival.call("get", f"campaigns/{campaign_id}").status_code == 404
    assert rival.call("get", f"units/{units['meta_ads']}").status_code == 404
    assert rival.call("post", f"campaigns/{campaign_id}/cancel").status_code == 404
    assert rival.call("get", "campaigns").json()["count"] == 0
