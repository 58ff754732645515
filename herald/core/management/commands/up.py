"""Start Herald on one machine: prepare it, then run the web server, the task worker
and the scheduler side by side until Ctrl-C.

Preparation is idempotent: migrations, static files, a first superuser and
organization (``HERALD_ADMIN_EMAIL`` / ``HERALD_ADMIN_PASSWORD``; a password is generated
and printed when none is given and the user is new) and, with ``--demo``, the demo data.
Ctrl-C (or SIGTERM) stops every process this command started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from herald.accounts.models import Membership
from herald.accounts.services import organization_create


class Command(BaseCommand):
    help = "Prepare and run Herald: web (UI, admin, API), task worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true", help="Load the demo data.")
        parser.add_argument("--host", default=os.environ.get("HERALD_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HERALD_PORT", "8000")))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("HERALD_WEB_WORKERS", "1"))
        )
        parser.add_argument(
            "--prepare-only", action="store_true", help="Migrate and set up, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        email, password = self._first_user(demo=options["demo"])
        base = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS("Herald is ready.")
            + f"\n  Web UI: {base}/\n  Admin:  {base}/admin/\n  API:    {base}/api/v1/docs"
            + f"\n  Sign in as {email}"
            + (
                f" with password {password}"
                if password
                else f" (password unchanged; reset with: ./herald manage changepassword {email})"
            )
        )
        if options["prepare_only"]:
            return
        self._run(options)

    def _first_user(self, *, demo: bool) -> tuple[str, str | None]:
        """Make sure the first user exists and belongs to an organization: the demo
        organization with ``demo``, otherwise one of their own."""
        email = os.environ.get("HERALD_ADMIN_EMAIL", "admin@herald.local").strip().lower()
        wanted_password = os.environ.get("HERALD_ADMIN_PASSWORD")
        user_model = get_user_model()
        user = user_model.objects.filter(username=email).first()
        shown_password = None
        if user is None:
            shown_password = wanted_password or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username=email, email=email, password=shown_password
            )
        elif wanted_password and not user.check_password(wanted_password):
            user.set_password(wanted_password)
            user.save(update_fields=["password"])
            shown_password = wanted_password
        if demo:
            call_command("load_demo", owner_email=email)
        if not Membership.objects.filter(user=user).exists():
            organization_create(name="My Organization", owner=user)
        return email, shown_password

    def _run(self, options: dict[str, Any]) -> None:
        stopping = {"requested": False}

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping["requested"] = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        children = {
            name: self._start(name, command) for name, command in self._commands(options).items()
        }
        exit_code = 0
        while not stopping["requested"]:
            exited = [(name, child) for name, child in children.items() if child.poll() is not None]
            if exited:
                name, child = exited[0]
                self.stderr.write(f"{name} exited with code {child.returncode}; stopping.")
                exit_code = child.returncode or 1
                break
            time.sleep(0.3)
        self._stop_all(children)
        if exit_code:
            sys.exit(exit_code)

    @staticmethod
    def _commands(options: dict[str, Any]) -> dict[str, list[str]]:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {
            "web": [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--workers",
                str(options["web_workers"]),
                "config.wsgi:application",
            ],
            "worker": [*manage, "db_worker", "--queue-name", "*", "--no-reload"],
            "scheduler": [*manage, "run_scheduler"],
        }
        if settings.HERALD_SANDBOX_ENABLED:
            commands["sandbox"] = [*manage, "run_sandbox"]
        return commands

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        # Children ignore the terminal's Ctrl-C; this process stops them in order.
        child = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, cwd=settings.BASE_DIR, preexec_fn=_ignore_sigint
        )
        self.stdout.write(f"started {name} (pid {child.pid})")
        return child

    def _stop_all(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        self.stdout.write("Stopping…")
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it.")
                child.kill()
                child.wait()
        self.stdout.write("Herald stopped.")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
