"""Audience targeting rules: the validated, normalized form of an ``Audience``'s JSON.

An ``Audience`` is a reusable set of targeting rules per organization, stored as JSON.
This module owns that JSON's schema. Its duties:

- **Validate** what a client sends (``audience_rules_validate``) and report *every*
  problem at once as ``InvalidInput`` with one ``FieldError`` per problem, each naming a
  dotted field path (``locations.countries.2``, ``age.min``, ``interests.1.name``; the
  empty path ``""`` is the whole object) and a stable rule id (see ``RULES``). Nothing is
  silently dropped or de-duplicated: unknown keys, duplicates and wrong JSON types are
  errors, so a typo never quietly widens an audience.
- **Normalize** without reordering: country and region codes become upper case,
  language codes lower case, surrounding blanks are trimmed, missing sections get their
  defaults. ``audience_rules_to_json`` gives the stored form, which validates back to
  the same rules.
- **Present** the rules in one line for lists and previews (``audience_summary``).
- **Translate** the rules to a Meta Marketing API ``targeting`` spec
  (``meta_targeting_spec``; see that function for what Meta cannot take as is).

Units and ranges:

- ``age.min`` / ``age.max``: whole years, 13 to 65, where 65 means "65 and over" (the
  same convention as Meta's ``age_max``). Default 18 to 65+.
- ``locations.cities[].radius_km``: whole kilometres, 1 to 80. Meta's largest city radius
  is about 80 km (50 miles), so a larger one could not be sent there (from Meta's
  targeting docs as remembered; not in the platform reference notes).
- Country codes are ISO 3166-1 alpha-2, region codes ISO 3166-2, language codes
  ISO 639-1, all checked against ``pycountry``.
- ``meta_key`` (regions, cities) and interest ``id`` are platform ids: strings of digits.

Pure Python (pydantic + pycountry), no Django, so it can run anywhere a rule is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Annotated, Any, Final, Literal, get_args

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from herald.core.errors import FieldError, InvalidInput

__all__ = [
    "AGE_MAX",
    "AGE_MIN",
    "DEVICES",
    "GENDERS",
    "MAX_CITIES",
    "MAX_COUNTRIES",
    "MAX_INTERESTS",
    "MAX_LANGUAGES",
    "MAX_REGIONS",
    "RULES",
    "AgeRange",
    "AudienceRules",
    "Device",
    "Gender",
    "TargetCity",
    "TargetInterest",
    "TargetLocations",
    "TargetRegion",
    "audience_rules_to_json",
    "audience_rules_validate",
    "audience_summary",
    "meta_targeting_spec",
]

AGE_MIN: Final = 13
AGE_MAX: Final = 65  # 65 means "65 and over", as on Meta.
DEFAULT_AGE_MIN: Final = 18

Gender = Literal["female", "male"]
Device = Literal["desktop", "mobile", "tablet"]
GENDERS: Final[tuple[Gender, ...]] = get_args(Gender)
DEVICES: Final[tuple[Device, ...]] = get_args(Device)

MAX_COUNTRIES: Final = 250
MAX_REGIONS: Final = 200
MAX_CITIES: Final = 250
MAX_INTERESTS: Final = 100
MAX_LANGUAGES: Final = 50
MAX_NAME_LENGTH: Final = 100
MAX_PLATFORM_ID_LENGTH: Final = 32
RADIUS_KM_MIN: Final = 1
RADIUS_KM_MAX: Final = 80

# Every rule id a FieldError from this module can carry, so callers can rely on them.
# "invalid" is the fallback for a pydantic error this module does not expect.
RULES: Final = frozenset(
    {
        "choice",
        "country_mismatch",
        "digits",
        "duplicate",
        "invalid",
        "iso_3166_1",
        "iso_3166_2",
        "iso_639_1",
        "max_items",
        "max_length",
        "order",
        "range",
        "required",
        "type",
        "unknown_field",
    }
)

_NO_LOCATION_MESSAGE: Final = "Add at least one country, region or city."
_RANGE_DASH: Final = "\u2013"  # en dash, the typographic sign for a range such as 18 to 65+
# Lists in the one-line summary show this many entries, then "+N more".
_SUMMARY_LIST_LIMIT: Final = 5
# Keeps echoed input short in messages: a 10 kB "country code" should not come back whole.
_ECHO_LIMIT: Final = 30


# --- Reference data -------------------------------------------------------------------


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _region_countries() -> dict[str, str]:
    """ISO 3166-2 code → the alpha-2 code of the country it belongs to."""
    return {region.code: region.country_code for region in pycountry.subdivisions}


@cache
def _language_codes() -> frozenset[str]:
    # Most ISO 639-3 languages have no two-letter code; only those that do qualify.
    return frozenset(
        language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")
    )


# --- Field validators -----------------------------------------------------------------
# Each raises PydanticCustomError whose type is the rule id and whose message is final,
# written for a marketer; _field_error below passes both through unchanged. The code
# checks insist on ASCII because Unicode case mapping is not: "ﬁ".upper() == "FI".


def _echo(value: object) -> str:
    text = str(value)
    if len(text) > _ECHO_LIMIT:
        text = text[: _ECHO_LIMIT - 1] + "…"
    return f"“{text}”"


def _country_code(value: str) -> str:
    code = value.upper()
    if not value.isascii() or code not in _country_codes():
        raise PydanticCustomError(
            "iso_3166_1",
            f"{_echo(value)} is not a country code. Use two-letter ISO 3166-1 codes "
            "such as US or DE.",
        )
    return code


def _region_code(value: str) -> str:
    code = value.upper()
    if not value.isascii() or code not in _region_countries():
        raise PydanticCustomError(
            "iso_3166_2",
            f"{_echo(value)} is not a region code. Use ISO 3166-2 codes such as US-CA.",
        )
    return code


def _language_code(value: str) -> str:
    code = value.lower()
    if not value.isascii() or code not in _language_codes():
        raise PydanticCustomError(
            "iso_639_1",
            f"{_echo(value)} is not a language code. Use two-letter ISO 639-1 codes "
            "such as en or es.",
        )
    return code


def _digits(value: str) -> str:
    # isdecimal, not isdigit: isdigit also accepts superscripts such as "²".
    if not (value.isascii() and value.isdecimal()):
        raise PydanticCustomError("digits", "A platform id contains only the digits 0-9.")
    return value


def _in_range(low: int, high: int, message: str) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise PydanticCustomError("range", message)
        return value

    return check


def _json_array(value: object) -> object:
    """Accept lists (and tuples, the stored form's Python twin) but not sets, whose
    order is arbitrary: the audience keeps the order the marketer chose."""
    if not isinstance(value, list | tuple):
        raise PydanticCustomError("type", f"Expected a list, not {_json_kind(value)}.")
    return value


def _no_duplicates(
    key: Callable[[Any], Hashable], describe: Callable[[Any], str]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A list check that reports each repeated entry at its own index.

    It runs once every entry of the list is valid, since only then are the entries
    normalized and comparable ("us" and "US" are the same country).

    A validator can raise only one error, so this raises a ``ValidationError`` instead:
    pydantic-core turns it into one error per entry, with locations relative to the
    list (the ``convert_err`` branch for ``ValidationError`` in its function validators).
    """

    def check(items: tuple[Any, ...]) -> tuple[Any, ...]:
        first_index: dict[Hashable, int] = {}
        problems: list[InitErrorDetails] = []
        for index, item in enumerate(items):
            seen_at = first_index.setdefault(key(item), index)
            if seen_at != index:
                message = f"{describe(item)} is already listed at position {seen_at + 1}."
                problems.append(_problem((index,), "duplicate", message, item))
        if problems:
            raise ValidationError.from_exception_data("AudienceRules", problems)
        return items

    return check


def _problem(
    location: tuple[str | int, ...], rule: str, message: str, value: object
) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(rule, message), loc=location, input=value)


