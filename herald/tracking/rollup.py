"""Rolling raw events up into the fact store, exactly once, and checking it.

``rollup_run`` takes the events appended since the watermark, up to a bound below
which every insert has committed, aggregates them per cell and day (and per hour for
recent days), adds them to ``metrics.MetricFact`` / ``MetricFactHour`` and moves the
watermark — all in one transaction, so a run killed midway applies nothing and the
next run redoes the same range: nothing is ever counted twice or skipped.

``rollup_rebuild`` recomputes chosen days from the raw events (up to the watermark)
and reports every cell whose stored numbers differ; with ``apply`` it replaces them.

Measures per cell: gross and valid impressions, viewable impressions, gross and valid
clicks, billable clicks, conversions and their value, engagements by type, and a reach
sketch of the valid impressions' visitors.

How (the Citus pattern of the performance anchors, §2.2):

1. **One aggregate statement** over the range reads each event once and returns one
   row per cell and bucket: the additive measures, and the cell's reach registers
   already reduced by the database — each valid impression's visitor digest is split
   into its HyperLogLog register and rank *in SQL* (exactly as
   ``ReachSketch.add`` splits it: see ``_Dialect``), grouped by register keeping the
   highest rank, and packed as ``index·64 + rank`` into one string per cell. Python
   never touches individual events.
2. Python hashes each cell's ``cell_key``, builds the cell's sketch from its registers
   and bulk-loads the cells into a temporary table (COPY on PostgreSQL).
3. The few cells that already have a stored sketch (a day spanning two runs, or every
   run on "today") are merged with it in Python — only those rows' sketches are read.
4. One ``INSERT … SELECT … ON CONFLICT (cell_key, bucket, source) DO UPDATE SET
   x = fact.x + EXCLUDED.x`` adds every cell, joined to the campaigns so events of a
   deleted campaign are skipped (and a deleted unit or creative is stored as none).

SQLite runs the same statements (it has ``ON CONFLICT … DO UPDATE`` and ``FILTER``);
only a few expressions differ per database and live in ``_Dialect``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from herald.campaigns.models import AdCreative, Campaign, CampaignUnit
from herald.metrics.cells import cell_key
from herald.metrics.models import MetricFact, MetricFactHour, Source
from herald.metrics.sketch import ReachSketch
from herald.tracking.models import EventKind, RollupWatermark

__all__ = ["RollupDifference", "RollupResult", "rollup_rebuild", "rollup_run", "safe_upper_seq"]

WATERMARK = "first_party"
HOURLY_DAYS = 2  # hourly cells are kept for today and yesterday
_DIMENSIONS = (
    "organization_id",
    "campaign_id",
    "unit_id",
    "creative_id",
    "channel",
    "placement",
    "device",
)
_UUID_DIMENSIONS = frozenset({"organization_id", "campaign_id", "unit_id", "creative_id"})

_IMPRESSION, _VIEWABLE = int(EventKind.IMPRESSION), int(EventKind.VIEWABLE)
_CLICK, _CONVERSION = int(EventKind.CLICK), int(EventKind.CONVERSION)
_ENGAGEMENT = int(EventKind.ENGAGEMENT)
# Each count measure: the events it counts, as a condition on tracking_event's columns.
_COUNTS: dict[str, str] = {
    "impressions_gross": f"kind = {_IMPRESSION}",
    "impressions": f"kind = {_IMPRESSION} AND valid",
    "viewable_impressions": f"kind = {_VIEWABLE} AND valid",
    "clicks_gross": f"kind = {_CLICK}",
    "clicks": f"kind = {_CLICK} AND valid",
    "billable_clicks": f"kind = {_CLICK} AND valid AND billable",
    "engagements": f"kind = {_ENGAGEMENT} AND valid",
    "likes": f"kind = {_ENGAGEMENT} AND valid AND engagement_type = 'like'",
    "shares": f"kind = {_ENGAGEMENT} AND valid AND engagement_type = 'share'",
    "comments": f"kind = {_ENGAGEMENT} AND valid AND engagement_type = 'comment'",
    "saves": f"kind = {_ENGAGEMENT} AND valid AND engagement_type IN ('save', 'bookmark')",
    "follows": f"kind = {_ENGAGEMENT} AND valid AND engagement_type = 'follow'",
    "conversions": f"kind = {_CONVERSION} AND valid",
}
_VALUE_CONDITION = f"kind = {_CONVERSION} AND valid"
# The measures a rollup writes, in the order of every row below (spend is not tracked
# first-party and stays 0).
MEASURES: tuple[str, ...] = (*_COUNTS, "conversion_value")
# Events whose visitor counts towards reach.
_REACH_CONDITION = f"kind = {_IMPRESSION} AND valid AND visitor <> ''"
# Registers travel as index·64 + rank (rank ≤ 51 < 64) in one string per cell.
_RANK_SPAN = 64


@dataclass(frozen=True)
class _Dialect:
    """The expressions that differ between PostgreSQL and SQLite.

    ``register`` and ``rank`` reproduce ``ReachSketch.add`` on ``visitor``, the digest's
    32 hex digits: the first 8 bytes (16 hex digits) are a big-endian 64-bit hash whose
    top 14 bits are the register index and whose remaining 50 bits give the rank (the
    position of their first 1-bit, 51 when all are 0). Digit 4 holds 2 bits of each.
    """

    uuid_text: str  # a UUID column as the text cell_key hashes (format with {column})
    hour: str  # occurred_at truncated to its UTC hour
    register: str
    rank: str
    # The cell's {value}s: an int array on PostgreSQL (whose string_agg state costs
    # 1 KiB per group, so a run's hash aggregate would spill to disk), text on SQLite.
    registers: str
    temp: str  # schema prefix of temporary tables


def _hex_digit(position: int) -> str:
    return f"(instr('0123456789abcdef', substr(lower(visitor), {position}, 1)) - 1)"


_TAIL = "ltrim(substr(lower(visitor), 5, 12), '0')"  # rank digits 5…16, leading 0s cut
_FIRST = f"(instr('0123456789abcdef', substr({_TAIL}, 1, 1)) - 1)"

_POSTGRESQL = _Dialect(
    uuid_text="{column}::text",
    hour="date_trunc('hour', occurred_at)",
    register="(('x' || substr(visitor, 1, 4))::bit(16)::int >> 2)",
    rank=(
        "coalesce(nullif(position(B'1' IN substring(('x' || substr(visitor, 4, 13))::bit(52)"
        " FROM 3)), 0), 51)"
    ),
    registers="array_agg({value}) FILTER (WHERE reg IS NOT NULL)",
    temp="pg_temp.",
)
_SQLITE = _Dialect(
    uuid_text="{column}",
    hour="strftime('%%Y-%%m-%%d %%H:00:00', occurred_at)",
    register=(
        f"({_hex_digit(1)} * 1024 + {_hex_digit(2)} * 64 + {_hex_digit(3)} * 4"
        f" + {_hex_digit(4)} / 4)"
    ),
    # Rank bit 1 and 2 are digit 4's low bits; then 4 per digit: after z zero digits,
    # a digit with l leading zero bits puts the first 1-bit at 3 + 4z + l.
    rank=(
        f"CASE WHEN {_hex_digit(4)} % 4 >= 2 THEN 1 WHEN {_hex_digit(4)} % 4 = 1 THEN 2"
        f" WHEN {_TAIL} = '' THEN 51"
        f" ELSE 3 + 4 * (12 - length({_TAIL}))"
        f" + CASE WHEN {_FIRST} >= 8 THEN 0 WHEN {_FIRST} >= 4 THEN 1"
        f" WHEN {_FIRST} >= 2 THEN 2 ELSE 3 END END"
    ).replace("%", "%%"),
    registers="group_concat({value}, ',')",
    temp="temp.",
)


def _dialect() -> _Dialect:
    return _POSTGRESQL if connection.vendor == "postgresql" else _SQLITE


class _Cell(NamedTuple):
    """One aggregated cell and bucket, its values as the database handed them back."""

    organization_id: Any
    campaign_id: Any
    unit_id: Any
    creative_id: Any
    channel: str
    placement: str
    device: str
    key: str
    bucket: Any  # a date, or the start of an hour
    events: int
    measures: tuple[Any, ...]  # in MEASURES order
    sketch: bytes | None


@dataclass
class RollupResult:
    from_seq: int
    to_seq: int
    events: int
    cells: int


def safe_upper_seq() -> int:
    """The highest ``seq`` below which every insert has committed. On PostgreSQL a
    SHARE lock waits for inserts in flight (sequence values can commit out of order)
    and is released at once; SQLite writes one transaction at a time.

    On PostgreSQL the bound is the sequence's last value, read under that lock: every
    value handed out so far went to an INSERT that has now ended (the default is drawn
    inside the INSERT, which holds the lock SHARE waits for), and every later one will be
    larger. ``MAX(seq)`` would give the same safe range but has to visit every daily
    partition (the BRIN index on seq cannot answer a maximum): 70 ms at D1M."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE tracking_event IN SHARE MODE")
            cursor.execute(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                "FROM tracking_event_seq"
            )
        else:
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM tracking_event")
        return int(cursor.fetchone()[0])


