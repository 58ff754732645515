"""The campaign builder and the Creative Studio: each step saves through the services,
shows each refusal beside its field with the service's words, and keeps what was saved
when a step is opened again; roles and organizations are enforced as everywhere."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from herald.campaigns.models import (
    AdCreative,
    Audience,
    BudgetAllocation,
    Campaign,
    CampaignBudget,
    CampaignUnit,
    MediaAsset,
)
from herald.campaigns.services.campaigns import campaign_update
from herald.integrations.models import CampaignAdAccount
from herald.testing.factories import (
    make_actor,
    make_audience,
    make_campaign,
    make_connection,
    make_image,
    make_launchable_campaign,
    make_media,
    make_unit,
)

pytestmark = pytest.mark.django_db

HEADLINE = "New Spicy Jalapeño Chips | 20% Off"
DESCRIPTION = "Made with organic potatoes and real jalapeños. Crunch into the heat today!"


def signed_in(actor: Any) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def error_beside(response: Any, field_id: str) -> str:
    """The message shown beside the field ``field_id`` (its ``-error`` element)."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error"[^>]*>(.*?)</p>',
        response.content.decode(),
        re.S,
    )
    return html.unescape(match.group(1)).strip() if match else ""


def step_url(campaign: Campaign, step: str) -> str:
    return f"/campaigns/{campaign.pk}/build/{step}/"


def studio_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "destination_url": "https://www.tastychips.co/spicy",
        "display_path_0": "spicy",
        "display_path_1": "",
        "headline_0": HEADLINE,
        "headline_1": "",
        "headline_2": "",
        "description_0": DESCRIPTION,
        "description_1": "",
        "primary_text": DESCRIPTION,
        "call_to_action": "SHOP_NOW",
        "media_id": "",
        "apply_to": ["google_ads", "meta_ads"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def draft(owner: Any) -> Campaign:
    """A draft with a Google and a Meta unit sharing an audience, nothing else."""
    campaign = make_campaign(owner, name="Spicy Jalapeño Chips")
    audience = make_audience(owner, name="US adults")
    make_unit(owner, campaign, "google_ads", name="Google Ads ad group", audience_id=audience.pk)
    make_unit(owner, campaign, "meta_ads", name="Meta Ads ad set", audience_id=audience.pk)
    return campaign


# ---- 1. Objective ---------------------------------------------------------------------


def test_first_step_creates_the_draft_and_moves_on(owner: Any) -> None:
    client = signed_in(owner)
    page = client.get("/campaigns/new/")
    assert page.status_code == 200
    assert b'<label for="id_name">Campaign name</label>' in page.content
    assert b'href="/campaigns/new/"' in page.content  # the nav link for editors

    response = client.post(
        "/campaigns/new/", {"name": "Spicy Jalapeño Chips", "objective": "sales", "go": "next"}
    )
    campaign = Campaign.objects.get(organization=owner.organization)
    assert response.status_code == 302
    assert response["Location"] == step_url(campaign, "channels")
    assert (campaign.name, campaign.objective, campaign.status) == (
        "Spicy Jalapeño Chips",
        "sales",
        "draft",
    )


def test_objective_errors_are_shown_beside_their_fields_and_nothing_is_created(
    owner: Any,
) -> None:
    response = signed_in(owner).post("/campaigns/new/", {"name": "  ", "objective": "fame"})
    assert response.status_code == 200
    assert error_beside(response, "id_name") == "This field is required."
    assert Campaign.objects.count() == 0

    response = signed_in(owner).post("/campaigns/new/", {"name": "Chips", "objective": "fame"})
    assert error_beside(response, "id_objective").startswith("'fame' is not an objective")
    assert 'aria-describedby="id_objective-error"' in response.content.decode()
    assert Campaign.objects.count() == 0


def test_objective_step_edits_the_draft_and_save_draft_stays(owner: Any) -> None:
    campaign = make_campaign(owner, name="Chips", objective="traffic")
    client = signed_in(owner)
    response = client.post(
        step_url(campaign, "objective"), {"name": "Chips v2", "objective": "sales", "go": "stay"}
    )
    assert response["Location"] == step_url(campaign, "objective")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.objective) == ("Chips v2", "sales")
    page = client.get(step_url(campaign, "objective"))
    assert 'value="Chips v2"' in page.content.decode()
    assert "Saved as a draft." in page_text(page)


