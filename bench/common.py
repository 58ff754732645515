"""Shared plumbing of the benchmarks: settings bootstrap, a PostgreSQL database of their
own, the machine description, statistics, CPU accounting, granian and wrk.

Nothing here measures anything by itself. Every benchmark prints figures and a
correctness gate; none of them asserts a timing.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
# Every database a benchmark creates or drops has this prefix (never `test`).
DB_PREFIX = "herald_bench"
# Fixed, public, benchmark-only secrets (never used anywhere else).
BENCH_SECRET_KEY = "herald-bench-secret-key-not-secret-only-for-loopback-benchmarks-000"  # noqa: S105
BENCH_FERNET_KEY = "aGVyYWxkLWJlbmNobWFyay1rZXktbm90LXNlY3JldDA="


# --- environment and Django ------------------------------------------------------------------


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def bench_env(db_name: str, *, settings: str = "bench.settings") -> dict[str, str]:
    """The environment of the Django processes a benchmark starts (itself and granian)."""
    return {
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url(db_name),
        "SECRET_KEY": BENCH_SECRET_KEY,
        "HERALD_ENCRYPTION_KEYS": BENCH_FERNET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "HERALD_TRACKING_GROUP_COMMIT": "1",
        "HERALD_SANDBOX_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }


def setup_django(db_name: str) -> None:
    """Configure this process for ``db_name`` with ``bench.settings`` and start Django."""
    os.environ.update(bench_env(db_name))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


# --- the benchmark's own database ------------------------------------------------------------


def _check_name(name: str) -> None:
    if not re.fullmatch(rf"{DB_PREFIX}[a-z0-9_]*", name):
        raise SystemExit(f"refusing database {name!r}: benchmark databases start {DB_PREFIX}")


def _admin() -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    )


def database_exists(name: str) -> bool:
    _check_name(name)
    with _admin() as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def create_database(name: str, *, keep_existing: bool = False) -> bool:
    """Create ``name`` (dropping an old one unless ``keep_existing``); True if created."""
    _check_name(name)
    if database_exists(name):
        if keep_existing:
            return False
        drop_database(name)
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def drop_database(name: str) -> None:
    _check_name(name)
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate() -> None:
    """Apply every migration to the configured database (Django must be set up)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def fresh_database(name: str) -> None:
    """A new database ``name`` with the project's migrations applied, Django set up on it."""
    create_database(name)
    setup_django(name)
    migrate()


# --- the machine -----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _pg_settings() -> dict[str, str]:
    names = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "synchronous_commit",
        "max_parallel_workers_per_gather",
        "max_connections",
    )
    settings: dict[str, str] = {}
    with _admin() as conn:
        for name in names:
            row = conn.execute(f"SHOW {name}").fetchone()
            settings[name] = str(row[0]) if row else "?"
    return settings


def _tool_version(command: list[str]) -> str:
    executable = shutil.which(command[0])
    if executable is None:
        return "not installed"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [executable, *command[1:]], capture_output=True, text=True, check=False
    )
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def machine_info() -> dict[str, Any]:
    import django
    import psycopg

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    with contextlib.suppress(ImportError):
        import granian

        info["granian"] = granian.__version__
    info["postgresql"] = _pg_settings()
    return info


