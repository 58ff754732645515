"""Units, audiences, media uploads and KPI targets."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.campaigns.audience_rules import audience_rules_to_json, audience_rules_validate
from herald.campaigns.models import (
    AdCreative,
    Audience,
    Campaign,
    CampaignUnit,
    KpiTarget,
    MediaAsset,
)
from herald.campaigns.services.audiences import (
    audience_create,
    audience_delete,
    audience_update,
)
from herald.campaigns.services.budgets import budget_set
from herald.campaigns.services.creatives import creative_delete
from herald.campaigns.services.kpis import kpi_delete, kpi_set
from herald.campaigns.services.media import media_delete, media_upload
from herald.campaigns.services.units import unit_create, unit_delete, unit_update
from herald.core.errors import Conflict, InvalidInput, NotFound
from herald.testing.factories import (
    VALID_RULES,
    make_actor,
    make_audience,
    make_campaign,
    make_creative,
    make_image,
    make_unit,
)

pytestmark = pytest.mark.django_db


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


def _campaign_with_split(actor: Actor, **allocations: str) -> Campaign:
    campaign = make_campaign(actor)
    budget_set(
        actor=actor,
        campaign_id=campaign.pk,
        kind="daily",
        amount=Decimal("1000.00"),
        allocations={channel: Decimal(amount) for channel, amount in allocations.items()},
    )
    return campaign


# --- Units ------------------------------------------------------------------------------


def test_unit_is_created_on_one_channel_with_an_audience(owner):
    campaign = make_campaign(owner)
    audience = make_audience(owner)

    unit = unit_create(
        actor=owner,
        campaign_id=campaign.pk,
        channel="meta_ads",
        name="  Feed: snack lovers ",
        audience_id=audience.pk,
    )

    stored = CampaignUnit.objects.get(pk=unit.pk)
    assert (stored.channel, stored.name, stored.audience_id) == (
        "meta_ads",
        "Feed: snack lovers",
        audience.pk,
    )
    assert (stored.status, stored.budget_amount, stored.external_id) == ("draft", None, "")
    assert stored.organization_id == campaign.organization_id


def test_unit_name_is_unique_within_a_campaign(owner):
    # Given a unit named "Search"
    campaign = make_campaign(owner)
    unit_create(actor=owner, campaign_id=campaign.pk, channel="google_ads", name="Search")

    # When another unit of the campaign takes the same name
    with pytest.raises(InvalidInput) as excinfo:
        unit_create(actor=owner, campaign_id=campaign.pk, channel="meta_ads", name="Search")

    # Then it is refused and only the first unit exists; another campaign may reuse it
    assert _rules(excinfo) == [("name", "unique")]
    assert CampaignUnit.objects.filter(campaign=campaign).count() == 1
    other = make_campaign(owner)
    unit_create(actor=owner, campaign_id=other.pk, channel="google_ads", name="Search")
    assert CampaignUnit.objects.filter(name="Search").count() == 2


def test_renaming_a_unit_to_a_taken_name_is_refused(owner):
    campaign = make_campaign(owner)
    unit_create(actor=owner, campaign_id=campaign.pk, channel="google_ads", name="Search")
    second = unit_create(actor=owner, campaign_id=campaign.pk, channel="google_ads", name="Brand")

    with pytest.raises(InvalidInput) as excinfo:
        unit_update(actor=owner, unit_id=second.pk, name="Search")

    assert _rules(excinfo) == [("name", "unique")]
    assert CampaignUnit.objects.get(pk=second.pk).name == "Brand"


def test_unknown_channel_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        unit_create(actor=owner, campaign_id=campaign.pk, channel="tiktok", name="Videos")

    assert _rules(excinfo) == [("channel", "choice")]
    assert not CampaignUnit.objects.exists()


def test_unit_budget_needs_an_allocation_for_its_channel(owner):
    # Given a budget split that gives nothing to Meta
    campaign = _campaign_with_split(owner, google_ads="100.00")

    # When a Meta unit asks for its own budget
    with pytest.raises(InvalidInput) as excinfo:
        unit_create(
            actor=owner,
            campaign_id=campaign.pk,
            channel="meta_ads",
            name="Feed",
            budget_amount=Decimal("10.00"),
        )

    # Then it is refused and no unit is written
    assert _rules(excinfo) == [("budget_amount", "no_allocation")]
    assert not CampaignUnit.objects.exists()


def test_unit_budget_without_any_campaign_budget_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        unit_create(
            actor=owner,
            campaign_id=campaign.pk,
            channel="google_ads",
            name="Search",
            budget_amount=Decimal("5"),
        )

    assert _rules(excinfo) == [("budget_amount", "no_allocation")]


def test_unit_budgets_together_cannot_exceed_the_allocation(owner):
    # Given 100 allocated to Google, 60 of it taken by a first unit
    campaign = _campaign_with_split(owner, google_ads="100.00")
    unit_create(
        actor=owner,
        campaign_id=campaign.pk,
        channel="google_ads",
        name="Search A",
        budget_amount=Decimal("60.00"),
    )

    # When a second unit asks for 40.01
    with pytest.raises(InvalidInput) as excinfo:
        unit_create(
            actor=owner,
            campaign_id=campaign.pk,
            channel="google_ads",
            name="Search B",
            budget_amount=Decimal("40.01"),
        )

    # Then it is refused, and the remaining 40.00 fits exactly
    assert _rules(excinfo) == [("budget_amount", "exceeds_allocation")]
    assert CampaignUnit.objects.count() == 1
    unit_create(
        actor=owner,
        campaign_id=campaign.pk,
        channel="google_ads",
        name="Search B",
        budget_amount=Decimal("40.00"),
    )
    assert CampaignUnit.objects.count() == 2


def test_raising_a_unit_budget_counts_the_other_units_only(owner):
    campaign = _campaign_with_split(owner, google_ads="100.00")
    unit = make_unit(owner, campaign, "google_ads", budget_amount=Decimal("90.00"))
    make_unit(owner, campaign, "google_ads", budget_amount=Decimal("10.00"))

    with pytest.raises(InvalidInput) as excinfo:
        unit_update(actor=owner, unit_id=unit.pk, budget_amount=Decimal("90.01"))
    unit_update(actor=owner, unit_id=unit.pk, budget_amount=Decimal("85.00"))

    assert _rules(excinfo) == [("budget_amount", "exceeds_allocation")]
    assert CampaignUnit.objects.get(pk=unit.pk).budget_amount == Decimal("85.00")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_unit_budget_must_be_positive(owner, amount):
    campaign = _campaign_with_split(owner, google_ads="100.00")

    with pytest.raises(InvalidInput) as excinfo:
        unit_create(
            actor=owner,
            campaign_id=campaign.pk,
            channel="google_ads",
            name="Search",
            budget_amount=amount,
        )

    assert _rules(excinfo) == [("budget_amount", "positive")]


def test_audience_of_another_organization_is_not_found(owner, other_org):
    campaign = make_campaign(owner)
    foreign = make_audience(make_actor(other_org))

    with pytest.raises(InvalidInput) as excinfo:
        unit_create(
            actor=owner,
            campaign_id=campaign.pk,
            channel="google_ads",
            name="Search",
            audience_id=foreign.pk,
        )

    assert _rules(excinfo) == [("audience_id", "not_found")]
    assert not CampaignUnit.objects.exists()


def test_switching_to_an_audience_of_another_organization_is_refused(owner, other_org):
    unit = make_unit(owner, make_campaign(owner))
    original = unit.audience_id
    foreign = make_audience(make_actor(other_org))

    with pytest.raises(InvalidInput) as excinfo:
        unit_update(actor=owner, unit_id=unit.pk, audience_id=foreign.pk)

    assert _rules(excinfo) == [("audience_id", "not_found")]
    assert CampaignUnit.objects.get(pk=unit.pk).audience_id == original


def test_unit_that_never_launched_is_deleted(owner):
    unit = make_unit(owner, make_campaign(owner))
    make_creative(owner, unit)

    unit_delete(actor=owner, unit_id=unit.pk)

    assert not CampaignUnit.objects.filter(pk=unit.pk).exists()
    assert not AdCreative.objects.exists()


def test_unit_with_a_platform_id_cannot_be_deleted(owner):
    unit = make_unit(owner, make_campaign(owner))
    CampaignUnit.objects.filter(pk=unit.pk).update(external_id="adgroup-1")

    with pytest.raises(Conflict):
        unit_delete(actor=owner, unit_id=unit.pk)

    assert CampaignUnit.objects.filter(pk=unit.pk).exists()


def test_unit_with_a_launched_creative_cannot_be_deleted(owner):
    unit = make_unit(owner, make_campaign(owner))
    creative = make_creative(owner, unit)
    AdCreative.objects.filter(pk=creative.pk).update(launched_at=timezone.now())

    with pytest.raises(Conflict):
        unit_delete(actor=owner, unit_id=unit.pk)

    assert CampaignUnit.objects.filter(pk=unit.pk).exists()
    assert AdCreative.objects.filter(pk=creative.pk).exists()


# --- Audiences --------------------------------------------------------------------------


def test_audience_rules_are_stored_normalized(owner):
    raw = {"locations": {"countries": ["us", "CA"]}, "languages": ["en"]}

    audience = audience_create(actor=owner, name=" US & CA ", rules=raw, description=" Snacks ")

    stored = Audience.objects.get(pk=audience.pk)
    expected = audience_rules_to_json(audience_rules_validate(raw))
    assert stored.rules == expected
    assert stored.rules["locations"]["countries"] == ["US", "CA"]
    assert stored.rules["age"] == {"min": 18, "max": 65}
    assert (stored.name, stored.description) == ("US & CA", "Snacks")
    assert stored.organization_id == owner.organization.pk


def test_audience_update_normalizes_the_new_rules(owner):
    audience = make_audience(owner)
    raw = {"locations": {"countries": ["fr"]}, "age": {"min": 25}}

    audience_update(actor=owner, audience_id=audience.pk, rules=raw)

    stored = Audience.objects.get(pk=audience.pk)
    assert stored.rules == audience_rules_to_json(audience_rules_validate(raw))
    assert stored.rules["locations"]["countries"] == ["FR"]
    assert stored.rules["age"] == {"min": 25, "max": 65}


def test_invalid_rules_are_reported_under_rules(owner):
    with pytest.raises(InvalidInput) as excinfo:
        audience_create(
            actor=owner,
            name="Nowhere",
            rules={"locations": {"countries": ["ZZ"]}, "age": {"min": 70}},
        )

    assert _rules(excinfo) == [
        ("rules.locations.countries.0", "iso_3166_1"),
        ("rules.age.min", "range"),
    ]
    assert not Audience.objects.exists()


def test_rules_that_are_not_an_object_are_reported_as_rules(owner):
    with pytest.raises(InvalidInput) as excinfo:
        audience_create(actor=owner, name="Broken", rules=["US"])

    assert _rules(excinfo) == [("rules", "type")]


def test_invalid_rules_on_update_keep_the_old_rules(owner):
    audience = make_audience(owner)

    with pytest.raises(InvalidInput) as excinfo:
        audience_update(actor=owner, audience_id=audience.pk, rules={"locations": {}})

    assert _rules(excinfo) == [("rules.locations", "required")]
    assert Audience.objects.get(pk=audience.pk).rules == audience_rules_to_json(
        audience_rules_validate(VALID_RULES)
    )


def test_audience_name_is_unique_in_the_organization(owner, other_org):
    audience_create(actor=owner, name="Snack lovers", rules=VALID_RULES)

    with pytest.raises(InvalidInput) as excinfo:
        audience_create(actor=owner, name="Snack lovers", rules=VALID_RULES)

    assert _rules(excinfo) == [("name", "unique")]
    assert Audience.objects.filter(organization=owner.organization).count() == 1
    # Another organization may use the same name
    audience_create(actor=make_actor(other_org), name="Snack lovers", rules=VALID_RULES)
    assert Audience.objects.filter(name="Snack lovers").count() == 2


def test_audience_in_use_cannot_be_deleted(owner):
    # Given an audience used by a unit
    audience = make_audience(owner)
    unit = make_unit(owner, make_campaign(owner), audience_id=audience.pk)

    # When it is deleted
    with pytest.raises(Conflict) as excinfo:
        audience_delete(actor=owner, audience_id=audience.pk)

    # Then it is kept, and can be deleted once no unit uses it
    assert excinfo.value.extra == {"units_using_it": 1}
    assert Audience.objects.filter(pk=audience.pk).exists()
    unit_update(actor=owner, unit_id=unit.pk, audience_id=None)
    audience_delete(actor=owner, audience_id=audience.pk)
    assert not Audience.objects.filter(pk=audience.pk).exists()


def test_audience_of_another_organization_cannot_be_deleted(owner, other_org):
    foreign = make_audience(make_actor(other_org))

    with pytest.raises(NotFound):
        audience_delete(actor=owner, audience_id=foreign.pk)

    assert Audience.objects.filter(pk=foreign.pk).exists()


# --- Media ------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _files_under(root: Path) -> list[Path]:
    return [path for path in Path(root).rglob("*") if path.is_file()] if Path(root).exists() else []


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png")],
)
def test_upload_stores_the_image_with_its_facts(
    owner, media_root, image_format, content_type, extension
):
    # Given a real 1200×628 image
    content = make_image(1200, 628, image_format=image_format)

    # When it is uploaded under any name
    asset = media_upload(actor=owner, stream=io.BytesIO(content), filename="banner.bin")

    # Then its facts come from the content, and the file holds exactly those bytes
    stored = MediaAsset.objects.get(pk=asset.pk)
    assert (stored.width, stored.height) == (1200, 628)
    assert stored.content_type == content_type
    assert stored.size_bytes == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.original_name == "banner.bin"
    assert stored.created_by_id == owner.user.pk
    assert stored.file.name == f"media/{owner.organization.pk}/{stored.pk}.{extension}"
    assert _files_under(media_root) == [Path(media_root) / stored.file.name]
    assert (Path(media_root) / stored.file.name).read_bytes() == content


def _refused_upload(
    owner: Actor, content: bytes, filename: str = "chips.jpg"
) -> pytest.ExceptionInfo[InvalidInput]:
    with pytest.raises(InvalidInput) as excinfo:
        media_upload(actor=owner, stream=io.BytesIO(content), filename=filename)
    return excinfo


def test_text_file_named_jpg_is_refused(owner, media_root):
    excinfo = _refused_upload(owner, b"this is not an image at all\n" * 10)

    assert _rules(excinfo) == [("file", "image_type")]
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []


def test_unsupported_image_format_is_refused(owner, media_root):
    excinfo = _refused_upload(owner, make_image(200, 200, image_format="BMP"))

    assert _rules(excinfo) == [("file", "image_type")]
    assert excinfo.value.errors[0].message == (
        "BMP images are not supported; use JPEG, PNG, GIF or WebP."
    )
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []


@pytest.mark.parametrize(("width", "height"), [(99, 500), (500, 99), (10_001, 100)])
def test_image_outside_the_dimension_limits_is_refused(owner, media_root, width, height):
    excinfo = _refused_upload(owner, make_image(width, height, image_format="PNG"))

    assert _rules(excinfo) == [("file", "dimensions")]
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []


def test_image_at_the_minimum_size_is_accepted(owner, media_root):
    asset = media_upload(
        actor=owner, stream=io.BytesIO(make_image(100, 100, image_format="PNG")), filename="a.png"
    )

    assert (asset.width, asset.height) == (100, 100)


def test_image_over_the_size_limit_is_refused(owner, media_root, settings):
    # Given a limit one byte below the image's size
    content = make_image(300, 300)
    settings.HERALD_MEDIA_MAX_BYTES = len(content) - 1

    excinfo = _refused_upload(owner, content)

    assert _rules(excinfo) == [("file", "max_size")]
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []
    # Exactly at the limit is fine
    settings.HERALD_MEDIA_MAX_BYTES = len(content)
    media_upload(actor=owner, stream=io.BytesIO(content), filename="chips.jpg")
    assert MediaAsset.objects.count() == 1


def test_empty_upload_is_refused(owner, media_root):
    excinfo = _refused_upload(owner, b"")

    assert _rules(excinfo) == [("file", "required")]
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []


def test_file_is_removed_when_the_row_cannot_be_saved(owner, media_root, monkeypatch):
    def broken_save(self: MediaAsset, *args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(MediaAsset, "save", broken_save)

    with pytest.raises(RuntimeError):
        media_upload(actor=owner, stream=io.BytesIO(make_image(200, 200)), filename="a.jpg")

    monkeypatch.undo()
    assert not MediaAsset.objects.exists()
    assert _files_under(media_root) == []


def test_media_used_by_a_creative_cannot_be_deleted(
    owner, media_root, django_capture_on_commit_callbacks
):
    # Given an image used by a Meta creative
    unit = make_unit(owner, make_campaign(owner), "meta_ads")
    creative = make_creative(owner, unit)
    asset = creative.media
    assert asset is not None
    path = Path(media_root) / str(asset.file.name)

    # When the image is deleted
    with pytest.raises(Conflict):
        media_delete(actor=owner, media_id=asset.pk)

    # Then row and file stay; once the creative is gone the delete removes both
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    assert path.is_file()
    creative_delete(actor=owner, creative_id=creative.pk)
    with django_capture_on_commit_callbacks(execute=True):
        media_delete(actor=owner, media_id=asset.pk)
    assert not MediaAsset.objects.filter(pk=asset.pk).exists()
    assert not path.exists()


def test_media_of_another_organization_cannot_be_deleted(owner, other_org, media_root):
    stranger = make_actor(other_org)
    asset = media_upload(
        actor=stranger, stream=io.BytesIO(make_image(200, 200)), filename="theirs.jpg"
    )

    with pytest.raises(NotFound):
        media_delete(actor=owner, media_id=asset.pk)

    assert MediaAsset.objects.filter(pk=asset.pk).exists()


# --- KPI targets ------------------------------------------------------------------------


def test_kpi_set_creates_then_replaces_a_single_row(owner):
    campaign = make_campaign(owner)

    first = kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal("3"))
    second = kpi_set(
        actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal("3.5")
    )

    assert second.pk == first.pk
    rows = list(KpiTarget.objects.filter(campaign=campaign).values("metric", "target_value"))
    assert rows == [{"metric": "roas", "target_value": Decimal("3.5")}]


@pytest.mark.parametrize(
    ("metric", "unit"),
    [("roas", "ratio"), ("cpa", "currency"), ("ctr", "percent"), ("conversions", "count")],
)
def test_kpi_unit_comes_from_the_metric(owner, metric, unit):
    campaign = make_campaign(owner)

    kpi = kpi_set(actor=owner, campaign_id=campaign.pk, metric=metric, target_value=Decimal("12"))

    stored = KpiTarget.objects.get(pk=kpi.pk)
    assert (stored.metric, stored.unit, stored.target_value) == (metric, unit, Decimal("12"))
    assert stored.organization_id == campaign.organization_id


def test_kpi_targets_of_different_metrics_are_separate_rows(owner):
    campaign = make_campaign(owner)

    kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal("3"))
    kpi_set(actor=owner, campaign_id=campaign.pk, metric="cpa", target_value=Decimal("12"))

    assert sorted(KpiTarget.objects.values_list("metric", "unit")) == [
        ("cpa", "currency"),
        ("roas", "ratio"),
    ]


def test_unknown_metric_is_refused(owner):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        kpi_set(actor=owner, campaign_id=campaign.pk, metric="likes", target_value=Decimal("1"))

    assert _rules(excinfo) == [("metric", "choice")]
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (Decimal("-0.0001"), "range"),
        (Decimal("-5"), "range"),
        (Decimal("1e13"), "range"),
        (Decimal("NaN"), "range"),
        (Decimal("1.00001"), "decimal_places"),
    ],
)
def test_invalid_target_values_are_refused(owner, value, rule):
    campaign = make_campaign(owner)

    with pytest.raises(InvalidInput) as excinfo:
        kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=value)

    assert _rules(excinfo) == [("target_value", rule)]
    assert not KpiTarget.objects.exists()


def test_target_value_with_four_decimals_and_zero_are_accepted(owner):
    campaign = make_campaign(owner)

    kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal("2.1234"))
    kpi_set(actor=owner, campaign_id=campaign.pk, metric="cpa", target_value=Decimal("0"))

    assert dict(KpiTarget.objects.values_list("metric", "target_value")) == {
        "roas": Decimal("2.1234"),
        "cpa": Decimal("0"),
    }


def test_kpi_delete_removes_the_row(owner, other_org):
    campaign = make_campaign(owner)
    kpi = kpi_set(actor=owner, campaign_id=campaign.pk, metric="roas", target_value=Decimal("3"))

    with pytest.raises(NotFound):
        kpi_delete(actor=make_actor(other_org), kpi_id=kpi.pk)
    kpi_delete(actor=owner, kpi_id=kpi.pk)

    assert not KpiTarget.objects.exists()
