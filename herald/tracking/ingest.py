"""Appending events to the store: durable before acknowledged, deduplicated, batched.

``ingest(events)`` returns only once the events are committed. With group commit on
(``HERALD_TRACKING_GROUP_COMMIT``, the default outside tests) one writer thread per
process takes the events of every request that arrived while the previous commit was
in flight and commits them together — on PostgreSQL by a binary COPY into a staging
table kept for the session, then one ``INSERT … ON CONFLICT DO NOTHING`` — and wakes
each waiting request after the commit: a crash loses nothing that was acknowledged.
Off, each call writes in the caller's thread and transaction (tests, management
commands).

A repeated (organization, event id) on the same day is stored once, however often it
is sent. Callers must have validated and signed-checked the events already.
"""

from __future__ import annotations

import logging
import operator
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from herald.tracking.models import TrackingEvent

__all__ = ["Event", "GroupCommitWriter", "IngestTimeout", "ingest", "write_events"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Event:
    """One event as stored; field order is the table's column order (without ``seq``).

    Treat it as immutable (derive changed copies with ``dataclasses.replace``). It is not
    declared frozen only because a frozen dataclass's constructor costs half as much
    again, and one is built per tracked event."""

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
# An event's values in column order. psycopg adapts every one of them (UUID, date, aware
# datetime, Decimal, bool, int, str) natively, so PostgreSQL needs no per-field step.
_row: Callable[[Event], tuple[Any, ...]] = operator.attrgetter(*COLUMNS)
_NAMES = ", ".join(COLUMNS)
_STAGE = "tracking_event_stage"


class IngestTimeout(Exception):
    """The writer did not confirm the commit in time: the events may or may not be
    stored (a retry with the same event ids is safe)."""


def _prepared(event: Event) -> tuple[Any, ...]:
    """The event's values as the database adapter expects them (SQLite: UUIDs as hex,
    through the model's own fields)."""
    return tuple(
        field.get_db_prep_value(value, connection, prepared=False)
        for field, value in zip(_MODEL_FIELDS, _row(event), strict=True)
    )


# Raw PostgreSQL connections whose session already holds the staging table (a temporary
# table lives as long as its session), with the table's column type oids for binary COPY.
_staged_sessions: weakref.WeakKeyDictionary[Any, list[int]] = weakref.WeakKeyDictionary()


def _staging_types(cursor: Any) -> list[int]:
    """Make sure this session has its staging table; return its column types.

    The table is emptied by every commit (ON COMMIT DELETE ROWS), so it is created once
    per session instead of once per batch. It is remembered only once the transaction
    that created it commits: a rolled-back CREATE leaves no table behind."""
    raw_connection = connection.connection
    types = _staged_sessions.get(raw_connection)
    if types is not None:
        return types
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {_NAMES} FROM tracking_event WITH NO DATA"
    )
    cursor.execute(f"SELECT {_NAMES} FROM {_STAGE} LIMIT 0")  # noqa: S608
    types = [column.type_code for column in cursor.description]

    def remember() -> None:
        _staged_sessions[raw_connection] = types

    transaction.on_commit(remember)
    return types


def write_events(events: Sequence[Event]) -> None:
    """Insert ``events`` in the current transaction (one is begun when there is none),
    skipping duplicates."""
    if not events:
        return
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = _staging_types(cursor)
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {_STAGE} ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for event in events:
                    copy.write_row(_row(event))
            # Moved, not copied, out of the staging table (one statement): a later
            # batch in the same transaction must not insert these rows again.
            cursor.execute(
                f"WITH staged AS (DELETE FROM {_STAGE} RETURNING {_NAMES}) "  # noqa: S608
                f"INSERT INTO tracking_event ({_NAMES}) SELECT {_NAMES} FROM staged "
                "ON CONFLICT (day, organization_id, event_id) DO NOTHING"
            )
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(
                # Only a repeated event id is skipped; any other constraint still fails.
                f"INSERT INTO tracking_event ({_NAMES}) VALUES ({placeholders}) "  # noqa: S608
                "ON CONFLICT (day, organization_id, event_id) DO NOTHING",
                [_prepared(event) for event in events],
            )


@dataclass
class _Batch:
    events: Sequence[Event]
    # Held from submission until the writer has committed (or failed) the batch. A bare
    # lock is the cheapest wake-up Python has: releasing it is one C call, where an
    # Event goes through a Condition — which costs real CPU at thousands of waits a second.
    done: Any
    error: BaseException | None = None


def _held_lock() -> Any:
    lock = threading.Lock()
    lock.acquire()
    return lock


_STOP = _Batch(events=(), done=_held_lock())


class GroupCommitWriter:
    """One background thread that commits the events of many requests together.

    While one commit is in flight the next requests queue up, and the writer takes all
    of them at once: batches grow with the load by themselves, so nobody waits for a
    timer. ``max_delay`` (seconds, default 0) makes the writer linger that long after the
    first waiting batch for others to join; ``max_events`` bounds one commit."""

    def __init__(self, *, max_delay: float = 0.0, max_events: int = 5000) -> None:
        self.max_delay = max_delay
        self.max_events = max_events
        self._queue: queue.Queue[_Batch] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[Event], *, timeout: float = 10.0) -> None:
        batch = _Batch(events=events, done=_held_lock())
        self._queue.put(batch)
        if not batch.done.acquire(timeout=timeout):
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
        deadline = time.monotonic() + self.max_delay
        while count < self.max_events and first is not _STOP:
            try:
                remaining = deadline - time.monotonic()
                batch = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            batches.append(batch)
            count += len(batch.events)
            if batch is _STOP:
                break
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
                batch.done.release()
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
