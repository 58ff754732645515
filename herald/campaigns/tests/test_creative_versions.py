"""Creatives: storage rules, versioning once launched, deletion and findings."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.campaigns.capabilities import Severity
from herald.campaigns.models import AdCreative, Campaign, CampaignUnit
from herald.campaigns.selectors import creative_versions
from herald.campaigns.services.creatives import (
    creative_create,
    creative_delete,
    creative_findings,
    creative_update,
)
from herald.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from herald.testing.factories import (
    GOOGLE_CREATIVE,
    make_actor,
    make_campaign,
    make_media,
    make_unit,
)

pytestmark = pytest.mark.django_db

_STORED_FIELDS = (
    "id",
    "organization",
    "unit",
    "lineage_id",
    "version",
    "parent",
    "name",
    "headlines",
    "descriptions",
    "primary_text",
    "media",
    "destination_url",
    "display_path",
    "call_to_action",
    "launched_at",
    "external_id",
)


def _rules(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(error.field, error.rule) for error in excinfo.value.errors]


def _snapshot(creative: AdCreative) -> dict[str, object]:
    creative.refresh_from_db()
    data = model_to_dict(creative, fields=_STORED_FIELDS)
    data["id"] = creative.pk
    data["lineage_id"] = creative.lineage_id
    data["launched_at"] = creative.launched_at
    data["external_id"] = creative.external_id
    return data


@pytest.fixture
def google_unit(owner):
    return make_unit(owner, make_campaign(owner), "google_ads")


@pytest.fixture
def meta_unit(owner):
    return make_unit(owner, make_campaign(owner), "meta_ads")


def _google_creative(owner: Actor, unit: CampaignUnit, **fields: Any) -> AdCreative:
    return creative_create(actor=owner, unit_id=unit.pk, **{**GOOGLE_CREATIVE, **fields})


def _launch(creative: AdCreative) -> None:
    AdCreative.objects.filter(pk=creative.pk).update(
        launched_at=timezone.now(), external_id=f"ad-{creative.pk}"
    )


def test_create_stores_version_one_as_its_own_lineage(owner, google_unit):
    creative = _google_creative(owner, google_unit, name="  Search ad  ")

    stored = AdCreative.objects.get(pk=creative.pk)
    assert stored.version == 1
    assert stored.lineage_id == stored.pk
    assert stored.parent_id is None
    assert stored.is_current is True
    assert stored.launched_at is None
    assert stored.name == "Search ad"
    assert stored.headlines == GOOGLE_CREATIVE["headlines"]
    assert stored.descriptions == GOOGLE_CREATIVE["descriptions"]
    assert stored.display_path == ["spicy"]
    assert stored.destination_url == "https://www.tastychips.co/spicy"
    assert stored.organization_id == google_unit.organization_id


def test_edits_before_launch_change_the_same_row(owner, google_unit):
    # Given a creative that never launched
    creative = _google_creative(owner, google_unit)

    # When it is edited twice
    first = creative_update(actor=owner, creative_id=creative.pk, headlines=["A", "B", "C"])
    second = creative_update(actor=owner, creative_id=creative.pk, name="Renamed")

    # Then the same row changed in place, still version 1
    assert first.pk == second.pk == creative.pk
    assert AdCreative.objects.count() == 1
    stored = AdCreative.objects.get(pk=creative.pk)
    assert (stored.version, stored.is_current, stored.parent_id) == (1, True, None)
    assert stored.headlines == ["A", "B", "C"]
    assert stored.name == "Renamed"


def test_editing_a_launched_version_creates_the_next_version(owner, google_unit):
    # Given version 1 has been launched
    v1 = _google_creative(owner, google_unit, name="Search ad")
    _launch(v1)
    before = _snapshot(v1)

    # When it is edited
    v2 = creative_update(
        actor=owner, creative_id=v1.pk, headlines=["New one", "Two", "Three"], name="Search v2"
    )

    # Then a new row is version 2 of the same lineage, with v1 as parent
    assert v2.pk != v1.pk
    assert AdCreative.objects.count() == 2
    stored_v2 = AdCreative.objects.get(pk=v2.pk)
    assert stored_v2.version == 2
    assert stored_v2.parent_id == v1.pk
    assert stored_v2.lineage_id == v1.lineage_id == v1.pk
    assert stored_v2.is_current is True
    assert stored_v2.launched_at is None
    assert stored_v2.external_id == ""
    assert stored_v2.headlines == ["New one", "Two", "Three"]
    assert stored_v2.name == "Search v2"
    # Unchanged fields are carried over
    assert stored_v2.descriptions == GOOGLE_CREATIVE["descriptions"]
    assert stored_v2.display_path == GOOGLE_CREATIVE["display_path"]
    assert stored_v2.destination_url == GOOGLE_CREATIVE["destination_url"]
    assert stored_v2.unit_id == google_unit.pk
    # And v1 is exactly as it was, only no longer current
    assert _snapshot(v1) == before
    assert AdCreative.objects.get(pk=v1.pk).is_current is False


def test_editing_a_launched_second_version_creates_a_third(owner, google_unit):
    v1 = _google_creative(owner, google_unit)
    _launch(v1)
    v2 = creative_update(actor=owner, creative_id=v1.pk, name="v2")
    _launch(v2)

    v3 = creative_update(actor=owner, creative_id=v2.pk, name="v3")

    assert (v3.version, v3.parent_id, v3.lineage_id) == (3, v2.pk, v1.pk)
    assert list(
        AdCreative.objects.filter(lineage_id=v1.pk, is_current=True).values_list("pk", flat=True)
    ) == [v3.pk]


def test_editing_an_old_version_is_a_conflict_naming_the_current_one(owner, google_unit):
    v1 = _google_creative(owner, google_unit)
    _launch(v1)
    v2 = creative_update(actor=owner, creative_id=v1.pk, name="v2")
    before = _snapshot(v1)

    with pytest.raises(Conflict) as excinfo:
        creative_update(actor=owner, creative_id=v1.pk, name="edit of v1")

    assert excinfo.value.extra == {"current_version_id": str(v2.pk)}
    assert AdCreative.objects.count() == 2
    assert _snapshot(v1) == before
    assert AdCreative.objects.get(pk=v2.pk).name == "v2"


def test_versions_selector_lists_newest_first(owner, google_unit):
    v1 = _google_creative(owner, google_unit)
    _launch(v1)
    v2 = creative_update(actor=owner, creative_id=v1.pk, name="v2")
    _launch(v2)
    v3 = creative_update(actor=owner, creative_id=v2.pk, name="v3")
    unrelated = _google_creative(owner, google_unit)

    versions = list(creative_versions(creative=v1))

    assert [creative.pk for creative in versions] == [v3.pk, v2.pk, v1.pk]
    assert [creative.version for creative in versions] == [3, 2, 1]
    assert unrelated.pk not in {creative.pk for creative in versions}
    assert [c.pk for c in creative_versions(creative=v3)] == [v3.pk, v2.pk, v1.pk]


def test_unknown_field_in_update_is_refused(owner, google_unit):
    creative = _google_creative(owner, google_unit)

    with pytest.raises(InvalidInput) as excinfo:
        creative_update(actor=owner, creative_id=creative.pk, launched_at=timezone.now())

    assert _rules(excinfo) == [("launched_at", "unknown_field")]
    assert AdCreative.objects.get(pk=creative.pk).launched_at is None


def test_delete_of_a_never_launched_creative_removes_every_version(owner, google_unit):
    creative = _google_creative(owner, google_unit)

    creative_delete(actor=owner, creative_id=creative.pk)

    assert not AdCreative.objects.exists()


def test_delete_is_refused_once_any_version_launched(owner, google_unit):
    # Given v1 launched and v2 (current) not yet
    v1 = _google_creative(owner, google_unit)
    _launch(v1)
    v2 = creative_update(actor=owner, creative_id=v1.pk, name="v2")

    # When either version is deleted
    for creative_id in (v2.pk, v1.pk):
        with pytest.raises(Conflict):
            creative_delete(actor=owner, creative_id=creative_id)

    # Then both are kept
    assert set(AdCreative.objects.values_list("pk", flat=True)) == {v1.pk, v2.pk}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://x",
        "//evil.com",
        "tastychips.co/spicy",
        "https://",
        "https://www.tastychips.co/spicy offer",
        "",
    ],
)
def test_destination_must_be_an_absolute_http_url(owner, google_unit, url):
    with pytest.raises(InvalidInput) as excinfo:
        _google_creative(owner, google_unit, destination_url=url)

    assert _rules(excinfo) == [("destination_url", "http_url")]
    assert not AdCreative.objects.exists()


def test_destination_is_checked_on_update_too(owner, google_unit):
    creative = _google_creative(owner, google_unit)

    with pytest.raises(InvalidInput) as excinfo:
        creative_update(actor=owner, creative_id=creative.pk, destination_url="javascript:x")

    assert _rules(excinfo) == [("destination_url", "http_url")]
    assert AdCreative.objects.get(pk=creative.pk).destination_url == (
        "https://www.tastychips.co/spicy"
    )


def test_unknown_call_to_action_is_refused(owner, meta_unit):
    with pytest.raises(InvalidInput) as excinfo:
        creative_create(
            actor=owner,
            unit_id=meta_unit.pk,
            destination_url="https://www.tastychips.co/",
            call_to_action="CLICK_HERE",
        )

    assert _rules(excinfo) == [("call_to_action", "choice")]
    assert not AdCreative.objects.exists()


def test_call_to_action_is_normalized_to_upper_case(owner, meta_unit):
    creative = creative_create(
        actor=owner,
        unit_id=meta_unit.pk,
        destination_url="https://www.tastychips.co/",
        call_to_action=" shop_now ",
    )

    assert AdCreative.objects.get(pk=creative.pk).call_to_action == "SHOP_NOW"


def test_media_of_another_organization_is_not_found(owner, other_org, meta_unit):
    foreign_media = make_media(make_actor(other_org))

    with pytest.raises(InvalidInput) as excinfo:
        creative_create(
            actor=owner,
            unit_id=meta_unit.pk,
            destination_url="https://www.tastychips.co/",
            media_id=foreign_media.pk,
        )

    assert _rules(excinfo) == [("media_id", "not_found")]
    assert not AdCreative.objects.exists()


def test_media_of_the_organization_is_attached(owner, meta_unit):
    media = make_media(owner)

    creative = creative_create(
        actor=owner,
        unit_id=meta_unit.pk,
        destination_url="https://www.tastychips.co/",
        media_id=media.pk,
    )

    assert AdCreative.objects.get(pk=creative.pk).media_id == media.pk


def test_too_many_headlines_for_storage_are_refused(owner, google_unit):
    with pytest.raises(InvalidInput) as excinfo:
        _google_creative(owner, google_unit, headlines=[f"H{n}" for n in range(21)])

    assert _rules(excinfo) == [("headlines", "max_items")]


def test_unit_of_another_organization_is_not_found(owner, other_org, google_unit):
    with pytest.raises(NotFound):
        _google_creative(make_actor(other_org), google_unit)

    assert not AdCreative.objects.exists()


def test_viewer_cannot_create_creatives(owner, viewer, google_unit):
    with pytest.raises(PermissionDenied):
        _google_creative(viewer, google_unit)


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_creatives_of_a_finished_campaign_cannot_change(owner, google_unit, status):
    creative = _google_creative(owner, google_unit)
    Campaign.objects.filter(pk=google_unit.campaign_id).update(status=status)

    with pytest.raises(Conflict):
        creative_update(actor=owner, creative_id=creative.pk, name="late edit")
    with pytest.raises(Conflict):
        _google_creative(owner, google_unit)

    assert AdCreative.objects.get(pk=creative.pk).name == ""
    assert AdCreative.objects.count() == 1


def test_findings_report_a_google_headline_over_30_characters(owner, google_unit):
    # Given a Google creative whose first headline has 31 characters
    headline = "x" * 31
    creative = _google_creative(
        owner, google_unit, headlines=[headline, "Second headline", "Third headline"]
    )

    # When its findings are computed
    findings = creative_findings(creative)

    # Then the only blocking finding is that headline being too long
    blocking = [(f.severity, f.field, f.code) for f in findings if f.is_blocking]
    assert blocking == [(Severity.ERROR, "headlines.0", "headline_too_long")]


def test_findings_of_a_valid_google_creative_have_no_errors(owner, google_unit):
    creative = _google_creative(owner, google_unit)

    assert [f for f in creative_findings(creative) if f.is_blocking] == []
