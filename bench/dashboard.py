"""B4 — dashboard queries: Herald's rollup (``MetricFact`` + reach sketches) against SQL
views over the raw events, on the same deterministic data set, in the same run.

Data set: D10M (``--quick``: D1M), made inside PostgreSQL (see ``bench/dataset.py``),
then rolled up by the application's own ``rollup_run()`` until it has caught up (timed:
events/s). The database ``herald_bench_d10m`` / ``herald_bench_d1m`` is kept and reused
by later runs with the same shape (``--rebuild`` makes it again; the build figures of
the run that made it are stored with it and printed).

Queries (Herald = rollup; baseline = views over ``tracking_event``, seed 002's approach):

* Q2 — the hottest campaign, last 7 days, by placement × device, with reach. Herald: the
  selectors' own helper, as ``selectors.breakdown`` runs it (``_grouped_with_reach``):
  one query reads the 140 cells' measures and sketches, sums them per group and unions
  the sketches per group with ``sketch.reach_by_group``; derived metrics by
  ``formulas.compute``. Baseline: the same sums from ``bench_v_cell_day`` (a GROUP BY
  view at the fact grain), reach as ``count(DISTINCT visitor)`` over the raw rows;
  measured without, then with, an index on ``tracking_event (campaign_id, day)`` (the
  schema ships without one).
* Q1 — the whole organization, 30 days: totals and every derived metric
  (``formulas.compute``). Herald: one aggregate over ``MetricCampaignDay`` (the cells
  summed per campaign and day) through the selectors' ``_grouped``, as the organization
  dashboard reads it. Baseline: the same from ``bench_v_org_day`` (a GROUP BY view by
  organization and day).
* Informational: the application's own selectors on the same data —
  ``selectors.breakdown(by="placement")`` for the hot campaign over 7 days and
  ``selectors.organization_dashboard`` over 30 days (they do more than Q2/Q1).

Spend is not tracked first-party; for the derived money metrics both sides model it as
0.30 per billable click (CPC 0.30, as in the anchors' data set).

Gates: Q1's and Q2's counts and sums identical on both sides; Q2's reach within
3 × 1.04/√16384 (2.44 %) of the exact count; every campaign's 30-day counts and sums
identical between ``MetricFact`` and the raw events.

    .venv/bin/python bench/dashboard.py            # D10M, 3 repetitions
    .venv/bin/python bench/dashboard.py --quick    # D1M
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset

MEASURES = (
    "impressions_gross",
    "impressions",
    "viewable_impressions",
    "clicks_gross",
    "clicks",
    "billable_clicks",
    "engagements",
    "conversions",
    "conversion_value",
)
CPC = Decimal("0.30")
REACH_TOLERANCE = 3 * 1.04 / 16384**0.5
TARGET_Q2_MS, TARGET_Q1_MS, TARGET_RATIO = 5.0, 150.0, 10.0

_FILTERS = {
    "impressions_gross": "kind = 1",
    "impressions": "kind = 1 AND valid",
    "viewable_impressions": "kind = 2 AND valid",
    "clicks_gross": "kind = 3",
    "clicks": "kind = 3 AND valid",
    "billable_clicks": "kind = 3 AND valid AND billable",
    "engagements": "kind = 5 AND valid",
    "conversions": "kind = 4 AND valid",
}
_VIEW_MEASURES = ",\n    ".join(
    [f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in _FILTERS.items()]
    + ["coalesce(sum(value) FILTER (WHERE kind = 4 AND valid), 0) AS conversion_value"]
)


def _view(name: str, grouping: str) -> str:
    return (
        f"CREATE VIEW {name} AS\nSELECT {grouping},\n    {_VIEW_MEASURES}\n"
        f"FROM tracking_event\nGROUP BY {grouping}"
    )


# The fact grain (for Q2) and the organization × day grain (for Q1).
VIEWS = {
    "bench_v_cell_day": _view(
        "bench_v_cell_day",
        "organization_id, campaign_id, unit_id, channel, placement, device, day",
    ),
    "bench_v_org_day": _view("bench_v_org_day", "organization_id, day"),
}
BASELINE_INDEX = "bench_tracking_event_campaign_day"
_SUMS = ", ".join(f"sum({name}) AS {name}" for name in MEASURES)


# --- the data set ------------------------------------------------------------------------------


@dataclass
class Built:
    shape: dataset.Shape
    built_at: str
    timings: dict[str, float]
    facts: int
    hour_facts: int
    reused: bool


def _marker(cursor) -> dict[str, Any] | None:
    cursor.execute("SELECT to_regclass('bench_dataset')")
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute("SELECT events, first_day, seed, built_at, timings FROM bench_dataset")
    row = cursor.fetchone()
    if row is None:
        return None
    marker = dict(zip(("events", "first_day", "seed", "built_at", "timings"), row, strict=True))
    if isinstance(marker["timings"], str):  # Django's connection leaves jsonb undecoded
        marker["timings"] = json.loads(marker["timings"])
    return marker


def build_or_reuse(name: str, events: int, *, rebuild: bool) -> Built:
    from django.db import connection
    from django.utils import timezone

    if not rebuild and common.database_exists(name):
        common.setup_django(name)
        with connection.cursor() as cursor:
            marker = _marker(cursor)
        if marker and marker["events"] == events and marker["seed"] == dataset.SEED:
            shape = dataset.Shape(events=events, first_day=marker["first_day"])
            return Built(shape, str(marker["built_at"]), marker["timings"], *_fact_counts(), True)
        connection.close()
    print(f"building {name}: fixtures, {events:,} events, rollup … (see README for times)")
    common.fresh_database(name)
    shape = dataset.default_shape(events, timezone.now().date())
    timings = _build(name, shape)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_dataset (events bigint, first_day date, seed text, "
            "built_at timestamptz DEFAULT now(), timings jsonb)"
        )
        cursor.execute(
            "INSERT INTO bench_dataset (events, first_day, seed, timings) VALUES (%s, %s, %s, %s)",
            [events, shape.first_day, dataset.SEED, json.dumps(timings)],
        )
        cursor.execute("SELECT built_at FROM bench_dataset")
        built_at = str(cursor.fetchone()[0])
    return Built(shape, built_at, timings, *_fact_counts(), False)


def _build(name: str, shape: dataset.Shape) -> dict[str, float]:
    from django.db import connection

    from herald.tracking.rollup import rollup_run

    dataset.create_fixtures(shape)
    timings = {"generate_s": dataset.generate_events(name, shape)}
    print(f"  generated {shape.events:,} events in {timings['generate_s']:.1f} s")
    timings["vacuum_analyze_s"] = dataset.vacuum_analyze(name, "tracking_event")
    started, runs = time.perf_counter(), 0
    while True:
        result = rollup_run()
        if result.to_seq == result.from_seq:
            break
        runs += 1
        if runs % 4 == 1:
            print(
                f"  rollup run {runs}: up to seq {result.to_seq:,}, "
                f"{time.perf_counter() - started:.0f} s"
            )
    timings["rollup_s"] = time.perf_counter() - started
    timings["rollup_runs"] = runs
    timings["rollup_events_per_s"] = shape.events / timings["rollup_s"]
    print(f"  rolled up in {timings['rollup_s']:.1f} s ({runs} runs)")
    dataset.vacuum_analyze(
        name,
        "metrics_metricfact",
        "metrics_metricfacthour",
        "metrics_metriccampaignday",
        "campaigns_campaign",
        "campaigns_campaignunit",
    )
    with connection.cursor() as cursor:
        for view in VIEWS.values():
            cursor.execute(view)
    return timings


def _fact_counts() -> tuple[int, int]:
    from herald.metrics.models import MetricFact, MetricFactHour

    return MetricFact.objects.count(), MetricFactHour.objects.count()


# --- the queries -------------------------------------------------------------------------------


def _as_measures(row: dict[str, Any]) -> dict[str, int | Decimal]:
    values: dict[str, int | Decimal] = {}
    for name in MEASURES:
        value = row[name] or 0
        values[name] = Decimal(value) if name in ("conversions", "conversion_value") else int(value)
    return values


def _derived(measures: dict[str, int | Decimal], reach: int | None) -> dict[str, Any]:
    from herald.metrics.formulas import compute

    inputs = {
        "impressions": measures["impressions"],
        "viewable_impressions": measures["viewable_impressions"],
        "clicks": measures["clicks"],
        "billable_clicks": measures["billable_clicks"],
        "conversions": measures["conversions"],
        "conversion_value": measures["conversion_value"],
        "engagements": measures["engagements"],
        "spend": CPC * measures["billable_clicks"],
        "reach": reach,
    }
    return compute(inputs)


def q2_herald(org_id, campaign_id, first: date, last: date) -> dict[tuple[str, str], Any]:
    from herald.metrics import selectors
    from herald.metrics.models import MetricFact, Source

    # The facts selectors._facts selects for a campaign report (source narrowed to
    # first-party, as the baseline only sees Herald's own events).
    facts = MetricFact.objects.filter(
        organization_id=org_id,
        campaign_id=campaign_id,
        day__range=(first, last),
        source=Source.FIRST_PARTY,
    )
    sums, (reach,) = selectors._grouped_with_reach(
        facts, ("placement", "device"), [("placement", "device")]
    )
    result = {}
    for key, group in sums.items():
        measures = {name: group.measures[name] for name in MEASURES}
        result[key] = {
            "measures": measures,
            "reach": reach.get(key, 0),
            "metrics": _derived(measures, reach.get(key, 0)),
        }
    return result


def q2_baseline(org_id, campaign_id, first: date, last: date) -> dict[tuple[str, str], Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT placement, device, {_SUMS} FROM bench_v_cell_day "  # noqa: S608
            "WHERE organization_id = %s AND campaign_id = %s AND day BETWEEN %s AND %s "
            "GROUP BY placement, device",
            [org_id, campaign_id, first, last],
        )
        columns = [c.name for c in cursor.description]
        sums = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT placement, device, count(DISTINCT visitor) FROM tracking_event "
            "WHERE organization_id = %s AND campaign_id = %s AND day BETWEEN %s AND %s "
            "AND kind = 1 AND valid AND visitor <> '' GROUP BY placement, device",
            [org_id, campaign_id, first, last],
        )
        reach = {(p, d): n for p, d, n in cursor.fetchall()}
    result = {}
    for row in sums:
        key = (row["placement"], row["device"])
        measures = _as_measures(row)
        result[key] = {
            "measures": measures,
            "reach": reach.get(key, 0),
            "metrics": _derived(measures, reach.get(key, 0)),
        }
    return result


def q1_herald(org_id, first: date, last: date) -> dict[str, Any]:
    from herald.metrics import selectors
    from herald.metrics.models import MetricCampaignDay, Source

    campaign_days = MetricCampaignDay.objects.filter(
        organization_id=org_id, day__range=(first, last), source=Source.FIRST_PARTY
    )
    total = selectors._total(selectors._grouped(campaign_days).values())
    measures = {name: total.measures[name] for name in MEASURES}
    return {"measures": measures, "metrics": _derived(measures, None)}


def q1_baseline(org_id, first: date, last: date) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SUMS} FROM bench_v_org_day "  # noqa: S608
            "WHERE organization_id = %s AND day BETWEEN %s AND %s",
            [org_id, first, last],
        )
        columns = [c.name for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    measures = _as_measures(row)
    return {"measures": measures, "metrics": _derived(measures, None)}


# --- timing --------------------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    samples_ms: list[float]
    rep_medians_ms: list[float]

    @property
    def summary(self) -> common.Summary:
        return common.summarize(self.samples_ms)


def timed(label: str, call: Callable[[], Any], *, warmup: int, reps: int, per_rep: int) -> Timing:
    for _ in range(warmup):
        call()
    samples, medians = [], []
    for _ in range(reps):
        rep = []
        for _ in range(per_rep):
            started = time.perf_counter()
            call()
            rep.append((time.perf_counter() - started) * 1000)
        samples += rep
        medians.append(statistics.median(rep))
    timing = Timing(label, samples, medians)
    print(
        f"  {label:<44} {timing.summary.fmt()}; per-repetition medians "
        f"{', '.join(f'{m:.2f}' for m in medians)} ms"
    )
    return timing


# --- gates ---------------------------------------------------------------------------------------


def gate_q1(herald: dict[str, Any], baseline: dict[str, Any]) -> bool:
    same = herald["measures"] == baseline["measures"]
    metrics_same = herald["metrics"] == baseline["metrics"]
    return common.gate(
        "Q1 counts and sums identical",
        same and metrics_same,
        f"{herald['measures']['impressions']:,} impressions, "
        f"{herald['measures']['clicks']:,} clicks, {herald['measures']['conversions']} "
        f"conversions worth {herald['measures']['conversion_value']} on both sides"
        if same
        else f"rollup {herald['measures']} ≠ view {baseline['measures']}",
    )


def gate_q2(herald: dict[Any, Any], baseline: dict[Any, Any]) -> bool:
    same_keys = set(herald) == set(baseline)
    unequal = [
        k for k in baseline if k in herald and herald[k]["measures"] != baseline[k]["measures"]
    ]
    errors = [
        abs(herald[k]["reach"] - baseline[k]["reach"]) / baseline[k]["reach"]
        for k in baseline
        if k in herald and baseline[k]["reach"]
    ]
    worst = max(errors, default=0.0)
    passed = same_keys and not unequal and worst <= REACH_TOLERANCE
    return common.gate(
        "Q2 counts and sums identical, reach within 2.44 %",
        passed,
        f"{len(baseline)} placement × device groups; sums "
        f"{'identical' if not unequal and same_keys else f'DIFFER in {len(unequal)} groups'}; "
        f"reach error worst {100 * worst:.2f} %, median "
        f"{100 * statistics.median(errors) if errors else 0:.2f} % (exact reach "
        f"{min(v['reach'] for v in baseline.values()):,}–"
        f"{max(v['reach'] for v in baseline.values()):,} per group)",
    )


def gate_all_campaigns(org_id, first: date, last: date) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT campaign_id, {_SUMS} FROM metrics_metricfact "  # noqa: S608
            "WHERE organization_id = %s AND source = 'first_party' AND day BETWEEN %s AND %s "
            "GROUP BY campaign_id",
            [org_id, first, last],
        )
        facts = {row[0]: [Decimal(x) for x in row[1:]] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT campaign_id, {_SUMS} FROM bench_v_cell_day "  # noqa: S608
            "WHERE organization_id = %s AND day BETWEEN %s AND %s GROUP BY campaign_id",
            [org_id, first, last],
        )
        raw = {row[0]: [Decimal(x) for x in row[1:]] for row in cursor.fetchall()}
    differing = [c for c in raw if facts.get(c) != raw[c]] + [c for c in facts if c not in raw]
    return common.gate(
        "every campaign's 30-day counts and sums identical",
        not differing,
        f"{len(raw)} campaigns with events, {len(differing)} differ",
    )


# --- main ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="D1M instead of D10M")
    parser.add_argument("--events", type=int, help="data set size (default 10M; quick 1M)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (≥ 3)")
    parser.add_argument("--rebuild", action="store_true", help="make the data set again")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    args.events = args.events or (1_000_000 if args.quick else 10_000_000)
    return args


def database_name(events: int) -> str:
    if events % 1_000_000 == 0:
        return f"herald_bench_d{events // 1_000_000}m"
    return f"herald_bench_e{events}"


def print_dataset(built: Built) -> None:
    t = built.timings
    state = f"reused (built {built.built_at})" if built.reused else f"built now ({built.built_at})"
    print(f"data set  : {state}")
    print(
        f"build     : generated in SQL in {t['generate_s']:.1f} s "
        f"({built.shape.events / t['generate_s']:,.0f} rows/s); VACUUM ANALYZE "
        f"{t['vacuum_analyze_s']:.1f} s; rollup_run() × {int(t['rollup_runs'])}: "
        f"{t['rollup_s']:.1f} s = {t['rollup_events_per_s']:,.0f} events/s → "
        f"{built.facts:,} daily facts ({built.shape.events / max(1, built.facts):.1f} events "
        f"per fact) + {built.hour_facts:,} hourly facts"
    )
    common.rule()


def ensure_baseline_index(present: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if present:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {BASELINE_INDEX} ON tracking_event (campaign_id, day)"
            )
            cursor.execute("ANALYZE tracking_event")
        else:
            cursor.execute(f"DROP INDEX IF EXISTS {BASELINE_INDEX}")


def run_queries(args, built: Built) -> tuple[dict[str, Timing], bool]:
    shape = built.shape
    org, hot = shape.organization_id, dataset.stable_uuid("campaign", 0)
    week = (shape.last_day - timedelta(days=6), shape.last_day)
    month = (shape.first_day, shape.last_day)
    reps = max(3, args.reps)
    quick = args.events < 5_000_000
    t: dict[str, Timing] = {}
    ensure_baseline_index(False)
    print(f"Q2: hot campaign {hot}, {week[0]} … {week[1]}, by placement × device, with reach")
    t["q2"] = timed(
        "Herald: MetricFact cells + reach_by_group",
        lambda: q2_herald(org, hot, *week),
        warmup=5,
        reps=reps,
        per_rep=40,
    )
    t["q2_base"] = timed(
        "baseline: view + count(DISTINCT), no index",
        lambda: q2_baseline(org, hot, *week),
        warmup=1,
        reps=reps,
        per_rep=2 if quick else 1,
    )
    ensure_baseline_index(True)
    t["q2_base_idx"] = timed(
        "baseline: same, index (campaign_id, day)",
        lambda: q2_baseline(org, hot, *week),
        warmup=1,
        reps=reps,
        per_rep=5,
    )
    print(f"Q1: organization totals + derived metrics, {month[0]} … {month[1]}")
    t["q1"] = timed(
        "Herald: MetricCampaignDay aggregate",
        lambda: q1_herald(org, *month),
        warmup=2,
        reps=reps,
        per_rep=10,
    )
    t["q1_base"] = timed(
        "baseline: view by organization × day",
        lambda: q1_baseline(org, *month),
        warmup=1,
        reps=reps,
        per_rep=2 if quick else 1,
    )
    print("informational: the application's selectors on the same data")
    t["app_breakdown"] = _time_app_breakdown(org, hot, week, reps)
    t["app_dashboard"] = _time_app_dashboard(org, month, reps)
    common.rule()
    passed = gate_q1(q1_herald(org, *month), q1_baseline(org, *month))
    passed = gate_q2(q2_herald(org, hot, *week), q2_baseline(org, hot, *week)) and passed
    passed = gate_all_campaigns(org, *month) and passed
    return t, passed


def _time_app_breakdown(org, hot, week, reps: int) -> Timing:
    from herald.campaigns.models import Campaign
    from herald.metrics.selectors import breakdown

    campaign = Campaign.objects.get(pk=hot, organization_id=org)
    return timed(
        "selectors.breakdown(by=placement), 7 days",
        lambda: breakdown(campaign=campaign, by="placement", date_from=week[0], date_to=week[1]),
        warmup=2,
        reps=reps,
        per_rep=10,
    )


def _time_app_dashboard(org, month, reps: int) -> Timing:
    from herald.accounts.models import Organization
    from herald.metrics.selectors import organization_dashboard

    organization = Organization.objects.get(pk=org)
    return timed(
        "selectors.organization_dashboard, 30 days",
        lambda: organization_dashboard(
            organization=organization, date_from=month[0], date_to=month[1]
        ),
        warmup=1,
        reps=reps,
        per_rep=2,
    )


def report(t: dict[str, Timing]) -> None:
    q2, q1 = t["q2"].summary, t["q1"].summary
    q2_base, q2_idx, q1_base = (t[k].summary for k in ("q2_base", "q2_base_idx", "q1_base"))
    print(
        f"Q2 p95 {q2.p95:.2f} ms (target ≤ {TARGET_Q2_MS:g} ms: "
        f"{'met' if q2.p95 <= TARGET_Q2_MS else 'NOT met'}); median {q2.median:.2f} ms vs "
        f"baseline median {q2_base.median:.1f} ms without index = "
        f"{q2_base.median / q2.median:.0f}×, {q2_idx.median:.1f} ms with index = "
        f"{q2_idx.median / q2.median:.0f}× (target ≥ {TARGET_RATIO:g}×: "
        f"{'met' if q2_idx.median / q2.median >= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"Q1 p95 {q1.p95:.2f} ms (target ≤ {TARGET_Q1_MS:g} ms: "
        f"{'met' if q1.p95 <= TARGET_Q1_MS else 'NOT met'}); median {q1.median:.2f} ms vs "
        f"baseline median {q1_base.median:.1f} ms = {q1_base.median / q1.median:.1f}× "
        f"(target ≥ {TARGET_RATIO:g}×: "
        f"{'met' if q1_base.median / q1.median >= TARGET_RATIO else 'NOT met'})"
    )


def main() -> int:
    args = parse_args()
    name = database_name(args.events)
    built = build_or_reuse(name, args.events, rebuild=args.rebuild)
    common.print_header(
        "B4 dashboard: rollup (MetricFact + HLL sketches) vs SQL views over raw events",
        dataset=built.shape.label() + f" — database {name}",
    )
    print_dataset(built)
    meter = common.CpuMeter(database=name)
    meter.start()
    timings, passed = run_queries(args, built)
    cpu = meter.stop()
    report(timings)
    print(
        f"CPU while querying ({cpu['elapsed_s']:.0f} s): machine busy "
        f"{cpu['machine_busy_pct']:.0f}% of {cpu['cores']} cores; this benchmark "
        f"{cpu['self_cores']:.2f} cores, postgres {cpu['postgres_cores']:.2f}, other processes "
        f"(not this benchmark) {cpu['other_cores']:.2f}"
    )
    if args.drop:
        from django.db import connections

        connections.close_all()
        common.drop_database(name)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
