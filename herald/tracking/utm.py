"""UTM parameters for the destination a click redirects to.

Duties
------
* ``utm_defaults``: the ``utm_*`` values Herald proposes for one channel, campaign,
  unit and creative, from ``CHANNEL_UTM`` and ASCII-folded slugs of the names.
* ``append_utm``: add those values to a saved http(s) destination without disturbing
  anything already in it.

Rules ``append_utm`` keeps
--------------------------
* The existing query string and fragment are kept byte for byte; new pairs go after
  the existing query, percent-encoded (RFC 3986, ``%20`` for a space).
* A ``utm_*`` key already in the destination is not overridden, even with an empty
  value: it is the advertiser's explicit choice. Keys are compared after
  percent-decoding, exactly (GA4 reads lower-case ``utm_*`` names only).
* Only absolute ``http``/``https`` URLs with a host are accepted. URLs with user info
  (``https://brand.example@evil.example``), backslashes, whitespace or control
  characters are refused too, because browsers and URL parsers disagree about their
  host. The result always has the destination's scheme and host.

What callers must not do
------------------------
* Do not hash the tagged URL for a click token: tokens bind the saved destination
  (``signing.destination_hash``), and tagging happens after verification.
* Do not pass ``append_utm`` a destination taken from a request; it tags, it does not
  decide where a click may go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from uuid import UUID

__all__ = ["CHANNEL_UTM", "OWNED_UTM", "UTM_KEYS", "append_utm", "slugify", "utm_defaults"]

UTM_KEYS: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

# Channel key -> (utm_source, utm_medium). Paid channels report the platform the ad ran
# on and "cpc", the medium analytics tools group paid search and social under. A channel
# that is not listed is one of Herald's owned placements: ("herald", "display"). A new
# paid or messaging channel (email, sms) must add its own row here.
CHANNEL_UTM: Final[Mapping[str, tuple[str, str]]] = {
    "google_ads": ("google", "cpc"),
    "meta_ads": ("facebook", "cpc"),
}
OWNED_UTM: Final = ("herald", "display")

# Long names make long URLs and get cut by analytics tools (GA4 keeps 100 characters).
_SLUG_MAX: Final = 80
_CAMPAIGN_ID_PREFIX: Final = 8
_UTM_KEY: Final = re.compile(r"utm_[a-z_]+", re.ASCII)
_ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
# C0 controls, space, DEL and the C1 controls: URL parsers strip or split on these.
_UNSAFE_CHARACTERS: Final = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def slugify(name: str) -> str:
    """Lower-case ``name`` into words joined by ``-``. Letters that fold to ASCII do
    (``"Épicé Straße"`` -> ``"epice-strasse"``); other scripts are kept as they are
    (``"辛いチップス"``) and percent-encoded in the URL. Anything that is not a letter,
    digit, or mark on a letter separates words. At most 80 characters; may be empty."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    kept: list[str] = []
    base_is_ascii = False
    for character in decomposed:
        is_mark = unicodedata.category(character).startswith("M")
        # Drop accents only on ASCII letters: stripping the marks of other scripts
        # (Japanese dakuten, Devanagari vowel signs) would change the word.
        if is_mark and base_is_ascii:
            continue
        if not is_mark:
            base_is_ascii = character.isascii()
        kept.append(character)
    characters: list[str] = []
    in_word = False
    for character in unicodedata.normalize("NFC", "".join(kept)):
        category = unicodedata.category(character)[0]
        if category in "LN":
            in_word = True
        elif category != "M" or not in_word:
            # A mark belongs to the letter before it; one that follows a separator (an
            # emoji's variation selector, say) is dropped with it.
            character, in_word = "-", False
        characters.append(character)
    slug = re.sub(r"-+", "-", "".join(characters)).strip("-")
    return slug[:_SLUG_MAX].rstrip("-")


def utm_defaults(
    *,
    channel: str,
    campaign_name: str,
    campaign_id: UUID,
    unit_name: str | None,
    creative_name: str | None,
) -> dict[str, str]:
    """Herald's proposed UTM values, keys in ``UTM_KEYS`` order:

    ``utm_source``/``utm_medium`` from ``CHANNEL_UTM`` (``OWNED_UTM`` for unlisted
    channels); ``utm_campaign`` = campaign slug + ``-`` + the first 8 hex digits of the
    campaign id, so renamed or same-named campaigns stay apart; ``utm_content`` = the
    creative's slug and ``utm_term`` = the unit's slug, each left out when the name is
    missing or slugs to nothing."""
    source, medium = CHANNEL_UTM.get(channel, OWNED_UTM)
    campaign_slug = slugify(campaign_name)
    id_prefix = campaign_id.hex[:_CAMPAIGN_ID_PREFIX]
    utm = {
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": f"{campaign_slug}-{id_prefix}" if campaign_slug else id_prefix,
    }
    content = slugify(creative_name) if creative_name is not None else ""
    if content:
        utm["utm_content"] = content
    term = slugify(unit_name) if unit_name is not None else ""
    if term:
        utm["utm_term"] = term
    return utm


def _check_destination(destination: str) -> None:
    if not isinstance(destination, str) or _UNSAFE_CHARACTERS.search(destination):
        raise ValueError("The destination holds whitespace, control characters or '\\'.")
    parts = urlsplit(destination)  # raises ValueError for malformed IPv6 brackets
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise ValueError("Only http and https destinations can be tagged.")
    if not parts.netloc or not parts.hostname:
        raise ValueError("The destination has no host.")
    if "@" in parts.netloc:
        raise ValueError("Destinations with user info are refused.")
    _ = parts.port  # raises ValueError for a port that is not a number in range


def append_utm(destination: str, utm: Mapping[str, str]) -> str:
    """Return ``destination`` with the ``utm`` pairs it does not already have appended
    to its query, before any fragment (see the module docstring for the rules). Keys
    must look like ``utm_*``; empty values are skipped. Returns ``destination``
    unchanged when nothing is added. Raises ``ValueError`` for a destination that is not
    a plain http(s) URL or a key that is not a UTM key."""
    _check_destination(destination)
    for key in utm:
        if not _UTM_KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a UTM parameter name.")

    # Split by hand rather than re-joining urlsplit's parts: urlunsplit drops an empty
    # "?" or "#" and would change the URL in ways the advertiser did not ask for.
    before_fragment, hash_sign, fragment = destination.partition("#")
    base, _question_mark, query = before_fragment.partition("?")
    present = {key for key, _value in parse_qsl(query, keep_blank_values=True)}
    added = [(key, value) for key, value in utm.items() if value and key not in present]
    if not added:
        return destination
    encoded = urlencode(added, quote_via=quote, safe="")
    joiner = "" if not query or query.endswith("&") else "&"
    return f"{base}?{query}{joiner}{encoded}{hash_sign}{fragment}"