@functools.lru_cache(maxsize=65_536)
def _canonical_uuid(value: str) -> str:
    """A UUID as ``str(UUID)`` writes it (SQLite stores 32 bare hex digits)."""
    return str(uuid.UUID(value))


def _cell_key(
    campaign_id: str,
    unit_id: str | None,
    creative_id: str | None,
    channel: str,
    placement: str,
    device: str,
) -> str:
    """``cell_key`` of a cell whose UUIDs came back from the database as text."""
    return cell_key(
        campaign_id=_canonical_uuid(campaign_id),
        unit_id=_canonical_uuid(unit_id) if unit_id else None,
        creative_id=_canonical_uuid(creative_id) if creative_id else None,
        channel=channel,
        placement=placement,
        device=device,
    )


def _aggregate_sql(dialect: _Dialect, where: str, *, hourly: bool) -> str:
    """One row per cell and bucket: dimensions, bucket, events, MEASURES, registers.

    The inner query groups by cell, bucket *and* register (NULL for events that add no
    visitor), so the database keeps each register's highest rank; the outer one sums
    the partial counts and strings the cell's registers together.
    """
    bucket = dialect.hour if hourly else "day"
    inner = ",\n        ".join(
        [
            *_DIMENSIONS,
            f"{bucket} AS bucket",
            f"CASE WHEN {_REACH_CONDITION} THEN {dialect.register} END AS reg",
            # int, not bigint: a run counts far fewer than 2³¹ events per group, and on
            # PostgreSQL the outer SUM of an int keeps its state in the group's row instead
            # of allocating a numeric state per group and measure.
            "CAST(COUNT(*) AS INTEGER) AS events",
            *(
                f"CAST(COUNT(*) FILTER (WHERE {condition}) AS INTEGER) AS {name}"
                for name, condition in _COUNTS.items()
            ),
            f"SUM(value) FILTER (WHERE {_VALUE_CONDITION}) AS conversion_value",
            f"MAX(CASE WHEN {_REACH_CONDITION} THEN {dialect.rank} END) AS rnk",
        ]
    )
    outer = ",\n    ".join(
        [
            *(
                dialect.uuid_text.format(column=name) if name in _UUID_DIMENSIONS else name
                for name in _DIMENSIONS
            ),
            "bucket",
            "SUM(events)",
            *(f"SUM({name})" for name in _COUNTS),
            "COALESCE(SUM(conversion_value), 0)",
            dialect.registers.format(value=f"reg * {_RANK_SPAN} + rnk"),
        ]
    )
    # Grouped by the columns themselves (not their text form): cheaper to hash.
    groups = ", ".join([*_DIMENSIONS, "bucket"])
    inner_groups = ", ".join(str(position) for position in range(1, len(_DIMENSIONS) + 3))
    return (
        f"SELECT {outer}\nFROM (\n    SELECT {inner}\n    FROM tracking_event\n"  # noqa: S608
        f"    WHERE {where}\n    GROUP BY {inner_groups}\n) AS per_register\n"
        f"GROUP BY {groups}"
    )


