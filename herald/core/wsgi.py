"""The WSGI application: Django, with a lean lane for the public tracking endpoints.

Beacons, clicks and batches under ``/t/`` arrive thousands of times a second, carry no
session, no login and no CSRF token, and answer with a pixel, a redirect or a short
JSON body. Running them through the site's whole middleware stack (sessions, auth,
messages, CSRF, idempotency, CSP, frame options) costs more CPU than the tracking work
itself, so requests under ``settings.HERALD_LEAN_PATH_PREFIXES`` go to a second Django
handler built with ``settings.HERALD_LEAN_MIDDLEWARE`` only (security headers and HTTPS
redirect by default). Everything else — URL resolution, views, signals, error handling —
is Django's own, in both lanes. ``settings.HERALD_LEAN_LANE`` (a dotted path) may wrap
that handler in a WSGI application of its own, which answers some paths itself and
passes the rest on: the tracking lane (``herald.tracking.wsgi.TrackingLane``) answers
the beacon and the batch that way.

Callers must not put a path that needs a session, a login or CSRF protection under a
lean prefix: none of that middleware runs there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

__all__ = ["LeanWSGIHandler", "build_application"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LeanWSGIHandler(WSGIHandler):
    """Django's WSGI handler with its own, shorter middleware list (dotted paths,
    outermost first, as in ``settings.MIDDLEWARE``; only synchronous middleware)."""

    def __init__(self, middleware: Sequence[str]) -> None:
        self._lean_middleware = tuple(middleware)
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        # As BaseHandler.load_middleware does (the stubs do not declare _get_response).
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(self._lean_middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


def build_application() -> WSGIApp:
    """Django's application, with requests under the lean prefixes sent to the lean
    handler. Call once per process, after ``DJANGO_SETTINGS_MODULE`` is set."""
    full = get_wsgi_application()
    prefixes = tuple(settings.HERALD_LEAN_PATH_PREFIXES)
    if not prefixes:
        return full
    lean: WSGIApp = LeanWSGIHandler(settings.HERALD_LEAN_MIDDLEWARE)
    if settings.HERALD_LEAN_LANE:
        lean = import_string(settings.HERALD_LEAN_LANE)(lean)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return lean(environ, start_response)
        return full(environ, start_response)

    return application