# --- Schema ---------------------------------------------------------------------------

_JSON_ARRAY: Final = BeforeValidator(_json_array)

_Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
_Name = Annotated[_Text, StringConstraints(max_length=MAX_NAME_LENGTH)]
_PlatformId = Annotated[
    _Text, StringConstraints(max_length=MAX_PLATFORM_ID_LENGTH), AfterValidator(_digits)
]
# Codes skip the emptiness check: "" gets the clearer "not a country code" message.
_Code = Annotated[str, StringConstraints(strict=True, strip_whitespace=True)]
_CountryCode = Annotated[_Code, AfterValidator(_country_code)]
_RegionCode = Annotated[_Code, AfterValidator(_region_code)]
_LanguageCode = Annotated[_Code, AfterValidator(_language_code)]
# Strict: neither "18" nor True (a bool is an int in Python) passes as an age or radius.
_Age = Annotated[
    int,
    Strict(),
    AfterValidator(
        _in_range(AGE_MIN, AGE_MAX, f"Ages run from {AGE_MIN} to {AGE_MAX} (65 means 65+).")
    ),
]
_RadiusKm = Annotated[
    int,
    Strict(),
    AfterValidator(
        _in_range(
            RADIUS_KM_MIN, RADIUS_KM_MAX, f"The radius is {RADIUS_KM_MIN} to {RADIUS_KM_MAX} km."
        )
    ),
]


