"""What each ad platform accepts in a creative, and the one validator that checks it.

Duties:

- ``PLATFORM_CAPABILITIES`` is the single table of platform limits for the ad format
  Herald builds on each channel: a Google Ads responsive search ad and a Meta feed link
  ad. ``PlatformCapabilities.as_dict()`` is what ``/platforms`` returns and what the UI
  preview reads for its counters, so a limit is written here and nowhere else.
- ``validate_creative`` checks a ``CreativeInput`` against that table and returns
  ``Finding``s in a stable order (by field, list indexes numerically, then code). An
  ``error`` means the platform would reject the ad, so it blocks launch
  (``has_blocking_findings``); a ``warning`` means the platform would truncate, crop or
  ignore something, so the marketer is told but may launch. ``POST /creatives/validate``,
  the live preview and the launch path all call it.
- ``display_url`` and ``link_domain`` render the destination the way Google and Meta
  show it, for the preview.

Do not:

- branch on channel keys (``if channel == "meta_ads"``): a platform difference is a
  field of ``PlatformCapabilities`` that the validator reads;
- copy a limit into a form, serializer, template or script: read it from the table;
- import Django here: the module is pure so it runs in any layer and in fast tests.

Character counting: the length of a text is ``len()`` of its NFC-normalized form, so
"ñ" counts as one character whether it was typed as one code point or as "n" plus a
combining tilde. This is a simple approximation of what the platforms count: an emoji
built from several code points (flags, skin tones) counts as several. A text that is
empty or only whitespace counts as empty. Surrounding whitespace is counted as typed.

Finding codes (``field`` in brackets; ``N`` is a 0-based list index):

- errors: ``too_few_headlines``, ``too_many_headlines``, ``duplicate_headline``
  [headlines(.N)]; ``headline_empty``, ``headline_too_long`` [headlines.N];
  ``too_few_descriptions``, ``too_many_descriptions`` [descriptions];
  ``description_empty``, ``description_too_long`` [descriptions.N];
  ``primary_text_required``, ``primary_text_too_long`` [primary_text];
  ``too_many_display_paths`` [display_path]; ``display_path_too_long``,
  ``display_path_needs_previous`` [display_path.N]; ``destination_required``,
  ``destination_invalid`` [destination_url]; ``image_required``,
  ``image_type_not_supported``, ``image_below_minimum``, ``image_too_large`` [media];
  ``cta_required``, ``cta_not_supported`` [call_to_action].
- warnings: ``headline_truncated`` [headlines.N]; ``description_truncated``
  [descriptions.N]; ``primary_text_truncated`` [primary_text];
  ``extra_headlines_ignored`` [headlines]; ``extra_descriptions_ignored``
  [descriptions]; ``image_not_supported``, ``image_too_small``, ``image_aspect_ratio``
  [media].

Facts come from ``shared/reference/platform-apis.md`` sections 1 and 2. Meta's text
lengths are recommendations (Meta truncates, it does not reject), so only its 2,200
character primary text cap is an error.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from urllib.parse import urlsplit

from herald.campaigns.channels import get_channel
from herald.core.errors import FieldError, InvalidInput
from herald.core.validation import validate_http_url

__all__ = [
    "CALL_TO_ACTIONS",
    "PLATFORM_CAPABILITIES",
    "CreativeInput",
    "Finding",
    "ImageSpec",
    "MediaFacts",
    "PlatformCapabilities",
    "Severity",
    "character_count",
    "display_url",
    "get_capabilities",
    "has_blocking_findings",
    "link_domain",
    "validate_creative",
]


class Severity(StrEnum):
    ERROR = "error"  # the platform would reject the ad: blocks launch
    WARNING = "warning"  # the platform would truncate, crop or ignore: shown only


@dataclass(frozen=True)
class Finding:
    """One problem with a creative. ``field`` is a dotted path into ``CreativeInput``
    (``headlines.0``), ``code`` a stable identifier (listed in the module docstring),
    ``message`` a sentence naming the limit and the actual value."""

    severity: Severity
    field: str
    code: str
    message: str

    @property
    def is_blocking(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": str(self.severity),
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }

    def as_field_error(self) -> FieldError:
        """The finding as a ``FieldError``, for raising ``InvalidInput`` or
        ``PreconditionFailed`` from the launch path."""
        return FieldError(field=self.field, rule=self.code, message=self.message)


@dataclass(frozen=True)
class MediaFacts:
    """What is known about an uploaded image: MIME type, pixels and file size."""

    content_type: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class CreativeInput:
    """A creative as the marketer typed it, before it is shaped for a platform.

    ``call_to_action`` uses Meta's values (``SHOP_NOW``); ``display_path`` holds
    Google's path1 and path2.
    """

    headlines: list[str]
    descriptions: list[str]
    primary_text: str = ""
    display_path: list[str] = field(default_factory=list)
    destination_url: str = ""
    call_to_action: str = ""
    media: MediaFacts | None = None


@dataclass(frozen=True)
class ImageSpec:
    """The images a platform accepts. Below the hard minimum or over the byte limit the
    platform rejects the image; below the soft minimum or outside the aspect ratio
    range it accepts it but shows it blurry or cropped."""

    content_types: tuple[str, ...]
    hard_min_width: int
    hard_min_height: int
    min_width: int
    min_height: int
    recommended_width: int
    recommended_height: int
    # width / height, compared after rounding the image's ratio to two decimals the way
    # platforms quote ratios: Meta's own 1200x628 template (1.9108) is "1.91:1".
    min_aspect_ratio: Fraction
    max_aspect_ratio: Fraction
    max_bytes: int

    def as_dict(self) -> dict[str, object]:
        return {
            "content_types": list(self.content_types),
            "hard_min_width": self.hard_min_width,
            "hard_min_height": self.hard_min_height,
            "min_width": self.min_width,
            "min_height": self.min_height,
            "recommended_width": self.recommended_width,
            "recommended_height": self.recommended_height,
            "min_aspect_ratio": float(self.min_aspect_ratio),
            "max_aspect_ratio": float(self.max_aspect_ratio),
            "max_bytes": self.max_bytes,
        }


@dataclass(frozen=True)
class PlatformCapabilities:
    """What one channel's ad format accepts.

    Each text has a ``*_max_chars`` (the length the platform shows in full, used for
    the UI counter; beyond it a warning) and a ``*_hard_max_chars`` (beyond it the
    platform rejects the ad: an error; ``None`` when the platform only truncates).
    """

    channel: str
    label: str
    ad_format: str
    headlines_min: int
    headlines_max: int
    headline_max_chars: int
    headline_hard_max_chars: int | None
    descriptions_min: int
    descriptions_max: int
    description_max_chars: int
    description_hard_max_chars: int | None
    # True: headlines/descriptions beyond the max are dropped by the platform (a
    # warning). False: sending more than the max gets the ad rejected (an error).
    ignores_extra_text: bool
    rejects_duplicate_headlines: bool
    # None when the format has no primary text; the input's primary_text is then unused.
    primary_text_max_chars: int | None
    primary_text_hard_max_chars: int | None
    primary_text_required: bool
    # 0 parts when the format shows no display path; the input's display_path is unused.
    display_path_max_parts: int
    display_path_max_chars: int | None
    requires_image: bool
    # None when the format shows no image: an uploaded one is ignored (a warning).
    image: ImageSpec | None
    # Meta CTA values the format accepts; empty when it has no button (input unused).
    # When not empty a choice is required; NO_BUTTON is how to ask for none.
    call_to_actions: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.requires_image and self.image is None:
            raise ValueError(f"{self.channel}: requires_image needs an ImageSpec.")
        if self.primary_text_required and self.primary_text_max_chars is None:
            raise ValueError(f"{self.channel}: required primary text needs a length.")
        unknown = set(self.call_to_actions) - set(CALL_TO_ACTIONS)
        if unknown:
            raise ValueError(f"{self.channel}: unknown call to actions {sorted(unknown)}.")

    @property
    def supports_images(self) -> bool:
        return self.image is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "label": self.label,
            "ad_format": self.ad_format,
            "headlines_min": self.headlines_min,
            "headlines_max": self.headlines_max,
            "headline_max_chars": self.headline_max_chars,
            "headline_hard_max_chars": self.headline_hard_max_chars,
            "descriptions_min": self.descriptions_min,
            "descriptions_max": self.descriptions_max,
            "description_max_chars": self.description_max_chars,
            "description_hard_max_chars": self.description_hard_max_chars,
            "ignores_extra_text": self.ignores_extra_text,
            "rejects_duplicate_headlines": self.rejects_duplicate_headlines,
            "primary_text_max_chars": self.primary_text_max_chars,
            "primary_text_hard_max_chars": self.primary_text_hard_max_chars,
            "primary_text_required": self.primary_text_required,
            "display_path_max_parts": self.display_path_max_parts,
            "display_path_max_chars": self.display_path_max_chars,
            "supports_images": self.supports_images,
            "requires_image": self.requires_image,
            "image": None if self.image is None else self.image.as_dict(),
            "call_to_actions": [
                {"value": value, "label": CALL_TO_ACTIONS[value]} for value in self.call_to_actions
            ],
        }


# Meta call-to-action button types (SDK ``AdCreativeLinkDataCallToAction.Type``) that
# suit a link ad, with the button text Meta shows. Order is the order the UI offers.
CALL_TO_ACTIONS: dict[str, str] = {
    "SHOP_NOW": "Shop Now",
    "LEARN_MORE": "Learn More",
    "SIGN_UP": "Sign Up",
    "SUBSCRIBE": "Subscribe",
    "APPLY_NOW": "Apply Now",
    "BOOK_NOW": "Book Now",
    "CONTACT_US": "Contact Us",
    "BUY_NOW": "Buy Now",
    "DOWNLOAD": "Download",
    "GET_OFFER": "Get Offer",
    "GET_QUOTE": "Get Quote",
    "ORDER_NOW": "Order Now",
    "WATCH_MORE": "Watch More",
    "WHATSAPP_MESSAGE": "Send WhatsApp Message",
    "NO_BUTTON": "No Button",
}

_GOOGLE_RESPONSIVE_SEARCH_AD = PlatformCapabilities(
    channel="google_ads",
    label=get_channel("google_ads").label,
    ad_format="Responsive search ad",
    # RSA limits: 3-15 headlines of <= 30 characters, 2-4 descriptions of <= 90,
    # path1/path2 of <= 15 with path2 needing path1. Google rejects rather than trims.
    headlines_min=3,
    headlines_max=15,
    headline_max_chars=30,
    headline_hard_max_chars=30,
    descriptions_min=2,
    descriptions_max=4,
    description_max_chars=90,
    description_hard_max_chars=90,
    ignores_extra_text=False,
    rejects_duplicate_headlines=True,
    primary_text_max_chars=None,
    primary_text_hard_max_chars=None,
    primary_text_required=False,
    display_path_max_parts=2,
    display_path_max_chars=15,
    requires_image=False,
    image=None,
    call_to_actions=(),
)

_META_FEED_LINK_AD = PlatformCapabilities(
    channel="meta_ads",
    label=get_channel("meta_ads").label,
    ad_format="Feed link ad",
    # link_data carries one ``name`` (the first headline), one ``description`` (the
    # first description) and ``message`` (primary text). Meta's 40/30/125 character
    # figures are truncation points, not API limits; 2,200 is the hard message cap.
    headlines_min=1,
    headlines_max=1,
    headline_max_chars=40,
    headline_hard_max_chars=None,
    descriptions_min=0,
    descriptions_max=1,
    description_max_chars=30,
    description_hard_max_chars=None,
    ignores_extra_text=True,
    rejects_duplicate_headlines=False,
    primary_text_max_chars=125,
    primary_text_hard_max_chars=2200,
    primary_text_required=True,
    display_path_max_parts=0,
    display_path_max_chars=None,
    requires_image=True,
    image=ImageSpec(
        content_types=("image/jpeg", "image/png"),
        hard_min_width=200,
        hard_min_height=200,
        min_width=600,
        min_height=600,
        recommended_width=1080,
        recommended_height=1080,
        # Feed crops anything wider than 1.91:1 or taller than 4:5.
        min_aspect_ratio=Fraction(4, 5),
        max_aspect_ratio=Fraction(191, 100),
        # Meta's ads guide gives 30 MB; read as MiB so Herald never refuses an image
        # Meta would take.
        max_bytes=30 * 1024 * 1024,
    ),
    call_to_actions=tuple(CALL_TO_ACTIONS),
)

PLATFORM_CAPABILITIES: dict[str, PlatformCapabilities] = {
    capabilities.channel: capabilities
    for capabilities in (_GOOGLE_RESPONSIVE_SEARCH_AD, _META_FEED_LINK_AD)
}


def get_capabilities(channel: str) -> PlatformCapabilities:
    """The capabilities of ``channel``; ``KeyError`` when it runs no ads Herald builds."""
    try:
        return PLATFORM_CAPABILITIES[channel]
    except KeyError:
        raise KeyError(f"Channel {channel!r} has no ad capabilities.") from None


def character_count(text: str) -> int:
    """Characters as the validator counts them: ``len()`` of the NFC-normalized text."""
    return len(unicodedata.normalize("NFC", text))


def has_blocking_findings(findings: Iterable[Finding]) -> bool:
    return any(finding.is_blocking for finding in findings)


def validate_creative(channel: str, creative: CreativeInput) -> list[Finding]:
    """Every finding for ``creative`` on ``channel``, sorted by field then code.

    Raises ``KeyError`` for a channel without capabilities.
    """
    capabilities = get_capabilities(channel)
    findings = [
        *_check_text_list(capabilities, _headline_rule(capabilities), creative.headlines),
        *_check_duplicate_headlines(capabilities, creative.headlines),
        *_check_text_list(capabilities, _description_rule(capabilities), creative.descriptions),
        *_check_primary_text(capabilities, creative.primary_text),
        *_check_display_path(capabilities, creative.display_path),
        *_check_destination(capabilities, creative.destination_url),
        *_check_media(capabilities, creative.media),
        *_check_call_to_action(capabilities, creative.call_to_action),
    ]
    return sorted(findings, key=_finding_order)


def display_url(destination_url: str, display_path: list[str]) -> str:
    """The URL Google shows: the destination's host, lower-cased (``www.`` kept; no
    scheme, port or path), plus the non-empty display path parts, "/"-joined. The destination's
    own path never shows. ``""`` when the destination is not an http(s) URL."""
    host = _web_host(destination_url)
    if host is None:
        return ""
    parts = [part.strip() for part in display_path if not _is_blank(part)]
    return "/".join([host, *parts])


def link_domain(destination_url: str) -> str:
    """The domain Meta shows under a link ad: the host without ``www.``. ``""`` when the
    destination is not an http(s) URL."""
    host = _web_host(destination_url)
    if host is None:
        return ""
    return host.removeprefix("www.")


# --- Rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class _TextListRule:
    """The limits of one list of texts (headlines or descriptions) on one platform."""

    field: str  # "headlines"
    noun: str  # "headline": builds codes ("headline_too_long") and messages
    min_count: int
    max_count: int
    max_chars: int
    hard_max_chars: int | None


def _headline_rule(capabilities: PlatformCapabilities) -> _TextListRule:
    return _TextListRule(
        field="headlines",
        noun="headline",
        min_count=capabilities.headlines_min,
        max_count=capabilities.headlines_max,
        max_chars=capabilities.headline_max_chars,
        hard_max_chars=capabilities.headline_hard_max_chars,
    )


def _description_rule(capabilities: PlatformCapabilities) -> _TextListRule:
    return _TextListRule(
        field="descriptions",
        noun="description",
        min_count=capabilities.descriptions_min,
        max_count=capabilities.descriptions_max,
        max_chars=capabilities.description_max_chars,
        hard_max_chars=capabilities.description_hard_max_chars,
    )


def _check_text_list(
    capabilities: PlatformCapabilities, rule: _TextListRule, texts: Sequence[str]
) -> list[Finding]:
    # A platform that drops extras never sees them, so only the entries it uses are
    # checked; a platform that rejects extras sees every entry.
    used: Sequence[str] = texts
    ignored: Sequence[str] = ()
    if capabilities.ignores_extra_text:
        used, ignored = texts[: rule.max_count], texts[rule.max_count :]
    findings: list[Finding] = []
    for index, text in enumerate(used):
        findings.extend(_check_list_item(capabilities, rule, index, text))
    # Blank entries are reported on their own, so they do not count as filled.
    filled = sum(1 for text in used if not _is_blank(text))
    findings.extend(_check_count(capabilities, rule, filled))
    ignored_filled = sum(1 for text in ignored if not _is_blank(text))
    if ignored_filled:
        findings.append(_extras_ignored(capabilities, rule, ignored_filled))
    return findings


def _check_list_item(
    capabilities: PlatformCapabilities, rule: _TextListRule, index: int, text: str
) -> list[Finding]:
    field_path = f"{rule.field}.{index}"
    subject = f"{rule.noun.capitalize()} {index + 1}"
    if _is_blank(text):
        message = (
            f"{subject} is empty; {capabilities.label} does not accept empty "
            f"{rule.noun}s. Fill it in or remove it."
        )
        return [_error(field_path, f"{rule.noun}_empty", message)]
    return _check_length(
        capabilities,
        field_path=field_path,
        subject=subject,
        code_stem=rule.noun,
        text=text,
        max_chars=rule.max_chars,
        hard_max_chars=rule.hard_max_chars,
    )


def _check_count(
    capabilities: PlatformCapabilities, rule: _TextListRule, filled: int
) -> list[Finding]:
    if filled < rule.min_count:
        message = (
            f"{capabilities.label} needs at least {_count_of(rule.min_count, rule.noun)}; "
            f"this ad has {filled}."
        )
        return [_error(rule.field, f"too_few_{rule.noun}s", message)]
    if filled > rule.max_count:
        message = (
            f"{capabilities.label} accepts at most {_count_of(rule.max_count, rule.noun)}; "
            f"this ad has {filled}. It will be rejected."
        )
        return [_error(rule.field, f"too_many_{rule.noun}s", message)]
    return []


def _extras_ignored(
    capabilities: PlatformCapabilities, rule: _TextListRule, ignored: int
) -> Finding:
    used = f"the first {rule.noun}" if rule.max_count == 1 else f"the first {rule.max_count}"
    message = (
        f"{capabilities.label} {_format_plural(capabilities)} use only {used}; "
        f"the other {_count_of(ignored, rule.noun)} will be ignored."
    )
    return _warning(rule.field, f"extra_{rule.noun}s_ignored", message)


def _check_duplicate_headlines(
    capabilities: PlatformCapabilities, headlines: Sequence[str]
) -> list[Finding]:
    if not capabilities.rejects_duplicate_headlines:
        return []
    findings: list[Finding] = []
    first_position: dict[str, int] = {}
    for index, headline in enumerate(headlines):
        if _is_blank(headline):
            continue
        key = unicodedata.normalize("NFC", headline).strip().casefold()
        if key not in first_position:
            first_position[key] = index
            continue
        message = (
            f"Headline {index + 1} repeats headline {first_position[key] + 1}; "
            f"{capabilities.label} rejects duplicate headlines."
        )
        findings.append(_error(f"headlines.{index}", "duplicate_headline", message))
    return findings


def _check_primary_text(capabilities: PlatformCapabilities, primary_text: str) -> list[Finding]:
    if capabilities.primary_text_max_chars is None:
        return []
    if _is_blank(primary_text):
        if not capabilities.primary_text_required:
            return []
        message = (
            f"{capabilities.label} {_format_plural(capabilities)} need primary text, "
            "the message shown above the image."
        )
        return [_error("primary_text", "primary_text_required", message)]
    return _check_length(
        capabilities,
        field_path="primary_text",
        subject="Primary text",
        code_stem="primary_text",
        text=primary_text,
        max_chars=capabilities.primary_text_max_chars,
        hard_max_chars=capabilities.primary_text_hard_max_chars,
    )


def _check_display_path(capabilities: PlatformCapabilities, parts: Sequence[str]) -> list[Finding]:
    max_parts = capabilities.display_path_max_parts
    if max_parts == 0:
        return []
    findings: list[Finding] = []
    # Trailing blank parts are harmless; a filled part past the last slot is not.
    used_parts = max(
        (index + 1 for index, part in enumerate(parts) if not _is_blank(part)), default=0
    )
    if used_parts > max_parts:
        message = (
            f"{capabilities.label} shows at most {max_parts} display path parts; "
            f"this ad has {used_parts}."
        )
        findings.append(_error("display_path", "too_many_display_paths", message))
    for index, part in enumerate(parts):
        if _is_blank(part):
            continue
        if index > 0 and _is_blank(parts[index - 1]):
            message = (
                f"Path {index + 1} is set but path {index} is empty; "
                f"{capabilities.label} shows path {index + 1} only after path {index}."
            )
            findings.append(_error(f"display_path.{index}", "display_path_needs_previous", message))
        findings.extend(
            _check_length(
                capabilities,
                field_path=f"display_path.{index}",
                subject=f"Path {index + 1}",
                code_stem="display_path",
                text=part,
                max_chars=capabilities.display_path_max_chars,
                hard_max_chars=capabilities.display_path_max_chars,
            )
        )
    return findings


def _check_destination(capabilities: PlatformCapabilities, destination_url: str) -> list[Finding]:
    if _is_blank(destination_url):
        message = (
            f"{capabilities.label} needs a destination URL: the page people reach "
            "when they click the ad."
        )
        return [_error("destination_url", "destination_required", message)]
    if _web_host(destination_url) is None:
        message = (
            f'"{destination_url}" is not a web address; {capabilities.label} needs a full '
            "URL starting with http:// or https://."
        )
        return [_error("destination_url", "destination_invalid", message)]
    return []


def _check_media(capabilities: PlatformCapabilities, media: MediaFacts | None) -> list[Finding]:
    spec = capabilities.image
    if spec is None:
        if media is None:
            return []
        message = (
            f"{capabilities.label} {_format_plural(capabilities)} show no images; "
            "the uploaded image is ignored."
        )
        return [_warning("media", "image_not_supported", message)]
    if media is None:
        if not capabilities.requires_image:
            return []
        message = (
            f"{capabilities.label} {_format_plural(capabilities)} need an image; upload a "
            f"{_type_names(spec)}, ideally {spec.recommended_width}x{spec.recommended_height} px."
        )
        return [_error("media", "image_required", message)]
    return [
        *_check_image_type(capabilities, spec, media),
        *_check_image_bytes(capabilities, spec, media),
        *_check_image_size(capabilities, spec, media),
        *_check_image_aspect_ratio(capabilities, spec, media),
    ]


def _check_image_type(
    capabilities: PlatformCapabilities, spec: ImageSpec, media: MediaFacts
) -> list[Finding]:
    # Browsers may append parameters ("image/png; charset=binary") or vary the case.
    content_type = media.content_type.split(";")[0].strip().lower()
    if content_type in spec.content_types:
        return []
    message = (
        f"The image is {media.content_type or 'of an unknown type'}; "
        f"{capabilities.label} accepts {_type_names(spec)} images."
    )
    return [_error("media", "image_type_not_supported", message)]


def _check_image_bytes(
    capabilities: PlatformCapabilities, spec: ImageSpec, media: MediaFacts
) -> list[Finding]:
    if media.size_bytes <= spec.max_bytes:
        return []
    message = (
        f"The image is {_megabytes(media.size_bytes)}; {capabilities.label} accepts "
        f"at most {_megabytes(spec.max_bytes)}. It will be rejected."
    )
    return [_error("media", "image_too_large", message)]


def _check_image_size(
    capabilities: PlatformCapabilities, spec: ImageSpec, media: MediaFacts
) -> list[Finding]:
    size = f"{media.width}x{media.height} px"
    if media.width < spec.hard_min_width or media.height < spec.hard_min_height:
        message = (
            f"The image is {size}; {capabilities.label} needs at least "
            f"{spec.hard_min_width}x{spec.hard_min_height} px. It will be rejected."
        )
        return [_error("media", "image_below_minimum", message)]
    if media.width < spec.min_width or media.height < spec.min_height:
        message = (
            f"The image is {size}; {capabilities.label} recommends at least "
            f"{spec.min_width}x{spec.min_height} px (ideally "
            f"{spec.recommended_width}x{spec.recommended_height}), so it may look blurry."
        )
        return [_warning("media", "image_too_small", message)]
    return []


def _check_image_aspect_ratio(
    capabilities: PlatformCapabilities, spec: ImageSpec, media: MediaFacts
) -> list[Finding]:
    if media.width <= 0 or media.height <= 0:
        return []  # No shape to judge; _check_image_size already rejects it.
    ratio = _two_decimals(Fraction(media.width, media.height))
    if spec.min_aspect_ratio <= ratio <= spec.max_aspect_ratio:
        return []
    message = (
        f"The image is {media.width}x{media.height} px, a {_ratio(ratio)} shape; "
        f"{capabilities.label} shows shapes from {_ratio(spec.max_aspect_ratio)} "
        f"(wide) to {_ratio(spec.min_aspect_ratio)} (tall), so it will be cropped."
    )
    return [_warning("media", "image_aspect_ratio", message)]


def _check_call_to_action(capabilities: PlatformCapabilities, value: str) -> list[Finding]:
    allowed = capabilities.call_to_actions
    if not allowed:
        return []
    examples = _examples(allowed)
    if _is_blank(value):
        message = (
            f"{capabilities.label} {_format_plural(capabilities)} need a call-to-action "
            f"button; choose one such as {examples}."
        )
        return [_error("call_to_action", "cta_required", message)]
    if value not in allowed:
        message = (
            f'"{value}" is not a call to action {capabilities.label} accepts; '
            f"use one such as {examples}."
        )
        return [_error("call_to_action", "cta_not_supported", message)]
    return []


def _check_length(
    capabilities: PlatformCapabilities,
    *,
    field_path: str,
    subject: str,
    code_stem: str,
    text: str,
    max_chars: int | None,
    hard_max_chars: int | None,
) -> list[Finding]:
    length = character_count(text)
    if hard_max_chars is not None and length > hard_max_chars:
        message = (
            f"{subject} is {length} characters; {capabilities.label} allows "
            f"{hard_max_chars}. It will be rejected."
        )
        return [_error(field_path, f"{code_stem}_too_long", message)]
    if max_chars is not None and length > max_chars:
        message = (
            f"{subject} is {length} characters; {capabilities.label} shows about "
            f"{max_chars} before cutting it off."
        )
        return [_warning(field_path, f"{code_stem}_truncated", message)]
    return []


# --- Helpers -----------------------------------------------------------------------


def _error(field_path: str, code: str, message: str) -> Finding:
    return Finding(Severity.ERROR, field_path, code, message)


def _warning(field_path: str, code: str, message: str) -> Finding:
    return Finding(Severity.WARNING, field_path, code, message)


def _finding_order(finding: Finding) -> tuple[tuple[str, ...], str]:
    # Zero-pad list indexes so "headlines.10" sorts after "headlines.9".
    path = tuple(part.zfill(6) if part.isdigit() else part for part in finding.field.split("."))
    return path, finding.code


def _is_blank(text: str) -> bool:
    return not text.strip()


def _web_host(url: str) -> str | None:
    """The lower-cased host of an absolute http(s) URL, or None for anything else.
    Uses the same rule as every other URL field in Herald."""
    try:
        valid_url = validate_http_url(url, field="destination_url")
    except InvalidInput:
        return None
    return urlsplit(valid_url).hostname


def _format_plural(capabilities: PlatformCapabilities) -> str:
    """The ad format in a sentence: "Responsive search ad" -> "responsive search ads"."""
    return f"{capabilities.ad_format.lower()}s"


def _count_of(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _type_names(spec: ImageSpec) -> str:
    """("image/jpeg", "image/png") -> "JPEG or PNG"."""
    names = [content_type.split("/")[-1].upper() for content_type in spec.content_types]
    return " or ".join(names)


def _examples(values: tuple[str, ...]) -> str:
    """A few allowed values for a message, ending with the last (NO_BUTTON for CTAs)."""
    shown = values if len(values) <= 5 else (*values[:4], values[-1])
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


def _megabytes(size_bytes: int) -> str:
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def _two_decimals(ratio: Fraction) -> Fraction:
    """Round half up to two decimals, exactly (``round()`` would round half to even)."""
    return Fraction(math.floor(ratio * 100 + Fraction(1, 2)), 100)


def _ratio(ratio: Fraction) -> str:
    """Fraction(4, 5) -> "4:5"; Fraction(191, 100) -> "1.91:1"; Fraction(2) -> "2:1"."""
    if ratio.numerator <= 9 and ratio.denominator <= 9:
        return f"{ratio.numerator}:{ratio.denominator}"
    return f"{float(ratio):.2f}:1"
