"""General invalid traffic: real User-Agent strings, prefetch headers, coarse IPs and
data-centre ranges, each with the exact expected answer.

Pure Python (no database)."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest
from django.http.request import HttpHeaders
from hypothesis import given, settings
from hypothesis import strategies as st

from herald.tracking.ivt import (
    DATACENTER_NETWORKS,
    InvalidReason,
    classify_request,
    coarse_ip,
    device_type,
    parse_networks,
)

BOT = InvalidReason.BOT_USER_AGENT
EMPTY = InvalidReason.EMPTY_USER_AGENT
NON_BROWSER = InvalidReason.NON_BROWSER
HOME_IP = "86.12.34.56"  # not in any listed range

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

# (label, User-Agent, expected classification, expected device type)
USER_AGENTS: list[tuple[str, str, InvalidReason | None, str]] = [
    # --- people: desktop --------------------------------------------------------------
    ("chrome windows", CHROME_WINDOWS, None, "desktop"),
    (
        "chrome macos",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/124.0.0.0 Safari/537.36",
        None,
        "desktop",
    ),
    (
        "chrome linux",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        None,
        "desktop",
    ),
    (
        "chromebook",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        None,
        "desktop",
    ),
    (
        "safari macos",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.4.1 Safari/605.1.15",
        None,
        "desktop",
    ),
    (
        "firefox windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        None,
        "desktop",
    ),
    (
        "firefox ubuntu",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        None,
        "desktop",
    ),
    (
        "edge windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        None,
        "desktop",
    ),
    (
        "yandex browser",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        None,
        "desktop",
    ),
    # --- people: phones ---------------------------------------------------------------
    (
        "chrome android",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        None,
        "mobile",
    ),
    (
        "samsung internet",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        None,
        "mobile",
    ),
    (
        "safari iphone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
        None,
        "mobile",
    ),
    (
        "chrome iphone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
        None,
        "mobile",
    ),
    (
        "firefox android",
        "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
        None,
        "mobile",
    ),
    (
        "firefox iphone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
        None,
        "mobile",
    ),
    (
        "edge android",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
        None,
        "mobile",
    ),
    (
        "cubot phone",
        "Mozilla/5.0 (Linux; Android 11; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.144 Mobile Safari/537.36",
        None,
        "mobile",
    ),
    (
        "cubot phone, build token",
        "Mozilla/5.0 (Linux; Android 9; CUBOT_P30 Build/PPR1.180610.011) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/96.0.4664.104 Mobile Safari/537.36",
        None,
        "mobile",
    ),
    (
        "facebook in-app iphone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/458.0.0.42.108;FBDV/iPhone14,5;"
        "FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        None,
        "mobile",
    ),
    (
        "instagram in-app android",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 Instagram "
        "300.0.0.29.110 Android (33/13; 420dpi; 1080x2400; Google/google; Pixel 7; panther; "
        "panther; en_US; 515227021)",
        None,
        "mobile",
    ),
    (
        "opera mini",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
        "Presto/2.5.25 Version/10.54",
        None,
        "mobile",
    ),
    # --- people: tablets --------------------------------------------------------------
    (
        "safari ipad",
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        None,
        "tablet",
    ),
    (
        "chrome android tablet",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        None,
        "tablet",
    ),
    (
        "firefox android tablet",
        "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
        None,
        "tablet",
    ),
    (
        "kindle fire silk",
        "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/124.2.5 like Chrome/124.0.6367.179 Safari/537.36",
        None,
        "tablet",
    ),
    # --- native app HTTP stacks (not browsers, but real clients) -----------------------
    (
        "android app (dalvik)",
        "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)",
        None,
        "tablet",  # Dalvik never says "Mobile": a documented limit of the rules
    ),
    ("ios app (cfnetwork)", "Herald%20Demo/3.2.1 CFNetwork/1410.0.3 Darwin/22.6.0", None, "other"),
    # --- search engines and crawlers ---------------------------------------------------
    (
        "googlebot",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        BOT,
        "other",
    ),
    (
        "googlebot smartphone",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/124.0.6367.155 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        BOT,
        "mobile",
    ),
    (
        "googlebot desktop",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html) Chrome/124.0.6367.155 Safari/537.36",
        BOT,
        "other",
    ),
    (
        "adsbot google",
        "AdsBot-Google (+http://www.google.com/adsbot.html)",
        BOT,
        "other",
    ),
    (
        "bingbot",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        BOT,
        "other",
    ),
    (
        "yandexbot",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        BOT,
        "other",
    ),
    (
        "baiduspider",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        BOT,
        "other",
    ),
    (
        "duckduckbot",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        BOT,
        "other",
    ),
    (
        "yahoo slurp",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        BOT,
        "other",
    ),
    (
        "applebot",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
        BOT,
        "desktop",
    ),
    (
        "petalbot",
        "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile "
        "Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
        BOT,
        "mobile",
    ),
    (
        "ahrefsbot",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        BOT,
        "other",
    ),
    (
        "semrushbot",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        BOT,
        "other",
    ),
    (
        "gptbot",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        BOT,
        "other",
    ),
    (
        "claudebot",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
        "+claudebot@anthropic.com)",
        BOT,
        "other",
    ),
    (
        "sogou spider",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        BOT,
        "other",
    ),
    ("unknown crawler", "Mozilla/5.0 (compatible; AcmeCrawler/1.0)", BOT, "other"),
    ("generic bot word", "Mozilla/5.0 (compatible; Price Bot; +https://example.com)", BOT, "other"),
    (
        "uptime robot",
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        BOT,
        "other",
    ),
    # --- link previews ----------------------------------------------------------------
    (
        "facebookexternalhit",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        BOT,
        "other",
    ),
    ("twitterbot", "Twitterbot/1.0", BOT, "other"),
    (
        "linkedinbot",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        BOT,
        "other",
    ),
    ("slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", BOT, "other"),
    (
        "discordbot",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        BOT,
        "other",
    ),
    ("telegrambot", "TelegramBot (like TwitterBot)", BOT, "other"),
    ("whatsapp preview", "WhatsApp/2.23.20.0 A", BOT, "other"),
    # --- headless browsers and HTTP libraries ------------------------------------------
    (
        "headless chrome",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/124.0.6367.60 Safari/537.36",
        BOT,
        "desktop",
    ),
    (
        "phantomjs",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
        "PhantomJS/2.1.1 Safari/538.1",
        BOT,
        "other",
    ),
    ("curl", "curl/8.5.0", BOT, "other"),
    ("wget", "Wget/1.21.4", BOT, "other"),
    ("python-requests", "python-requests/2.31.0", BOT, "other"),
    ("python-urllib", "Python-urllib/3.12", BOT, "other"),
    ("go", "Go-http-client/2.0", BOT, "other"),
    ("java", "Java/17.0.2", BOT, "other"),
    ("okhttp", "okhttp/4.12.0", BOT, "other"),
    ("axios", "axios/1.6.8", BOT, "other"),
    ("node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", BOT, "other"),
    ("scrapy", "Scrapy/2.11.1 (+https://scrapy.org)", BOT, "other"),
    ("libwww-perl", "libwww-perl/6.72", BOT, "other"),
    # --- no user agent, or not a browser -------------------------------------------------
    ("empty", "", EMPTY, "other"),
    ("whitespace", "   \t", EMPTY, "other"),
    ("postman", "PostmanRuntime/7.37.3", NON_BROWSER, "other"),
    ("custom client", "AcmeSync/2.0 (Windows NT 10.0)", NON_BROWSER, "desktop"),
    ("placeholder", "-", NON_BROWSER, "other"),
]


@pytest.mark.parametrize(
    ("user_agent", "reason", "device"),
    [row[1:] for row in USER_AGENTS],
    ids=[row[0] for row in USER_AGENTS],
)
def test_user_agent_table(user_agent, reason, device):
    assert classify_request(user_agent=user_agent, headers={}, ip=HOME_IP) == reason
    assert device_type(user_agent) == device


def test_the_table_covers_every_required_case():
    assert len(USER_AGENTS) >= 30
    assert len({row[0] for row in USER_AGENTS}) == len(USER_AGENTS)
    reasons = Counter(row[2] for row in USER_AGENTS)
    assert reasons[None] >= 20 and reasons[BOT] >= 30
    assert {row[3] for row in USER_AGENTS} == {"mobile", "tablet", "desktop", "other"}


def test_no_person_in_the_table_is_filtered():
    """B12's false-positive figure on this sample: every human row passes."""
    people = [row for row in USER_AGENTS if row[2] is None]
    flagged = [
        row[0] for row in people if classify_request(user_agent=row[1], headers={}, ip=HOME_IP)
    ]
    assert flagged == []


