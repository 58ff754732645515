"""`manage.py up` for real: web, worker and scheduler start, serve, and all stop on
Ctrl-C. Runs on its own SQLite file whatever DATABASE_URL the suite uses."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int:
    # Generous: the first request to a page builds it (the OpenAPI schema takes a while),
    # and the machine may be busy; a slow answer is not what this test is about.
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - loopback
            return int(response.status)
    except OSError:
        return 0


def test_up_serves_ui_admin_and_api_and_ctrl_c_stops_every_process(tmp_path: Path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        HERALD_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'herald.sqlite3'}",
        SECRET_KEY="process-test-" + "k" * 50,
        HERALD_ENCRYPTION_KEYS="aGVyYWxkLWRldmVsb3BtZW50LW9ubHkta2V5LTAwMDE=",
        ALLOWED_HOSTS="127.0.0.1",
        HERALD_ADMIN_PASSWORD="a-long-test-password",
        HERALD_SCHEDULER_TICK_SECONDS="1",
        HERALD_SANDBOX_GOOGLE_ADS_URL=f"http://127.0.0.1:{_free_port()}",
        HERALD_SANDBOX_META_ADS_URL=f"http://127.0.0.1:{_free_port()}",
    )
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "up", "--demo", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/login/") != 200:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the web server did not answer in 60 s"
            time.sleep(0.5)
        assert _get(f"{base}/admin/login/") == 200
        assert _get(f"{base}/api/v1/openapi.json") == 200
        assert _get(f"{base}/static/web/herald.css") == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Sign in as admin@herald.local with password a-long-test-password" in output
    for name in ("web", "worker", "scheduler", "sandbox"):
        assert f"started {name}" in output
    assert "Herald stopped." in output
    children = [
        line.split("pid ")[1].rstrip(")")
        for line in output.splitlines()
        if line.startswith("started ")
    ]
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        ), f"process {pid} still running"