def _same_text(value: str) -> str:
    return value.casefold()


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TargetRegion(_Rules):
    """A state, province or other ISO 3166-2 subdivision of ``country``."""

    country: _CountryCode
    code: _RegionCode
    name: _Name | None = None  # display label only; the code is what counts
    meta_key: _PlatformId | None = None  # Meta's location key, from its location search

    @model_validator(mode="after")
    def _code_in_country(self) -> TargetRegion:
        code_country = _region_countries()[self.code]
        if code_country != self.country:
            message = f"{self.code} is a region of {code_country}, not of {self.country}."
            raise ValidationError.from_exception_data(
                "TargetRegion", [_problem(("code",), "country_mismatch", message, self.code)]
            )
        return self


class TargetCity(_Rules):
    """A city, optionally with a radius in kilometres around it."""

    country: _CountryCode
    name: _Name
    radius_km: _RadiusKm | None = None
    meta_key: _PlatformId | None = None  # Meta's location key, from its location search


class TargetInterest(_Rules):
    """An interest by name; ``id`` is the ad platform's interest id when known."""

    name: _Name
    id: _PlatformId | None = None


def _city_identity(city: TargetCity) -> Hashable:
    # Two different Springfields in one country are told apart by their Meta keys.
    if city.meta_key is not None:
        return ("meta_key", city.meta_key)
    return ("name", city.country, _same_text(city.name))


def _interest_identity(interest: TargetInterest) -> Hashable:
    if interest.id is not None:
        return ("id", interest.id)
    return ("name", _same_text(interest.name))


def _city_label(city: TargetCity) -> str:
    if city.radius_km is None:
        return f"{city.name} ({city.country})"
    return f"{city.name} ({city.country}, {city.radius_km} km)"


def _region_label(region: TargetRegion) -> str:
    return region.name or region.code


# Lists arrive as JSON arrays and are kept as tuples, so the frozen rules stay immutable.
_Countries = Annotated[
    tuple[_CountryCode, ...],
    _JSON_ARRAY,
    Field(max_length=MAX_COUNTRIES),
    AfterValidator(_no_duplicates(str, str)),
]
_Regions = Annotated[
    tuple[TargetRegion, ...],
    _JSON_ARRAY,
    Field(max_length=MAX_REGIONS),
    AfterValidator(_no_duplicates(lambda region: region.code, lambda region: region.code)),
]
_Cities = Annotated[
    tuple[TargetCity, ...],
    _JSON_ARRAY,
    Field(max_length=MAX_CITIES),
    AfterValidator(_no_duplicates(_city_identity, _city_label)),
]
_Genders = Annotated[tuple[Gender, ...], _JSON_ARRAY, AfterValidator(_no_duplicates(str, str))]
_Interests = Annotated[
    tuple[TargetInterest, ...],
    _JSON_ARRAY,
    Field(max_length=MAX_INTERESTS),
    AfterValidator(_no_duplicates(_interest_identity, lambda interest: interest.name)),
]
_Languages = Annotated[
    tuple[_LanguageCode, ...],
    _JSON_ARRAY,
    Field(max_length=MAX_LANGUAGES),
    AfterValidator(_no_duplicates(str, str)),
]
_Devices = Annotated[tuple[Device, ...], _JSON_ARRAY, AfterValidator(_no_duplicates(str, str))]


class TargetLocations(_Rules):
    """Where the audience is: at least one country, region or city."""

    countries: _Countries = ()
    regions: _Regions = ()
    cities: _Cities = ()

    @model_validator(mode="after")
    def _at_least_one(self) -> TargetLocations:
        if not (self.countries or self.regions or self.cities):
            raise PydanticCustomError("required", _NO_LOCATION_MESSAGE)
        return self


