"""General invalid traffic (GIVT): list-based screening of beacon and click requests.

Duties
------
``classify_request`` says whether one request is general invalid traffic, in the sense
of the MRC/IAB IVT guidelines: identified from lists and request properties alone, with
no behavioural analytics. It returns the first reason that applies, in this order:

1. ``EMPTY_USER_AGENT``  no User-Agent, or only whitespace.
2. ``BOT_USER_AGENT``    a known crawler, link previewer, headless browser or HTTP
                         library (``_BOT_PATTERNS``), or a generic "bot", "crawler" or
                         "spider" word.
3. ``NON_BROWSER``       no ``Mozilla/`` token, which every browser sends, and none of
                         the native app tokens of ``APP_TOKENS`` either. Steps 2 and 3
                         are the IAB "double pass": a robot list, then a valid-browser
                         test.
4. ``PREFETCH``          the browser fetched speculatively, not because a person looked
                         or clicked (``Purpose``/``Sec-Purpose: prefetch``, ``X-Moz:
                         prefetch``, ``X-Purpose: preview``).
5. ``DATACENTER_IP``     the address is in a cloud or hosting range (``DATACENTER_NETWORKS``).

``None`` means "not general invalid traffic": it is not proof of a human. Duplicate
clicks, 0x0/1x1 placements and sophisticated IVT need state or analytics and are decided
elsewhere.

``coarse_ip`` reduces an address to its /24 (IPv4) or /48 (IPv6) network, which is what
may be stored; ``device_type`` gives a coarse device class from the User-Agent.

What callers must not do
------------------------
* Do not drop invalid events: record them with the reason and bill net counts, reporting
  gross beside them (reference threat 8), so filtering stays auditable.
* Do not store the raw IP or User-Agent beyond the request: classify, keep
  ``coarse_ip(ip)``, ``device_type(ua)`` and the reason.
* Pass the client address your proxy configuration vouches for, not the raw
  ``X-Forwarded-For`` header, which any client can set. ``ip`` is one bare address,
  without port or brackets.
* ``DATACENTER_NETWORKS`` is a short, illustrative sample of well-known provider ranges
  taken from their published feeds. A real deployment must load the IAB/ABC Spiders &
  Bots lists and a maintained data-centre/ASN list and pass them in through
  ``datacenter_networks``; the sample exists so the rule is exercised end to end.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Final

__all__ = [
    "APP_TOKENS",
    "DATACENTER_NETWORKS",
    "PREFETCH_HEADERS",
    "InvalidReason",
    "Network",
    "classify_request",
    "coarse_ip",
    "device_type",
    "parse_networks",
]

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidReason(StrEnum):
    BOT_USER_AGENT = "bot_user_agent"
    EMPTY_USER_AGENT = "empty_user_agent"
    PREFETCH = "prefetch"
    NON_BROWSER = "non_browser"
    DATACENTER_IP = "datacenter_ip"


# Known robots, matched case-insensitively anywhere in the User-Agent. Named entries come
# first so a log shows which one fired; the generic word rules at the end catch the long
# tail of crawlers that announce themselves.
_BOT_PATTERNS: Final = (
    # Search engines. Yandex's robots all send "Yandex<Name>/" (YandexBot/,
    # YandexImages/, YandexMetrika/); its search app sends "YandexSearch/" and its
    # browser "YaBrowser/", both used by people, so those are excluded.
    r"googlebot",
    r"adsbot-google",
    r"mediapartners-google",
    r"google-inspectiontool",
    r"storebot-google",
    r"bingbot",
    r"bingpreview",
    r"yandex(?!search)[a-z]*/",
    r"baiduspider",
    r"duckduckbot",
    r"slurp",
    r"applebot",
    r"petalbot",
    r"bytespider",
    # Link previews fetched by social networks and messengers when a link is shared.
    # WhatsApp's previewer sends "WhatsApp/2.x"; WhatsApp's in-app browser sends a
    # Mozilla/ string without it, so only a leading "WhatsApp/" is a bot.
    r"facebookexternalhit",
    r"facebot",
    r"twitterbot",
    r"linkedinbot",
    r"slackbot",
    r"discordbot",
    r"telegrambot",
    r"^whatsapp/",
    r"skypeuripreview",
    # SEO tools and dataset or AI crawlers.
    r"semrush",
    r"ahrefs",
    r"mj12bot",
    r"dotbot",
    r"gptbot",
    r"chatgpt-user",
    r"ccbot",
    r"claudebot",
    r"claude-web",
    r"anthropic-ai",
    r"amazonbot",
    # Headless and scripted browsers.
    r"headlesschrome",
    r"phantomjs",
    # HTTP libraries and command-line clients.
    r"python-requests",
    r"python-urllib",
    r"python-httpx",
    r"aiohttp",
    r"curl/",
    r"wget/",
    r"go-http-client",
    r"\bjava/",
    r"okhttp",
    r"axios",
    r"node-fetch",
    r"undici",
    r"scrapy",
    r"libwww-perl",
    r"apache-httpclient",
    # Generic words. "bot" must stand alone ("Some Bot", "bot;") or name a product
    # ("xyzbot/1.0"); a plain "bot" suffix is not enough because "CUBOT" is a phone
    # brand whose model names (CUBOT X30, CUBOT_P40) appear in ordinary Android UAs.
    r"\bbot\b",
    r"(?<!cu)bot/",
    r"\bcrawl",
    r"crawler",
    r"spider",
)
_BOT_USER_AGENT: Final = re.compile("|".join(_BOT_PATTERNS), re.IGNORECASE)

# Tokens of real clients that do not send "Mozilla/": native HTTP stacks of mobile apps
# that fire beacons from app code (Android's default "Dalvik/2.1.0 (Linux; U; Android
# …)", iOS's "MyApp/1.0 CFNetwork/1410 Darwin/22.6.0"), and Opera Mini's
# "Opera/9.80 (…) Presto/…". A UA carrying one is not NON_BROWSER, though the robot
# list still applies to it.
APP_TOKENS: Final = ("mozilla/", "dalvik/", "cfnetwork/", "opera/")

# Header name (lower case) -> values meaning a speculative fetch. Values are compared
# case-insensitively on the first item of a structured list, so Chrome's
# "Sec-Purpose: prefetch;prerender" and "prefetch;anonymous-client-ip" both count.
PREFETCH_HEADERS: Final[Mapping[str, frozenset[str]]] = {
    "purpose": frozenset({"prefetch", "prerender", "preview"}),
    "sec-purpose": frozenset({"prefetch", "prerender"}),
    "x-moz": frozenset({"prefetch"}),
    "x-purpose": frozenset({"preview", "prefetch"}),
}


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDR strings (from a data-centre list file, say). Host bits must be zero;
    raises ``ValueError`` on the first bad entry."""
    return tuple(ipaddress.ip_network(cidr.strip()) for cidr in cidrs)