def print_header(title: str, *, dataset: str, extra: dict[str, Any] | None = None) -> None:
    info = machine_info()
    rule("=")
    print(f"{title}   ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    rule("=")
    pg = info.pop("postgresql")
    print(
        f"machine   : nproc={info['nproc']}, memory={info['memory_gib']} GiB, cpu={info['cpu']}, "
        f"kernel {info['kernel']}, load average at start {info['load_average_at_start']}"
    )
    print(
        f"software  : Python {info['python']}, Django {info['django']}, psycopg "
        f"{info['psycopg']}, granian {info.get('granian', '-')}"
    )
    print(
        f"postgresql: {pg['server_version']} (shared_buffers {pg['shared_buffers']}, work_mem "
        f"{pg['work_mem']}, synchronous_commit {pg['synchronous_commit']}, "
        f"max_parallel_workers_per_gather {pg['max_parallel_workers_per_gather']})"
    )
    print(f"dataset   : {dataset}")
    for key, value in (extra or {}).items():
        print(f"{key:<10}: {value}")
    print("note      : the machine is shared; other work may add noise (see load average).")
    rule("-")


def rule(char: str = "-") -> None:
    print(char * 100)


# --- statistics --------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks (numpy's default)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Summary:
    n: int
    median: float
    p95: float
    p99: float
    minimum: float
    maximum: float

    def fmt(self, unit: str = "ms", digits: int = 2) -> str:
        return (
            f"median {self.median:.{digits}f} {unit}, p95 {self.p95:.{digits}f}, "
            f"p99 {self.p99:.{digits}f}, min {self.minimum:.{digits}f}, "
            f"max {self.maximum:.{digits}f} (n={self.n})"
        )


def summarize(samples: Sequence[float]) -> Summary:
    return Summary(
        n=len(samples),
        median=statistics.median(samples) if samples else float("nan"),
        p95=percentile(samples, 95),
        p99=percentile(samples, 99),
        minimum=min(samples) if samples else float("nan"),
        maximum=max(samples) if samples else float("nan"),
    )


def gate(name: str, passed: bool, detail: str = "") -> bool:
    print(
        f"correctness gate [{name}]: {'PASS' if passed else 'FAIL'}"
        + (f" — {detail}" if detail else "")
    )
    return passed


# --- CPU accounting ------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _proc_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(x) for x in (task / "children").read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        stack += _children(current)
    return tree


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _postgres_pids(database: str | None = None) -> list[int]:
    """PostgreSQL processes: with ``database``, only its backends plus the shared ones
    (checkpointer, WAL writer, parallel workers …), not other databases' sessions."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not _proc_name(int(entry.name)).startswith("postgres"):
            continue
        command = _cmdline(int(entry.name))
        # A backend shows "postgres: <cluster>: <user> <database> <client> <state>".
        backend = re.match(r"postgres: [^:]+: (\S+) (\S+) \S+", command)
        if database and backend and backend.group(1) == PG_USER and backend.group(2) != database:
            continue
        found.append(int(entry.name))
    return found


def _machine_jiffies() -> tuple[int, int]:
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]), idle


@dataclass
class CpuMeter:
    """CPU seconds used between ``start()`` and ``stop()``: the whole machine, a server's
    process tree, the postgres processes serving ``database`` (plus the shared ones), the
    children this process waited for in between (the load generator), and what is left:
    other processes on the shared machine."""

    server_pid: int | None = None
    database: str | None = None
    result: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._t = time.monotonic()
        self._machine = _machine_jiffies()
        self._server = self._server_seconds()
        self._pg = {pid: _proc_cpu_seconds(pid) for pid in _postgres_pids(self.database)}
        self._children = self._children_seconds()
        self._own = self._own_seconds()

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t
        total, idle = _machine_jiffies()
        busy = (total - self._machine[0]) - (idle - self._machine[1])
        pg_now = {pid: _proc_cpu_seconds(pid) for pid in _postgres_pids(self.database)}
        postgres = sum(seconds - self._pg.get(pid, 0.0) for pid, seconds in pg_now.items())
        cores = os.cpu_count() or 1
        mine = self._own_seconds() - self._own
        self.result = {
            "elapsed_s": elapsed,
            "machine_busy_pct": 100 * busy / max(1, total - self._machine[0]),
            "server_cores": (self._server_seconds() - self._server) / elapsed,
            "postgres_cores": postgres / elapsed,
            "loadgen_cores": (self._children_seconds() - self._children) / elapsed,
            "cores": cores,
        }
        accounted = sum(self.result[k] for k in ("server_cores", "postgres_cores", "loadgen_cores"))
        busy_cores = self.result["machine_busy_pct"] / 100 * cores
        self.result["self_cores"] = mine / elapsed
        self.result["other_cores"] = max(0.0, busy_cores - accounted - mine / elapsed)
        return self.result

    def _server_seconds(self) -> float:
        if self.server_pid is None:
            return 0.0
        return sum(_proc_cpu_seconds(pid) for pid in process_tree(self.server_pid))

    @staticmethod
    def _own_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def _children_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def fmt(self) -> str:
        r = self.result
        cores = r["cores"]
        return (
            f"CPU over {r['elapsed_s']:.1f} s: machine busy {r['machine_busy_pct']:.0f}% of "
            f"{cores} cores; granian {r['server_cores']:.2f} cores "
            f"({100 * r['server_cores'] / cores:.0f}%), postgres {r['postgres_cores']:.2f} "
            f"({100 * r['postgres_cores'] / cores:.0f}%), load generator "
            f"{r['loadgen_cores']:.2f} ({100 * r['loadgen_cores'] / cores:.0f}%), other "
            f"processes (not this benchmark) {r['other_cores']:.2f}"
        )


# --- granian -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((PG_HOST, 0))
        return int(sock.getsockname()[1])


def _wait_http(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"granian exited with code {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection((PG_HOST, port), 0.5) as sock:
            sock.sendall(b"GET /bench/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            if sock.recv(64).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.2)
    raise SystemExit("granian did not answer in time")


@contextlib.contextmanager
def granian(
    db_name: str, *, workers: int, blocking_threads: int | None = None, group_commit: bool = True
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run ``bench.wsgi`` under granian (WSGI) on a free loopback port, as ``up`` does."""
    port = free_port()
    env = {**os.environ, **bench_env(db_name)}
    env["HERALD_TRACKING_GROUP_COMMIT"] = "1" if group_commit else "0"
    command = [
        PYTHON,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        PG_HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if blocking_threads:
        command += ["--blocking-threads", str(blocking_threads)]
    command.append("bench.wsgi:application")
    process = subprocess.Popen(command, cwd=REPO, env=env)  # noqa: S603 - fixed argv
    try:
        _wait_http(port, process)
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- wrk -----------------------------------------------------------------------------------------


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is needed: apt-get update && apt-get install -y wrk")
    return path


@dataclass
class WrkResult:
    duration_s: float
    requests: int  # responses received
    non_2xx: int
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]  # p50, p90, p99, p99.9, max, mean
    sent_per_thread: list[int]
    bytes_read: int
    raw: dict[str, Any]

    @property
    def acknowledged(self) -> int:
        return self.requests - self.non_2xx

    @property
    def rps(self) -> float:
        return self.acknowledged / self.duration_s

    @property
    def sent(self) -> int:
        return sum(self.sent_per_thread)


def run_wrk(
    url: str, script: Path, *, threads: int, connections: int, duration_s: int, timeout_s: int = 5
) -> WrkResult:
    """Run wrk with ``script`` (whose ``done`` prints one ``WRKJSON {...}`` line)."""
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    return WrkResult(
        duration_s=data["duration_us"] / 1e6,
        requests=data["requests"],
        non_2xx=data["status_errors"],
        socket_errors={k: data[k] for k in ("connect", "read", "write", "timeout")},
        latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
        sent_per_thread=data["sent"],
        bytes_read=data["bytes"],
        raw=data,
    )


# The `done` half of every wrk script: per-thread counters and the latency percentiles,
# printed as one JSON line. `threads` and each thread's `id`/`sent` are set by the script.
WRK_DONE_LUA = r"""
function done(summary, latency, requests)
  local sent = {}
  local partial = 0
  for i, t in ipairs(threads) do
    sent[i] = t:get("sent")
    partial = partial + (t:get("partial") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, "status_errors": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "sent": [%s], "partial": %d, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p99.9": %d, "max": %d, "mean": %.1f}}\n',
    summary.duration, summary.requests, summary.bytes, e.status, e.connect, e.read,
    e.write, e.timeout, table.concat(sent, ","), partial,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here