class AgeRange(_Rules):
    """Ages in whole years, both ends included; ``max`` 65 means 65 and over."""

    min: _Age = DEFAULT_AGE_MIN
    max: _Age = AGE_MAX

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min > self.max:
            raise PydanticCustomError(
                "order",
                f"The minimum age ({self.min}) is above the maximum ({_age_label(self.max)}).",
            )
        return self


class AudienceRules(_Rules):
    """The normalized targeting rules of one audience. Empty ``genders``, ``interests``,
    ``languages`` and ``devices`` mean no restriction."""

    locations: TargetLocations
    age: AgeRange = Field(default_factory=AgeRange)
    genders: _Genders = ()
    interests: _Interests = ()
    languages: _Languages = ()
    devices: _Devices = ()


# --- Validation -----------------------------------------------------------------------

# pydantic's own type errors → what the field should have been, in plain words.
_EXPECTED_KIND: Final[dict[str, str]] = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "tuple_type": "a list",
    "list_type": "a list",
    "string_type": "text",
    "string_sub_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
}


def audience_rules_validate(raw: object) -> AudienceRules:
    """Validate and normalize audience rules as sent by a client or read from storage.

    Raises ``InvalidInput`` listing every problem found; never any other exception.
    """
    try:
        return AudienceRules.model_validate(raw)
    except ValidationError as error:
        field_errors = [_field_error(details) for details in error.errors(include_url=False)]
    count = len(field_errors)
    detail = f"The audience rules have {count} problem{'' if count == 1 else 's'}."
    raise InvalidInput(detail=detail, errors=field_errors)


def _field_error(details: ErrorDetails) -> FieldError:
    """One pydantic error as a FieldError with a dotted path, a rule id from ``RULES``
    and a message a marketer can act on. pydantic's own wording ("Input should be a
    valid dictionary or instance of AudienceRules") never reaches the user."""
    path = ".".join(str(part) for part in details["loc"])
    kind = details["type"]
    context = details.get("ctx") or {}
    if kind in RULES:
        # Raised by this module's validators, already worded for the user.
        return FieldError(path, kind, details["msg"])
    if kind in _EXPECTED_KIND:
        found = _json_kind(details["input"])
        return FieldError(path, "type", f"Expected {_EXPECTED_KIND[kind]}, not {found}.")
    if kind == "missing":
        message = _NO_LOCATION_MESSAGE if path == "locations" else "This field is required."
        return FieldError(path, "required", message)
    if kind == "extra_forbidden":
        name = _echo(details["loc"][-1]) if details["loc"] else "This"
        return FieldError(
            path, "unknown_field", f"{name} is not a known field; check its spelling."
        )
    if kind == "string_too_short":
        return FieldError(path, "required", "This cannot be empty.")
    if kind == "string_too_long":
        return FieldError(path, "max_length", f"Use at most {context['max_length']} characters.")
    if kind == "too_long":
        return FieldError(path, "max_items", f"List at most {context['max_length']} entries.")
    if kind == "literal_error":
        return FieldError(path, "choice", f"Choose {context['expected']}.")
    return FieldError(path, "invalid", "This value is not valid.")


