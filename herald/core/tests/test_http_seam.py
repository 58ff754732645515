"""The outbound HTTP seam refuses private destinations unless trusted."""

import pytest

from herald.core.http import BlockedDestination, OutboundConnectionError, outbound_request


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://[::1]:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:9/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
    ],
)
def test_private_and_non_http_destinations_are_refused(url):
    with pytest.raises(BlockedDestination):
        outbound_request("GET", url)


def test_a_trusted_loopback_host_may_be_called():
    # Nothing listens on port 9 (discard): the call is allowed, then fails to connect.
    with pytest.raises(OutboundConnectionError):
        outbound_request("GET", "http://127.0.0.1:9/x", trusted_hosts=["127.0.0.1:9"])


def test_trusted_hosts_from_settings(settings):
    settings.HERALD_HTTP_TRUSTED_HOSTS = ["127.0.0.1:9"]
    with pytest.raises(OutboundConnectionError):
        outbound_request("GET", "http://127.0.0.1:9/x")
