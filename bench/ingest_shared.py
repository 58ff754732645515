"""What the two ingest benchmarks share: fixtures and tokens, the baseline table, the
wrk scripts, the durability check (every event id the load generator sent and got a 2xx
for is stored, once) and the replay (dedup) check.

Event ids are ``<run>:<thread>:<n>``, n = 1, 2, … per wrk thread, so the set a run
sent is known exactly from the per-thread counters wrk reports at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
CREATIVES = 20


# --- fixtures ------------------------------------------------------------------------------------


def make_tokens(count: int = CREATIVES) -> tuple[Any, list[str]]:
    """One organization, ``count`` campaigns each with a unit and a creative, and each
    creative's signed impression token (``tracking_links``, as an ad would carry)."""
    from herald.accounts.models import Organization
    from herald.campaigns.models import AdCreative, Campaign, CampaignUnit
    from herald.tracking.services import tracking_links

    org = Organization.objects.create(name="Bench ingest", slug=f"bench-{uuid.uuid4().hex[:8]}")
    tokens = []
    for index in range(count):
        campaign = Campaign.objects.create(
            organization=org, name=f"Ingest {index}", objective="awareness", currency="USD"
        )
        unit = CampaignUnit.objects.create(
            organization=org,
            campaign=campaign,
            channel=("google_ads", "meta_ads")[index % 2],
            name=f"Unit {index}",
        )
        creative = AdCreative.objects.create(
            organization=org,
            unit=unit,
            lineage_id=uuid.uuid4(),
            destination_url="https://example.com/landing",
        )
        tokens.append(tracking_links(creative, base_url="")["impression_token"])
    return org, tokens


def create_baseline_table() -> None:
    from django.db import connection

    from bench.baseline_views import create_table_sql

    with connection.cursor() as cursor:
        for statement in create_table_sql():
            cursor.execute(statement)


# --- wrk scripts ---------------------------------------------------------------------------------

_LUA_HEAD = r"""
local tokens = {%(tokens)s}
local run = %(run)s
local counter_threads = 0
threads = {}
wrk.headers["User-Agent"] = %(ua)s
wrk.headers["Accept"] = "image/avif,image/webp,*/*"

function setup(thread)
  counter_threads = counter_threads + 1
  thread:set("id", counter_threads)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  partial = 0
end
"""

_BEACON_REQUEST = r"""
function request()
  sent = sent + 1
  local path = %(path)s .. "?t=" .. tokens[(sent %% #tokens) + 1] .. "&event_id=" .. run ..
      id .. ":" .. sent .. "&visitor_id=v" .. ((sent * 7919 + id * 104729) %% 200000)
  return wrk.format("GET", path)
end
"""

_BATCH_REQUEST = r"""
local per_request = %(per_request)d
wrk.headers["Content-Type"] = "application/json"

function request()
  local parts = {}
  for i = 1, per_request do
    sent = sent + 1
    parts[i] = '{"type":"impression","token":"' .. tokens[(sent %% #tokens) + 1] ..
        '","event_id":"' .. run .. id .. ":" .. sent .. '","visitor_id":"v' ..
        ((sent * 7919 + id * 104729) %% 200000) .. '","placement":"p' .. (sent %% 5) .. '"}'
  end
  return wrk.format("POST", %(path)s, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"rejected": []', 1, true) then
    partial = partial + 1
  end
end
"""


def write_script(
    directory: Path, name: str, *, tokens: list[str], run: str, path: str, per_request: int = 0
) -> Path:
    values = {
        "tokens": ", ".join(common.lua_string(t) for t in tokens),
        "run": common.lua_string(run),
        "ua": common.lua_string(USER_AGENT),
        "path": common.lua_string(path),
        "per_request": per_request,
    }
    body = _BATCH_REQUEST if per_request else _BEACON_REQUEST
    script = directory / f"{name}.lua"
    script.write_text((_LUA_HEAD + body) % values + common.WRK_DONE_LUA)
    return script


# --- durability ----------------------------------------------------------------------------------