# ---- 2. Channels ----------------------------------------------------------------------


def test_channels_step_adds_units_and_chooses_ad_accounts(owner: Any) -> None:
    campaign = make_campaign(owner)
    google = make_connection(owner.organization, "google_ads")
    client = signed_in(owner)
    page = client.get(step_url(campaign, "channels"))
    assert google.name in page_text(page)
    assert "No Meta Ads account yet" in page_text(page)

    response = client.post(
        step_url(campaign, "channels"),
        {"channels": ["google_ads", "meta_ads"], "account_google_ads": str(google.pk)},
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(campaign, "audience")
    assert sorted(
        CampaignUnit.objects.filter(campaign=campaign).values_list("channel", "name")
    ) == [
        ("google_ads", "Google Ads ad group"),
        ("meta_ads", "Meta Ads ad set"),
    ]
    assert CampaignAdAccount.objects.get(campaign=campaign).ad_account_id == google.pk

    # Unticking a channel removes its (never launched) unit.
    client.post(
        step_url(campaign, "channels"),
        {"channels": ["meta_ads"], "account_google_ads": str(google.pk)},
    )
    assert list(
        CampaignUnit.objects.filter(campaign=campaign).values_list("channel", flat=True)
    ) == ["meta_ads"]


def test_channel_errors_are_shown_beside_their_fields(owner: Any) -> None:
    campaign = make_campaign(owner)
    meta = make_connection(owner.organization, "meta_ads")
    client = signed_in(owner)

    response = client.post(step_url(campaign, "channels"), {})
    assert error_beside(response, "id_channels") == "Choose at least one channel."

    response = client.post(
        step_url(campaign, "channels"),
        {"channels": ["google_ads"], "account_google_ads": str(meta.pk)},
    )
    assert response.status_code == 200
    assert error_beside(response, "id_account_google_ads") == (
        "That account is on meta_ads, not google_ads."
    )
    # The step is all or nothing: the unit was not kept either.
    assert not CampaignUnit.objects.filter(campaign=campaign).exists()


# ---- 3. Audience ----------------------------------------------------------------------


def test_audience_step_creates_an_audience_for_every_unit(owner: Any) -> None:
    campaign = make_campaign(owner)
    make_unit(owner, campaign, "google_ads", name="G", audience_id=None)
    make_unit(owner, campaign, "meta_ads", name="M", audience_id=None)
    response = signed_in(owner).post(
        step_url(campaign, "audience"),
        {
            "mode": "new",
            "name": "US 18–45",
            "countries": "us",
            "age_min": "18",
            "age_max": "45",
            "genders": ["female", "male"],
            "interests": "Snack foods\nHot sauce",
            "languages": "en",
            "devices": ["mobile"],
            "cities": "Austin, US, 25",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(campaign, "budget")
    audience = Audience.objects.get(name="US 18–45")
    assert audience.rules["locations"]["countries"] == ["US"]
    assert audience.rules["locations"]["cities"][0]["radius_km"] == 25
    assert audience.rules["age"] == {"min": 18, "max": 45}
    assert [i["name"] for i in audience.rules["interests"]] == ["Snack foods", "Hot sauce"]
    assert set(
        CampaignUnit.objects.filter(campaign=campaign).values_list("audience_id", flat=True)
    ) == {audience.pk}


def test_a_bad_country_is_shown_beside_the_countries_and_nothing_is_saved(owner: Any) -> None:
    campaign = make_campaign(owner)
    make_unit(owner, campaign, "google_ads", name="G", audience_id=None)
    response = signed_in(owner).post(
        step_url(campaign, "audience"),
        {"mode": "new", "name": "Nowhere", "countries": "US, XX", "age_min": "50", "age_max": "20"},
    )
    assert response.status_code == 200
    assert error_beside(response, "id_countries") == (
        "“XX” is not a country code. Use two-letter ISO 3166-1 codes such as US or DE."
    )
    assert error_beside(response, "id_age_min").startswith("The minimum age (50) is above")
    assert 'value="US, XX"' in response.content.decode()  # what was typed stays
    assert not Audience.objects.filter(name="Nowhere").exists()


def test_audience_step_uses_a_saved_audience_and_needs_channels_first(owner: Any) -> None:
    campaign = make_campaign(owner)
    client = signed_in(owner)
    response = client.get(step_url(campaign, "audience"))
    assert response["Location"] == step_url(campaign, "channels")

    unit = make_unit(owner, campaign, "meta_ads", name="M", audience_id=None)
    saved = make_audience(owner, name="Snackers")
    response = client.post(step_url(campaign, "audience"), {"mode": "saved", "audience_id": ""})
    assert error_beside(response, "id_audience_id") == (
        "Choose a saved audience, or create a new one."
    )
    client.post(step_url(campaign, "audience"), {"mode": "saved", "audience_id": str(saved.pk)})
    unit.refresh_from_db()
    assert unit.audience_id == saved.pk


# ---- 4. Budget ------------------------------------------------------------------------


def test_budget_step_saves_a_lifetime_budget_split_across_channels(owner: Any, draft: Any) -> None:
    campaign_update(actor=owner, campaign_id=draft.pk, time_zone="America/New_York")
    response = signed_in(owner).post(
        step_url(draft, "budget"),
        {
            "kind": "lifetime",
            "amount": "3000",
            "start_at": "2031-03-01T09:00",
            "end_at": "2031-03-31T21:00",
            "allocation_google_ads": "1200",
            "allocation_meta_ads": "1800",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, "creative")
    budget = CampaignBudget.objects.get(campaign=draft)
    assert (budget.kind, budget.amount) == ("lifetime", Decimal("3000.00"))
    assert dict(BudgetAllocation.objects.values_list("channel", "amount")) == {
        "google_ads": Decimal("1200.00"),
        "meta_ads": Decimal("1800.00"),
    }
    draft.refresh_from_db()
    new_york = ZoneInfo("America/New_York")
    assert draft.start_at == datetime(2031, 3, 1, 9, 0, tzinfo=new_york)
    assert draft.end_at == datetime(2031, 3, 31, 21, 0, tzinfo=new_york)


def test_a_lifetime_budget_without_an_end_date_is_refused_beside_its_field(
    owner: Any, draft: Any
) -> None:
    response = signed_in(owner).post(
        step_url(draft, "budget"),
        {"kind": "lifetime", "amount": "3000", "allocation_google_ads": "1200"},
    )
    assert response.status_code == 200
    assert error_beside(response, "id_kind") == "A lifetime budget needs the campaign's end date."
    assert not CampaignBudget.objects.filter(campaign=draft).exists()
    assert 'value="1200"' in response.content.decode()


def test_budget_parse_and_split_errors_are_shown_beside_their_fields(
    owner: Any, draft: Any
) -> None:
    client = signed_in(owner)
    response = client.post(
        step_url(draft, "budget"), {"kind": "daily", "amount": "", "end_at": "soon"}
    )
    assert error_beside(response, "id_amount") == "Enter the budget amount."
    assert error_beside(response, "id_end_at") == "Enter a date and time, e.g. 2027-03-31 23:00."

    response = client.post(
        step_url(draft, "budget"),
        {
            "kind": "daily",
            "amount": "100",
            "allocation_google_ads": "80",
            "allocation_meta_ads": "40",
        },
    )
    assert error_beside(response, "id_allocations") == (
        "The allocations add up to 120, more than the budget of 100."
    )
    assert not CampaignBudget.objects.filter(campaign=draft).exists()


# ---- Going back -----------------------------------------------------------------------


def test_going_back_shows_every_step_as_it_was_saved(owner: Any) -> None:
    google = make_connection(owner.organization, "google_ads")
    client = signed_in(owner)
    client.post("/campaigns/new/", {"name": "Tasty launch", "objective": "sales"})
    campaign = Campaign.objects.get()
    client.post(
        step_url(campaign, "channels"),
        {"channels": ["google_ads", "meta_ads"], "account_google_ads": str(google.pk)},
    )
    client.post(
        step_url(campaign, "audience"),
        {"mode": "new", "name": "US 18–45", "countries": "US", "age_min": "18", "age_max": "45"},
    )
    client.post(
        step_url(campaign, "budget"),
        {
            "kind": "lifetime",
            "amount": "3000",
            "start_at": "2031-03-01T09:00",
            "end_at": "2031-03-31T21:00",
            "allocation_google_ads": "1200",
            "allocation_meta_ads": "1800",
        },
    )

    objective = client.get(step_url(campaign, "objective")).content.decode()
    assert 'value="Tasty launch"' in objective
    assert 'value="sales" checked' in objective

    channels = client.get(step_url(campaign, "channels")).content.decode()
    assert 'value="google_ads" checked' in channels
    assert 'value="meta_ads" checked' in channels
    assert f'value="{google.pk}" selected' in channels

    audience = client.get(step_url(campaign, "audience")).content.decode()
    chosen = Audience.objects.get(name="US 18–45")
    assert f'value="{chosen.pk}" selected' in audience
    assert 'id="mode-saved" name="mode" value="saved" checked' in audience

    budget = client.get(step_url(campaign, "budget")).content.decode()
    assert 'value="lifetime" checked' in budget
    assert 'value="3000.00"' in budget
    assert 'value="2031-03-31T21:00"' in budget
    assert 'name="allocation_meta_ads" value="1800.00"' in budget

    # Every step so far is marked done in the step list.
    assert budget.count("(done)") == 4


# ---- 5. Creative Studio ---------------------------------------------------------------


def test_studio_saves_one_ad_to_every_channel(owner: Any, draft: Any) -> None:
    media = make_media(owner)
    client = signed_in(owner)
    page = client.get(step_url(draft, "creative"))
    assert page.status_code == 200
    text = page.content.decode()
    # Limits reach the page as data attributes, from PLATFORM_CAPABILITIES.
    assert 'data-counter-for="id_headline_0" data-max="30" data-platform="Google Ads"' in text
    assert 'data-counter-for="id_headline_0" data-max="40" data-platform="Meta Ads"' in text
    assert 'data-counter-for="id_primary_text" data-max="125" data-platform="Meta Ads"' in text
    assert 'hx-trigger="input changed delay:400ms' in text

    response = client.post(
        step_url(draft, "creative"), studio_post(media_id=str(media.pk), go="next")
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, "review")
    creatives = AdCreative.objects.filter(unit__campaign=draft)
    assert {c.unit.channel for c in creatives} == {"google_ads", "meta_ads"}
    for creative in creatives:
        assert creative.headlines == [HEADLINE]
        assert creative.descriptions == [DESCRIPTION]
        assert creative.call_to_action == "SHOP_NOW"
        assert creative.media_id == media.pk

    # Back in the studio: the saved ad, its counters and findings, server-rendered.
    text = page_text(client.get(step_url(draft, "creative")))
    assert f'value="{HEADLINE}"' in text
    assert "Google Ads 34/30 — too long" in text
    assert "Headline 1 is 34 characters; Google Ads allows 30. It will be rejected." in text
    assert "www.tastychips.co/spicy" in text
    assert "tastychips.co" in text


def test_studio_errors_are_shown_beside_their_fields(owner: Any, draft: Any) -> None:
    response = signed_in(owner).post(
        step_url(draft, "creative"), studio_post(destination_url="tastychips dot co")
    )
    assert response.status_code == 200
    assert error_beside(response, "id_destination_url") == (
        "Enter a full web address starting with http:// or https://."
    )
    assert not AdCreative.objects.exists()

    response = signed_in(owner).post(step_url(draft, "creative"), studio_post(apply_to=[]))
    assert error_beside(response, "id_apply_to") == "Choose at least one channel to save the ad to."


def test_preview_endpoint_returns_the_google_finding_and_both_previews(
    owner: Any, draft: Any
) -> None:
    response = signed_in(owner).post(
        f"/campaigns/{draft.pk}/studio/preview/", studio_post(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = page_text(response)
    assert 'data-code="headline_too_long"' in text
    assert "Headline 1 is 34 characters; Google Ads allows 30. It will be rejected." in text
    # Google Search: the Ad badge, the display URL, the headline; no image.
    assert '<span class="gs-badge">Ad</span>' in text
    assert ">www.tastychips.co/spicy<" in text
    # Meta Feed: page name, initials, Sponsored, domain and the button label.
    assert ">Tasty Chips Co.<" in text
    assert ">TC<" in text
    assert ">Sponsored<" in text
    assert ">tastychips.co<" in text
    assert ">Shop Now<" in text
    # The finding beside the headline box is updated out of band.
    assert 'id="findings-headline_0" hx-swap-oob="true"' in text
    assert not AdCreative.objects.exists()  # a preview saves nothing


def test_preview_only_updates_fields_the_page_shows(owner: Any) -> None:
    """A Google-only campaign has no primary text, button or image boxes, so the
    preview never sends findings for them (htmx would find nowhere to put them)."""
    campaign = make_campaign(owner)
    make_unit(owner, campaign, "google_ads", name="G")
    client = signed_in(owner)
    page = client.get(f"/campaigns/{campaign.pk}/studio/").content.decode()
    assert 'id="id_primary_text"' not in page
    assert 'id="id_file"' not in page
    response = client.post(
        f"/campaigns/{campaign.pk}/studio/preview/", studio_post(apply_to=["google_ads"])
    )
    text = response.content.decode()
    assert 'id="findings-headline_0" hx-swap-oob="true"' in text
    assert 'id="findings-display_path_0" hx-swap-oob="true"' in text
    for absent in ("primary_text", "call_to_action", "media_id"):
        assert f'id="findings-{absent}"' not in text
    assert "Meta Feed" not in text


def test_studio_without_channels_points_to_the_channels_step(owner: Any) -> None:
    campaign = make_campaign(owner)
    client = signed_in(owner)
    assert client.get(step_url(campaign, "creative"))["Location"] == step_url(campaign, "channels")
    page = page_text(client.get(f"/campaigns/{campaign.pk}/studio/"))
    assert "This campaign has no channel with ads yet" in page


def test_the_upload_takes_an_image_and_shows_the_servers_refusal(owner: Any, draft: Any) -> None:
    client = signed_in(owner)
    url = f"/campaigns/{draft.pk}/studio/upload/"
    image = SimpleUploadedFile("chips_bag_spicy.jpg", make_image(1200, 628), "image/jpeg")
    response = client.post(url, {**studio_post(), "file": image}, HTTP_HX_REQUEST="true")
    media = MediaAsset.objects.get()
    assert response["HX-Trigger-After-Swap"] == "studio-refresh"
    assert f'name="media_id" value="{media.pk}"' in response.content.decode()
    assert "chips_bag_spicy.jpg · 1200×628 px" in page_text(response)

    bad = SimpleUploadedFile("chips.jpg", b"not an image", "image/jpeg")
    response = client.post(url, {**studio_post(), "file": bad}, HTTP_HX_REQUEST="true")
    assert error_beside(response, "id_media_id") == (
        "The file is not a readable JPEG, PNG, GIF or WebP image."
    )
    assert MediaAsset.objects.count() == 1
    assert "HX-Trigger-After-Swap" not in response

    # Without JavaScript the studio comes back with what was typed and the new image.
    image = SimpleUploadedFile("chips.png", make_image(600, 600, "PNG"), "image/png")
    response = client.post(url, {**studio_post(in_wizard="1"), "file": image})
    newest = MediaAsset.objects.order_by("-created_at").first()
    assert newest is not None
    text = response.content.decode()
    assert response.status_code == 200
    assert f'name="media_id" value="{newest.pk}"' in text
    assert "Step 5 of 6" in text
    assert f'value="{html.escape(HEADLINE)}"' in text or HEADLINE in page_text(response)
    assert not AdCreative.objects.exists()


def test_editing_a_launched_ad_makes_a_new_version_and_keeps_the_history(
    owner: Any, draft: Any
) -> None:
    client = signed_in(owner)
    client.post(f"/campaigns/{draft.pk}/studio/", studio_post(apply_to=["meta_ads"]))
    first = AdCreative.objects.get()
    AdCreative.objects.filter(pk=first.pk).update(launched_at=timezone.now())

    page = page_text(client.get(f"/campaigns/{draft.pk}/studio/"))
    assert "version 1 has run on the platform: saving makes version 2" in page
    response = client.post(
        f"/campaigns/{draft.pk}/studio/",
        studio_post(headline_0="Spicy Chips, 20% Off", apply_to=["meta_ads"]),
        follow=True,
    )
    text = page_text(response)
    assert "Saved: Meta Ads ad version 2 (the launched version is kept)." in text
    versions = list(AdCreative.objects.order_by("version").values_list("version", "is_current"))
    assert versions == [(1, False), (2, True)]
    history = text[text.index("Version history") :]
    assert "Spicy Chips, 20% Off" in history
    assert HEADLINE in history
    assert "kept for history" in history


def test_studio_starts_from_one_ad_and_saves_only_where_it_matches(owner: Any) -> None:
    """Different ads per channel are never overwritten silently."""
    campaign = make_launchable_campaign(owner)
    client = signed_in(owner)
    page = page_text(client.get(f"/campaigns/{campaign.pk}/studio/"))
    assert "The channels show different ads." in page
    assert 'id="apply-google_ads" name="apply_to" value="google_ads" checked' in page
    assert 'value="meta_ads" checked' not in page
    meta_page = page_text(client.get(f"/campaigns/{campaign.pk}/studio/?from=meta_ads"))
    assert 'value="meta_ads" checked' in meta_page


# ---- 6. Review ------------------------------------------------------------------------


def test_review_lists_every_finding_and_a_refused_launch_says_why(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, name="Spicy Jalapeño Chips")
    client = signed_in(owner)
    page = page_text(client.get(step_url(campaign, "review")))
    assert "Connect a Google Ads account and choose it for this campaign before launching." in page
    assert "Launch now" in page
    assert "Google Search" in page and "Meta Feed" in page

    response = client.post(step_url(campaign, "review"), {"action": "launch"})
    assert response.status_code == 200
    text = page_text(response)
    assert "Not done:" in text
    assert "Connect an ad account before launching on: Google Ads, Meta Ads." in text
    assert Campaign.objects.get(pk=campaign.pk).status == "draft"


def test_review_schedules_through_the_lifecycle_service(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, start_at=timezone.now() + timedelta(days=2))
    response = signed_in(owner).post(step_url(campaign, "review"), {"action": "schedule"})
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"


# ---- Roles and organizations ----------------------------------------------------------


def test_a_viewer_gets_403_and_nothing_is_created(viewer: Any, owner: Any, draft: Any) -> None:
    client = signed_in(viewer)
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post("/campaigns/new/", {"name": "X", "objective": "sales"}).status_code == 403
    assert Campaign.objects.count() == 1
    assert b'href="/campaigns/new/"' not in client.get("/").content
    for step in ("objective", "channels", "audience", "budget", "creative", "review"):
        assert client.get(step_url(draft, step)).status_code == 403
    response = client.post(
        step_url(draft, "budget"), {"kind": "daily", "amount": "10", "go": "next"}
    )
    assert response.status_code == 403
    assert client.post(step_url(draft, "creative"), studio_post()).status_code == 403
    assert client.post(step_url(draft, "review"), {"action": "launch"}).status_code == 403
    image = SimpleUploadedFile("chips.jpg", make_image(), "image/jpeg")
    assert client.post(f"/campaigns/{draft.pk}/studio/upload/", {"file": image}).status_code == 403
    assert not CampaignBudget.objects.exists()
    assert not AdCreative.objects.exists()
    assert not MediaAsset.objects.exists()
    assert Campaign.objects.get(pk=draft.pk).status == "draft"


def test_another_organizations_campaign_is_404(owner: Any, other_org: Any) -> None:
    theirs = make_campaign(make_actor(other_org))
    client = signed_in(owner)
    for step in ("objective", "budget", "creative", "review"):
        assert client.get(step_url(theirs, step)).status_code == 404
    assert client.post(step_url(theirs, "objective"), {"name": "Mine"}).status_code == 404
    assert client.get(f"/campaigns/{theirs.pk}/studio/").status_code == 404
    assert client.post(f"/campaigns/{theirs.pk}/studio/preview/", studio_post()).status_code == 404
    assert client.post(f"/campaigns/{theirs.pk}/studio/upload/", {}).status_code == 404
    assert Campaign.objects.get(pk=theirs.pk).name != "Mine"


def test_an_unknown_step_is_404(owner: Any, draft: Any) -> None:
    assert signed_in(owner).get(step_url(draft, "launchpad")).status_code == 404
