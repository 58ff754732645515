"""Where an ingested event's CPU goes, stage by stage, in one process without HTTP.

A diagnostic for B1/B2, not a benchmark with a target: it times the application's own
functions on one thread (median of 5 rounds, microseconds per event) —

* the WSGI application (``bench.wsgi``, built as ``config.wsgi`` is) answering
  ``/bench/ping`` through the site's whole middleware stack, no database;
* the same application answering ``/t/i`` through the lean tracking lane
  (``herald.core.wsgi``): with a refused token (no database), and with a valid one
  (token check, screening, group-commit write and commit, one request at a time, so
  every request pays a whole commit);
* ``services.impression_event`` (token check, visitor digest, traffic screening);
* ``ingest._row`` (the event as the tuple COPY sends);
* ``ingest.write_events`` of a batch (binary COPY into the session's staging table,
  one ``INSERT … ON CONFLICT``) plus the commit.

    .venv/bin/python bench/ingest_profile.py [--batch 32]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herald.tracking import ingest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, ingest_shared

DB = "herald_bench_profile"


def per_event_us(
    call: Callable[[], int], rounds: int = 5, setup: Callable[[], object] | None = None
) -> tuple[float, float]:
    """Medians over ``rounds`` of wall and of this process's CPU time per event handled by
    ``call()``, in µs (``setup()`` runs untimed before each round)."""
    walls, cpus = [], []
    for _ in range(rounds):
        if setup is not None:
            setup()
        wall, cpu = time.perf_counter(), time.process_time()
        events = call()
        walls.append((time.perf_counter() - wall) / events * 1e6)
        cpus.append((time.process_time() - cpu) / events * 1e6)
    return statistics.median(walls), statistics.median(cpus)


def _discard_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return len


def wsgi_requests(count: int, path: str, query: Callable[[int], str]) -> Callable[[], int]:
    """``count`` GET requests to ``path`` through the WSGI application, in this thread."""
    from bench.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": ingest_shared.USER_AGENT,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.errors": sys.stderr,
    }
    sent = iter(range(10**9))

    def run() -> int:
        for _ in range(count):
            request = {**environ, "QUERY_STRING": query(next(sent)), "wsgi.input": io.BytesIO()}
            b"".join(application(request, _discard_start_response))
        return count

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="events per write_events call")
    args = parser.parse_args()
    common.fresh_database(DB)
    from django.db import connection, transaction
    from django.utils import timezone

    from herald.tracking import ingest, services
    from herald.tracking.services import RequestContext

    _org, tokens = ingest_shared.make_tokens()
    context = RequestContext(
        user_agent=ingest_shared.USER_AGENT,
        headers={"user-agent": ingest_shared.USER_AGENT, "host": "127.0.0.1"},
        ip="127.0.0.1",
        received_at=timezone.now(),
    )
    counter = iter(range(10**9))

    def events(count: int) -> list[ingest.Event]:
        return [
            services.impression_event(
                tokens[n % len(tokens)], {"event_id": f"p{n}", "visitor_id": f"v{n}"}, context
            )
            for n in (next(counter) for _ in range(count))
        ]

    sample = events(args.batch)
    rows: dict[str, tuple[float, float]] = {}
    rows["WSGI, full middleware stack: /bench/ping (no database)"] = per_event_us(
        wsgi_requests(2000, "/bench/ping", lambda n: "")
    )
    rows["WSGI, lean lane: /t/i with a refused token (no database)"] = per_event_us(
        wsgi_requests(2000, "/t/i", lambda n: f"t=forged&event_id=r{n}")
    )
    rows["WSGI, lean lane: /t/i stored, one request per commit"] = per_event_us(
        wsgi_requests(
            500, "/t/i", lambda n: f"t={tokens[n % len(tokens)]}&event_id=w{n}&visitor_id=v{n}"
        )
    )
    rows["services.impression_event"] = per_event_us(lambda: len(events(2000)))
    rows["ingest._row (the tuple COPY sends)"] = per_event_us(
        lambda: len([ingest._row(e) for e in sample * 50])
    )

    prepared: list[list[ingest.Event]] = []

    def make_batches(n: int = 40) -> None:
        prepared[:] = [events(args.batch) for _ in range(n)]

    def write_batches(writer: Callable[[list[ingest.Event]], None]) -> int:
        for batch in prepared:
            with transaction.atomic():
                writer(batch)
        return len(prepared) * int(args.batch)

    rows[f"ingest.write_events + commit, batch {args.batch}"] = per_event_us(
        lambda: write_batches(ingest.write_events), rounds=3, setup=make_batches
    )
    common.print_header(
        "Ingest CPU per event, stage by stage (one thread, no HTTP; a diagnostic)",
        dataset=f"{DB}: empty, migrated; batch of {args.batch} events",
    )
    print(f"  {'stage (µs per event)':<58} {'wall':>8} {'Python CPU':>11}")
    for label, (wall, cpu) in rows.items():
        print(f"  {label:<58} {wall:>8.1f} {cpu:>11.1f}")
    print("  (wall includes waiting for PostgreSQL and for the CPU when the machine is busy)")
    connection.close()
    common.drop_database(DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