def _json_kind(value: object) -> str:
    """What a JSON value is, in the words a marketer (or their developer) would use."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "an unsupported value"


# --- Output ---------------------------------------------------------------------------


def audience_rules_to_json(rules: AudienceRules) -> dict[str, object]:
    """The normalized rules as JSON for storage: every key present (``null`` for unset
    optional values), keys in schema order, lists in the marketer's order.
    ``audience_rules_validate`` turns it back into equal rules."""
    return rules.model_dump(mode="json")


def audience_summary(rules: AudienceRules) -> str:
    """One line for lists and previews, e.g. ``US, CA · 18-65+ · female · 2 interests ·
    en · mobile`` (the age range takes an en dash, U+2013).

    Parts: locations (country codes, region names or codes, cities with their country),
    the age range, then genders, interest count, languages and devices, each left out
    when it does not restrict the audience. Long lists show their first entries and
    "+N more".
    """
    locations = rules.locations
    location_labels = [
        *locations.countries,
        *(_region_label(region) for region in locations.regions),
        *(_city_label(city) for city in locations.cities),
    ]
    parts = [_short_list(location_labels), _age_range_label(rules.age)]
    if rules.genders:
        parts.append(_short_list(rules.genders))
    if rules.interests:
        count = len(rules.interests)
        parts.append(f"{count} interest{'' if count == 1 else 's'}")
    if rules.languages:
        parts.append(_short_list(rules.languages))
    if rules.devices:
        parts.append(_short_list(rules.devices))
    return " · ".join(parts)


def _short_list(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:_SUMMARY_LIST_LIMIT])
    hidden = len(labels) - _SUMMARY_LIST_LIMIT
    return f"{shown} +{hidden} more" if hidden > 0 else shown


def _age_label(age: int) -> str:
    return f"{age}+" if age == AGE_MAX else str(age)


def _age_range_label(age: AgeRange) -> str:
    if age.min == age.max:
        return _age_label(age.min)
    return f"{age.min}{_RANGE_DASH}{_age_label(age.max)}"


# --- Meta Marketing API ---------------------------------------------------------------

_META_GENDER_IDS: Final[dict[Gender, int]] = {"male": 1, "female": 2}
# Meta has no tablet platform: tablets are part of "mobile" there.
_META_DEVICE_PLATFORMS: Final[dict[Device, str]] = {
    "mobile": "mobile",
    "tablet": "mobile",
    "desktop": "desktop",
}
_META_ALL_DEVICE_PLATFORMS: Final = ("mobile", "desktop")


def meta_targeting_spec(rules: AudienceRules) -> dict[str, object]:
    """The ad set ``targeting`` spec for the Meta Marketing API.

    What Meta cannot take as stored, and how it is handled:

    - Regions and cities: Meta names them by its own location keys, not by ISO code or
      name. Only entries with a ``meta_key`` are sent (cities with their radius in
      kilometres); the others are left out, and the adapter must resolve their keys
      (Meta's location search) and store them as ``meta_key`` before launching.
      Leaving one out narrows the audience, or leaves ``geo_locations`` empty, which
      Meta rejects; it never widens it.
    - Interests: only those with an ``id`` are sent, because Meta targets interests by
      id. Interests without one are left out, which widens the audience; resolve their
      ids first when that matters.
    - Languages: Meta's ``locales`` are Meta's own numeric ids, so languages are not
      sent; the adapter must map them if it needs them.
    - Devices: Meta knows ``mobile`` and ``desktop``; a tablet counts as mobile there,
      so tablets alone target all mobile devices.
    - Genders and devices are omitted when they cover everyone, Meta's default.
    - ``targeting_automation.advantage_audience`` is 0: Advantage+ audience would let
      Meta reach beyond these rules, and since v23.0 an ad set must state the flag
      (a third-party report, per the platform reference notes).
    - City radii go as ``"distance_unit": "kilometer"``; the reference sample shows
      ``"mile"``, and ``"kilometer"`` as its metric twin is from memory.
    """
    locations = rules.locations
    geo_locations: dict[str, object] = {}
    if locations.countries:
        geo_locations["countries"] = list(locations.countries)
    meta_regions = [
        {"key": region.meta_key} for region in locations.regions if region.meta_key is not None
    ]
    if meta_regions:
        geo_locations["regions"] = meta_regions
    meta_cities = [_meta_city(city) for city in locations.cities if city.meta_key is not None]
    if meta_cities:
        geo_locations["cities"] = meta_cities

    spec: dict[str, object] = {
        "geo_locations": geo_locations,
        "age_min": rules.age.min,
        "age_max": rules.age.max,
    }
    gender_ids = sorted({_META_GENDER_IDS[gender] for gender in rules.genders})
    if 0 < len(gender_ids) < len(GENDERS):
        spec["genders"] = gender_ids
    meta_interests = [
        {"id": interest.id, "name": interest.name}
        for interest in rules.interests
        if interest.id is not None
    ]
    if meta_interests:
        spec["flexible_spec"] = [{"interests": meta_interests}]
    platforms = {_META_DEVICE_PLATFORMS[device] for device in rules.devices}
    if 0 < len(platforms) < len(_META_ALL_DEVICE_PLATFORMS):
        spec["device_platforms"] = [p for p in _META_ALL_DEVICE_PLATFORMS if p in platforms]
    spec["targeting_automation"] = {"advantage_audience": 0}
    return spec


def _meta_city(city: TargetCity) -> dict[str, object]:
    entry: dict[str, object] = {"key": city.meta_key}
    if city.radius_km is not None:
        entry["radius"] = city.radius_km
        entry["distance_unit"] = "kilometer"
    return entry
