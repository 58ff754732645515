"""Forms of the campaign builder and the Creative Studio.

They only *parse* what the browser sends (text into numbers, dates, lists and the
service's input shapes); every rule is the services' to check. ``show_errors`` puts
each ``FieldError`` a service raised beside the form field its dotted path names, with
the service's own message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms

from herald.campaigns.audience_rules import DEVICES, GENDERS
from herald.core.errors import DomainError

__all__ = [
    "AUDIENCE_ERROR_ROUTES",
    "BUDGET_ERROR_ROUTES",
    "DATETIME_INPUT_FORMAT",
    "OBJECTIVE_ERROR_ROUTES",
    "AudienceForm",
    "BudgetForm",
    "ChannelsForm",
    "CreativeContent",
    "CreativeForm",
    "ObjectiveForm",
    "UploadForm",
    "field_for_path",
    "show_errors",
]

# What <input type="datetime-local"> sends and shows.
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
_DATETIME_INPUT_FORMATS = [DATETIME_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

# A route sends a service's error path (and anything under it) to a form field;
# ``None`` means the form as a whole. The first route that matches wins.
Route = tuple[str, str | None]


def field_for_path(path: str, routes: Sequence[Route]) -> str | None:
    for prefix, target in routes:
        if path == prefix or path.startswith(f"{prefix}.") or prefix == "*":
            return target
    return None


def show_errors(
    form: forms.Form,
    error: DomainError,
    routes: Sequence[Route] | Callable[[str], str | None],
    *,
    default: str | None = None,
) -> None:
    """Attach every problem of ``error`` to the field its path routes to (``routes``:
    a route table or a function of the path), or to the form when none does. An error
    without field problems (a conflict) shows its ``detail`` beside ``default``."""
    if not error.errors:
        form.add_error(default, error.detail)
        return
    for problem in error.errors:
        target = (
            routes(problem.field) if callable(routes) else field_for_path(problem.field, routes)
        )
        if target is not None and target not in form.fields:
            target = None
        form.add_error(target, problem.message)


def _split_codes(text: str) -> list[str]:
    """ "US, ca  DE" -> ["US", "ca", "DE"]: commas or spaces separate codes."""
    return [part for part in text.replace(",", " ").split() if part]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# ---- 1. Objective ------------------------------------------------------------------

OBJECTIVE_ERROR_ROUTES: list[Route] = [
    ("name", "name"),
    ("objective", "objective"),
    ("description", "description"),
]


class ObjectiveForm(forms.Form):
    name = forms.CharField(required=False, strip=False)
    objective = forms.CharField(required=False)
    description = forms.CharField(required=False, widget=forms.Textarea)


# ---- 2. Channels and ad accounts -----------------------------------------------------


class ChannelsForm(forms.Form):
    """``channels`` are the channel keys offered; one ``account_<key>`` per channel that
    needs an ad account."""

    channels = forms.MultipleChoiceField(
        required=True, error_messages={"required": "Choose at least one channel."}
    )

    def __init__(self, *args: Any, channel_keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channels_field = self.fields["channels"]
        assert isinstance(channels_field, forms.MultipleChoiceField)
        channels_field.choices = [(key, key) for key in channel_keys]
        for key in channel_keys:
            self.fields[f"account_{key}"] = forms.UUIDField(
                required=False, error_messages={"invalid": "Choose an account from the list."}
            )


# ---- 3. Audience ----------------------------------------------------------------------

AUDIENCE_ERROR_ROUTES: list[Route] = [
    ("audience_id", "audience_id"),
    ("name", "name"),
    ("rules.locations.countries", "countries"),
    ("rules.locations.regions", "regions"),
    ("rules.locations.cities", "cities"),
    ("rules.locations", "countries"),
    ("rules.age.min", "age_min"),
    ("rules.age.max", "age_max"),
    ("rules.age", "age_min"),
    ("rules.genders", "genders"),
    ("rules.interests", "interests"),
    ("rules.languages", "languages"),
    ("rules.devices", "devices"),
]


class AudienceForm(forms.Form):
    """Either a saved audience (``mode`` "saved") or the rules of a new one."""

    mode = forms.ChoiceField(choices=[("saved", "saved"), ("new", "new")], initial="saved")
    audience_id = forms.UUIDField(
        required=False, error_messages={"invalid": "Choose an audience from the list."}
    )
    name = forms.CharField(required=False)
    countries = forms.CharField(required=False)
    regions = forms.CharField(required=False)
    cities = forms.CharField(required=False, widget=forms.Textarea)
    age_min = forms.IntegerField(
        required=False, error_messages={"invalid": "Enter the age as a whole number."}
    )
    age_max = forms.IntegerField(
        required=False, error_messages={"invalid": "Enter the age as a whole number."}
    )
    genders = forms.MultipleChoiceField(
        required=False, choices=[(gender, gender) for gender in GENDERS]
    )
    interests = forms.CharField(required=False, widget=forms.Textarea)
    languages = forms.CharField(required=False)
    devices = forms.MultipleChoiceField(
        required=False, choices=[(device, device) for device in DEVICES]
    )

    def clean_cities(self) -> list[dict[str, Any]]:
        """One city a line: "Austin, US" or "Austin, US, 25" (a radius in km)."""
        cities: list[dict[str, Any]] = []
        for line in _lines(self.cleaned_data.get("cities") or ""):
            parts = [part.strip() for part in line.split(",")]
            city: dict[str, Any] = {"name": parts[0], "country": parts[1] if len(parts) > 1 else ""}
            if len(parts) > 2:
                radius = parts[2].lower().removesuffix("km").strip()
                if not radius.isdecimal():
                    raise forms.ValidationError(
                        f"Write “{line}” as a city, its country code and a radius in whole "
                        "kilometres, e.g. Austin, US, 25."
                    )
                city["radius_km"] = int(radius)
            cities.append(city)
        return cities

    def rules(self) -> dict[str, Any]:
        """The rules in the shape ``audience_create`` takes (it checks them)."""
        data = self.cleaned_data
        age: dict[str, int] = {}
        if data.get("age_min") is not None:
            age["min"] = data["age_min"]
        if data.get("age_max") is not None:
            age["max"] = data["age_max"]
        return {
            "locations": {
                "countries": _split_codes(data.get("countries") or ""),
                "regions": [
                    {"country": code.split("-")[0], "code": code}
                    for code in _split_codes(data.get("regions") or "")
                ],
                "cities": data.get("cities") or [],
            },
            "age": age,
            "genders": list(data.get("genders") or []),
            "interests": [{"name": name} for name in _lines(data.get("interests") or "")],
            "languages": _split_codes(data.get("languages") or ""),
            "devices": list(data.get("devices") or []),
        }

    @staticmethod
    def initial_from_rules(name: str, rules: dict[str, Any]) -> dict[str, Any]:
        """Form values showing stored rules (their normalized JSON)."""
        locations = rules.get("locations") or {}
        age = rules.get("age") or {}

        def city_line(city: dict[str, Any]) -> str:
            radius = city.get("radius_km")
            parts = [city.get("name", ""), city.get("country", "")]
            return ", ".join([*parts, str(radius)] if radius else parts)

        return {
            "name": name,
            "countries": ", ".join(locations.get("countries") or []),
            "regions": ", ".join(region["code"] for region in locations.get("regions") or []),
            "cities": "\n".join(city_line(city) for city in locations.get("cities") or []),
            "age_min": age.get("min"),
            "age_max": age.get("max"),
            "genders": list(rules.get("genders") or []),
            "interests": "\n".join(item["name"] for item in rules.get("interests") or []),
            "languages": ", ".join(rules.get("languages") or []),
            "devices": list(rules.get("devices") or []),
        }


# ---- 4. Budget and dates ---------------------------------------------------------------

BUDGET_ERROR_ROUTES: list[Route] = [
    ("kind", "kind"),
    ("amount", "amount"),
    ("currency", "amount"),
    ("start_at", "start_at"),
    ("end_at", "end_at"),
]


class BudgetForm(forms.Form):
    """Dates are read in the campaign's time zone (the view activates it); one
    ``allocation_<key>`` per channel the campaign uses."""

    kind = forms.CharField(required=False)
    amount = forms.DecimalField(
        required=False,
        error_messages={"invalid": "Enter the amount as a number, e.g. 3000 or 49.90."},
    )
    start_at = forms.DateTimeField(
        required=False,
        input_formats=_DATETIME_INPUT_FORMATS,
        error_messages={"invalid": "Enter a date and time, e.g. 2027-03-01 09:00."},
    )
    end_at = forms.DateTimeField(
        required=False,
        input_formats=_DATETIME_INPUT_FORMATS,
        error_messages={"invalid": "Enter a date and time, e.g. 2027-03-31 23:00."},
    )
    # Problems with the split as a whole ("allocations add up to more than the budget").
    allocations = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, channel_keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_keys = list(channel_keys)
        for key in channel_keys:
            self.fields[f"allocation_{key}"] = forms.DecimalField(
                required=False,
                error_messages={"invalid": "Enter the amount as a number, e.g. 1200."},
            )

    def clean_amount(self) -> Decimal | None:
        amount: Decimal | None = self.cleaned_data.get("amount")
        if amount is None:
            raise forms.ValidationError("Enter the budget amount.")
        return amount

    def split(self) -> dict[str, Decimal]:
        """The channels given an amount; a blank one has no allocation."""
        return {
            key: self.cleaned_data[f"allocation_{key}"]
            for key in self.channel_keys
            if self.cleaned_data.get(f"allocation_{key}") is not None
        }

    def error_routes(self) -> list[Route]:
        return [
            *((f"allocations.{key}", f"allocation_{key}") for key in self.channel_keys),
            *((f"budget.allocations.{key}", f"allocation_{key}") for key in self.channel_keys),
            ("allocations", "allocations"),
            *BUDGET_ERROR_ROUTES,
        ]


# ---- 5. Creative -------------------------------------------------------------------------


@dataclass
class CreativeContent:
    """The creative as typed, in the services' shape. Blank headline and description
    boxes are left out; ``*_slots`` remember which box each kept entry came from, so a
    problem with ``headlines.1`` is shown beside the box it was typed in."""

    destination_url: str = ""
    headlines: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    primary_text: str = ""
    display_path: list[str] = field(default_factory=list)
    call_to_action: str = ""
    media_id: str | None = None
    headline_slots: list[int] = field(default_factory=list)
    description_slots: list[int] = field(default_factory=list)

    def service_fields(self) -> dict[str, Any]:
        return {
            "destination_url": self.destination_url,
            "headlines": self.headlines,
            "descriptions": self.descriptions,
            "primary_text": self.primary_text,
            "display_path": self.display_path,
            "call_to_action": self.call_to_action,
            "media_id": self.media_id,
        }

    def field_name(self, path: str) -> str | None:
        """The form field a creative path (``headlines.2``, ``media``) belongs to."""
        head, _, rest = path.partition(".")
        index = int(rest.split(".")[0]) if rest.split(".")[0].isdigit() else None
        if head in ("headlines", "descriptions"):
            slots = self.headline_slots if head == "headlines" else self.description_slots
            prefix = "headline" if head == "headlines" else "description"
            if index is None:
                return f"{prefix}_0"
            return f"{prefix}_{slots[index] if index < len(slots) else index}"
        if head == "display_path":
            return f"display_path_{index or 0}"
        if head in ("media", "media_id"):
            return "media_id"
        if head in ("destination_url", "primary_text", "call_to_action"):
            return head
        return None


class CreativeForm(forms.Form):
    """The universal ad form: ``headline_<n>`` and ``description_<n>`` boxes (as many
    as the view offers), two display path parts, and which channels to save to."""

    destination_url = forms.CharField(required=False)
    display_path_0 = forms.CharField(required=False)
    display_path_1 = forms.CharField(required=False)
    primary_text = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    call_to_action = forms.CharField(required=False)
    media_id = forms.UUIDField(required=False)
    remove_media = forms.BooleanField(required=False)
    apply_to = forms.MultipleChoiceField(
        required=False,
        error_messages={"invalid_choice": "Choose channels the campaign uses."},
    )

    def __init__(
        self,
        *args: Any,
        headline_slots: int,
        description_slots: int,
        channel_keys: Iterable[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headline_slots = headline_slots
        self.description_slots = description_slots
        for index in range(headline_slots):
            self.fields[f"headline_{index}"] = forms.CharField(required=False, strip=False)
        for index in range(description_slots):
            self.fields[f"description_{index}"] = forms.CharField(
                required=False, strip=False, widget=forms.Textarea
            )
        apply_to = self.fields["apply_to"]
        assert isinstance(apply_to, forms.MultipleChoiceField)
        apply_to.choices = [(key, key) for key in channel_keys]

    def content(self) -> CreativeContent:
        data = self.cleaned_data
        headlines = [(i, data.get(f"headline_{i}") or "") for i in range(self.headline_slots)]
        descriptions = [
            (i, data.get(f"description_{i}") or "") for i in range(self.description_slots)
        ]
        kept_headlines = [(i, text) for i, text in headlines if text.strip()]
        kept_descriptions = [(i, text) for i, text in descriptions if text.strip()]
        path = [data.get("display_path_0") or "", data.get("display_path_1") or ""]
        while path and not path[-1].strip():
            path.pop()
        media_id = None if data.get("remove_media") else data.get("media_id")
        return CreativeContent(
            destination_url=(data.get("destination_url") or "").strip(),
            headlines=[text for _, text in kept_headlines],
            descriptions=[text for _, text in kept_descriptions],
            primary_text=data.get("primary_text") or "",
            display_path=path,
            call_to_action=data.get("call_to_action") or "",
            media_id=str(media_id) if media_id else None,
            headline_slots=[i for i, _ in kept_headlines],
            description_slots=[i for i, _ in kept_descriptions],
        )

    @staticmethod
    def initial_from(content: dict[str, Any]) -> dict[str, Any]:
        """Form values showing a stored creative's ``content()``."""
        initial: dict[str, Any] = {
            "destination_url": content.get("destination_url", ""),
            "primary_text": content.get("primary_text", ""),
            "call_to_action": content.get("call_to_action", ""),
            "media_id": content.get("media_id"),
        }
        for index, text in enumerate(content.get("headlines") or []):
            initial[f"headline_{index}"] = text
        for index, text in enumerate(content.get("descriptions") or []):
            initial[f"description_{index}"] = text
        for index, part in enumerate((content.get("display_path") or [])[:2]):
            initial[f"display_path_{index}"] = part
        return initial


class UploadForm(forms.Form):
    file = forms.FileField(
        required=False, allow_empty_file=True, error_messages={"invalid": "Choose an image."}
    )