def _sketch_of(registers: list[int] | str) -> bytes:
    """The stored sketch of a cell's packed registers (see ``_Dialect.registers``)."""
    packed = map(int, registers.split(",")) if isinstance(registers, str) else registers
    return ReachSketch.from_registers(
        {value >> 6: value & 63 for value in packed}  # index·64 + rank, see _RANK_SPAN
    ).to_bytes()


def _aggregate(where: str, params: Sequence[Any], *, hourly: bool) -> list[_Cell]:
    """The events matching ``where`` aggregated per cell and bucket (hour if ``hourly``,
    else day); daily cells carry their reach sketch."""
    sql = _aggregate_sql(_dialect(), where, hourly=hourly)
    cells = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The per-register grouping holds about one group per impression: let it hash
            # in memory rather than spill (this session's transaction only).
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(5000):
            for row in rows:
                organization, campaign, unit, creative, channel, placement, device = row[:7]
                registers = row[-1]
                cells.append(
                    _Cell(
                        organization,
                        campaign,
                        unit,
                        creative,
                        channel,
                        placement,
                        device,
                        _cell_key(campaign, unit, creative, channel, placement, device),
                        row[7],
                        int(row[8]),
                        row[9:-1],
                        _sketch_of(registers) if registers and not hourly else None,
                    )
                )
    return cells


