"""``Idempotency-Key`` on POST requests to the API (herald.core.idempotency)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from herald.accounts.choices import Role
from herald.campaigns.models import Campaign, MediaAsset
from herald.core.api import PROBLEM_CONTENT_TYPE
from herald.core.idempotency import idempotency_prune
from herald.core.models import IdempotencyRecord
from herald.testing import factories

pytestmark = pytest.mark.django_db

KEY = "order-7f3a9c"
SPICY = {"name": "Spicy Launch", "objective": "sales"}
SPICY_BYTES = json.dumps(SPICY).encode()


def post_raw(api: Any, path: str, body: bytes, key: str | None = KEY) -> Any:
    """POST exact bytes, so the test knows the fingerprint the server computes."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api.key}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api.client.post(path, data=body, content_type="application/json", **headers)


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://herald.dev/problems/{code}"
    return body


def test_repeat_returns_the_first_answer(api):
    first = api.post("campaigns", SPICY, **{"Idempotency-Key": KEY})
    assert first.status_code == 201, first.content
    assert first.has_header("Idempotent-Replayed") is False

    repeat = api.post("campaigns", SPICY, **{"Idempotency-Key": KEY})
    assert repeat.status_code == 201
    assert repeat["Idempotent-Replayed"] == "true"
    assert repeat.content == first.content
    assert repeat["Content-Type"] == first["Content-Type"]
    assert Campaign.objects.count() == 1
    assert str(Campaign.objects.get().pk) == first.json()["id"]

    record = IdempotencyRecord.objects.get()
    assert (record.key, record.principal, record.status_code) == (KEY, f"key:{api.api_key.pk}", 201)
    assert (record.method, record.path) == ("POST", "/api/v1/campaigns")
    assert record.fingerprint == fingerprint("POST", "/api/v1/campaigns", SPICY_BYTES)


def test_without_a_key_every_post_runs(api):
    api.post("campaigns", SPICY)
    api.post("campaigns", SPICY)
    assert Campaign.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_same_key_different_request_is_refused(api):
    assert api.post("campaigns", SPICY, **{"Idempotency-Key": KEY}).status_code == 201
    other_body = api.post("campaigns", {**SPICY, "name": "Mild"}, **{"Idempotency-Key": KEY})
    other_path = api.post(
        "audiences", {"name": "A", "rules": factories.VALID_RULES}, **{"Idempotency-Key": KEY}
    )
    for response in (other_body, other_path):
        body = assert_problem(response, 422, "idempotency-key-reused")
        assert [(e["field"], e["rule"]) for e in body["errors"]] == [("Idempotency-Key", "reused")]
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Spicy Launch"]
    assert IdempotencyRecord.objects.count() == 1


def test_failed_request_stores_nothing_and_the_fixed_retry_succeeds(api):
    failed = api.post("campaigns", {**SPICY, "objective": "fame"}, **{"Idempotency-Key": KEY})
    assert_problem(failed, 422, "invalid-input")
    assert IdempotencyRecord.objects.count() == 0

    fixed = api.post("campaigns", SPICY, **{"Idempotency-Key": KEY})
    assert fixed.status_code == 201, fixed.content
    assert fixed.has_header("Idempotent-Replayed") is False
    assert Campaign.objects.count() == 1
    assert api.post("campaigns", SPICY, **{"Idempotency-Key": KEY})["Idempotent-Replayed"] == "true"


def test_failed_domain_check_stores_nothing(api, owner):
    campaign = factories.make_campaign(owner)
    url = f"/api/v1/campaigns/{campaign.pk}/pause"
    assert post_raw(api, url, b"{}").status_code == 409
    assert IdempotencyRecord.objects.count() == 0


def test_keys_are_scoped_per_credential(api, api_as, owner, org, other_org):
    editor_client = api_as(factories.make_actor(org, Role.EDITOR))
    first = post_raw(api, "/api/v1/campaigns", SPICY_BYTES)
    theirs = post_raw(editor_client, "/api/v1/campaigns", SPICY_BYTES)
    assert (first.status_code, theirs.status_code) == (201, 201)
    assert theirs.has_header("Idempotent-Replayed") is False
    assert theirs.json()["id"] != first.json()["id"]

    # The same user's second key is a different credential too.
    second_key = api_as(owner)
    assert second_key.api_key.pk != api.api_key.pk
    mine_again = post_raw(second_key, "/api/v1/campaigns", SPICY_BYTES)
    assert (mine_again.status_code, mine_again.has_header("Idempotent-Replayed")) == (201, False)

    rival = api_as(factories.make_actor(other_org, Role.OWNER))
    assert post_raw(rival, "/api/v1/campaigns", SPICY_BYTES).status_code == 201

    assert Campaign.objects.filter(organization=org).count() == 3
    assert Campaign.objects.filter(organization=other_org).count() == 1
    assert IdempotencyRecord.objects.count() == 4


def test_in_flight_claim_is_409(api, org):
    IdempotencyRecord.objects.create(
        organization=org,
        principal=f"key:{api.api_key.pk}",
        key=KEY,
        method="POST",
        path="/api/v1/campaigns",
        fingerprint=fingerprint("POST", "/api/v1/campaigns", SPICY_BYTES),
    )
    response = post_raw(api, "/api/v1/campaigns", SPICY_BYTES)
    body = assert_problem(response, 409, "idempotency-key-in-use")
    assert body["detail"] == (
        "A request with this Idempotency-Key is still being processed; retry shortly."
    )
    assert Campaign.objects.count() == 0
    assert IdempotencyRecord.objects.get().status_code is None


