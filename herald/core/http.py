"""The one way Herald calls other servers.

Every outbound request goes through ``outbound_request``: it sets timeouts, never
follows redirects, refuses private, loopback and link-local destinations unless the
host is explicitly trusted (the configured platform endpoints and
``HERALD_HTTP_TRUSTED_HOSTS``, e.g. the local fake servers), and logs the method, host
and path only — never query strings, headers or bodies, where tokens travel.

Callers classify failures themselves (each platform has its own error shapes); this
module raises ``OutboundTimeout`` / ``OutboundConnectionError`` for transport problems
and ``BlockedDestination`` for refused addresses.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

__all__ = [
    "BlockedDestination",
    "OutboundConnectionError",
    "OutboundTimeout",
    "outbound_request",
]

logger = logging.getLogger(__name__)
# httpx logs every request URL, query included, at INFO; URLs may carry secrets.
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)


class BlockedDestination(Exception):
    """The URL resolves to an address Herald must not call."""


class OutboundTimeout(Exception):
    """No answer in time. For a request that changes something, it may have happened."""


class OutboundConnectionError(Exception):
    """The connection failed before a request was sent."""


@cache
def _tls_context() -> ssl.SSLContext:
    # Building a context loads the CA bundle (~20 ms); one is enough for the process.
    return ssl.create_default_context()


def _trusted_hosts() -> set[str]:
    return {host.lower() for host in getattr(settings, "HERALD_HTTP_TRUSTED_HOSTS", [])}


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _check_destination(url: str, trusted: Iterable[str]) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise BlockedDestination(f"Refusing to call {parts.scheme or '?'}://{host or '?'}.")
    with_port = f"{host}:{parts.port}" if parts.port else host
    if host in trusted or with_port in trusted:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
    except socket.gaierror as error:
        raise OutboundConnectionError(f"Cannot resolve {host}.") from error
    if not addresses or not all(_is_public(str(address)) for address in addresses):
        raise BlockedDestination(f"Refusing to call {host}: it is not a public address.")


def outbound_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    timeout: httpx.Timeout | float | None = None,
    trusted_hosts: Iterable[str] = (),
) -> httpx.Response:
    """Send one request and return the response, whatever its status."""
    _check_destination(url, _trusted_hosts() | {host.lower() for host in trusted_hosts})
    parts = urlsplit(url)
    started = time.monotonic()
    try:
        with httpx.Client(
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            follow_redirects=False,
            headers={"User-Agent": "Herald/1.0"},
            verify=_tls_context(),
        ) as client:
            response = client.request(
                method, url, headers=headers, params=params, json=json, data=data, files=files
            )
    except httpx.TimeoutException as error:
        logger.warning("%s %s%s timed out", method, parts.hostname, parts.path)
        raise OutboundTimeout(f"{parts.hostname} did not answer in time.") from error
    except httpx.TransportError as error:
        logger.warning("%s %s%s failed to connect", method, parts.hostname, parts.path)
        raise OutboundConnectionError(f"Cannot reach {parts.hostname}.") from error
    logger.info(
        "%s %s%s → %s in %.0f ms",
        method,
        parts.hostname,
        parts.path,
        response.status_code,
        (time.monotonic() - started) * 1000,
    )
    return response