# A short sample of ranges the providers publish as their own (AWS ip-ranges.json,
# Google Cloud cloud.json, Azure service tags, DigitalOcean and Hetzner allocations).
# Illustrative only: see the module docstring.
DATACENTER_NETWORKS: Final = parse_networks(
    (
        # Amazon Web Services
        "54.152.0.0/16",
        "3.5.140.0/22",
        "2600:1f00::/24",
        # Google Cloud
        "35.184.0.0/13",
        "104.196.0.0/14",
        # Microsoft Azure
        "13.64.0.0/11",
        "40.64.0.0/10",
        # DigitalOcean
        "104.131.0.0/16",
        "159.203.0.0/16",
        "167.99.0.0/16",
        "2604:a880::/32",
        # Hetzner
        "78.46.0.0/15",
        "88.198.0.0/16",
        "2a01:4f8::/32",
    )
)


# A handful of user agents and client networks make up nearly all traffic, and these
# answers depend on nothing else, so each process remembers the recent ones: the regular
# expressions and the network scan run once per distinct value, not once per event.
_CACHED_VALUES: Final = 4096


def _parse_address(ip: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(ip, str):
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    # "::ffff:203.0.113.7" is an IPv4 client seen through a dual-stack socket; treat it
    # as the IPv4 address so /24 grouping and IPv4 ranges apply to it.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=_CACHED_VALUES)
def coarse_ip(ip: str) -> str | None:
    """The network an address belongs to: ``"203.0.113.0/24"`` for IPv4 (and IPv4-mapped
    IPv6), ``"2001:db8:1234::/48"`` for IPv6; ``None`` when ``ip`` is not one bare
    address. Coarse enough to keep without keeping the person's address, fine enough to
    group a burst of requests from one network."""
    address = _parse_address(ip)
    if address is None:
        return None
    prefix = 24 if address.version == 4 else 48
    # Built from the integer, so an IPv6 scope id ("fe80::1%eth0") cannot leak through.
    bits = address.max_prefixlen - prefix
    base = (int(address) >> bits) << bits
    network: Network = (
        ipaddress.IPv4Network((base, prefix))
        if address.version == 4
        else ipaddress.IPv6Network((base, prefix))
    )
    return str(network)


def _is_prefetch(headers: Mapping[str, str]) -> bool:
    for name, value in headers.items():
        wanted = PREFETCH_HEADERS.get(name.lower())
        if wanted is None or not isinstance(value, str):
            continue
        first_item = value.split(",", 1)[0].split(";", 1)[0].strip().lower()
        if first_item in wanted:
            return True
    return False


def classify_request(
    *,
    user_agent: str,
    headers: Mapping[str, str],
    ip: str | None,
    datacenter_networks: Iterable[Network] = DATACENTER_NETWORKS,
) -> InvalidReason | None:
    """The first GIVT reason that applies to this request, or ``None`` (see the module
    docstring for the order). ``headers`` may be Django's ``request.headers`` or any
    mapping; names are compared case-insensitively. ``ip`` that is ``None`` or not an
    address skips the data-centre test. ``datacenter_networks`` replaces the built-in
    sample; it is scanned linearly, so pass a pre-parsed tuple."""
    agent_reason = _user_agent_reason(user_agent if isinstance(user_agent, str) else "")
    if agent_reason is not None:
        return agent_reason
    if _is_prefetch(headers):
        return InvalidReason.PREFETCH
    if ip is None:
        return None
    if datacenter_networks is DATACENTER_NETWORKS:
        in_datacenter = _in_builtin_datacenter(ip)
    else:
        address = _parse_address(ip)
        in_datacenter = address is not None and any(
            address in network for network in datacenter_networks
        )
    return InvalidReason.DATACENTER_IP if in_datacenter else None


@lru_cache(maxsize=_CACHED_VALUES)
def _user_agent_reason(user_agent: str) -> InvalidReason | None:
    agent = user_agent.strip()
    if not agent:
        return InvalidReason.EMPTY_USER_AGENT
    if _BOT_USER_AGENT.search(agent):
        return InvalidReason.BOT_USER_AGENT
    lowered = agent.lower()
    if not any(token in lowered for token in APP_TOKENS):
        return InvalidReason.NON_BROWSER
    return None


@lru_cache(maxsize=_CACHED_VALUES)
def _in_builtin_datacenter(ip: str) -> bool:
    address = _parse_address(ip)
    return address is not None and any(address in network for network in DATACENTER_NETWORKS)


_IPAD: Final = re.compile(r"\bipad\b", re.IGNORECASE)
_IPHONE: Final = re.compile(r"\bip(?:hone|od)\b", re.IGNORECASE)
_ANDROID: Final = re.compile(r"\bandroid\b", re.IGNORECASE)
_MOBILE: Final = re.compile(r"\bmobi(?:le)?\b", re.IGNORECASE)
# "Tablet PC" is an old Windows pen-laptop token, not a tablet.
_TABLET: Final = re.compile(r"\btablet\b(?! pc)", re.IGNORECASE)
_DESKTOP: Final = re.compile(r"\b(?:windows|macintosh|x11|cros)\b", re.IGNORECASE)


@lru_cache(maxsize=_CACHED_VALUES)
def device_type(user_agent: str) -> str:
    """``"mobile"``, ``"tablet"``, ``"desktop"`` or ``"other"``, by the first rule that
    matches (tokens case-insensitive, whole words):

    1. ``iPad`` -> tablet;   2. ``iPhone``/``iPod`` -> mobile;
    3. ``Android`` -> mobile with ``Mobile``, else tablet (Android phones send
       "Mobile", tablets do not);
    4. ``Tablet`` (not "Tablet PC") -> tablet;   5. ``Mobile``/``Mobi`` -> mobile;
    6. ``Windows``/``Macintosh``/``X11``/``CrOS`` -> desktop;   7. otherwise other.

    Limits: iPadOS Safari asks for desktop sites and sends a Macintosh UA, so those
    iPads count as desktop; Android TVs, set-top boxes and Android apps' own HTTP stack
    ("Dalvik/…", which never says "Mobile") count as tablets. Bots get the
    class of the device they imitate (Googlebot Smartphone is mobile)."""
    agent = user_agent if isinstance(user_agent, str) else ""
    if _IPAD.search(agent):
        return "tablet"
    if _IPHONE.search(agent):
        return "mobile"
    if _ANDROID.search(agent):
        return "mobile" if _MOBILE.search(agent) else "tablet"
    if _TABLET.search(agent):
        return "tablet"
    if _MOBILE.search(agent):
        return "mobile"
    if _DESKTOP.search(agent):
        return "desktop"
    return "other"