@dataclass
class Durability:
    sent: int
    acknowledged: int
    stored: int
    missing: int  # sent, not stored
    foreign: int  # stored under this run's prefix but never sent
    duplicates: int
    missing_from_end: int = 0  # how many later events its wrk thread sent after a missing one

    @property
    def unanswered(self) -> int:
        return self.sent - self.acknowledged

    @property
    def passed(self) -> bool:
        # Every id sent and acknowledged is stored exactly once. A missing id can only be
        # one wrk sent without receiving its answer before the run ended.
        return self.missing <= self.unanswered and not self.foreign and not self.duplicates

    def fmt(self) -> str:
        note = ""
        if self.missing and self.passed:
            note = (
                f" (fewer than the {self.unanswered} never answered, and each among the last "
                f"{self.missing_from_end + 1} events its wrk thread sent: in flight at the end)"
            )
        elif not self.missing:
            note = " (every id sent is stored)"
        return (
            f"sent {self.sent}, acknowledged (2xx) {self.acknowledged}, stored {self.stored}, "
            f"missing {self.missing}, unknown {self.foreign}, duplicates {self.duplicates}{note}"
        )


def check_durability(
    table: str, run: str, sent_per_thread: list[int], acknowledged: int, *, verify_events: int
) -> Durability:
    """Compare the ids stored under ``run`` with the ids wrk sent (``sent_per_thread``
    counts events). wrk calls ``request()`` once on its first thread before the run to
    check the script, and never sends that request: thread 1's first ``verify_events``
    ids are therefore not expected (and must not be stored)."""
    from django.db import connection

    pattern = run.replace("%", r"\%").replace("_", r"\_") + "%"
    firsts = [verify_events + 1] + [1] * (len(sent_per_thread) - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH stored AS (SELECT event_id FROM {table} WHERE event_id LIKE %s),
            expected AS (
                SELECT %s || t || ':' || g AS event_id, v.n - g AS from_end
                FROM unnest(%s::int[], %s::int[]) WITH ORDINALITY AS v(n, first, t),
                     generate_series(v.first, v.n) g
            ),
            missing AS (
                SELECT from_end FROM expected e
                WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE s.event_id = e.event_id)
            )
            SELECT (SELECT count(*) FROM expected),
                   (SELECT count(*) FROM stored),
                   (SELECT count(*) FROM missing),
                   (SELECT coalesce(max(from_end), 0) FROM missing),
                   (SELECT count(*) FROM stored s
                     WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.event_id = s.event_id)),
                   (SELECT count(*) - count(DISTINCT event_id) FROM stored)
            """,  # noqa: S608 - table is one of two fixed names
            [pattern, run, sent_per_thread, firsts],
        )
        sent, stored, missing, from_end, foreign, duplicates = cursor.fetchone()
    return Durability(sent, acknowledged, stored, missing, foreign, duplicates, from_end)


# --- replay (dedup) -----------------------------------------------------------------------------


def replay(port: int, requests: Sequence[tuple[str, str, bytes | None]]) -> tuple[int, int]:
    """Send ``requests`` (method, path, body) again over one keep-alive connection;
    return (2xx answers, other answers)."""
    connection = http.client.HTTPConnection(common.PG_HOST, port, timeout=10)
    ok = bad = 0
    headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
    for method, path, body in requests:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if 200 <= response.status < 300:
            ok += 1
        else:
            bad += 1
    connection.close()
    return ok, bad


def settle(table: str, run: str, *, timeout: float = 30.0) -> int:
    """Wait until the number of stored ids of ``run`` stops growing (0.5 s apart)."""
    deadline = time.monotonic() + timeout
    previous = -1
    while True:
        current = count_stored(table, run)
        if current == previous or time.monotonic() > deadline:
            return current
        previous = current
        time.sleep(0.5)


def count_stored(table: str, run: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE event_id LIKE %s", [run + "%"])  # noqa: S608
        return int(cursor.fetchone()[0])


def stored_numbers(table: str, run: str, *, thread: int, limit: int) -> list[int]:
    """The counters n of up to ``limit`` stored ids ``<run><thread>:<n>``, smallest first."""
    from django.db import connection

    prefix = f"{run}{thread}:"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT substr(event_id, %s)::int AS n FROM {table} "  # noqa: S608
            "WHERE event_id LIKE %s ORDER BY n LIMIT %s",
            [len(prefix) + 1, prefix + "%", limit],
        )
        return [row[0] for row in cursor.fetchall()]


def batch_body(tokens: list[str], run: str, thread: int, first: int, count: int) -> bytes:
    """The JSON body wrk's batch script sends for events ``first`` … ``first+count-1``."""
    events = [
        {
            "type": "impression",
            "token": tokens[n % len(tokens)],
            "event_id": f"{run}{thread}:{n}",
            "visitor_id": f"v{(n * 7919 + thread * 104729) % 200000}",
            "placement": f"p{n % 5}",
        }
        for n in range(first, first + count)
    ]
    return json.dumps({"events": events}).encode()


