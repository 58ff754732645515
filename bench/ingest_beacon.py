"""B1 — single-event beacon ingest: acknowledged durable events/s and p99 latency.

Herald's ``GET /t/i`` (group commit: a writer thread per process COPYs the events of
concurrent requests into a staging table and ``INSERT … ON CONFLICT DO NOTHING``s them,
answering each request after the commit) against the baseline ``GET
/bench/baseline-beacon`` (same validation, then one INSERT + commit per request in
autocommit into an unpartitioned copy of the table: "one create() per request"), both
served by the same granian WSGI server in the same run and loaded by wrk over loopback
(64 connections). Runs alternate Herald / baseline after one warm-up each.

Gates: every event id sent and acknowledged is stored exactly once (checked against
the exact set of ids wrk sent), and replaying 10 % of a run's stored events with the
same ids stores nothing new.

    .venv/bin/python bench/ingest_beacon.py            # 3 × 30 s per target
    .venv/bin/python bench/ingest_beacon.py --quick    # 3 × 5 s per target
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, ingest_shared
from bench.ingest_shared import Runner, RunRecord, Target

DB = "herald_bench"
TARGETS = [
    Target("herald", "/t/i", "tracking_event"),
    Target("baseline", "/bench/baseline-beacon", "bench_baseline_event"),
]


def replay_gate(runner: Runner, record: RunRecord) -> bool:
    """Send 10 % of a Herald run's stored events again (same ids): nothing new is stored."""
    run = f"h{record.rep:02d}:"
    count = max(1, min(record.durability.stored // 10, 20_000))
    numbers = ingest_shared.stored_numbers("tracking_event", run, thread=2, limit=count)
    before = ingest_shared.count_stored("tracking_event", run)
    tokens = runner.tokens
    requests = [
        (
            "GET",
            f"/t/i?t={tokens[n % len(tokens)]}&event_id={run}2:{n}&visitor_id=v"
            f"{(n * 7919 + 2 * 104729) % 200000}",
            None,
        )
        for n in numbers
    ]
    ok, bad = ingest_shared.replay(runner.port, requests)
    after = ingest_shared.count_stored("tracking_event", run)
    return common.gate(
        "dedup on replay",
        bad == 0 and after == before,
        f"replayed {len(requests)} stored events of run {run[:-1]} ({ok} answered 2xx, {bad} not); "
        f"stored before {before}, after {after}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ingest_shared.add_common_arguments(parser)
    args = ingest_shared.finish_arguments(parser.parse_args())
    common.require_wrk()
    common.fresh_database(DB)
    _org, tokens = ingest_shared.make_tokens()
    ingest_shared.create_baseline_table()
    common.print_header(
        "B1 ingest-beacon: GET /t/i (group commit) vs one INSERT + commit per request",
        dataset=f"empty {DB} (migrated); {len(tokens)} creatives' impression tokens; "
        "a unique event id per request",
        extra=ingest_shared.server_description(args),
    )
    targets = [t for t in TARGETS if args.only in (None, t.name)]
    with ingest_shared.serve(args, DB, tokens) as runner:
        ingest_shared.alternate(runner, targets, args.reps)
        passed = ingest_shared.report(runner, target_rate=6000, target_p99_ms=25, target_ratio=3)
        herald_runs = runner.measured("herald")
        if herald_runs:
            passed = replay_gate(runner, herald_runs[0]) and passed
    if not args.keep_db:
        common.drop_database(DB)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
