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
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from herald.core.errors import DomainError
from herald.tracking import services, views
from herald.tracking.ingest import COLUMNS, Event
from herald.tracking.models import TrackingEvent
from herald.tracking.services import TrackingRefused

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


@csrf_exempt
@require_http_methods(["GET", "POST"])
def baseline_beacon(request: HttpRequest) -> HttpResponse:
    """``/t/i``'s work with the naive store: GET → GIF, POST → 204."""
    try:
        data = views._data(request)
        token = str(data.get("t") or data.get("token") or "")
        event = services.impression_event(token, data, views._context(request))
        _create(event)
    except DomainError as error:
        return views._refused(request, error)
    return views._pixel() if request.method == "GET" else HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["POST"])
def baseline_batch(request: HttpRequest) -> HttpResponse:
    """``/t/batch``'s work (impressions only) with one INSERT + commit per event."""
    try:
        items = views._data(request).get("events")
    except DomainError as error:
        return views._refused(request, error)
    if not isinstance(items, list):
        return views._refused(
            request, TrackingRefused.single("events", "type", "Send a list of events.")
        )
    context = views._context(request)
    accepted, rejected = 0, []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict) or item.get("type") != "impression":
                raise TrackingRefused.single("type", "choice", "Use impression.")
            event = services.impression_event(str(item.get("token") or ""), item, context)
        except DomainError as error:
            rejected.append({"index": index, "code": error.code})
            continue
        _create(event)
        accepted += 1
    return JsonResponse({"accepted": accepted, "rejected": rejected}, status=200)