# --- runs and reporting ------------------------------------------------------------------------


@dataclass
class Target:
    name: str  # "herald" | "baseline"
    path: str
    table: str


@dataclass
class RunRecord:
    target: str
    rep: int  # 0 is the warm-up
    rate: float  # acknowledged events per second
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float]
    durability: Durability
    partial: int = 0  # 2xx batch answers that did not accept every event


@dataclass
class Runner:
    """Runs wrk against each target in turn (warm-up first) and checks each run."""

    args: argparse.Namespace
    port: int
    server_pid: int
    tokens: list[str]
    scripts: Path
    database: str
    per_request: int = 0  # events per POST; 0 for the single-event beacon
    records: list[RunRecord] = field(default_factory=list)

    def run(self, target: Target, rep: int) -> RunRecord:
        run = f"{target.name[0]}{rep:02d}:"
        script = write_script(
            self.scripts,
            run.strip(":"),
            tokens=self.tokens,
            run=run,
            path=target.path,
            per_request=self.per_request,
        )
        meter = common.CpuMeter(server_pid=self.server_pid, database=self.database)
        meter.start()
        wrk = common.run_wrk(
            f"http://127.0.0.1:{self.port}",
            script,
            threads=self.args.wrk_threads,
            connections=self.args.connections,
            duration_s=self.args.warmup if rep == 0 else self.args.duration,
        )
        meter.stop()
        settle(target.table, run)  # requests wrk abandoned at its deadline may still commit
        events_per_request = self.per_request or 1
        partial = int(wrk.raw.get("partial", 0))
        acknowledged = (wrk.acknowledged - partial) * events_per_request
        durability = check_durability(
            target.table, run, wrk.sent_per_thread, acknowledged, verify_events=events_per_request
        )
        record = RunRecord(
            target.name,
            rep,
            acknowledged / wrk.duration_s,
            wrk.rps,
            wrk.latency_ms["p50"],
            wrk.latency_ms["p99"],
            meter.result,
            durability,
            partial,
        )
        self.records.append(record)
        if rep == 0:
            print(
                f"  {target.name:<9} warm-up: {wrk.rps:,.0f} req/s (not counted); durability "
                f"{'PASS' if durability.passed else 'FAIL'}"
            )
        else:
            print_run(record, wrk, meter)
        return record

    def measured(self, target: str) -> list[RunRecord]:
        return [r for r in self.records if r.target == target and r.rep > 0]


def print_run(record: RunRecord, wrk: common.WrkResult, meter: common.CpuMeter) -> None:
    errors = ", ".join(f"{k} {v}" for k, v in wrk.socket_errors.items() if v) or "none"
    partial = f"; partly refused batches {record.partial}" if record.partial else ""
    print(
        f"  {record.target:<9} rep {record.rep}: {record.rate:>9,.0f} events/s acknowledged "
        f"({wrk.rps:,.0f} req/s), latency p50 {record.p50_ms:.1f} ms, p99 "
        f"{record.p99_ms:.1f} ms, max {wrk.latency_ms['max']:.0f} ms; non-2xx {wrk.non_2xx}"
        f"{partial}; socket errors {errors}"
    )
    print(f"      {meter.fmt()}")
    print(f"      durability: {record.durability.fmt()}")


