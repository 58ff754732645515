"""Appending events to the store: durable before acknowledged, deduplicated, batched.

``ingest(events)`` returns only once the events are committed. With group commit on
(``HERALD_TRACKING_GROUP_COMMIT``, the default outside tests) one writer thread per
process gathers the events of every concurrent request for a couple of milliseconds
and commits them together — on PostgreSQL by COPY into a staging table then one
``INSERT … ON CONFLICT DO NOTHING`` — and wakes each waiting request after the commit:
a crash loses nothing that was acknowledged. Off, each call writes in the caller's
thread and transaction (tests, management commands).

A repeated (organization, event id) on the same day is stored once, however often it
is sent. Callers must have validated and signed-checked the events already.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from herald.tracking.models import TrackingEvent

__all__ = ["Event", "GroupCommitWriter", "IngestTimeout", "ingest", "write_events"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One event as stored; field order is the table's column order (without ``seq``)."""

    day: date
    occurred_at: datetime
    received_at: datetime
    organization_id: uuid.UUID
    campaign_id: uuid.UUID
    unit_id: uuid.UUID | None
    creative_id: uuid.UUID | None
    channel: str
    placement: str
    device: str
    country: str
    region: str
    kind: int
    engagement_type: str
    event_id: str
    visitor: str
    session_id: str
    click_id: str
    value: Decimal | None
    currency: str
    valid: bool
    billable: bool
    invalid_reason: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    order_id: str
    ip_prefix: str


COLUMNS = tuple(field.name for field in fields(Event))
_MODEL_FIELDS: list[Any] = [TrackingEvent._meta.get_field(name) for name in COLUMNS]


class IngestTimeout(Exception):
    """The writer did not confirm the commit in time: the events may or may not be
    stored (a retry with the same event ids is safe)."""


def _prepared(event: Event) -> tuple[Any, ...]:
    return tuple(
        field.get_db_prep_value(value, connection, prepared=False)
        for field, value in zip(_MODEL_FIELDS, astuple(event), strict=True)
    )


def write_events(events: Sequence[Event]) -> None:
    """Insert ``events`` in the current transaction, skipping duplicates."""
    if not events:
        return
    names = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS tracking_event_stage AS SELECT {names} "  # noqa: S608
                "FROM tracking_event WITH NO DATA"
            )
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY tracking_event_stage ({names}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(_prepared(event))
            cursor.execute(
                f"INSERT INTO tracking_event ({names}) SELECT {names} "  # noqa: S608
                "FROM tracking_event_stage ON CONFLICT (day, organization_id, event_id) DO NOTHING"
            )
            cursor.execute("TRUNCATE tracking_event_stage")
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(
                # Only a repeated event id is skipped; any other constraint still fails.
                f"INSERT INTO tracking_event ({names}) VALUES ({placeholders}) "  # noqa: S608
                "ON CONFLICT (day, organization_id, event_id) DO NOTHING",
                [_prepared(event) for event in events],
            )


@dataclass
class _Batch:
    events: Sequence[Event]
    done: threading.Event
    error: BaseException | None = None


_STOP = _Batch(events=(), done=threading.Event())


class GroupCommitWriter:
    """One background thread that commits the events of many requests together."""

    def __init__(self, *, max_delay: float = 0.002, max_events: int = 5000) -> None:
        self.max_delay = max_delay
        self.max_events = max_events
        self._queue: queue.Queue[_Batch] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Event], *, timeout: float = 10.0) -> None:
        batch = _Batch(events=events, done=threading.Event())
        self._queue.put(batch)
        if not batch.done.wait(timeout):
            raise IngestTimeout("The event store did not confirm the write in time.")
        if batch.error is not None:
            raise batch.error

    def close(self, timeout: float = 5.0) -> None:
        """Finish the batches already submitted, then stop and close the connection."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _gather(self) -> list[_Batch]:
        first = self._queue.get()
        batches, count = [first], len(first.events)
        while count < self.max_events:
            try:
                batch = self._queue.get(timeout=self.max_delay)
            except queue.Empty:
                break
            batches.append(batch)
            count += len(batch.events)
        return batches

    def _run(self) -> None:
        while True:
            batches = self._gather()
            stopping = any(batch is _STOP for batch in batches)
            batches = [batch for batch in batches if batch is not _STOP]
            error: BaseException | None = None
            try:
                close_old_connections()
                with transaction.atomic():
                    write_events([event for batch in batches for event in batch.events])
            except Exception as failure:  # every waiter must hear about it
                logger.exception("Writing %d event batch(es) failed", len(batches))
                error = failure
            for batch in batches:
                batch.error = error
                batch.done.set()
            if stopping:
                connection.close()
                return


_writer: GroupCommitWriter | None = None
_writer_lock = threading.Lock()


def _group_writer() -> GroupCommitWriter:
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = GroupCommitWriter()
        return _writer


def ingest(events: Sequence[Event]) -> None:
    """Store ``events`` durably; returns once they are committed (see the module doc)."""
    if not events:
        return
    if settings.HERALD_TRACKING_GROUP_COMMIT:
        _group_writer().submit(events)
    else:
        with transaction.atomic():
            write_events(events)
