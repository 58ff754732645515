"""Serve the sandbox fakes of Google Ads and Meta until stopped (SIGINT/SIGTERM)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from herald.integrations.sandbox import start_sandbox


class Command(BaseCommand):
    help = "Run Herald's sandbox ad platforms (fakes of Google Ads and Meta) on loopback."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        running = start_sandbox(state_dir=settings.HERALD_DATA_DIR)
        for fake in running:
            self.stdout.write(f"Sandbox {fake.app.name} on {fake.url}")
        stop.wait()
        for fake in running:
            fake.stop()
        self.stdout.write("Sandbox stopped.")
