"""B2 — batched ingest: events/s through ``POST /t/batch`` with 50 events per request.

Herald's ``/t/batch`` (each event validated on its own, the accepted ones stored by the
group-commit writer, answered after the commit) against ``/bench/baseline-batch`` (the
same validation, then one INSERT + commit per event in autocommit: "one create() per
event"), both under the same granian server in the same run, loaded by wrk over
loopback (64 connections; the Lua script builds each body with fresh event ids).

Gates: every event of every acknowledged batch is stored exactly once (checked against
the exact set of ids wrk sent, and every 2xx answer must accept all 50 events); a batch
with bad events stores the good ones and names the bad ones by index; replaying 10 % of
a run's batches stores nothing new.

    .venv/bin/python bench/ingest_batch.py            # 3 × 30 s per target
    .venv/bin/python bench/ingest_batch.py --quick    # 3 × 5 s per target
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, ingest_shared
from bench.ingest_shared import Runner, RunRecord, Target

DB = "herald_bench"
PER_REQUEST = 50
TARGETS = [
    Target("herald", "/t/batch", "tracking_event"),
    Target("baseline", "/bench/baseline-batch", "bench_baseline_event"),
]


def replay_gate(runner: Runner, record: RunRecord) -> bool:
    """Send 10 % of a run's batches again (thread 2's first ones, all stored)."""
    run = f"h{record.rep:02d}:"
    batches = max(1, min(record.durability.stored // PER_REQUEST // 10, 400))
    stored = ingest_shared.stored_numbers(
        "tracking_event", run, thread=2, limit=batches * PER_REQUEST
    )
    contiguous = next((i for i, n in enumerate(stored) if n != i + 1), len(stored))
    batches = min(batches, contiguous // PER_REQUEST)  # only batches stored in full
    before = ingest_shared.count_stored("tracking_event", run)
    requests = [
        (
            "POST",
            "/t/batch",
            ingest_shared.batch_body(runner.tokens, run, 2, 1 + k * PER_REQUEST, PER_REQUEST),
        )
        for k in range(batches)
    ]
    ok, bad = ingest_shared.replay(runner.port, requests)
    after = ingest_shared.count_stored("tracking_event", run)
    return common.gate(
        "dedup on replay",
        bad == 0 and after == before,
        f"replayed {batches} batches ({batches * PER_REQUEST} stored events) of run {run[:-1]}: "
        f"{ok} answered 2xx, {bad} not; stored before {before}, after {after}",
    )


def partial_batch_gate(runner: Runner) -> bool:
    """48 good events + a forged token + an unknown type: 48 stored, 2 named."""
    run = "bad:"
    body = json.loads(ingest_shared.batch_body(runner.tokens, run, 1, 1, PER_REQUEST))
    body["events"][7]["token"] = runner.tokens[0][:-4] + "AAAA"
    body["events"][31]["type"] = "teleport"
    connection = http.client.HTTPConnection(common.PG_HOST, runner.port, timeout=10)
    connection.request(
        "POST",
        "/t/batch",
        body=json.dumps(body),
        headers={"User-Agent": ingest_shared.USER_AGENT, "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    answer = json.loads(response.read() or b"{}")
    connection.close()
    stored = ingest_shared.count_stored("tracking_event", run)
    indexes = sorted(item["index"] for item in answer.get("rejected", []))
    return common.gate(
        "bad events refused one by one",
        response.status == 200
        and answer.get("accepted") == 48
        and indexes == [7, 31]
        and stored == 48,
        f"status {response.status}, accepted {answer.get('accepted')}, rejected indexes "
        f"{indexes}, stored {stored}",
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
        f"B2 ingest-batch: POST /t/batch ({PER_REQUEST} events) vs one INSERT + commit per event",
        dataset=f"empty {DB} (migrated); {len(tokens)} creatives' impression tokens; "
        f"{PER_REQUEST} impressions with unique event ids per request",
        extra=ingest_shared.server_description(args),
    )
    targets = [t for t in TARGETS if args.only in (None, t.name)]
    with ingest_shared.serve(args, DB, tokens, per_request=PER_REQUEST) as runner:
        ingest_shared.alternate(runner, targets, args.reps)
        passed = ingest_shared.report(
            runner, target_rate=100_000, target_p99_ms=None, target_ratio=None
        )
        herald_runs = runner.measured("herald")
        if herald_runs:
            passed = replay_gate(runner, herald_runs[0]) and passed
            passed = partial_batch_gate(runner) and passed
    if not args.keep_db:
        common.drop_database(DB)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