@pytest.mark.parametrize(
    "model",
    ["CUBOT X30", "CUBOT_P40", "CUBOT KINGKONG 7", "Cubot Note 20 Pro", "CUBOT-X19"],
)
def test_cubot_phones_are_not_bots(model):
    user_agent = (
        f"Mozilla/5.0 (Linux; Android 12; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36"
    )
    assert classify_request(user_agent=user_agent, headers={}, ip=None) is None


# --- prefetch --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Purpose": "prefetch"},
        {"purpose": "Prefetch"},
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"sec-purpose": "prefetch; anonymous-client-ip"},
        {"X-Moz": "prefetch"},
        {"X-Purpose": "preview"},
        {"x-purpose": "PREVIEW"},
        HttpHeaders({"HTTP_SEC_PURPOSE": "prefetch;prerender", "HTTP_ACCEPT": "*/*"}),
    ],
)
def test_prefetch_headers(headers):
    result = classify_request(user_agent=CHROME_WINDOWS, headers=headers, ip=HOME_IP)
    assert result == InvalidReason.PREFETCH


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors"},
        {"Purpose": "navigate"},
        {"Sec-Purpose": ""},
        {"X-Moz": "livebookmarks"},
        {"Referer": "https://www.tastychips.co/?purpose=prefetch"},
    ],
)
def test_ordinary_headers_are_not_prefetch(headers):
    assert classify_request(user_agent=CHROME_WINDOWS, headers=headers, ip=HOME_IP) is None


