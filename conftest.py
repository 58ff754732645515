"""Fixtures shared by every test: organizations, members of each role, API clients,
and a channel with a recording adapter for exercising the launch path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from herald.accounts.actors import Actor
from herald.accounts.choices import Role
from herald.accounts.models import Organization
from herald.accounts.services import api_key_create
from herald.testing import factories


@pytest.fixture
def org(db: Any) -> Organization:
    return factories.make_organization("Tasty Chips Co.")


@pytest.fixture
def other_org(db: Any) -> Organization:
    return factories.make_organization("Rival Snacks Inc.")


@pytest.fixture
def owner(org: Organization) -> Actor:
    return factories.make_actor(org, Role.OWNER)


@pytest.fixture
def editor(org: Organization) -> Actor:
    return factories.make_actor(org, Role.EDITOR)


@pytest.fixture
def viewer(org: Organization) -> Actor:
    return factories.make_actor(org, Role.VIEWER)


class ApiClient:
    """Django's test client speaking JSON with a bearer key to /api/v1/."""

    def __init__(self, actor: Actor) -> None:
        assert actor.user is not None
        self.actor = actor
        self.api_key, self.key = api_key_create(
            user=actor.user, organization=actor.organization, name="tests"
        )
        self.client = Client()

    def _call(self, method: str, path: str, json: Any = None, **headers: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"}
        kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        if json is not None:
            kwargs["data"] = json
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **headers: Any) -> Any:
        return self._call("get", path, **headers)

    def post(self, path: str, json: Any = None, **headers: Any) -> Any:
        return self._call("post", path, json if json is not None else {}, **headers)

    def patch(self, path: str, json: Any, **headers: Any) -> Any:
        return self._call("patch", path, json, **headers)

    def put(self, path: str, json: Any, **headers: Any) -> Any:
        return self._call("put", path, json, **headers)

    def delete(self, path: str, **headers: Any) -> Any:
        return self._call("delete", path, **headers)

    def upload(self, path: str, content: bytes, name: str = "chips.jpg", **headers: Any) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        return self.client.post(
            f"/api/v1/{path}",
            {"file": SimpleUploadedFile(name, content)},
            HTTP_AUTHORIZATION=f"Bearer {self.key}",
            **extra,
        )


@pytest.fixture
def api(owner: Actor) -> ApiClient:
    return ApiClient(owner)


@pytest.fixture
def api_as() -> Any:
    return ApiClient


@pytest.fixture
def run_tasks() -> Any:
    """Run every enqueued task now, the way the worker would."""
    from django_tasks_db.management.commands.db_worker import Worker

    def run() -> None:
        Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="tests",
            excluded_queue_names=[],
        ).run()

    return run


class RecordingAdapter:
    """Stands in for a platform: records calls; ``fail_with`` makes launch raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_with: Exception | None = None

    def launch(self, *, campaign: Any, units: list[Any], creatives: dict[Any, list[Any]]) -> Any:
        from herald.campaigns.adapters import ChannelLaunchResult

        self.calls.append(("launch", [unit.pk for unit in units]))
        if self.fail_with is not None:
            raise self.fail_with
        return ChannelLaunchResult(
            campaign_external_id=f"ext-{campaign.pk}",
            unit_external_ids={unit.pk: f"unit-{unit.pk}" for unit in units},
            creative_external_ids={
                creative.pk: f"ad-{creative.pk}"
                for items in creatives.values()
                for creative in items
            },
        )

    def pause(self, *, campaign: Any, units: list[Any]) -> None:
        self.calls.append(("pause", campaign.pk))

    def resume(self, *, campaign: Any, units: list[Any]) -> None:
        self.calls.append(("resume", campaign.pk))


def _returning(value: Any) -> Any:
    return lambda: value


@pytest.fixture
def connected_channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, RecordingAdapter]]:
    """Make google_ads and meta_ads launchable: an account resolver that finds one and a
    recording adapter each, as the integrations capability will install for real."""
    import dataclasses

    from herald.campaigns import channels

    adapters = {key: RecordingAdapter() for key in ("google_ads", "meta_ads")}
    for key, adapter in adapters.items():
        channel = channels.get_channel(key)
        monkeypatch.setitem(
            channels._REGISTRY,
            key,
            dataclasses.replace(
                channel,
                adapter_factory=_returning(adapter),
                ad_account_resolver=lambda campaign: "test-account",
            ),
        )
    yield adapters
