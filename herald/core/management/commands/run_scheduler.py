"""Run the scheduler loop: every tick, enqueue the periodic jobs that are due."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from herald.core.scheduler import periodic_jobs, scheduler_tick


class Command(BaseCommand):
    help = "Enqueue Herald's periodic jobs on time (run one or more beside the workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tick",
            type=float,
            default=float(settings.HERALD_SCHEDULER_TICK_SECONDS),
            help="Seconds between checks (default: HERALD_SCHEDULER_TICK_SECONDS).",
        )
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        names = ", ".join(spec.name for spec in periodic_jobs())
        self.stdout.write(f"Scheduler started (tick {options['tick']}s): {names}")
        while not stop.is_set():
            close_old_connections()
            for name in scheduler_tick():
                self.stdout.write(f"enqueued {name}")
            if options["once"]:
                break
            stop.wait(options["tick"])
        self.stdout.write("Scheduler stopped.")
