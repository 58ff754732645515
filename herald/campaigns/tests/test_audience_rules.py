"""Audience rules: validation, normalization, summary and the Meta targeting spec.

Pure Python (no database): run with ``-p no:django``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pycountry
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from herald.campaigns.audience_rules import (
    AGE_MAX,
    AGE_MIN,
    DEVICES,
    GENDERS,
    MAX_INTERESTS,
    MAX_LANGUAGES,
    RULES,
    audience_rules_to_json,
    audience_rules_validate,
    audience_summary,
    meta_targeting_spec,
)
from herald.core.errors import FieldError, InvalidInput

EN_DASH = "\u2013"  # the summary writes age ranges as 18 to 65+
TWO_LETTER_LANGUAGES = sorted(
    language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")
)

FULL_EXAMPLE: dict[str, Any] = {
    "locations": {
        "countries": ["us", "CA"],
        "regions": [{"country": "us", "code": "us-ca", "name": "California"}],
        "cities": [{"country": "US", "name": " Austin ", "radius_km": 25}],
    },
    "age": {"min": 18, "max": 65},
    "genders": ["female"],
    "interests": [{"name": "Snacks", "id": "6003139266461"}, {"name": "Hiking"}],
    "languages": ["EN", "es"],
    "devices": ["mobile"],
}

FULL_EXAMPLE_NORMALIZED: dict[str, object] = {
    "locations": {
        "countries": ["US", "CA"],
        "regions": [{"country": "US", "code": "US-CA", "name": "California", "meta_key": None}],
        "cities": [{"country": "US", "name": "Austin", "radius_km": 25, "meta_key": None}],
    },
    "age": {"min": 18, "max": 65},
    "genders": ["female"],
    "interests": [
        {"name": "Snacks", "id": "6003139266461"},
        {"name": "Hiking", "id": None},
    ],
    "languages": ["en", "es"],
    "devices": ["mobile"],
}


def us_audience(**sections: object) -> dict[str, object]:
    """A valid audience (the United States) with ``sections`` added or replaced."""
    return {"locations": {"countries": ["US"]}, **sections}


def with_locations(**lists: object) -> dict[str, object]:
    return {"locations": lists}


def problems(raw: object) -> list[tuple[str, str]]:
    """The (field, rule) pairs ``audience_rules_validate`` reports for ``raw``."""
    return [(error.field, error.rule) for error in field_errors(raw)]


def field_errors(raw: object) -> list[FieldError]:
    with pytest.raises(InvalidInput) as raised:
        audience_rules_validate(raw)
    return raised.value.errors


# --- Normalization ------------------------------------------------------------------


def test_given_full_example_when_validated_then_normalized_json_is_exact() -> None:
    rules = audience_rules_validate(FULL_EXAMPLE)

    assert audience_rules_to_json(rules) == FULL_EXAMPLE_NORMALIZED


def test_given_full_example_when_stored_then_keys_follow_schema_order() -> None:
    stored = audience_rules_to_json(audience_rules_validate(FULL_EXAMPLE))

    assert list(stored) == ["locations", "age", "genders", "interests", "languages", "devices"]
    locations = stored["locations"]
    assert isinstance(locations, dict)
    assert list(locations) == ["countries", "regions", "cities"]


def test_given_only_a_country_when_validated_then_defaults_fill_the_rest() -> None:
    rules = audience_rules_validate({"locations": {"countries": ["de"]}})

    assert audience_rules_to_json(rules) == {
        "locations": {"countries": ["DE"], "regions": [], "cities": []},
        "age": {"min": 18, "max": 65},
        "genders": [],
        "interests": [],
        "languages": [],
        "devices": [],
    }


def test_given_lists_in_any_order_when_validated_then_order_is_kept() -> None:
    rules = audience_rules_validate(
        us_audience(
            locations={"countries": ["FR", "BE", "AT"]},
            languages=["nl", "fr", "de"],
            devices=["tablet", "desktop", "mobile"],
            genders=["male", "female"],
        )
    )

    assert rules.locations.countries == ("FR", "BE", "AT")
    assert rules.languages == ("nl", "fr", "de")
    assert rules.devices == ("tablet", "desktop", "mobile")
    assert rules.genders == ("male", "female")


def test_given_only_age_min_when_validated_then_age_max_defaults_to_65_plus() -> None:
    rules = audience_rules_validate(us_audience(age={"min": 21}))

    assert (rules.age.min, rules.age.max) == (21, 65)


def test_given_valid_rules_when_assigning_then_rules_are_frozen() -> None:
    rules = audience_rules_validate(FULL_EXAMPLE)

    with pytest.raises(ValidationError):
        rules.genders = ()  # type: ignore[misc, unused-ignore]  # misc only with pydantic's plugin


def test_given_public_constants_then_they_match_the_schema() -> None:
    assert (AGE_MIN, AGE_MAX) == (13, 65)
    assert GENDERS == ("female", "male")
    assert DEVICES == ("desktop", "mobile", "tablet")


# --- Age ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ({"min": 13, "max": 65}, (13, 65)),
        ({"min": 13, "max": 13}, (13, 13)),
        ({"min": 65, "max": 65}, (65, 65)),
        ({"min": 30, "max": 30}, (30, 30)),
    ],
)
def test_given_age_at_the_bounds_when_validated_then_accepted(
    age: dict[str, int], expected: tuple[int, int]
) -> None:
    rules = audience_rules_validate(us_audience(age=age))

    assert (rules.age.min, rules.age.max) == expected


@pytest.mark.parametrize(
    ("age", "field"),
    [
        ({"min": 12}, "age.min"),
        ({"min": 66, "max": 65}, "age.min"),
        ({"max": 66}, "age.max"),
        ({"min": 18, "max": 12}, "age.max"),
    ],
)
def test_given_age_outside_13_to_65_when_validated_then_range_error(
    age: dict[str, int], field: str
) -> None:
    assert field_errors(us_audience(age=age)) == [
        FieldError(field, "range", "Ages run from 13 to 65 (65 means 65+).")
    ]


def test_given_age_min_above_max_when_validated_then_order_error() -> None:
    assert field_errors(us_audience(age={"min": 40, "max": 30})) == [
        FieldError("age", "order", "The minimum age (40) is above the maximum (30).")
    ]


@pytest.mark.parametrize(
    ("value", "found"),
    [(True, "true/false"), (False, "true/false"), ("18", "text"), (18.0, "a decimal number")],
)
def test_given_age_that_is_not_an_integer_when_validated_then_type_error(
    value: object, found: str
) -> None:
    assert field_errors(us_audience(age={"min": value})) == [
        FieldError("age.min", "type", f"Expected a whole number, not {found}.")
    ]


# --- Locations ------------------------------------------------------------------------


def test_given_invalid_country_when_validated_then_iso_3166_1_error_at_its_index() -> None:
    assert field_errors(with_locations(countries=["XX"])) == [
        FieldError(
            "locations.countries.0",
            "iso_3166_1",
            "“XX” is not a country code. Use two-letter ISO 3166-1 codes such as US or DE.",
        )
    ]


@pytest.mark.parametrize("code", ["USA", "U", "", "ﬁ", "1A"])
def test_given_malformed_country_code_when_validated_then_iso_3166_1_error(code: str) -> None:
    assert problems(with_locations(countries=["US", code])) == [
        ("locations.countries.1", "iso_3166_1")
    ]


def test_given_region_code_of_another_country_when_validated_then_country_mismatch() -> None:
    raw = with_locations(regions=[{"country": "CA", "code": "US-CA"}])

    assert field_errors(raw) == [
        FieldError(
            "locations.regions.0.code",
            "country_mismatch",
            "US-CA is a region of US, not of CA.",
        )
    ]


def test_given_unknown_region_code_when_validated_then_iso_3166_2_error() -> None:
    raw = with_locations(regions=[{"country": "US", "code": "US-XX"}])

    assert problems(raw) == [("locations.regions.0.code", "iso_3166_2")]


def test_given_region_without_code_when_validated_then_code_is_required() -> None:
    assert field_errors(with_locations(regions=[{"country": "US"}])) == [
        FieldError("locations.regions.0.code", "required", "This field is required.")
    ]


def test_given_region_without_name_when_validated_then_name_stays_unset() -> None:
    rules = audience_rules_validate(with_locations(regions=[{"country": "FR", "code": "FR-75C"}]))

    assert rules.locations.regions[0].name is None


@pytest.mark.parametrize("radius_km", [1, 80, None])
def test_given_city_radius_within_1_to_80_km_when_validated_then_accepted(
    radius_km: int | None,
) -> None:
    raw = with_locations(cities=[{"country": "US", "name": "Austin", "radius_km": radius_km}])

    assert audience_rules_validate(raw).locations.cities[0].radius_km == radius_km


@pytest.mark.parametrize("radius_km", [0, 81, -5])
def test_given_city_radius_outside_1_to_80_km_when_validated_then_range_error(
    radius_km: int,
) -> None:
    raw = with_locations(cities=[{"country": "US", "name": "Austin", "radius_km": radius_km}])

    assert field_errors(raw) == [
        FieldError("locations.cities.0.radius_km", "range", "The radius is 1 to 80 km.")
    ]


def test_given_city_name_of_100_characters_when_validated_then_accepted() -> None:
    raw = with_locations(cities=[{"country": "US", "name": "A" * 100}])

    assert audience_rules_validate(raw).locations.cities[0].name == "A" * 100


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "A" * 101,
            FieldError("locations.cities.0.name", "max_length", "Use at most 100 characters."),
        ),
        ("   ", FieldError("locations.cities.0.name", "required", "This cannot be empty.")),
    ],
)
def test_given_bad_city_name_when_validated_then_error(name: str, expected: FieldError) -> None:
    assert field_errors(with_locations(cities=[{"country": "US", "name": name}])) == [expected]


def test_given_city_without_country_when_validated_then_country_is_required() -> None:
    assert problems(with_locations(cities=[{"name": "Austin"}])) == [
        ("locations.cities.0.country", "required")
    ]


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"locations": {}},
        {"locations": {"countries": [], "regions": [], "cities": []}},
    ],
)
def test_given_no_location_when_validated_then_locations_are_required(raw: object) -> None:
    assert field_errors(raw) == [
        FieldError("locations", "required", "Add at least one country, region or city.")
    ]


def test_given_only_a_region_when_validated_then_it_counts_as_a_location() -> None:
    rules = audience_rules_validate(with_locations(regions=[{"country": "US", "code": "US-TX"}]))

    assert rules.locations.regions[0].code == "US-TX"


# --- Duplicates -----------------------------------------------------------------------


def test_given_same_country_in_two_cases_when_validated_then_duplicate_error() -> None:
    assert field_errors(with_locations(countries=["US", "CA", "us"])) == [
        FieldError("locations.countries.2", "duplicate", "US is already listed at position 1.")
    ]


def test_given_several_duplicates_when_validated_then_each_is_reported() -> None:
    raw = us_audience(languages=["en", "es", "EN", "es"], devices=["mobile", "mobile"])

    assert problems(raw) == [
        ("languages.2", "duplicate"),
        ("languages.3", "duplicate"),
        ("devices.1", "duplicate"),
    ]


def test_given_same_interest_id_twice_when_validated_then_duplicate_error() -> None:
    raw = us_audience(interests=[{"name": "Snacks", "id": "600"}, {"name": "Food", "id": "600"}])

    assert problems(raw) == [("interests.1", "duplicate")]


def test_given_same_interest_name_without_ids_when_validated_then_duplicate_error() -> None:
    raw = us_audience(interests=[{"name": "Snacks"}, {"name": "SNACKS"}])

    assert field_errors(raw) == [
        FieldError("interests.1", "duplicate", "SNACKS is already listed at position 1.")
    ]


def test_given_two_same_named_cities_with_different_meta_keys_then_both_are_kept() -> None:
    raw = with_locations(
        cities=[
            {"country": "US", "name": "Springfield", "meta_key": "2490299"},
            {"country": "US", "name": "Springfield", "meta_key": "2479987"},
        ]
    )

    assert len(audience_rules_validate(raw).locations.cities) == 2


def test_given_same_city_twice_without_meta_keys_when_validated_then_duplicate_error() -> None:
    raw = with_locations(
        cities=[{"country": "US", "name": "Austin"}, {"country": "US", "name": "austin"}]
    )

    assert field_errors(raw) == [
        FieldError(
            "locations.cities.1", "duplicate", "austin (US) is already listed at position 1."
        )
    ]


def test_given_same_region_twice_when_validated_then_duplicate_error() -> None:
    raw = with_locations(
        regions=[{"country": "US", "code": "US-CA"}, {"country": "us", "code": "us-ca"}]
    )

    assert problems(raw) == [("locations.regions.1", "duplicate")]


# --- Lists, choices and codes ---------------------------------------------------------


def test_given_interests_at_the_cap_when_validated_then_accepted() -> None:
    interests = [{"name": f"Interest {number}"} for number in range(MAX_INTERESTS)]

    assert len(audience_rules_validate(us_audience(interests=interests)).interests) == 100


def test_given_interests_over_the_cap_when_validated_then_max_items_error() -> None:
    interests = [{"name": f"Interest {number}"} for number in range(MAX_INTERESTS + 1)]

    assert field_errors(us_audience(interests=interests)) == [
        FieldError("interests", "max_items", "List at most 100 entries.")
    ]


def test_given_languages_at_the_cap_when_validated_then_accepted() -> None:
    languages = TWO_LETTER_LANGUAGES[:MAX_LANGUAGES]

    assert audience_rules_validate(us_audience(languages=languages)).languages == tuple(languages)


def test_given_languages_over_the_cap_when_validated_then_max_items_error() -> None:
    languages = TWO_LETTER_LANGUAGES[: MAX_LANGUAGES + 1]

    assert field_errors(us_audience(languages=languages)) == [
        FieldError("languages", "max_items", "List at most 50 entries.")
    ]


def test_given_countries_over_the_cap_when_validated_then_max_items_error() -> None:
    assert problems(with_locations(countries=["US"] * 251)) == [
        ("locations.countries", "max_items")
    ]


def test_given_unknown_gender_and_device_when_validated_then_choice_errors() -> None:
    assert field_errors(us_audience(genders=["other"], devices=["phone"])) == [
        FieldError("genders.0", "choice", "Choose 'female' or 'male'."),
        FieldError("devices.0", "choice", "Choose 'desktop', 'mobile' or 'tablet'."),
    ]


def test_given_invalid_language_when_validated_then_iso_639_1_error() -> None:
    assert field_errors(us_audience(languages=["en", "eng"])) == [
        FieldError(
            "languages.1",
            "iso_639_1",
            "“eng” is not a language code. Use two-letter ISO 639-1 codes such as en or es.",
        )
    ]


@pytest.mark.parametrize("interest_id", ["12a", "-1", "1.5", "²"])
def test_given_interest_id_with_non_digits_when_validated_then_digits_error(
    interest_id: str,
) -> None:
    assert field_errors(us_audience(interests=[{"name": "Snacks", "id": interest_id}])) == [
        FieldError("interests.0.id", "digits", "A platform id contains only the digits 0-9.")
    ]


def test_given_interest_without_name_when_validated_then_name_is_required() -> None:
    assert problems(us_audience(interests=[{"id": "600"}])) == [("interests.0.name", "required")]


# --- Unknown keys and wrong types -----------------------------------------------------


def test_given_misspelled_locations_key_when_validated_then_unknown_field() -> None:
    assert field_errors({"locatons": {"countries": ["US"]}}) == [
        FieldError("locations", "required", "Add at least one country, region or city."),
        FieldError(
            "locatons", "unknown_field", "“locatons” is not a known field; check its spelling."
        ),
    ]


def test_given_unknown_nested_key_when_validated_then_unknown_field_at_its_path() -> None:
    raw = us_audience(interests=[{"name": "Snacks", "ids": "600"}], age={"minimum": 20})

    assert problems(raw) == [("age.minimum", "unknown_field"), ("interests.0.ids", "unknown_field")]


@pytest.mark.parametrize(
    ("raw", "found"),
    [(None, "null"), ([], "a list"), ("US", "text"), (5, "a whole number"), (True, "true/false")],
)
def test_given_input_that_is_not_an_object_when_validated_then_one_type_error(
    raw: object, found: str
) -> None:
    assert field_errors(raw) == [FieldError("", "type", f"Expected an object, not {found}.")]


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({"genders": "female"}, FieldError("genders", "type", "Expected a list, not text.")),
        (
            {"devices": {"mobile"}},
            FieldError("devices", "type", "Expected a list, not an unsupported value."),
        ),
        ({"age": [18, 65]}, FieldError("age", "type", "Expected an object, not a list.")),
        (
            {"languages": [1]},
            FieldError("languages.0", "type", "Expected text, not a whole number."),
        ),
        ({"interests": [None]}, FieldError("interests.0", "type", "Expected an object, not null.")),
    ],
)
def test_given_wrong_json_type_when_validated_then_type_error_with_path(
    sections: dict[str, object], expected: FieldError
) -> None:
    assert field_errors(us_audience(**sections)) == [expected]


def test_given_countries_as_a_string_when_validated_then_type_error_not_required() -> None:
    assert problems({"locations": {"countries": "US"}}) == [("locations.countries", "type")]


def test_given_many_problems_when_validated_then_all_are_reported_together() -> None:
    raw = {
        "locations": {
            "countries": ["XX", "US", 7],
            "regions": [{"country": "CA", "code": "US-CA"}],
        },
        "age": {"min": True, "max": 66},
        "genders": ["x"],
        "interests": [{"name": ""}, {"name": "a" * 101, "id": "12a"}],
        "languages": ["zz"],
        "devices": ["watch"],
        "colour": "blue",
    }

    with pytest.raises(InvalidInput) as raised:
        audience_rules_validate(raw)

    assert raised.value.detail == "The audience rules have 12 problems."
    assert [(error.field, error.rule) for error in raised.value.errors] == [
        ("locations.countries.0", "iso_3166_1"),
        ("locations.countries.2", "type"),
        ("locations.regions.0.code", "country_mismatch"),
        ("age.min", "type"),
        ("age.max", "range"),
        ("genders.0", "choice"),
        ("interests.0.name", "required"),
        ("interests.1.name", "max_length"),
        ("interests.1.id", "digits"),
        ("languages.0", "iso_639_1"),
        ("devices.0", "choice"),
        ("colour", "unknown_field"),
    ]


def test_given_one_problem_when_validated_then_detail_is_singular() -> None:
    with pytest.raises(InvalidInput) as raised:
        audience_rules_validate(with_locations(countries=["XX"]))

    assert raised.value.detail == "The audience rules have 1 problem."


def test_given_a_huge_bad_code_when_validated_then_the_message_echoes_it_shortened() -> None:
    [error] = field_errors(with_locations(countries=["Z" * 10_000]))

    assert error.message == (
        "“ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ…” is not a country code. "
        "Use two-letter ISO 3166-1 codes such as US or DE."
    )


# --- Summary --------------------------------------------------------------------------


def test_given_brief_example_when_summarized_then_one_exact_line() -> None:
    rules = audience_rules_validate(
        {
            "locations": {"countries": ["US", "CA"]},
            "genders": ["female"],
            "interests": [{"name": "Snacks", "id": "6003139266461"}, {"name": "Hiking"}],
            "languages": ["en"],
            "devices": ["mobile"],
        }
    )

    assert (
        audience_summary(rules) == f"US, CA · 18{EN_DASH}65+ · female · 2 interests · en · mobile"
    )


def test_given_full_example_when_summarized_then_regions_and_cities_are_named() -> None:
    rules = audience_rules_validate(FULL_EXAMPLE)

    assert audience_summary(rules) == (
        f"US, CA, California, Austin (US, 25 km) · 18{EN_DASH}65+ · female · 2 interests"
        " · en, es · mobile"
    )


def test_given_no_restrictions_when_summarized_then_only_places_and_ages_show() -> None:
    rules = audience_rules_validate(
        {
            "locations": {
                "regions": [{"country": "US", "code": "US-TX"}],
                "cities": [{"country": "DE", "name": "Berlin"}],
            },
            "age": {"min": 30, "max": 30},
            "interests": [{"name": "Snacks"}],
        }
    )

    assert audience_summary(rules) == "US-TX, Berlin (DE) · 30 · 1 interest"


def test_given_many_countries_when_summarized_then_the_rest_are_counted() -> None:
    rules = audience_rules_validate(
        {
            "locations": {"countries": ["US", "CA", "MX", "FR", "DE", "IT", "ES"]},
            "age": {"min": 65, "max": 65},
        }
    )

    assert audience_summary(rules) == "US, CA, MX, FR, DE +2 more · 65+"


# --- Meta targeting spec --------------------------------------------------------------


def test_given_sample_audience_when_mapped_to_meta_then_spec_is_exact() -> None:
    rules = audience_rules_validate(
        {
            "locations": {
                "countries": ["US", "CA"],
                "regions": [
                    {"country": "US", "code": "US-CA", "name": "California", "meta_key": "4081"},
                    {"country": "US", "code": "US-TX"},
                ],
                "cities": [
                    {"country": "US", "name": "Austin", "radius_km": 25, "meta_key": "2420379"},
                    {"country": "US", "name": "Dallas", "meta_key": "2421836"},
                    {"country": "US", "name": "Houston"},
                ],
            },
            "age": {"min": 21, "max": 54},
            "genders": ["female"],
            "interests": [{"name": "Snacks", "id": "6003139266461"}, {"name": "Hiking"}],
            "languages": ["en"],
            "devices": ["tablet"],
        }
    )

    assert meta_targeting_spec(rules) == {
        "geo_locations": {
            "countries": ["US", "CA"],
            "regions": [{"key": "4081"}],
            "cities": [
                {"key": "2420379", "radius": 25, "distance_unit": "kilometer"},
                {"key": "2421836"},
            ],
        },
        "age_min": 21,
        "age_max": 54,
        "genders": [2],
        "flexible_spec": [{"interests": [{"id": "6003139266461", "name": "Snacks"}]}],
        "device_platforms": ["mobile"],
        "targeting_automation": {"advantage_audience": 0},
    }


def test_given_everyone_when_mapped_to_meta_then_defaults_are_omitted() -> None:
    rules = audience_rules_validate(
        us_audience(genders=["male", "female"], devices=["desktop", "tablet"])
    )

    assert meta_targeting_spec(rules) == {
        "geo_locations": {"countries": ["US"]},
        "age_min": 18,
        "age_max": 65,
        "targeting_automation": {"advantage_audience": 0},
    }


def test_given_desktop_and_male_when_mapped_to_meta_then_both_are_restricted() -> None:
    rules = audience_rules_validate(us_audience(genders=["male"], devices=["desktop"]))

    spec = meta_targeting_spec(rules)

    assert (spec["genders"], spec["device_platforms"]) == ([1], ["desktop"])


def test_given_only_unresolved_regions_when_mapped_to_meta_then_geo_locations_is_empty() -> None:
    rules = audience_rules_validate(with_locations(regions=[{"country": "US", "code": "US-TX"}]))

    assert meta_targeting_spec(rules)["geo_locations"] == {}


# --- Property -------------------------------------------------------------------------

KNOWN_KEYS = (
    "locations", "countries", "regions", "cities", "country", "code", "name", "radius_km",
    "meta_key", "age", "min", "max", "genders", "interests", "id", "languages", "devices",
)  # fmt: skip
TELLING_STRINGS = (
    "US", "ca", "de", "XX", "US-CA", "us-tx", "FR-75C", "en", "ES", "eng", "female", "male",
    "mobile", "tablet", "desktop", "Austin", " Springfield ", "6003139266461", "12a", "", " ",
)  # fmt: skip

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=120)
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(TELLING_STRINGS)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)

Shape = Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]]


def exactly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return valid


def now_and_then_anything(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(*[valid] * 9, json_values)


def audience_shaped(shape: Shape) -> st.SearchStrategy[Any]:
    """Dicts shaped like an audience, each part passed through ``shape``: with
    ``exactly`` most are accepted (duplicates aside), so the round trip is exercised;
    with ``now_and_then_anything`` junk turns up deep inside otherwise good input."""

    def listed(items: st.SearchStrategy[Any], min_size: int = 0) -> st.SearchStrategy[Any]:
        return shape(st.lists(shape(items), min_size=min_size, max_size=3))

    names = st.sampled_from(("Austin", " Springfield ", "Snacks", "Hiking"))
    platform_ids = st.sampled_from(("4081", "2420379", "6003139266461")) | st.none()
    region = st.sampled_from((("US", "US-CA"), ("us", "us-tx"), ("CA", "ca-qc"))).flatmap(
        lambda country_and_code: st.fixed_dictionaries(
            {
                "country": shape(st.just(country_and_code[0])),
                "code": shape(st.just(country_and_code[1])),
            },
            optional={"name": shape(names), "meta_key": shape(platform_ids)},
        )
    )
    city = st.fixed_dictionaries(
        {"country": shape(st.sampled_from(("US", "de"))), "name": shape(names)},
        optional={
            "radius_km": shape(st.integers(1, 80) | st.none()),
            "meta_key": shape(platform_ids),
        },
    )
    interest = st.fixed_dictionaries({"name": shape(names)}, optional={"id": shape(platform_ids)})
    age = st.integers(AGE_MIN, AGE_MAX).flatmap(
        lambda low: st.fixed_dictionaries(
            {}, optional={"min": shape(st.just(low)), "max": shape(st.integers(low, AGE_MAX))}
        )
    )
    return st.fixed_dictionaries(
        {
            "locations": shape(
                st.fixed_dictionaries(
                    {"countries": listed(st.sampled_from(("US", "ca", "de", "FR")), min_size=1)},
                    optional={"regions": listed(region), "cities": listed(city)},
                )
            )
        },
        optional={
            "age": shape(age),
            "genders": listed(st.sampled_from(GENDERS)),
            "interests": listed(interest),
            "languages": listed(st.sampled_from(("en", "ES", "fr"))),
            "devices": listed(st.sampled_from(DEVICES)),
        },
    )


@settings(
    max_examples=400,
    deadline=None,
    database=None,  # no example database: a failure prints the example to reproduce it
    suppress_health_check=[HealthCheck.too_slow],
)
@given(raw=json_values | audience_shaped(now_and_then_anything) | audience_shaped(exactly))
def test_given_any_json_when_validated_then_only_invalid_input_or_a_stable_round_trip(
    raw: object,
) -> None:
    try:
        rules = audience_rules_validate(raw)
    except InvalidInput as invalid:
        event("rejected")
        assert invalid.errors
        assert all(error.rule in RULES and error.message for error in invalid.errors)
        return

    event("accepted")
    stored = json.loads(json.dumps(audience_rules_to_json(rules)))
    again = audience_rules_validate(stored)

    assert again == rules
    assert audience_rules_to_json(again) == stored
