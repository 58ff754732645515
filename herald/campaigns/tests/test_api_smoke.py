import pytest

pytestmark = pytest.mark.django_db


def test_campaign_flow_through_api(api):
    response = api.post("campaigns", {"name": "Spicy", "objective": "sales"})
    assert response.status_code == 201, response.content
    campaign = response.json()
    assert campaign["status"] == "draft"
    listing = api.get("campaigns")
    assert listing.status_code == 200, listing.content
    assert listing.json()["count"] == 1
    assert api.get("platforms").status_code == 200
    validate = api.post(
        "creatives/validate",
        {"channel": "google_ads", "headlines": ["New Spicy Jalapeño Chips | 20% Off"]},
    )
    assert validate.status_code == 200, validate.content
    openapi = api.get("/api/v1/openapi.json")
    assert openapi.status_code == 200, openapi.content[:2000]
