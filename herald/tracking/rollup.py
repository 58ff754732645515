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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from herald.campaigns.models import AdCreative, Campaign, CampaignUnit
from herald.metrics.cells import cell_key
from herald.metrics.models import MetricFact, MetricFactHour, Source
from herald.metrics.sketch import ReachSketch
from herald.tracking.models import EventKind, RollupWatermark, TrackingEvent

__all__ = ["RollupDifference", "RollupResult", "rollup_rebuild", "rollup_run", "safe_upper_seq"]

WATERMARK = "first_party"
_DIMENSIONS = (
    "organization_id",
    "campaign_id",
    "unit_id",
    "creative_id",
    "channel",
    "placement",
    "device",
)
_ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=26, decimal_places=6))
HOURLY_DAYS = 2  # hourly cells are kept for today and yesterday


def _measures() -> dict[str, Any]:
    impression, valid = Q(kind=EventKind.IMPRESSION), Q(valid=True)
    click, engagement = Q(kind=EventKind.CLICK), Q(kind=EventKind.ENGAGEMENT, valid=True)
    conversion = Q(kind=EventKind.CONVERSION, valid=True)
    return {
        "impressions_gross": Count("seq", filter=impression),
        "impressions": Count("seq", filter=impression & valid),
        "viewable_impressions": Count("seq", filter=Q(kind=EventKind.VIEWABLE) & valid),
        "clicks_gross": Count("seq", filter=click),
        "clicks": Count("seq", filter=click & valid),
        "billable_clicks": Count("seq", filter=click & valid & Q(billable=True)),
        "engagements": Count("seq", filter=engagement),
        "likes": Count("seq", filter=engagement & Q(engagement_type="like")),
        "shares": Count("seq", filter=engagement & Q(engagement_type="share")),
        "comments": Count("seq", filter=engagement & Q(engagement_type="comment")),
        "saves": Count("seq", filter=engagement & Q(engagement_type__in=["save", "bookmark"])),
        "follows": Count("seq", filter=engagement & Q(engagement_type="follow")),
        "conversions": Count("seq", filter=conversion),
        "conversion_value": Coalesce(Sum("value", filter=conversion), _ZERO),
    }


@dataclass
class _Cell:
    dims: dict[str, Any]
    bucket: Any  # a date, or an hour
    measures: dict[str, Any]
    sketch: ReachSketch | None = None

    @property
    def key(self) -> str:
        return cell_key(
            campaign_id=self.dims["campaign_id"],
            unit_id=self.dims["unit_id"],
            creative_id=self.dims["creative_id"],
            channel=self.dims["channel"],
            placement=self.dims["placement"],
            device=self.dims["device"],
        )


@dataclass
class RollupResult:
    from_seq: int
    to_seq: int
    events: int
    cells: int


def safe_upper_seq() -> int:
    """The highest ``seq`` below which every insert has committed. On PostgreSQL a
    SHARE lock waits for inserts in flight (sequence values can commit out of order)
    and is released at once; SQLite writes one transaction at a time."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE tracking_event IN SHARE MODE")
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM tracking_event")
        return int(cursor.fetchone()[0])


def _aggregate(
    events: QuerySet[TrackingEvent], bucket: str, hourly: bool
) -> dict[tuple[Any, ...], _Cell]:
    queryset = events.annotate(hour=TruncHour("occurred_at")) if hourly else events
    cells: dict[tuple[Any, ...], _Cell] = {}
    for row in queryset.values(*_DIMENSIONS, bucket).annotate(**_measures()).order_by():
        dims = {name: row[name] for name in _DIMENSIONS}
        measures = {name: row[name] for name in _measures()}
        cells[(*dims.values(), row[bucket])] = _Cell(
            dims=dims, bucket=row[bucket], measures=measures
        )
    reach_events = queryset.filter(kind=EventKind.IMPRESSION, valid=True).exclude(visitor="")
    for row in reach_events.values_list(*_DIMENSIONS, bucket, "visitor").iterator(chunk_size=5000):
        cell = cells[tuple(row[:-1])]
        if cell.sketch is None:
            cell.sketch = ReachSketch.empty()
        cell.sketch.add(bytes.fromhex(row[-1]))
    return cells


def _existing_ids(cells: Iterable[_Cell]) -> tuple[set[Any], set[Any], set[Any]]:
    cells = list(cells)
    campaigns = set(
        Campaign.objects.filter(pk__in={c.dims["campaign_id"] for c in cells}).values_list(
            "pk", flat=True
        )
    )
    units = set(
        CampaignUnit.objects.filter(
            pk__in={c.dims["unit_id"] for c in cells if c.dims["unit_id"]}
        ).values_list("pk", flat=True)
    )
    creatives = set(
        AdCreative.objects.filter(
            pk__in={c.dims["creative_id"] for c in cells if c.dims["creative_id"]}
        ).values_list("pk", flat=True)
    )
    return campaigns, units, creatives


def _add_to(
    model: type[MetricFact] | type[MetricFactHour], cells: list[_Cell], *, replace: bool
) -> int:
    """Add (or with ``replace`` set) each cell's measures on its fact row."""
    bucket_field = "day" if model is MetricFact else "hour"
    campaigns, units, creatives = _existing_ids(cells)
    cells = [cell for cell in cells if cell.dims["campaign_id"] in campaigns]
    keys = {(cell.key, cell.bucket) for cell in cells}
    existing = {
        (row.cell_key, getattr(row, bucket_field)): row
        for row in model.objects.filter(
            source=Source.FIRST_PARTY,
            cell_key__in={key for key, _ in keys},
            **{f"{bucket_field}__in": {bucket for _, bucket in keys}},
        )
    }
    now = timezone.now()
    to_create, to_update = [], []
    for cell in cells:
        row = existing.get((cell.key, cell.bucket))
        if row is None:
            row = model(
                organization_id=cell.dims["organization_id"],
                campaign_id=cell.dims["campaign_id"],
                unit_id=cell.dims["unit_id"] if cell.dims["unit_id"] in units else None,
                creative_id=cell.dims["creative_id"]
                if cell.dims["creative_id"] in creatives
                else None,
                channel=cell.dims["channel"],
                placement=cell.dims["placement"],
                device=cell.dims["device"],
                source=Source.FIRST_PARTY,
                cell_key=cell.key,
                **{bucket_field: cell.bucket},
                created_at=now,
            )
            to_create.append(row)
        else:
            to_update.append(row)
        for name, value in cell.measures.items():
            setattr(row, name, value if replace else getattr(row, name) + value)
        row.updated_at = now
        if isinstance(row, MetricFact):
            row.reach_sketch = _merged_sketch(row.reach_sketch, cell.sketch, replace=replace)
    model.objects.bulk_create(to_create, batch_size=1000)  # type: ignore[arg-type]
    fields = [*_measures(), "updated_at"] + (["reach_sketch"] if model is MetricFact else [])
    model.objects.bulk_update(to_update, fields, batch_size=1000)
    return len(cells)


