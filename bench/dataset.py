"""The deterministic event data set of the dashboard benchmark (D10M, D1M), made inside
PostgreSQL.

Shape (performance anchors §4): N events over 30 whole UTC days ending yesterday;
1,000 campaigns with quadratic skew (campaign = ⌊1000·u²⌋ for a uniform u, so the
hottest gets 1/√1000 ≈ 3.2 % of the events); each campaign has one unit on one channel
(the two registered channels, alternating) and 5 of 200 placements; 4 devices; N/5
users (2M for D10M); 80 % impressions, 10 % viewable impressions, 8 % clicks (valid,
billable), 2 % conversions with a value of 1.00–205.75. No invalid traffic.

Every random choice of row n comes from ``md5('<seed>:' || n)``, so the same seed and
size give the same rows (ids included: campaign, unit and organization ids are md5
UUIDs of their index too). Rows are inserted in day order, 2 days at a time on two
connections (the machine has two cores), through ``tracking_event`` itself: its daily
partitions, primary key, dedup key and BRIN index are maintained as in production.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from bench import common

DAYS = 30
CAMPAIGNS = 1000
PLACEMENTS = 200
PLACEMENTS_PER_CAMPAIGN = 5
DEVICES = ("desktop", "mobile", "tablet", "other")
CHANNELS = ("google_ads", "meta_ads")
SEED = "herald-bench-v1"


def stable_uuid(kind: str, index: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"{SEED}:{kind}:{index}".encode()).hexdigest())  # noqa: S324


def placement_of(campaign: int, k: int) -> str:
    """Campaign ``campaign``'s k-th placement (k < 5): 5 distinct of 200."""
    return f"pl-{(campaign * 37 + k * 41) % PLACEMENTS:03d}"


