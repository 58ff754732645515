"""The Graph client's own rules: error envelope → ErrorKind, parameter encoding, retries
on a dead connection, and where ``paging.next`` may send the token."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from herald.integrations.providers.base import ErrorKind, ProviderEndpoints, ProviderError
from herald.integrations.providers.meta_ads import client as graph_client
from herald.integrations.providers.meta_ads.client import (
    GraphClient,
    encode_params,
    error_from_response,
)


def graph_error(status: int, code: int, **fields: object) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "m", "code": code, **fields}})


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (1, None, ErrorKind.TRANSIENT),
        (2, None, ErrorKind.TRANSIENT),
        (4, 1504022, ErrorKind.RATE_LIMITED),
        (17, 2446079, ErrorKind.RATE_LIMITED),
        (32, None, ErrorKind.RATE_LIMITED),
        (613, 1487742, ErrorKind.RATE_LIMITED),
        (80000, None, ErrorKind.RATE_LIMITED),
        (80014, None, ErrorKind.RATE_LIMITED),
        (102, None, ErrorKind.AUTH),
        (190, 463, ErrorKind.AUTH),
        (10, None, ErrorKind.PERMISSION),
        (200, None, ErrorKind.PERMISSION),
        (299, None, ErrorKind.PERMISSION),
        (100, 33, ErrorKind.NOT_FOUND),
        (100, 1885621, ErrorKind.VALIDATION),
        (368, None, ErrorKind.VALIDATION),
        (80015, None, ErrorKind.VALIDATION),
    ],
)
def test_error_kind_follows_the_code_not_the_status(
    code: int, subcode: int | None, kind: ErrorKind
) -> None:
    fields = {"error_subcode": subcode} if subcode is not None else {}
    error = error_from_response(graph_error(400, code, **fields))
    assert error.kind is kind
    assert error.platform_code == (str(code) if subcode is None else f"{code}/{subcode}")


def test_rate_limits_wait_for_the_usage_header_or_a_minute() -> None:
    usage = {"42": [{"type": "ads_management", "estimated_time_to_regain_access": 7}]}
    with_header = httpx.Response(
        400,
        json={"error": {"message": "m", "code": 80004}},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    assert error_from_response(with_header).retry_after == 7 * 60
    assert error_from_response(graph_error(400, 17)).retry_after == 60.0


def test_validation_prefers_the_message_meant_for_people() -> None:
    error = error_from_response(graph_error(400, 100, error_user_msg="Budget is too low."))
    assert error.message == "Budget is too low."


def test_answers_without_an_envelope() -> None:
    assert error_from_response(httpx.Response(502, text="Bad gateway")).kind is ErrorKind.TRANSIENT
    assert error_from_response(httpx.Response(404, text="nope")).kind is ErrorKind.VALIDATION
    # A code Meta does not document, on a failed server, is still worth retrying.
    assert error_from_response(graph_error(503, 100)).kind is ErrorKind.TRANSIENT


def test_dicts_lists_and_bools_are_json_encoded() -> None:
    assert encode_params(
        {"special_ad_categories": [], "flag": False, "spec": {"a": 1}, "budget": 1000, "x": None}
    ) == {"special_ad_categories": "[]", "flag": "false", "spec": '{"a":1}', "budget": "1000"}


def endpoints_at(url: str) -> ProviderEndpoints:
    return ProviderEndpoints(
        provider="meta_ads",
        client_id="app",
        client_secret="secret",
        authorize_url=url,
        token_url=f"{url}/v25.0/oauth/access_token",
        revoke_url=f"{url}/v25.0/me/permissions",
        api_url=url,
        api_version="v25.0",
    )


def test_a_dead_connection_is_transient_reads_retry_creates_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(graph_client, "_sleep", sleeps.append)
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(endpoints_at(f"http://127.0.0.1:{port}"), "token")
    with pytest.raises(ProviderError) as read:
        client.get("me/adaccounts")
    assert read.value.kind is ErrorKind.TRANSIENT and sleeps == [0.5, 1.0]
    sleeps.clear()
    with pytest.raises(ProviderError) as create:
        client.create("act_1/campaigns", {"name": "x"})
    assert create.value.kind is ErrorKind.TRANSIENT and sleeps == []


def test_paging_links_are_re_rooted_on_the_configured_host() -> None:
    client = GraphClient(endpoints_at("https://graph.example"), "token")
    url, query = client._rebase(
        "https://elsewhere.example/v25.0/act_1/insights?after=QVFI&limit=2"
        "&access_token=leaked&appsecret_proof=old"
    )
    assert url == "https://graph.example/v25.0/act_1/insights"
    assert query == {"after": "QVFI", "limit": "2"}  # ours are added per call