def _merged_sketch(
    stored: bytes | memoryview | None, added: ReachSketch | None, *, replace: bool
) -> bytes | None:
    """The cell's reach sketch after this run: the union of what was stored and what the
    new events add (or only the new one when replacing)."""
    parts = [sketch for sketch in (None if replace else stored, added) if sketch]
    if not parts:
        return None
    serialized = [
        part.to_bytes() if isinstance(part, ReachSketch) else bytes(part) for part in parts
    ]
    return ReachSketch.union(serialized).to_bytes()


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
        events = TrackingEvent.objects.filter(seq__gt=start, seq__lte=end)
        daily = _aggregate(events, "day", hourly=False)
        cells = _add_to(MetricFact, list(daily.values()), replace=False)
        recent = timezone.now().date() - timedelta(days=HOURLY_DAYS - 1)
        hourly = _aggregate(events.filter(day__gte=recent), "hour", hourly=True)
        _add_to(MetricFactHour, list(hourly.values()), replace=False)
        count = events.count()
        watermark.last_seq = end
        watermark.save(update_fields=["last_seq", "updated_at"])
    return RollupResult(start, end, count, cells)


@dataclass
class RollupDifference:
    cell_key: str
    day: date
    campaign_id: Any
    stored: dict[str, Any]
    rebuilt: dict[str, Any]
    fields: list[str] = field(default_factory=list)


def rollup_rebuild(
    *, date_from: date, date_to: date, apply: bool = False
) -> list[RollupDifference]:
    """Recompute ``date_from``..``date_to`` from raw events (those the rollup has read)
    and list the cells whose stored measures differ; with ``apply`` replace them."""
    with transaction.atomic():
        watermark, _created = RollupWatermark.objects.select_for_update().get_or_create(
            name=WATERMARK
        )
        events = TrackingEvent.objects.filter(
            seq__lte=watermark.last_seq, day__range=(date_from, date_to)
        )
        rebuilt = {
            (cell.key, cell.bucket): cell
            for cell in _aggregate(events, "day", hourly=False).values()
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
            now_values = {name: (getattr(row, name) if row else 0) for name in _measures()}
            new_values = cell.measures if cell else dict.fromkeys(_measures(), 0)
            changed = [
                name
                for name in _measures()
                if Decimal(now_values[name]) != Decimal(new_values[name])
            ]
            stored_reach = (
                ReachSketch.from_bytes(bytes(row.reach_sketch)).estimate()
                if row and row.reach_sketch
                else 0
            )
            rebuilt_reach = cell.sketch.estimate() if cell and cell.sketch else 0
            if stored_reach != rebuilt_reach:
                changed.append("reach")
            if changed:
                differences.append(
                    RollupDifference(
                        cell_key=key[0],
                        day=key[1],
                        campaign_id=cell.dims["campaign_id"]
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
