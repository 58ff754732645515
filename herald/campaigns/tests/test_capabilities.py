"""The platform capability table and the creative validator, rule by rule.

Pure Python: runs with ``-p no:django``. Each test builds a creative that is valid for
its platform, breaks one rule (usually at its boundary) and asserts the exact findings
as (severity, field, code) triples.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace

import pytest

from herald.campaigns.capabilities import (
    CALL_TO_ACTIONS,
    PLATFORM_CAPABILITIES,
    CreativeInput,
    Finding,
    MediaFacts,
    Severity,
    character_count,
    display_url,
    get_capabilities,
    has_blocking_findings,
    link_domain,
    validate_creative,
)
from herald.campaigns.channels import get_channel
from herald.core.errors import FieldError

ERROR = Severity.ERROR
WARNING = Severity.WARNING

SQUARE_JPEG = MediaFacts(content_type="image/jpeg", width=1080, height=1080, size_bytes=250_000)

TASTY_HEADLINE = "New Spicy Jalapeño Chips | 20% Off"
TASTY_DESCRIPTION = "Made with organic potatoes and real jalapeños. Crunch into the heat today!"
TASTY_CHIPS = CreativeInput(
    headlines=[TASTY_HEADLINE],
    descriptions=[TASTY_DESCRIPTION],
    # The Meta preview shows the description sentence as the post text.
    primary_text=TASTY_DESCRIPTION,
    destination_url="https://www.tastychips.co/spicy",
    call_to_action="SHOP_NOW",
    media=SQUARE_JPEG,
)


def _text(length: int) -> str:
    return "x" * length


def _headlines(count: int) -> list[str]:
    return [f"Headline number {number}" for number in range(1, count + 1)]


def _google_creative(**changes: object) -> CreativeInput:
    valid = CreativeInput(
        headlines=_headlines(3),
        descriptions=["Crunchy chips made daily.", "Free delivery on every order."],
        display_path=["chips", "spicy"],
        destination_url="https://www.tastychips.co/spicy",
    )
    return replace(valid, **changes)  # type: ignore[arg-type]


def _meta_creative(**changes: object) -> CreativeInput:
    valid = CreativeInput(
        headlines=["Spicy chips, 20% off"],
        descriptions=["Free delivery"],
        primary_text="Our hottest chips yet.",
        destination_url="https://www.tastychips.co/spicy",
        call_to_action="SHOP_NOW",
        media=SQUARE_JPEG,
    )
    return replace(valid, **changes)  # type: ignore[arg-type]


def _image(width: int = 1080, height: int = 1080, **changes: object) -> MediaFacts:
    return replace(SQUARE_JPEG, width=width, height=height, **changes)  # type: ignore[arg-type]


def _triples(findings: list[Finding]) -> list[tuple[Severity, str, str]]:
    return [(finding.severity, finding.field, finding.code) for finding in findings]


def _google(creative: CreativeInput) -> list[tuple[Severity, str, str]]:
    return _triples(validate_creative("google_ads", creative))


def _meta(creative: CreativeInput) -> list[tuple[Severity, str, str]]:
    return _triples(validate_creative("meta_ads", creative))


# --- The capability table ----------------------------------------------------------


def test_every_capability_row_belongs_to_a_registered_channel_and_uses_its_label():
    for key, capabilities in PLATFORM_CAPABILITIES.items():
        assert capabilities.channel == key
        assert capabilities.label == get_channel(key).label
    assert sorted(PLATFORM_CAPABILITIES) == ["google_ads", "meta_ads"]


def test_get_capabilities_returns_the_row_and_raises_key_error_for_unknown_channel():
    assert get_capabilities("google_ads").ad_format == "Responsive search ad"
    assert get_capabilities("meta_ads").ad_format == "Feed link ad"
    with pytest.raises(KeyError):
        get_capabilities("tiktok_ads")


def test_validate_creative_for_unknown_channel_raises_key_error():
    with pytest.raises(KeyError):
        validate_creative("tiktok_ads", _google_creative())


def test_google_capabilities_as_dict_gives_the_search_ad_limits_and_no_images():
    # When the API renders Google's row
    data = get_capabilities("google_ads").as_dict()

    # Then it is JSON-ready and states the RSA limits
    json.dumps(data)
    assert {key: data[key] for key in ("headlines_min", "headlines_max", "headline_max_chars")} == {
        "headlines_min": 3,
        "headlines_max": 15,
        "headline_max_chars": 30,
    }
    assert data["descriptions_min"] == 2
    assert data["descriptions_max"] == 4
    assert data["description_max_chars"] == 90
    assert data["display_path_max_parts"] == 2
    assert data["display_path_max_chars"] == 15
    assert data["primary_text_max_chars"] is None
    assert data["supports_images"] is False
    assert data["requires_image"] is False
    assert data["image"] is None
    assert data["call_to_actions"] == []


def test_meta_capabilities_as_dict_gives_image_spec_and_labelled_call_to_actions():
    data = get_capabilities("meta_ads").as_dict()

    json.dumps(data)
    assert data["supports_images"] is True
    assert data["requires_image"] is True
    assert data["image"] == {
        "content_types": ["image/jpeg", "image/png"],
        "hard_min_width": 200,
        "hard_min_height": 200,
        "min_width": 600,
        "min_height": 600,
        "recommended_width": 1080,
        "recommended_height": 1080,
        "min_aspect_ratio": 0.8,
        "max_aspect_ratio": 1.91,
        "max_bytes": 30 * 1024 * 1024,
    }
    assert data["headline_max_chars"] == 40
    assert data["headline_hard_max_chars"] is None
    assert data["primary_text_max_chars"] == 125
    assert data["primary_text_hard_max_chars"] == 2200
    call_to_actions = data["call_to_actions"]
    assert isinstance(call_to_actions, list)
    assert call_to_actions[0] == {"value": "SHOP_NOW", "label": "Shop Now"}
    assert len(call_to_actions) == len(CALL_TO_ACTIONS)


def test_finding_as_dict_and_as_field_error():
    finding = Finding(ERROR, "headlines.0", "headline_too_long", "Too long.")

    assert finding.as_dict() == {
        "severity": "error",
        "field": "headlines.0",
        "code": "headline_too_long",
        "message": "Too long.",
    }
    assert finding.as_field_error() == FieldError("headlines.0", "headline_too_long", "Too long.")


# --- Tasty Chips: the seed example on both platforms -------------------------------


def test_tasty_chips_on_google_rejects_the_34_character_headline_and_missing_assets():
    # Given the seed creative with one 34-character headline, one description and an image
    # When it is validated for a Google responsive search ad
    findings = validate_creative("google_ads", TASTY_CHIPS)

    # Then headline 1 is too long, there are too few headlines and descriptions, and
    # the image only draws a warning; the CTA and primary text are not Google's concern
    assert _triples(findings) == [
        (ERROR, "descriptions", "too_few_descriptions"),
        (ERROR, "headlines", "too_few_headlines"),
        (ERROR, "headlines.0", "headline_too_long"),
        (WARNING, "media", "image_not_supported"),
    ]
    messages = {finding.code: finding.message for finding in findings}
    assert messages["headline_too_long"] == (
        "Headline 1 is 34 characters; Google Ads allows 30. It will be rejected."
    )
    assert messages["too_few_headlines"] == "Google Ads needs at least 3 headlines; this ad has 1."
    assert messages["too_few_descriptions"] == (
        "Google Ads needs at least 2 descriptions; this ad has 1."
    )
    assert messages["image_not_supported"] == (
        "Google Ads responsive search ads show no images; the uploaded image is ignored."
    )
    assert has_blocking_findings(findings) is True


def test_tasty_chips_on_meta_has_no_error_only_the_description_truncation_warning():
    # Given the same creative
    # When it is validated for a Meta feed link ad
    findings = validate_creative("meta_ads", TASTY_CHIPS)

    # Then the 34-character headline fits Meta's 40 and only the 74-character link
    # description is flagged as truncated
    assert _triples(findings) == [(WARNING, "descriptions.0", "description_truncated")]
    assert findings[0].message == (
        "Description 1 is 74 characters; Meta Ads shows about 30 before cutting it off."
    )
    assert has_blocking_findings(findings) is False


def test_tasty_chips_preview_urls():
    assert display_url(TASTY_CHIPS.destination_url, ["spicy"]) == "www.tastychips.co/spicy"
    assert link_domain(TASTY_CHIPS.destination_url) == "tastychips.co"


# --- Character counting ------------------------------------------------------------


def test_character_count_counts_the_nfc_form_so_decomposed_accents_count_once():
    decomposed = unicodedata.normalize("NFD", TASTY_HEADLINE)
    assert len(decomposed) == 35

    assert character_count(decomposed) == 34
    assert character_count(TASTY_HEADLINE) == 34


def test_decomposed_headline_is_judged_by_its_nfc_length():
    # Given a 30-character headline typed with a combining tilde (31 code points)
    headline = unicodedata.normalize("NFD", "Jalapeño" + _text(22))
    assert len(headline) == 31

    # Then Google accepts it
    assert _google(_google_creative(headlines=[headline, "Two", "Three"])) == []


# --- Google: headlines -------------------------------------------------------------


def test_google_valid_creative_has_no_findings():
    assert validate_creative("google_ads", _google_creative()) == []


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (30, []),
        (31, [(ERROR, "headlines.1", "headline_too_long")]),
    ],
)
def test_google_headline_length_boundary(length, expected):
    creative = _google_creative(headlines=["One", _text(length), "Three"])

    assert _google(creative) == expected


@pytest.mark.parametrize("blank", ["", "   "])
def test_google_blank_headline_is_an_error_and_does_not_count(blank):
    # Given four headlines of which the second is blank (three filled: enough)
    creative = _google_creative(headlines=["One", blank, "Three", "Four"])

    assert _google(creative) == [(ERROR, "headlines.1", "headline_empty")]


def test_google_blank_headline_leaving_too_few_filled_gives_both_errors():
    creative = _google_creative(headlines=["One", "", "Three"])

    assert _google(creative) == [
        (ERROR, "headlines", "too_few_headlines"),
        (ERROR, "headlines.1", "headline_empty"),
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (2, [(ERROR, "headlines", "too_few_headlines")]),
        (3, []),
        (15, []),
        (16, [(ERROR, "headlines", "too_many_headlines")]),
    ],
)
def test_google_headline_count_boundaries(count, expected):
    assert _google(_google_creative(headlines=_headlines(count))) == expected


def test_google_too_many_headlines_message_names_limit_and_count():
    findings = validate_creative("google_ads", _google_creative(headlines=_headlines(16)))

    assert findings[0].message == (
        "Google Ads accepts at most 15 headlines; this ad has 16. It will be rejected."
    )


def test_google_duplicate_headline_ignoring_case_is_reported_on_the_repeat():
    creative = _google_creative(headlines=["Spicy Chips", "Other", "spicy chips "])

    findings = validate_creative("google_ads", creative)

    assert _triples(findings) == [(ERROR, "headlines.2", "duplicate_headline")]
    assert findings[0].message == (
        "Headline 3 repeats headline 1; Google Ads rejects duplicate headlines."
    )


# --- Google: descriptions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (90, []),
        (91, [(ERROR, "descriptions.0", "description_too_long")]),
    ],
)
def test_google_description_length_boundary(length, expected):
    creative = _google_creative(descriptions=[_text(length), "Second"])

    assert _google(creative) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, [(ERROR, "descriptions", "too_few_descriptions")]),
        (2, []),
        (4, []),
        (5, [(ERROR, "descriptions", "too_many_descriptions")]),
    ],
)
def test_google_description_count_boundaries(count, expected):
    descriptions = [f"Description {number}" for number in range(1, count + 1)]

    assert _google(_google_creative(descriptions=descriptions)) == expected


def test_google_blank_description_is_an_error():
    creative = _google_creative(descriptions=["One", " ", "Three"])

    assert _google(creative) == [(ERROR, "descriptions.1", "description_empty")]


# --- Google: display path ----------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (15, []),
        (16, [(ERROR, "display_path.0", "display_path_too_long")]),
    ],
)
def test_google_display_path_length_boundary(length, expected):
    assert _google(_google_creative(display_path=[_text(length)])) == expected


def test_google_display_path_2_length_error_names_path_2():
    findings = validate_creative("google_ads", _google_creative(display_path=["a", _text(16)]))

    assert _triples(findings) == [(ERROR, "display_path.1", "display_path_too_long")]
    assert (
        findings[0].message == "Path 2 is 16 characters; Google Ads allows 15. It will be rejected."
    )


@pytest.mark.parametrize("blank", ["", "  "])
def test_google_path_2_without_path_1_is_an_error(blank):
    findings = validate_creative("google_ads", _google_creative(display_path=[blank, "spicy"]))

    assert _triples(findings) == [(ERROR, "display_path.1", "display_path_needs_previous")]
    assert findings[0].message == (
        "Path 2 is set but path 1 is empty; Google Ads shows path 2 only after path 1."
    )


@pytest.mark.parametrize("display_path", [[], [""], ["", ""], ["chips"], ["chips", ""]])
def test_google_empty_or_partial_display_path_is_fine(display_path):
    assert _google(_google_creative(display_path=display_path)) == []


def test_google_third_display_path_part_is_an_error():
    creative = _google_creative(display_path=["chips", "spicy", "hot"])

    assert _google(creative) == [(ERROR, "display_path", "too_many_display_paths")]


# --- Google: destination, image, call to action ------------------------------------


@pytest.mark.parametrize(
    ("destination_url", "code"),
    [
        ("", "destination_required"),
        ("   ", "destination_required"),
        ("ftp://tastychips.co/spicy", "destination_invalid"),
        ("www.tastychips.co/spicy", "destination_invalid"),
        ("javascript:alert(1)", "destination_invalid"),
    ],
)
def test_google_destination_must_be_an_http_url(destination_url, code):
    creative = _google_creative(destination_url=destination_url)

    assert _google(creative) == [(ERROR, "destination_url", code)]


def test_google_any_image_gives_only_the_ignored_warning():
    # Given an image Meta would reject outright (tiny GIF, far too large a file)
    creative = _google_creative(
        media=MediaFacts(content_type="image/gif", width=10, height=500, size_bytes=10**9)
    )

    # Then Google only warns that it is ignored: it is never sent
    assert _google(creative) == [(WARNING, "media", "image_not_supported")]
    assert has_blocking_findings(validate_creative("google_ads", creative)) is False


@pytest.mark.parametrize("call_to_action", ["", "SHOP_NOW", "NOT_A_BUTTON"])
def test_google_call_to_action_and_primary_text_are_unused(call_to_action):
    creative = _google_creative(call_to_action=call_to_action, primary_text=_text(3000))

    assert _google(creative) == []


# --- Meta: headline, description, primary text -------------------------------------


def test_meta_valid_creative_has_no_findings():
    assert validate_creative("meta_ads", _meta_creative()) == []


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (40, []),
        (41, [(WARNING, "headlines.0", "headline_truncated")]),
        (500, [(WARNING, "headlines.0", "headline_truncated")]),
    ],
)
def test_meta_headline_length_is_a_truncation_warning(length, expected):
    assert _meta(_meta_creative(headlines=[_text(length)])) == expected


def test_meta_without_headline_is_an_error():
    findings = validate_creative("meta_ads", _meta_creative(headlines=[]))

    assert _triples(findings) == [(ERROR, "headlines", "too_few_headlines")]
    assert findings[0].message == "Meta Ads needs at least 1 headline; this ad has 0."


def test_meta_blank_first_headline_is_an_error_and_the_second_is_ignored():
    creative = _meta_creative(headlines=[" ", "Second"])

    assert _meta(creative) == [
        (WARNING, "headlines", "extra_headlines_ignored"),
        (ERROR, "headlines", "too_few_headlines"),
        (ERROR, "headlines.0", "headline_empty"),
    ]


def test_meta_extra_headlines_are_ignored_with_a_warning_and_not_length_checked():
    # Given three headlines, the extras far beyond Meta's 40 characters
    creative = _meta_creative(headlines=["Spicy chips", _text(90), _text(90)])

    findings = validate_creative("meta_ads", creative)

    # Then one warning on the list, none on the unused headlines
    assert _triples(findings) == [(WARNING, "headlines", "extra_headlines_ignored")]
    assert findings[0].message == (
        "Meta Ads feed link ads use only the first headline; the other 2 headlines will be ignored."
    )


def test_meta_blank_extra_headlines_draw_no_warning():
    assert _meta(_meta_creative(headlines=["Spicy chips", "", " "])) == []


def test_meta_extra_descriptions_are_ignored_with_a_warning():
    creative = _meta_creative(descriptions=["Free delivery", "Organic"])

    assert _meta(creative) == [(WARNING, "descriptions", "extra_descriptions_ignored")]


def test_meta_description_is_optional():
    assert _meta(_meta_creative(descriptions=[])) == []


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (30, []),
        (31, [(WARNING, "descriptions.0", "description_truncated")]),
    ],
)
def test_meta_description_length_is_a_truncation_warning(length, expected):
    assert _meta(_meta_creative(descriptions=[_text(length)])) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (125, []),
        (126, [(WARNING, "primary_text", "primary_text_truncated")]),
        (2200, [(WARNING, "primary_text", "primary_text_truncated")]),
        (2201, [(ERROR, "primary_text", "primary_text_too_long")]),
    ],
)
def test_meta_primary_text_length_boundaries(length, expected):
    assert _meta(_meta_creative(primary_text=_text(length))) == expected


def test_meta_primary_text_messages_name_limit_and_length():
    truncated = validate_creative("meta_ads", _meta_creative(primary_text=_text(126)))
    too_long = validate_creative("meta_ads", _meta_creative(primary_text=_text(2201)))

    assert truncated[0].message == (
        "Primary text is 126 characters; Meta Ads shows about 125 before cutting it off."
    )
    assert too_long[0].message == (
        "Primary text is 2201 characters; Meta Ads allows 2200. It will be rejected."
    )


@pytest.mark.parametrize("primary_text", ["", "  \n"])
def test_meta_primary_text_is_required(primary_text):
    creative = _meta_creative(primary_text=primary_text)

    assert _meta(creative) == [(ERROR, "primary_text", "primary_text_required")]


def test_meta_ignores_display_path():
    assert _meta(_meta_creative(display_path=["", _text(50), "third"])) == []


def test_meta_destination_is_required():
    assert _meta(_meta_creative(destination_url="")) == [
        (ERROR, "destination_url", "destination_required")
    ]


# --- Meta: image -------------------------------------------------------------------


def test_meta_image_is_required():
    findings = validate_creative("meta_ads", _meta_creative(media=None))

    assert _triples(findings) == [(ERROR, "media", "image_required")]
    assert findings[0].message == (
        "Meta Ads feed link ads need an image; upload a JPEG or PNG, ideally 1080x1080 px."
    )


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "IMAGE/PNG; q=1"])
def test_meta_accepts_jpeg_and_png(content_type):
    assert _meta(_meta_creative(media=_image(content_type=content_type))) == []


@pytest.mark.parametrize("content_type", ["image/gif", "image/webp", ""])
def test_meta_rejects_other_image_types(content_type):
    creative = _meta_creative(media=_image(content_type=content_type))

    assert _meta(creative) == [(ERROR, "media", "image_type_not_supported")]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (600, 600, []),
        (599, 600, [(WARNING, "media", "image_too_small")]),
        (600, 599, [(WARNING, "media", "image_too_small")]),
        (200, 200, [(WARNING, "media", "image_too_small")]),
        (199, 199, [(ERROR, "media", "image_below_minimum")]),
        (200, 199, [(ERROR, "media", "image_below_minimum")]),
        (0, 0, [(ERROR, "media", "image_below_minimum")]),
    ],
)
def test_meta_image_size_boundaries(width, height, expected):
    assert _meta(_meta_creative(media=_image(width, height))) == expected


def test_meta_small_image_message_names_size_and_recommendation():
    findings = validate_creative("meta_ads", _meta_creative(media=_image(599, 600)))

    assert findings[0].message == (
        "The image is 599x600 px; Meta Ads recommends at least 600x600 px "
        "(ideally 1080x1080), so it may look blurry."
    )


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        # Ratios are judged at two decimals, half up: 1.914 is 1.91, 1.915 is 1.92.
        (1914, 1000, []),
        (1915, 1000, [(WARNING, "media", "image_aspect_ratio")]),
        (795, 1000, []),
        (794, 1000, [(WARNING, "media", "image_aspect_ratio")]),
        (1200, 628, []),  # Meta's own 1.91:1 link ad template
        (1080, 1350, []),  # 4:5
        (2000, 1000, [(WARNING, "media", "image_aspect_ratio")]),
    ],
)
def test_meta_image_aspect_ratio_boundaries(width, height, expected):
    assert _meta(_meta_creative(media=_image(width, height))) == expected


def test_meta_aspect_ratio_message_names_shape_and_range():
    findings = validate_creative("meta_ads", _meta_creative(media=_image(1915, 1000)))

    assert findings[0].message == (
        "The image is 1915x1000 px, a 1.92:1 shape; Meta Ads shows shapes from 1.91:1 "
        "(wide) to 4:5 (tall), so it will be cropped."
    )


def test_meta_narrow_tiny_image_is_rejected_and_would_be_cropped():
    creative = _meta_creative(media=_image(150, 600))

    assert _meta(creative) == [
        (WARNING, "media", "image_aspect_ratio"),
        (ERROR, "media", "image_below_minimum"),
    ]


@pytest.mark.parametrize(
    ("size_bytes", "expected"),
    [
        (30 * 1024 * 1024, []),
        (30 * 1024 * 1024 + 1, [(ERROR, "media", "image_too_large")]),
    ],
)
def test_meta_image_file_size_boundary(size_bytes, expected):
    assert _meta(_meta_creative(media=_image(size_bytes=size_bytes))) == expected


# --- Meta: call to action ----------------------------------------------------------


@pytest.mark.parametrize("call_to_action", list(CALL_TO_ACTIONS))
def test_meta_accepts_every_listed_call_to_action(call_to_action):
    assert _meta(_meta_creative(call_to_action=call_to_action)) == []


def test_meta_call_to_action_is_required():
    findings = validate_creative("meta_ads", _meta_creative(call_to_action=""))

    assert _triples(findings) == [(ERROR, "call_to_action", "cta_required")]
    assert findings[0].message == (
        "Meta Ads feed link ads need a call-to-action button; choose one such as "
        "SHOP_NOW, LEARN_MORE, SIGN_UP, SUBSCRIBE or NO_BUTTON."
    )


@pytest.mark.parametrize("call_to_action", ["SHOP_NOWW", "Shop Now", "shop_now"])
def test_meta_unknown_call_to_action_is_an_error_naming_the_value(call_to_action):
    findings = validate_creative("meta_ads", _meta_creative(call_to_action=call_to_action))

    assert _triples(findings) == [(ERROR, "call_to_action", "cta_not_supported")]
    assert findings[0].message == (
        f'"{call_to_action}" is not a call to action Meta Ads accepts; use one such as '
        "SHOP_NOW, LEARN_MORE, SIGN_UP, SUBSCRIBE or NO_BUTTON."
    )


# --- Ordering and blocking ---------------------------------------------------------


def test_findings_are_sorted_by_field_with_numeric_indexes_then_code():
    # Given errors spread over many fields, including headline 11 and headline 3
    headlines = _headlines(11)
    headlines[2] = "a" * 31
    headlines[10] = "b" * 31
    creative = _google_creative(
        headlines=headlines,
        descriptions=["Only one"],
        display_path=["", "spicy"],
        destination_url="",
        media=SQUARE_JPEG,
    )

    # Then they come back by field, "headlines.2" before "headlines.10"
    assert _google(creative) == [
        (ERROR, "descriptions", "too_few_descriptions"),
        (ERROR, "destination_url", "destination_required"),
        (ERROR, "display_path.1", "display_path_needs_previous"),
        (ERROR, "headlines.2", "headline_too_long"),
        (ERROR, "headlines.10", "headline_too_long"),
        (WARNING, "media", "image_not_supported"),
    ]


def test_findings_on_one_field_are_sorted_by_code():
    creative = _meta_creative(media=_image(150, 600, content_type="image/gif"))

    assert _meta(creative) == [
        (WARNING, "media", "image_aspect_ratio"),
        (ERROR, "media", "image_below_minimum"),
        (ERROR, "media", "image_type_not_supported"),
    ]


def test_has_blocking_findings_is_true_only_with_an_error():
    warning = Finding(WARNING, "media", "image_not_supported", "Ignored.")
    error = Finding(ERROR, "headlines", "too_few_headlines", "Too few.")

    assert has_blocking_findings([]) is False
    assert has_blocking_findings([warning]) is False
    assert has_blocking_findings(iter([warning, error])) is True


# --- Preview URLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination_url", "display_path", "expected"),
    [
        ("https://www.tastychips.co/", ["spicy"], "www.tastychips.co/spicy"),
        ("https://www.tastychips.co/spicy?x=1", [], "www.tastychips.co"),
        ("https://www.tastychips.co/spicy", ["chips", "spicy"], "www.tastychips.co/chips/spicy"),
        ("https://www.tastychips.co/spicy", ["", " "], "www.tastychips.co"),
        ("http://TastyChips.co:8080/spicy", [" hot "], "tastychips.co/hot"),
        ("www.tastychips.co/spicy", ["spicy"], ""),
        ("ftp://tastychips.co", [], ""),
        ("", ["spicy"], ""),
    ],
)
def test_display_url_is_host_plus_display_path(destination_url, display_path, expected):
    assert display_url(destination_url, display_path) == expected


@pytest.mark.parametrize(
    ("destination_url", "expected"),
    [
        ("https://www.tastychips.co/spicy", "tastychips.co"),
        ("https://shop.tastychips.co/spicy", "shop.tastychips.co"),
        ("https://TastyChips.co", "tastychips.co"),
        ("tastychips.co", ""),
        ("", ""),
    ],
)
def test_link_domain_is_host_without_www(destination_url, expected):
    assert link_domain(destination_url) == expected
