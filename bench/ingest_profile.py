"""Where an ingested event's CPU goes, stage by stage, in one process without HTTP.

A diagnostic for B1/B2, not a benchmark with a target: it times the application's own
functions on one thread (median of 5 rounds, microseconds per event) —

* the WSGI stack answering ``/bench/ping`` (Django + every middleware, no database);
* ``services.impression_event`` (token check, visitor digest, traffic screening);
* ``ingest._prepared`` (each value through its model field, for COPY);
* ``ingest.write_events`` of a batch (staging table, COPY, INSERT … ON CONFLICT,
  TRUNCATE) plus the commit;

and, marked "prototype", what the same step costs written differently (nothing in the
application changes): the row as a plain tuple of the dataclass's attributes (psycopg
adapts UUID, date, datetime and Decimal itself) and a binary COPY of those tuples
straight into the staging table created once per connection.

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


def wsgi_ping(count: int) -> Callable[[], int]:
    from bench.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/bench/ping",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": ingest_shared.USER_AGENT,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.errors": sys.stderr,
    }

    def run() -> int:
        for _ in range(count):
            body = application({**environ, "wsgi.input": io.BytesIO()}, _discard_start_response)
            b"".join(body)
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
    rows["WSGI + middleware, /bench/ping (no database)"] = per_event_us(wsgi_ping(2000))
    rows["services.impression_event"] = per_event_us(lambda: len(events(2000)))
    rows["ingest._prepared (per event)"] = per_event_us(
        lambda: len([ingest._prepared(e) for e in sample * 50])
    )
    rows["prototype: tuple of attributes"] = per_event_us(
        lambda: len([tuple(getattr(e, c) for c in ingest.COLUMNS) for e in sample * 50])
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
    prototype = _prototype_writer(connection)
    rows[f"prototype: binary COPY, staging kept, batch {args.batch}"] = per_event_us(
        lambda: write_batches(prototype), rounds=3, setup=make_batches
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


def _prototype_writer(connection: Any) -> Callable[[list[ingest.Event]], None]:
    """write_events' statements with the staging table made once per session (ON COMMIT
    DELETE ROWS instead of TRUNCATE) and a binary COPY of plain tuples. Prototype only."""
    from herald.tracking.ingest import COLUMNS

    names = ", ".join(COLUMNS)
    types = [
        "date", "timestamptz", "timestamptz", "uuid", "uuid", "uuid", "uuid", "varchar",
        "varchar", "varchar", "varchar", "varchar", "int2", "varchar", "varchar", "varchar",
        "varchar", "varchar", "numeric", "varchar", "bool", "bool", "varchar", "varchar",
        "varchar", "varchar", "varchar", "varchar", "varchar", "varchar",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS bench_proto_stage ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {names} FROM tracking_event WITH NO DATA"
        )

    def write(events: list[ingest.Event]) -> None:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY bench_proto_stage ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for event in events:
                    copy.write_row(tuple(getattr(event, c) for c in COLUMNS))
            cursor.execute(
                f"INSERT INTO tracking_event ({names}) SELECT {names} FROM bench_proto_stage "  # noqa: S608
                "ON CONFLICT (day, organization_id, event_id) DO NOTHING"
            )

    return write


if __name__ == "__main__":
    sys.exit(main())
