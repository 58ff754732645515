"""The sandbox: Herald's fakes of the ad platforms, run on loopback next to Herald so a
newcomer can connect, launch and see metrics without real accounts.

Each fake keeps its state in the data directory, so campaigns launched in the sandbox
survive a restart, and grows plausible metrics every day a campaign is active.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from herald.integrations.endpoints import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from herald.integrations.fake_server import FakePlatform, RunningFake, serve

__all__ = ["SANDBOX_FAKES", "sandbox_fake", "start_sandbox"]

# provider → (fake class, the settings name of its base URL)
SANDBOX_FAKES: dict[str, tuple[str, str]] = {
    "google_ads": (
        "herald.integrations.providers.google_ads.fake.FakeGoogleAds",
        "HERALD_SANDBOX_GOOGLE_ADS_URL",
    ),
    "meta_ads": (
        "herald.integrations.providers.meta_ads.fake.FakeMetaAds",
        "HERALD_SANDBOX_META_ADS_URL",
    ),
}


def sandbox_fake(provider: str, *, state_dir: Path | None = None, **options: Any) -> FakePlatform:
    """The fake of ``provider`` configured as the sandbox (Herald's sandbox client id and
    secret, state kept under ``state_dir``)."""
    class_path, _url_setting = SANDBOX_FAKES[provider]
    fake_class = import_string(class_path)
    state_file = state_dir / f"sandbox-{provider}.json" if state_dir is not None else None
    fake: FakePlatform = fake_class.for_sandbox(
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        state_file=state_file,
        **options,
    )
    return fake


def start_sandbox(*, state_dir: Path) -> list[RunningFake]:
    """Serve every provider's sandbox fake on the port of its configured URL."""
    running = []
    for provider, (_class_path, url_setting) in SANDBOX_FAKES.items():
        parts = urlsplit(getattr(settings, url_setting))
        running.append(
            serve(
                sandbox_fake(provider, state_dir=state_dir),
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 80,
            )
        )
    return running
