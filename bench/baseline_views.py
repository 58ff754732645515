"""The naive baselines the ingest benchmarks compare Herald with, served next to it.

"One ``create()`` per request, autocommit": each event is validated exactly as Herald's
endpoints do (token signature, visitor digest, invalid-traffic screening: the same
``herald.tracking.services`` calls), then written by one ``INSERT … RETURNING seq`` in
autocommit through the ORM's connection — what ``Model.objects.create()`` sends — into
``bench_baseline_event``, a plain unpartitioned copy of ``tracking_event`` (same columns,
defaults, primary key and dedup key) that the benchmark creates. Values are converted by
the model's own fields, as ``create()`` would. No group commit, no COPY, no batching:
every event costs one commit (``synchronous_commit`` on, as for Herald).

The raw INSERT skips the ORM's object construction, so this baseline is, if anything,
slightly faster than a literal ``create()``.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.tracking import endpoints, views
from herald.tracking.ingest import COLUMNS, Event
from herald.tracking.models import TrackingEvent

TABLE = "bench_baseline_event"
_FIELD_BY_ATTNAME = {field.attname: field for field in TrackingEvent._meta.concrete_fields}
_FIELDS = [_FIELD_BY_ATTNAME[name] for name in COLUMNS]
_INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608 - fixed identifiers
    f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) RETURNING seq"
)


def create_table_sql() -> list[str]:
    """DDL of the baseline table (run by the benchmark before the server starts)."""
    return [
        f"DROP TABLE IF EXISTS {TABLE}",
        f"CREATE TABLE {TABLE} (LIKE tracking_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
        f"ALTER TABLE {TABLE} ADD PRIMARY KEY (day, seq)",
        f"ALTER TABLE {TABLE} ADD UNIQUE (day, organization_id, event_id)",
    ]


def _create(event: Event) -> None:
    """One event, one INSERT, one commit (the connection is in autocommit)."""
    values = [
        model_field.get_db_prep_value(getattr(event, model_field.name), connection, prepared=False)
        for model_field in _FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, values)
        cursor.fetchone()


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _create_each(events: list[Event]) -> None:
    for event in events:
        _create(event)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def baseline_beacon(request: HttpRequest) -> HttpResponse:
    """``/t/i``'s endpoint (same parsing, checks and answers) with the naive store:
    one INSERT + commit per event."""
    return views.outgoing(endpoints.impression(views.incoming(request), record=_create_each))


@csrf_exempt
@require_http_methods(["POST"])
def baseline_batch(request: HttpRequest) -> HttpResponse:
    """``/t/batch``'s endpoint with the naive store: one INSERT + commit per event."""
    return views.outgoing(endpoints.batch(views.incoming(request), record=_create_each))