def test_reasons_come_in_the_documented_order():
    prefetch = {"Sec-Purpose": "prefetch"}
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    cloud = "35.184.10.20"
    assert classify_request(user_agent="", headers=prefetch, ip=cloud) == EMPTY
    assert classify_request(user_agent=googlebot, headers=prefetch, ip=cloud) == BOT
    assert classify_request(user_agent="AcmeSync/1", headers=prefetch, ip=cloud) == NON_BROWSER
    assert (
        classify_request(user_agent=CHROME_WINDOWS, headers=prefetch, ip=cloud)
        == InvalidReason.PREFETCH
    )
    assert (
        classify_request(user_agent=CHROME_WINDOWS, headers={}, ip=cloud)
        == InvalidReason.DATACENTER_IP
    )


# --- data-centre addresses ------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "35.184.10.20",  # Google Cloud
        "104.131.5.5",  # DigitalOcean
        "54.152.7.1",  # AWS
        "88.198.1.2",  # Hetzner
        "2600:1f00:1000:1::1",  # AWS IPv6
        "2a01:4f8:c17:1::1",  # Hetzner IPv6
        "::ffff:104.131.5.5",  # IPv4-mapped
        " 13.64.0.1 ",  # Azure, with stray whitespace
    ],
)
def test_datacenter_ip_hit(ip):
    result = classify_request(user_agent=CHROME_WINDOWS, headers={}, ip=ip)
    assert result == InvalidReason.DATACENTER_IP


@pytest.mark.parametrize(
    "ip",
    [HOME_IP, "2a02:c7c:1234::1", "192.168.1.10", "203.0.113.7", "not-an-ip", "", None],
)
def test_datacenter_ip_miss(ip):
    assert classify_request(user_agent=CHROME_WINDOWS, headers={}, ip=ip) is None


def test_a_deployment_can_pass_its_own_list():
    networks = parse_networks(["203.0.113.0/24", " 2001:db8::/32 "])
    for ip, expected in [
        ("203.0.113.7", InvalidReason.DATACENTER_IP),
        ("2001:db8::5", InvalidReason.DATACENTER_IP),
        ("35.184.10.20", None),  # the built-in sample is replaced, not extended
    ]:
        result = classify_request(
            user_agent=CHROME_WINDOWS, headers={}, ip=ip, datacenter_networks=networks
        )
        assert result == expected
    with pytest.raises(ValueError):
        parse_networks(["203.0.113.7/24"])


def test_the_builtin_sample_is_short_and_well_formed():
    assert 0 < len(DATACENTER_NETWORKS) <= 20
    assert all(
        isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network) for n in DATACENTER_NETWORKS
    )
    assert not any(network.is_private for network in DATACENTER_NETWORKS)


# --- coarse_ip --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("203.0.113.0", "203.0.113.0/24"),
        ("10.1.2.255", "10.1.2.0/24"),
        (" 198.51.100.9\n", "198.51.100.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("2001:DB8:1234:FFFF:FFFF:FFFF:FFFF:FFFF", "2001:db8:1234::/48"),
        ("::1", "::/48"),
        ("fe80::1%eth0", "fe80::/48"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
    ],
)
def test_coarse_ip(ip, expected):
    assert coarse_ip(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "",
        "not-an-ip",
        "256.1.1.1",
        "1.2.3",
        "01.2.3.4",
        "1.2.3.4:8080",
        "1.2.3.4/24",
        "[2001:db8::1]",
        "2001:db8::1::2",
        "1.2.3.4, 5.6.7.8",
        None,
        123,
    ],
)
def test_coarse_ip_garbage(ip):
    assert coarse_ip(ip) is None


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_coarse_ip_never_keeps_host_bits(address):
    coarse = coarse_ip(str(address))
    assert coarse is not None
    network = ipaddress.ip_network(coarse)
    mapped = getattr(address, "ipv4_mapped", None)
    assert (mapped or address) in network
    assert network.prefixlen == (24 if network.version == 4 else 48)


@settings(max_examples=500, deadline=None)
@given(user_agent=st.text(max_size=300), ip=st.none() | st.text(max_size=50))
def test_classification_never_raises(user_agent, ip):
    result = classify_request(user_agent=user_agent, headers={"Sec-Purpose": user_agent}, ip=ip)
    assert result is None or isinstance(result, InvalidReason)
    assert device_type(user_agent) in {"mobile", "tablet", "desktop", "other"}
    coarse = coarse_ip(user_agent)
    assert coarse is None or "/" in coarse