# --- writing --------------------------------------------------------------------------------


def _stage_columns(model: type[MetricFact] | type[MetricFactHour]) -> list[tuple[str, str]]:
    """(name, type) of the staging table for ``model``: its own column types."""
    bucket = "day" if model is MetricFact else "hour"
    fields = [
        ("organization_id", "organization"),
        ("campaign_id", "campaign"),
        ("unit_id", "unit"),
        ("creative_id", "creative"),
        ("channel", "channel"),
        ("placement", "placement"),
        ("device", "device"),
        ("cell_key", "cell_key"),
        ("bucket", bucket),
        *((name, name) for name in MEASURES),
    ]
    if model is MetricFact:
        fields.append(("reach_sketch", "reach_sketch"))
    meta = model._meta
    return [(column, str(meta.get_field(name).db_type(connection))) for column, name in fields]


def _load(cursor: CursorWrapper, table: str, columns: Sequence[str], rows: Iterable[Any]) -> None:
    """Bulk-load ``rows`` into a temporary table: COPY on PostgreSQL."""
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))  # noqa: S608


def _create_temp(cursor: CursorWrapper, table: str, columns: Sequence[tuple[str, str]]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    definition = ", ".join(f"{name} {kind}" for name, kind in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {table.split('.')[-1]} ({definition})")


def _merged_sketches(
    cursor: CursorWrapper, stage: str, fact_table: str
) -> list[tuple[str, Any, bytes]]:
    """For each staged cell whose fact row already holds a sketch: the union of both."""
    cursor.execute(
        f"SELECT s.cell_key, s.bucket, s.reach_sketch, f.reach_sketch FROM {stage} s "  # noqa: S608
        f"JOIN {fact_table} f ON f.cell_key = s.cell_key AND f.day = s.bucket "
        "AND f.source = %s "
        "WHERE s.reach_sketch IS NOT NULL AND f.reach_sketch IS NOT NULL",
        [Source.FIRST_PARTY.value],
    )
    return [
        (key, bucket, ReachSketch.union([added, stored]).to_bytes())
        for key, bucket, added, stored in cursor.fetchall()
    ]


def _add_to(
    model: type[MetricFact] | type[MetricFactHour], cells: list[_Cell], *, replace: bool
) -> int:
    """Add each cell's measures to its fact row (or with ``replace``, overwrite them),
    creating the rows that do not exist; cells of campaigns that no longer exist are
    skipped. Returns the number of fact rows written."""
    if not cells:
        return 0
    quote = connection.ops.quote_name
    dialect = _dialect()
    daily = model is MetricFact
    fact_table, bucket = quote(model._meta.db_table), ("day" if daily else "hour")
    stage, merged = f"{dialect.temp}rollup_stage", f"{dialect.temp}rollup_merged"
    columns = _stage_columns(model)
    with connection.cursor() as cursor:
        _create_temp(cursor, stage, columns)
        _load(
            cursor,
            stage,
            [name for name, _type in columns],
            ((*cell[:9], *cell.measures, *((cell.sketch,) if daily else ())) for cell in cells),
        )
        sketch_source = "s.reach_sketch"
        if daily:
            _create_temp(cursor, merged, [columns[7], columns[8], columns[-1]])
            if not replace:
                _load(
                    cursor,
                    merged,
                    ["cell_key", "bucket", "reach_sketch"],
                    _merged_sketches(cursor, stage, fact_table),
                )
            sketch_source = "COALESCE(m.reach_sketch, s.reach_sketch)"
        updates = [
            f"{name} = EXCLUDED.{name}"
            if replace
            else f"{name} = {fact_table}.{name} + EXCLUDED.{name}"
            for name in MEASURES
        ]
        if daily:
            updates.append(
                "reach_sketch = EXCLUDED.reach_sketch"
                if replace
                else f"reach_sketch = COALESCE(EXCLUDED.reach_sketch, {fact_table}.reach_sketch)"
            )
        updates.append("updated_at = EXCLUDED.updated_at")
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            f"INSERT INTO {fact_table} (organization_id, campaign_id, unit_id, creative_id, "
            f"channel, placement, device, source, cell_key, currency, {', '.join(MEASURES)}, "
            f"spend, {bucket}{', reach_sketch' if daily else ''}, created_at, updated_at)\n"
            "SELECT s.organization_id, s.campaign_id, u.id, cr.id, s.channel, s.placement, "
            f"s.device, %s, s.cell_key, '', {', '.join(f's.{name}' for name in MEASURES)}, "
            f"0, s.bucket{', ' + sketch_source if daily else ''}, %s, %s\n"
            f"FROM {stage} s\n"
            f"JOIN {quote(Campaign._meta.db_table)} c ON c.id = s.campaign_id\n"
            f"LEFT JOIN {quote(CampaignUnit._meta.db_table)} u ON u.id = s.unit_id\n"
            f"LEFT JOIN {quote(AdCreative._meta.db_table)} cr ON cr.id = s.creative_id\n"
            + (
                f"LEFT JOIN {merged} m ON m.cell_key = s.cell_key AND m.bucket = s.bucket\n"
                if daily
                else ""
            )
            # WHERE true: SQLite would read ON CONFLICT as a join constraint without it.
            + f"WHERE true\nON CONFLICT (cell_key, {bucket}, source) DO UPDATE SET "
            + ", ".join(updates),
            [Source.FIRST_PARTY.value, now, now],
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {stage}")
        if daily:
            cursor.execute(f"DROP TABLE {merged}")
    return int(written)


def rollup_run(*, limit: int = 500_000) -> RollupResult:
    """Apply the events after the watermark (at most ``limit`` sequence numbers)."""
    upper = safe_upper_seq()
    with transaction.atomic():
        watermark, _created = RollupWatermark.objects.select_for_update().get_or_create(
            name=WATERMARK
        )
        start, end = watermark.last_seq, min(upper, watermark.last_seq + limit)
        if end <= start:
            return RollupResult(start, start, 0, 0)
        in_range = "seq > %s AND seq <= %s"
        daily = _aggregate(in_range, [start, end], hourly=False)
        cells = _add_to(MetricFact, daily, replace=False)
        recent = timezone.now().date() - timedelta(days=HOURLY_DAYS - 1)
        hourly = _aggregate(f"{in_range} AND day >= %s", [start, end, recent], hourly=True)
        _add_to(MetricFactHour, hourly, replace=False)
        watermark.last_seq = end
        watermark.save(update_fields=["last_seq", "updated_at"])
    return RollupResult(start, end, sum(cell.events for cell in daily), cells)


@dataclass
class RollupDifference:
    cell_key: str
    day: date
    campaign_id: Any
    stored: dict[str, Any]
    rebuilt: dict[str, Any]
    fields: list[str] = field(default_factory=list)


def _as_date(value: date | datetime | str) -> date:
    """A bucket as the database returned it (SQLite may hand back text) as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


_MICRO = Decimal("0.000001")  # the fact columns' 6 decimal places


def _exact(value: int | float | Decimal) -> int | Decimal:
    """A measure as stored: counts as ``int``, money as a ``Decimal`` of 6 places (SQLite
    sums money as binary floats; the fact columns keep 6 places)."""
    if isinstance(value, int):
        return value
    return Decimal(str(value)).quantize(_MICRO)


def _reach(sketch: bytes | memoryview | None) -> int:
    return ReachSketch.from_bytes(sketch).estimate() if sketch else 0


def rollup_rebuild(
    *, date_from: date, date_to: date, apply: bool = False
) -> list[RollupDifference]:
    """Recompute ``date_from``..``date_to`` from raw events (those the rollup has read)
    and list the cells whose stored measures differ; with ``apply`` replace them."""
    with transaction.atomic():
        watermark, _created = RollupWatermark.objects.select_for_update().get_or_create(
            name=WATERMARK
        )
        cells = _aggregate(
            "seq <= %s AND day >= %s AND day <= %s",
            [watermark.last_seq, date_from, date_to],
            hourly=False,
        )
        existing_campaigns = set(
            Campaign.objects.filter(
                pk__in={_canonical_uuid(str(cell.campaign_id)) for cell in cells}
            ).values_list("pk", flat=True)
        )
        rebuilt = {
            (cell.key, _as_date(cell.bucket)): cell
            for cell in cells
            if uuid.UUID(str(cell.campaign_id)) in existing_campaigns
        }
        stored = {
            (row.cell_key, row.day): row
            for row in MetricFact.objects.filter(
                source=Source.FIRST_PARTY, day__range=(date_from, date_to)
            )
        }
        differences = []
        for key in sorted(set(rebuilt) | set(stored), key=lambda k: (k[1], k[0])):
            cell, row = rebuilt.get(key), stored.get(key)
            now_values = {name: (getattr(row, name) if row else 0) for name in MEASURES}
            new_values = (
                {name: _exact(value) for name, value in zip(MEASURES, cell.measures, strict=True)}
                if cell
                else dict.fromkeys(MEASURES, 0)
            )
            changed = [name for name in MEASURES if _exact(now_values[name]) != new_values[name]]
            stored_reach = _reach(row.reach_sketch if row else None)
            rebuilt_reach = _reach(cell.sketch if cell else None)
            if stored_reach != rebuilt_reach:
                changed.append("reach")
            if changed:
                differences.append(
                    RollupDifference(
                        cell_key=key[0],
                        day=key[1],
                        campaign_id=uuid.UUID(str(cell.campaign_id))
                        if cell
                        else getattr(row, "campaign_id", None),
                        stored={**now_values, "reach": stored_reach},
                        rebuilt={**new_values, "reach": rebuilt_reach},
                        fields=changed,
                    )
                )
        if apply and differences:
            MetricFact.objects.filter(
                source=Source.FIRST_PARTY, day__range=(date_from, date_to)
            ).delete()
            _add_to(MetricFact, list(rebuilt.values()), replace=True)
    return differences
