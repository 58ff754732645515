"""The event table's DDL, per database: the one part of the store the ORM does not own.

PostgreSQL: ``tracking_event`` is partitioned by ``day`` (range), with a default
partition so an insert never fails for a day without its own partition, daily
partitions created ahead by ``ensure_partitions`` (the rollup job calls it), a BRIN
index on the time-ordered ``seq`` the rollup scans by, and the dedup key
(day, organization_id, event_id). SQLite: the same columns in a plain table.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["create_event_table", "drop_event_table", "ensure_partitions"]

_COLUMNS = """
    day date NOT NULL,
    occurred_at {ts} NOT NULL,
    received_at {ts} NOT NULL,
    organization_id {uuid} NOT NULL,
    campaign_id {uuid} NOT NULL,
    unit_id {uuid} NULL,
    creative_id {uuid} NULL,
    channel varchar(40) NOT NULL,
    placement varchar(100) NOT NULL DEFAULT '',
    device varchar(10) NOT NULL DEFAULT '',
    country varchar(2) NOT NULL DEFAULT '',
    region varchar(100) NOT NULL DEFAULT '',
    kind smallint NOT NULL,
    engagement_type varchar(20) NOT NULL DEFAULT '',
    event_id varchar(100) NOT NULL,
    visitor varchar(32) NOT NULL DEFAULT '',
    session_id varchar(100) NOT NULL DEFAULT '',
    click_id varchar(64) NOT NULL DEFAULT '',
    value numeric(20, 6) NULL,
    currency varchar(3) NOT NULL DEFAULT '',
    valid boolean NOT NULL,
    billable boolean NOT NULL,
    invalid_reason varchar(30) NOT NULL DEFAULT '',
    utm_source varchar(200) NOT NULL DEFAULT '',
    utm_medium varchar(200) NOT NULL DEFAULT '',
    utm_campaign varchar(200) NOT NULL DEFAULT '',
    utm_content varchar(200) NOT NULL DEFAULT '',
    utm_term varchar(200) NOT NULL DEFAULT '',
    order_id varchar(100) NOT NULL DEFAULT '',
    ip_prefix varchar(50) NOT NULL DEFAULT ''
"""


def create_event_table(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE SEQUENCE tracking_event_seq")
            cursor.execute(
                "CREATE TABLE tracking_event ("
                "seq bigint NOT NULL DEFAULT nextval('tracking_event_seq'),"
                + _COLUMNS.format(ts="timestamptz", uuid="uuid")
                + ", PRIMARY KEY (day, seq), UNIQUE (day, organization_id, event_id)"
                ") PARTITION BY RANGE (day)"
            )
            cursor.execute(
                "CREATE TABLE tracking_event_default PARTITION OF tracking_event DEFAULT"
            )
            cursor.execute(
                "CREATE INDEX tracking_event_seq_brin ON tracking_event USING brin (seq)"
            )
        else:
            cursor.execute(
                "CREATE TABLE tracking_event ("
                "seq integer PRIMARY KEY AUTOINCREMENT,"
                + _COLUMNS.format(ts="datetime", uuid="char(32)")
                + ", UNIQUE (day, organization_id, event_id))"
            )


def drop_event_table(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS tracking_event")
        if connection.vendor == "postgresql":
            cursor.execute("DROP SEQUENCE IF EXISTS tracking_event_seq")


def ensure_partitions(connection: BaseDatabaseWrapper, *, start: date, days: int) -> list[str]:
    """Create the daily partitions of ``start`` and the following ``days - 1`` days that
    do not exist yet and hold no rows in the default partition; return their names.
    SQLite has no partitions: returns []."""
    if connection.vendor != "postgresql":
        return []
    created = []
    with connection.cursor() as cursor:
        for offset in range(days):
            day = start + timedelta(days=offset)
            name = f"tracking_event_p{day:%Y%m%d}"
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            cursor.execute("SELECT 1 FROM tracking_event_default WHERE day = %s LIMIT 1", [day])
            if cursor.fetchone() is not None:
                continue  # rows already landed in the default partition: leave them there
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF tracking_event FOR VALUES FROM (%s) TO (%s)",
                [day, day + timedelta(days=1)],
            )
            created.append(name)
    return created