@dataclass(frozen=True)
class Shape:
    events: int
    first_day: date

    @property
    def users(self) -> int:
        return max(1, self.events // 5)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=DAYS - 1)

    @property
    def organization_id(self) -> uuid.UUID:
        return stable_uuid("organization", 0)

    def label(self) -> str:
        size = f"{self.events // 1_000_000}M" if self.events >= 1_000_000 else f"{self.events:,}"
        return (
            f"D{size}: {self.events:,} events, {DAYS} days {self.first_day}…{self.last_day}, "
            f"{CAMPAIGNS:,} campaigns (quadratic skew), {PLACEMENTS} placements (5 per "
            f"campaign), {len(DEVICES)} devices, {self.users:,} users; 80/10/8/2 % "
            "impressions/viewable/clicks/conversions"
        )


def default_shape(events: int, today: date) -> Shape:
    return Shape(events=events, first_day=today - timedelta(days=DAYS))


def create_fixtures(shape: Shape) -> None:
    """1 organization, 1,000 campaigns and their units, with the ids the events use."""
    from herald.accounts.models import Organization
    from herald.campaigns.models import Campaign, CampaignUnit

    org = Organization.objects.create(
        id=shape.organization_id, name="Bench dashboard", slug="bench-dashboard"
    )
    Campaign.objects.bulk_create(
        [
            Campaign(
                id=stable_uuid("campaign", c),
                organization=org,
                name=f"Campaign {c:04d}",
                objective="sales",
                status="active",
                currency="USD",
            )
            for c in range(CAMPAIGNS)
        ],
        batch_size=1000,
    )
    CampaignUnit.objects.bulk_create(
        [
            CampaignUnit(
                id=stable_uuid("unit", c),
                organization=org,
                campaign_id=stable_uuid("campaign", c),
                channel=CHANNELS[c % len(CHANNELS)],
                name=f"Unit {c:04d}",
                status="active",
            )
            for c in range(CAMPAIGNS)
        ],
        batch_size=1000,
    )


def _create_dimension_table(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS bench_campaign_dim")
    cursor.execute(
        "CREATE TABLE bench_campaign_dim (idx int PRIMARY KEY, campaign_id uuid, unit_id uuid,"
        " channel varchar(40), placements text[])"
    )
    rows = [
        (
            c,
            stable_uuid("campaign", c),
            stable_uuid("unit", c),
            CHANNELS[c % len(CHANNELS)],
            [placement_of(c, k) for k in range(PLACEMENTS_PER_CAMPAIGN)],
        )
        for c in range(CAMPAIGNS)
    ]
    cursor.executemany("INSERT INTO bench_campaign_dim VALUES (%s, %s, %s, %s, %s)", rows)
    cursor.execute("ANALYZE bench_campaign_dim")


# One day's rows. Parameters: seed, n_from, n_to, day, users, organization id.
# h = md5(seed:n); bits 0–31 → campaign (quadratic skew), 32–47 → kind (mod 100),
# 48–55 → placement (mod 5), 56–63 → device, 64–95 → user, 96–115 → second of day,
# 116–127 → conversion value.
_INSERT_DAY = """
INSERT INTO tracking_event (
    day, occurred_at, received_at, organization_id, campaign_id, unit_id, creative_id,
    channel, placement, device, kind, event_id, visitor, value, currency, valid, billable
)
SELECT %(day)s::date,
       r.ts, r.ts, %(org)s::uuid, d.campaign_id, d.unit_id, NULL,
       d.channel, d.placements[1 + r.k], r.device, r.kind, 'g' || r.n,
       md5('bench-user:' || r.usr),
       CASE WHEN r.kind = 4 THEN round(1 + r.v / 20.0, 2) END,
       CASE WHEN r.kind = 4 THEN 'USD' ELSE '' END,
       true, true
FROM (
    SELECT n,
           floor(1000 * power(('x' || substr(h, 1, 8))::bit(32)::bigint / 4294967296.0, 2))::int
               AS campaign,
           CASE WHEN ('x' || substr(h, 9, 4))::bit(16)::int %% 100 < 80 THEN 1
                WHEN ('x' || substr(h, 9, 4))::bit(16)::int %% 100 < 90 THEN 2
                WHEN ('x' || substr(h, 9, 4))::bit(16)::int %% 100 < 98 THEN 3
                ELSE 4 END AS kind,
           ('x' || substr(h, 13, 2))::bit(8)::int %% 5 AS k,
           (ARRAY['desktop', 'mobile', 'tablet', 'other'])[
               1 + ('x' || substr(h, 15, 2))::bit(8)::int %% 4] AS device,
           ('x' || substr(h, 17, 8))::bit(32)::bigint %% %(users)s AS usr,
           (%(day)s::date::timestamp AT TIME ZONE 'UTC')
               + make_interval(secs => ('x' || substr(h, 25, 5))::bit(20)::int %% 86400) AS ts,
           ('x' || substr(h, 30, 3))::bit(12)::int AS v
    FROM (SELECT n, md5(%(seed)s || ':' || n) AS h
          FROM generate_series(%(n_from)s::bigint, %(n_to)s::bigint) AS n) AS g
) AS r
JOIN bench_campaign_dim d ON d.idx = r.campaign
"""


def generate_events(database: str, shape: Shape, *, connections: int = 2) -> float:
    """Insert the events, day by day, on ``connections`` sessions; return seconds."""
    import psycopg
    from django.db import connection

    from herald.tracking.storage import ensure_partitions

    ensure_partitions(connection, start=shape.first_day, days=DAYS)
    with connection.cursor() as cursor:
        _create_dimension_table(cursor)
    days = list(range(DAYS))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        with psycopg.connect(common.database_url(database), autocommit=True) as conn:
            while True:
                with lock:
                    if not days or errors:
                        return
                    day = days.pop(0)
                n_from = day * shape.events // DAYS + 1
                n_to = (day + 1) * shape.events // DAYS
                params = {
                    "seed": SEED,
                    "n_from": n_from,
                    "n_to": n_to,
                    "users": shape.users,
                    "day": shape.first_day + timedelta(days=day),
                    "org": shape.organization_id,
                }
                try:
                    conn.execute(_INSERT_DAY, params)
                except BaseException as error:
                    errors.append(error)
                    return

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def vacuum_analyze(database: str, *tables: str) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(common.database_url(database), autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - started