def report(
    runner: Runner, *, target_rate: float, target_p99_ms: float | None, target_ratio: float | None
) -> bool:
    """Print the medians, the targets and the durability gate; return the gate."""
    common.rule()
    medians: dict[str, float] = {}
    for name in ("herald", "baseline"):
        runs = runner.measured(name)
        if not runs:
            continue
        medians[name] = statistics.median(r.rate for r in runs)
        p99s = [r.p99_ms for r in runs]
        print(
            f"{name:<9}: median {medians[name]:,.0f} events/s (runs: "
            f"{', '.join(f'{r.rate:,.0f}' for r in runs)}); latency p99 median "
            f"{statistics.median(p99s):.1f} ms (worst {max(p99s):.1f}), p50 median "
            f"{statistics.median(r.p50_ms for r in runs):.1f} ms; CPU median: granian "
            f"{_median_cpu(runs, 'server_cores'):.2f}, postgres "
            f"{_median_cpu(runs, 'postgres_cores'):.2f}, load generator "
            f"{_median_cpu(runs, 'loadgen_cores'):.2f} "
            f"({100 * _median_cpu(runs, 'loadgen_cores') / runs[0].cpu['cores']:.0f}% of the "
            f"machine), other processes {_median_cpu(runs, 'other_cores'):.2f} cores"
        )
    if "herald" in medians:
        p99 = statistics.median(r.p99_ms for r in runner.measured("herald"))
        met = medians["herald"] >= target_rate and (target_p99_ms is None or p99 <= target_p99_ms)
        latency = f" with p99 ≤ {target_p99_ms:g} ms" if target_p99_ms is not None else ""
        print(
            f"target    : ≥ {target_rate:,.0f} events/s{latency} → "
            f"{'met' if met else 'NOT met'} ({medians['herald']:,.0f}/s, p99 {p99:.1f} ms)"
        )
    if len(medians) == 2:
        ratio = medians["herald"] / medians["baseline"]
        verdict = (
            f" (target ≥ {target_ratio:g}×: {'met' if ratio >= target_ratio else 'NOT met'})"
            if target_ratio
            else ""
        )
        print(f"ratio     : Herald / baseline = {ratio:.2f}×{verdict}")
    measured = [r for r in runner.records if r.rep > 0]
    missing = sum(r.durability.missing for r in runner.records)
    detail = (
        "every id wrk sent is stored"
        if not missing
        else f"{missing} sent ids not stored, all among requests never answered"
    )
    return common.gate(
        "every acknowledged id stored once",
        all(r.durability.passed and not r.partial for r in runner.records),
        f"{sum(r.durability.acknowledged for r in measured):,} acknowledged event ids over "
        f"{len(measured)} measured runs (+ warm-ups); {detail}; no duplicates",
    )


def _median_cpu(runs: list[RunRecord], key: str) -> float:
    return statistics.median(r.cpu[key] for r in runs)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="CI-sized: 5 s runs")
    parser.add_argument("--duration", type=int, help="seconds per measured run (30; quick 5)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per target (5; quick 3)")
    parser.add_argument("--reps", type=int, default=3, help="measured runs per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument(
        "--blocking-threads",
        type=int,
        default=32,
        help="granian threads per worker (each may hold a database connection)",
    )
    parser.add_argument("--only", choices=("herald", "baseline"), help="measure one target")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")


def finish_arguments(args: argparse.Namespace) -> argparse.Namespace:
    args.duration = args.duration or (5 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (3 if args.quick else 5)
    return args


def server_description(args: argparse.Namespace) -> dict[str, str]:
    return {
        "server": f"granian WSGI --workers {args.workers} --blocking-threads "
        f"{args.blocking_threads}; bench.settings (config.settings + the bench URLconf; "
        "DEBUG off, group commit on)",
        "load": f"wrk -t{args.wrk_threads} -c{args.connections} on loopback, {args.reps} × "
        f"{args.duration} s per target after {args.warmup} s warm-up each; runs alternate",
    }


@contextlib.contextmanager
def serve(
    args: argparse.Namespace, database: str, tokens: list[str], per_request: int = 0
) -> Iterator[Runner]:
    with (
        tempfile.TemporaryDirectory(prefix="herald-bench-") as scripts,
        common.granian(database, workers=args.workers, blocking_threads=args.blocking_threads) as (
            server,
            port,
        ),
    ):
        yield Runner(args, port, server.pid, tokens, Path(scripts), database, per_request)


def alternate(runner: Runner, targets: list[Target], reps: int) -> None:
    """Warm-up of each target, then ``reps`` rounds, alternating targets."""
    for rep in range(reps + 1):
        for target in targets:
            runner.run(target, rep)