def _age(record_filter: dict[str, Any], hours: float) -> None:
    IdempotencyRecord.objects.filter(**record_filter).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_expired_record_is_replaced(api):
    ttl = settings.HERALD_IDEMPOTENCY_TTL_HOURS
    first = post_raw(api, "/api/v1/campaigns", SPICY_BYTES)
    assert first.status_code == 201

    _age({"key": KEY}, ttl - 0.1)
    assert post_raw(api, "/api/v1/campaigns", SPICY_BYTES)["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1

    _age({"key": KEY}, ttl + 0.1)
    fresh = post_raw(api, "/api/v1/campaigns", SPICY_BYTES)
    assert fresh.status_code == 201, fresh.content
    assert fresh.has_header("Idempotent-Replayed") is False
    assert fresh.json()["id"] != first.json()["id"]
    assert Campaign.objects.count() == 2
    record = IdempotencyRecord.objects.get()
    assert timezone.now() - record.created_at < timedelta(minutes=1)
    assert json.loads(record.response_body)["id"] == fresh.json()["id"]


def test_expired_in_flight_claim_is_replaced(api, org):
    record = IdempotencyRecord.objects.create(
        organization=org,
        principal=f"key:{api.api_key.pk}",
        key=KEY,
        method="POST",
        path="/api/v1/campaigns",
        fingerprint="stale",
    )
    _age({"pk": record.pk}, settings.HERALD_IDEMPOTENCY_TTL_HOURS + 1)
    assert post_raw(api, "/api/v1/campaigns", SPICY_BYTES).status_code == 201
    assert IdempotencyRecord.objects.get().status_code == 201


def test_multipart_repeat_is_the_same_request(api):
    image = factories.make_image(1080, 1080)
    first = api.upload("media", image, **{"Idempotency-Key": KEY})
    assert first.status_code == 201, first.content
    # The test client draws a new multipart boundary per request; still the same request.
    repeat = api.upload("media", image, **{"Idempotency-Key": KEY})
    assert (repeat.status_code, repeat["Idempotent-Replayed"]) == (201, "true")
    assert repeat.content == first.content
    assert MediaAsset.objects.count() == 1

    other_image = api.upload("media", factories.make_image(1200, 1200), **{"Idempotency-Key": KEY})
    assert_problem(other_image, 422, "idempotency-key-reused")
    renamed = api.upload("media", image, name="other.jpg", **{"Idempotency-Key": KEY})
    assert_problem(renamed, 422, "idempotency-key-reused")
    assert MediaAsset.objects.count() == 1


@pytest.mark.parametrize("key", ["k" * 256, "", "tab\there"])
def test_invalid_key_is_422(api, key):
    body = assert_problem(
        post_raw(api, "/api/v1/campaigns", SPICY_BYTES, key=key), 422, "invalid-input"
    )
    assert [(e["field"], e["rule"]) for e in body["errors"]] == [("Idempotency-Key", "format")]
    assert Campaign.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_key_of_255_characters_is_accepted(api):
    assert post_raw(api, "/api/v1/campaigns", SPICY_BYTES, key="k" * 255).status_code == 201
    assert IdempotencyRecord.objects.get().key == "k" * 255


def test_only_post_is_idempotent(api, owner):
    campaign = factories.make_campaign(owner)
    for _ in range(2):
        response = api.patch(
            f"campaigns/{campaign.pk}", {"name": "New"}, **{"Idempotency-Key": KEY}
        )
        assert response.status_code == 200
        assert response.has_header("Idempotent-Replayed") is False
    assert IdempotencyRecord.objects.count() == 0


def test_unauthenticated_request_with_key_is_401_and_stores_nothing(db):
    response = Client().post(
        "/api/v1/campaigns", SPICY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert_problem(response, 401, "authentication-required")
    assert IdempotencyRecord.objects.count() == 0


def test_session_requests_are_scoped_to_the_user_and_need_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    forged = client.post(
        "/api/v1/campaigns", SPICY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert forged.status_code == 403
    assert IdempotencyRecord.objects.count() == 0

    secret = "b" * 32
    client.cookies[settings.CSRF_COOKIE_NAME] = secret

    def post() -> Any:
        return client.post(
            "/api/v1/campaigns",
            SPICY,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=KEY,
            HTTP_X_CSRFTOKEN=secret,
        )

    first, repeat = post(), post()
    assert (first.status_code, repeat.status_code, repeat["Idempotent-Replayed"]) == (
        201,
        201,
        "true",
    )
    assert Campaign.objects.count() == 1
    assert IdempotencyRecord.objects.get().principal == f"user:{owner.user.pk}"

    # A forged repeat of a stored key is not answered from the store either.
    forged_client = Client(enforce_csrf_checks=True)
    forged_client.force_login(owner.user)
    replay = forged_client.post(
        "/api/v1/campaigns", SPICY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert replay.status_code == 403
    assert replay.has_header("Idempotent-Replayed") is False


def test_prune_deletes_only_expired_records(api):
    for key in ("old-1", "old-2", "new-1"):
        assert post_raw(api, "/api/v1/campaigns", SPICY_BYTES, key=key).status_code == 201
    _age({"key__startswith": "old-"}, settings.HERALD_IDEMPOTENCY_TTL_HOURS + 1)
    assert idempotency_prune() == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new-1"]


def test_unreadable_bodies_get_the_same_problem_with_a_key(api, settings):
    broken = api.client.post(
        "/api/v1/media",
        data=b"not multipart at all",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    assert assert_problem(broken, 400, "bad-request")["detail"] == "Cannot parse request body"

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    too_large = post_raw(
        api, "/api/v1/campaigns", json.dumps({**SPICY, "description": "d" * 2000}).encode()
    )
    assert_problem(too_large, 413, "request-too-large")
    assert IdempotencyRecord.objects.count() == 0
    assert Campaign.objects.count() == 0
