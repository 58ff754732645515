"""UTM defaults and tagging: exact URLs, the advertiser's own values win, and tagging
never moves a click to another scheme or host.

Pure Python (no database)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.tracking.utm import (
    CHANNEL_UTM,
    OWNED_UTM,
    UTM_KEYS,
    append_utm,
    slugify,
    utm_defaults,
)

SPICY = "https://www.tastychips.co/spicy"
CAMPAIGN_ID = UUID("1a2b3c4d-0000-4000-8000-000000000001")
TAGS = (
    "utm_source=google&utm_medium=cpc&utm_campaign=spicy-summer-launch-1a2b3c4d"
    "&utm_content=hot-headline-a&utm_term=search-spicy"
)


def _defaults(channel: str = "google_ads", **overrides) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "channel": channel,
        "campaign_name": "Spicy Summer Launch",
        "campaign_id": CAMPAIGN_ID,
        "unit_name": "Search — Spicy",
        "creative_name": "Hot Headline A",
    }
    arguments.update(overrides)
    return utm_defaults(**arguments)


# --- utm_defaults ------------------------------------------------------------------------


def test_google_ads_defaults():
    assert _defaults() == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spicy-summer-launch-1a2b3c4d",
        "utm_content": "hot-headline-a",
        "utm_term": "search-spicy",
    }
    assert tuple(_defaults()) == UTM_KEYS


@pytest.mark.parametrize(
    ("channel", "source", "medium"),
    [
        ("google_ads", "google", "cpc"),
        ("meta_ads", "facebook", "cpc"),
        ("owned_banner", "herald", "display"),
        ("herald_site", "herald", "display"),
    ],
)
def test_channel_mapping(channel, source, medium):
    utm = _defaults(channel)
    assert (utm["utm_source"], utm["utm_medium"]) == (source, medium)


def test_mapping_table_lists_the_paid_channels():
    assert CHANNEL_UTM == {"google_ads": ("google", "cpc"), "meta_ads": ("facebook", "cpc")}
    assert OWNED_UTM == ("herald", "display")


def test_campaign_level_defaults_leave_content_and_term_out():
    assert _defaults("meta_ads", unit_name=None, creative_name=None) == {
        "utm_source": "facebook",
        "utm_medium": "cpc",
        "utm_campaign": "spicy-summer-launch-1a2b3c4d",
    }


def test_names_that_slug_to_nothing_are_left_out():
    utm = _defaults(campaign_name="!!!", unit_name="  ", creative_name="—")
    assert utm == {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "1a2b3c4d"}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Spicy Summer Launch", "spicy-summer-launch"),
        ("Épicé Chips — Été 2026", "epice-chips-ete-2026"),
        ("Straße der Würze", "strasse-der-wurze"),
        ("İstanbul", "istanbul"),
        ("Ｔａｓｔｙ Chips", "tasty-chips"),
        ("ﬁery café_2026", "fiery-cafe-2026"),
        ("Crème brûlée!!", "creme-brulee"),
        ("辛いチップス", "辛いチップス"),
        ("हिंदी विज्ञापन", "हिंदी-विज्ञापन"),
        ("Острые чипсы", "острые-чипсы"),
        ("  --Hot__& Spicy--  ", "hot-spicy"),
        ("", ""),
        ("🌶️🌶️", ""),
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug


def test_slugs_are_capped():
    slug = slugify("spicy " * 40)
    assert len(slug) <= 80
    assert not slug.endswith("-")


# --- append_utm --------------------------------------------------------------------------


def test_tasty_chips_destination_exact_url():
    assert append_utm(SPICY, _defaults()) == f"{SPICY}?{TAGS}"


def test_tasty_chips_meta_campaign_level():
    utm = _defaults("meta_ads", unit_name=None, creative_name=None)
    assert append_utm(SPICY, utm) == (
        f"{SPICY}?utm_source=facebook&utm_medium=cpc&utm_campaign=spicy-summer-launch-1a2b3c4d"
    )


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (f"{SPICY}?size=xl", f"{SPICY}?size=xl&{TAGS}"),
        (f"{SPICY}?size=xl&", f"{SPICY}?size=xl&{TAGS}"),
        (f"{SPICY}?", f"{SPICY}?{TAGS}"),
        (f"{SPICY}#reviews", f"{SPICY}?{TAGS}#reviews"),
        (f"{SPICY}?size=xl#reviews", f"{SPICY}?size=xl&{TAGS}#reviews"),
        (f"{SPICY}?size=xl#", f"{SPICY}?size=xl&{TAGS}#"),
        (f"{SPICY}#/cart?step=2", f"{SPICY}?{TAGS}#/cart?step=2"),
        (f"{SPICY}?q=a+b%20c&tag=1&tag=2", f"{SPICY}?q=a+b%20c&tag=1&tag=2&{TAGS}"),
        ("https://www.tastychips.co", f"https://www.tastychips.co?{TAGS}"),
        ("HTTPS://WWW.TASTYCHIPS.CO:8443/spicy", f"HTTPS://WWW.TASTYCHIPS.CO:8443/spicy?{TAGS}"),
        ("http://[2001:db8::1]/spicy", f"http://[2001:db8::1]/spicy?{TAGS}"),
    ],
)
def test_query_and_fragment_are_kept(destination, expected):
    assert append_utm(destination, _defaults()) == expected


def test_existing_utm_values_win():
    destination = f"{SPICY}?utm_source=newsletter&utm_campaign=&ref=1#buy"
    assert append_utm(destination, _defaults()) == (
        f"{SPICY}?utm_source=newsletter&utm_campaign=&ref=1"
        "&utm_medium=cpc&utm_content=hot-headline-a&utm_term=search-spicy#buy"
    )


def test_percent_encoded_existing_keys_count_as_present():
    destination = f"{SPICY}?utm%5Fsource=partner"
    tagged = append_utm(destination, _defaults())
    assert [value for key, value in parse_qsl(urlsplit(tagged).query) if key == "utm_source"] == [
        "partner"
    ]


def test_nothing_to_add_returns_the_destination_unchanged():
    destination = f"{SPICY}?{TAGS}#x"
    assert append_utm(destination, _defaults()) == destination
    assert append_utm(SPICY, {}) == SPICY
    assert append_utm(SPICY, {"utm_source": ""}) == SPICY


def test_unicode_values_are_percent_encoded():
    utm = _defaults(campaign_name="辛いチップス", creative_name="Épicé", unit_name=None)
    tagged = append_utm(SPICY, utm)
    assert tagged == (
        f"{SPICY}?utm_source=google&utm_medium=cpc"
        f"&utm_campaign={quote('辛いチップス', safe='')}-1a2b3c4d&utm_content=epice"
    )
    assert tagged.isascii()
    assert dict(parse_qsl(urlsplit(tagged).query))["utm_campaign"] == "辛いチップス-1a2b3c4d"


def test_values_with_reserved_characters_cannot_inject_parameters():
    tagged = append_utm(SPICY, {"utm_source": "a&redirect=https://evil.example#x"})
    assert tagged == f"{SPICY}?utm_source=a%26redirect%3Dhttps%3A%2F%2Fevil.example%23x"
    assert urlsplit(tagged).fragment == ""


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "ftp://files.tastychips.co/spicy",
        "mailto:hello@tastychips.co",
        "//evil.example/spicy",
        "/spicy",
        "www.tastychips.co/spicy",
        "https:///spicy",
        "https://",
        "https:\\\\evil.example",
        "https://www.tastychips.co\\@evil.example/",
        "https://www.tastychips.co@evil.example/",
        "https://user:pass@www.tastychips.co/",
        " https://www.tastychips.co/spicy",
        "https://www.tastychips.co/spicy\n",
        "https://www.tastychips.co/sp icy",
        "https://www.tastychips.co\t.evil.example/",
        "https://www.tastychips.co:99999/spicy",
        "https://www.tastychips.co:http/spicy",
        "https://[2001:db8::1/spicy",
        "",
    ],
)
def test_unsafe_destinations_are_refused(destination):
    with pytest.raises(ValueError):
        append_utm(destination, _defaults())


@pytest.mark.parametrize("key", ["ref", "UTM_SOURCE", "utm_", "utm_source2", "redirect", ""])
def test_only_utm_keys_can_be_added(key):
    with pytest.raises(ValueError, match="UTM parameter"):
        append_utm(SPICY, {key: "x"})


# --- properties --------------------------------------------------------------------------

_QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


def _check_tagged(destination: str, tagged: str, utm: dict[str, str]) -> None:
    before, after = urlsplit(destination), urlsplit(tagged)
    assert after.scheme == before.scheme
    assert after.netloc == before.netloc
    assert after.hostname == before.hostname
    assert after.port == before.port
    assert after.path == before.path
    assert after.fragment == before.fragment
    assert after.query.startswith(before.query)
    present = {key for key, _ in parse_qsl(before.query, keep_blank_values=True)}
    added = dict(parse_qsl(after.query[len(before.query) :], keep_blank_values=True))
    assert added == {key: value for key, value in utm.items() if key not in present}


@settings(max_examples=1000, deadline=None)
@given(query=_QUERY_TEXT, fragment=st.none() | _QUERY_TEXT)
def test_tagging_never_changes_scheme_host_path_or_fragment(query, fragment):
    destination = f"{SPICY}?{query}" + ("" if fragment is None else f"#{fragment}")
    utm = _defaults()
    try:
        tagged = append_utm(destination, utm)
    except ValueError:
        # Only whitespace, control characters and backslashes are refused here.
        assert any(
            c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\\" for c in destination
        )
        return
    _check_tagged(destination, tagged, utm)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"\Ahttps?://[a-z0-9.\[\]:@\\/?#&=%-]{0,40}\Z"))
def test_any_accepted_destination_keeps_its_scheme_and_host(destination):
    try:
        tagged = append_utm(destination, {"utm_source": "herald"})
    except ValueError:
        return
    assert urlsplit(destination).scheme.lower() in {"http", "https"}
    _check_tagged(destination, tagged, {"utm_source": "herald"} if tagged != destination else {})
