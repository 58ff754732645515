"""Small shared validators that raise ``InvalidInput`` naming the field."""

from __future__ import annotations

import zoneinfo
from functools import cache
from urllib.parse import urlsplit

from herald.core.errors import InvalidInput

__all__ = ["validate_http_url", "validate_time_zone"]


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str, *, field: str = "time_zone") -> str:
    if value not in _time_zones():
        raise InvalidInput.single(
            field, "iana_time_zone", f"{value!r} is not an IANA time zone such as Europe/Paris."
        )
    return value


def validate_http_url(value: str, *, field: str, max_length: int = 2048) -> str:
    """Accept only absolute http(s) URLs with a host; anything else could redirect a
    visitor somewhere other than the advertiser's site."""
    url = (value or "").strip()
    if len(url) > max_length:
        raise InvalidInput.single(field, "max_length", f"The URL is longer than {max_length}.")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
        raise InvalidInput.single(
            field, "http_url", "Enter a full web address starting with http:// or https://."
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput.single(field, "http_url", "The web address contains spaces.")
    return url
