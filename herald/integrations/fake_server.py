"""Shared machinery of the providers' fake servers.

A fake is a plain WSGI application (``FakePlatform`` subclass) that speaks one platform's
wire protocol over real HTTP on loopback, keeps its objects in memory (optionally saved
to a JSON file, so the sandbox survives restarts), and fails on demand:

- in-process: ``fake.inject(Failure(kind="rate_limit", match="campaigns:mutate"))``;
- over HTTP: ``POST /__fake__/failures`` with the same fields as JSON, and
  ``DELETE /__fake__/failures`` to clear them, ``GET /__fake__/state`` to inspect.

Failure kinds every fake understands: ``rate_limit``, ``auth`` (expired/revoked token),
``server_error`` (5xx), ``timeout_after_create`` (the change is applied, then the answer
is held past the client's timeout) and ``validation``. Each fake renders them in its
platform's real error shape.
"""

from __future__ import annotations

import abc
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["Failure", "FakePlatform", "FakeRequest", "FakeResponse", "RunningFake", "serve"]

FAILURE_KINDS = ("rate_limit", "auth", "server_error", "timeout_after_create", "validation")


@dataclass
class Failure:
    kind: str
    match: str = ""  # substring of "METHOD path" that the failure applies to; "" = any
    times: int = 1  # how many matching requests fail; 0 = until cleared
    retry_after: float = 1.0  # seconds, for rate limits
    delay: float = 3.0  # seconds held, for timeout_after_create
    message: str = ""  # for validation

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            raise ValueError(f"Unknown failure kind {self.kind!r}; use one of {FAILURE_KINDS}.")


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    content_type: str

    @property
    def bearer_token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class FakeResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


Handler = Callable[..., FakeResponse]


class FakePlatform(abc.ABC):
    """Base of a fake: routing, failure injection, persistence. Subclasses add routes
    with ``self.route(method, regex, handler)`` and render failures."""

    name = "fake"

    def __init__(self, *, state_file: Path | None = None) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._failures: list[Failure] = []
        self.lock = threading.RLock()
        self.state_file = state_file
        self.state: dict[str, Any] = self.initial_state()
        if state_file is not None and state_file.exists():
            self.state.update(json.loads(state_file.read_text(encoding="utf-8")))
        self.requests: list[str] = []  # "METHOD path", for tests to count calls

    # ---- for subclasses

    def initial_state(self) -> dict[str, Any]:
        return {}

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    @abc.abstractmethod
    def render_failure(self, failure: Failure, request: FakeRequest) -> FakeResponse:
        """The failure in the platform's own error shape."""

    def save(self) -> None:
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state, default=str), encoding="utf-8")
            temporary.replace(self.state_file)

    # ---- failure switches

    def inject(self, *failures: Failure) -> None:
        with self.lock:
            self._failures.extend(failures)

    def clear_failures(self) -> None:
        with self.lock:
            self._failures.clear()

    def _take_failure(self, request_line: str) -> Failure | None:
        with self.lock:
            for failure in self._failures:
                if failure.match in request_line:
                    if failure.times == 1:
                        self._failures.remove(failure)
                    elif failure.times > 1:
                        failure.times -= 1
                    return failure
        return None

    # ---- WSGI

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = self._request(environ)
        response = self._dispatch(request)
        body = response.raw if response.raw is not None else json.dumps(response.body).encode()
        headers = [("Content-Type", response.content_type), *response.headers.items()]
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        return [body]

    def _request(self, environ: dict[str, Any]) -> FakeRequest:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        return FakeRequest(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", ""),
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
            content_type=environ.get("CONTENT_TYPE", ""),
        )

    def _dispatch(self, request: FakeRequest) -> FakeResponse:
        line = f"{request.method} {request.path}"
        if request.path.startswith("/__fake__/"):
            return self._control(request)
        with self.lock:
            self.requests.append(line)
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                failure = self._take_failure(line)
                if failure is not None and failure.kind != "timeout_after_create":
                    return self.render_failure(failure, request)
                with self.lock:
                    response = handler(request, **match.groupdict())
                    self.save()
                if failure is not None:
                    time.sleep(failure.delay)  # applied, but the answer comes too late
                return response
        return FakeResponse(404, {"error": {"message": f"No route for {line}"}})

    def _control(self, request: FakeRequest) -> FakeResponse:
        if request.path == "/__fake__/failures" and request.method == "POST":
            try:
                self.inject(Failure(**request.json()))
            except (TypeError, ValueError) as error:
                return FakeResponse(400, {"error": str(error)})
            return FakeResponse(201, {"failures": [asdict(f) for f in self._failures]})
        if request.path == "/__fake__/failures" and request.method == "DELETE":
            self.clear_failures()
            return FakeResponse(204, raw=b"")
        if request.path == "/__fake__/state" and request.method == "GET":
            with self.lock:
                return FakeResponse(200, self.state)
        return FakeResponse(404, {"error": "unknown control endpoint"})


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class RunningFake:
    app: FakePlatform
    url: str
    _server: Any
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(app: FakePlatform, *, host: str = "127.0.0.1", port: int = 0) -> RunningFake:
    """Serve ``app`` on a background thread; ``port=0`` picks a free port."""
    server = make_server(
        host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # stop() waits at most this long
        name=f"fake-{app.name}",
        daemon=True,
    )
    thread.start()
    return RunningFake(
        app=app, url=f"http://{host}:{server.server_port}", _server=server, _thread=thread
    )
