"""The REST API's shared machinery: authentication, permissions, problem+json errors,
pagination and the OpenAPI touches. Routers in each app build on this.

- Authentication: ``Authorization: Bearer <api key>``, or the browser session (with
  CSRF on unsafe methods). Either way ``request.auth`` is the ``Actor``.
- Every operation is declared with ``@requires(Permission.X)``; the decorator checks
  the permission table before the handler runs. A test walks every route to prove no
  operation lacks it.
- Errors are RFC 9457 problem+json: ``type``, ``title``, ``status``, ``detail`` and
  ``errors`` (field, rule, message). Bad input is 4xx, never 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import ConfigDict, Field

from herald.accounts.actors import Actor
from herald.accounts.choices import Permission
from herald.accounts.selectors import member_actor
from herald.accounts.services import api_key_authenticate
from herald.core.errors import DomainError, FieldError

__all__ = [
    "ACTIVE_ORGANIZATION_SESSION_KEY",
    "PROBLEM_CONTENT_TYPE",
    "UNREADABLE_BODY_ERRORS",
    "FieldErrorOut",
    "Page",
    "PageQuery",
    "Problem",
    "build_api",
    "paginate",
    "problem_body",
    "problem_response",
    "problems",
    "requires",
    "unreadable_body_problem",
]

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://herald.dev/problems/"
ACTIVE_ORGANIZATION_SESSION_KEY = "herald_organization_id"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}


class FieldErrorOut(Schema):
    field: str = Field(description="Dotted path of the offending field; '' for the whole body.")
    rule: str = Field(description="Stable identifier of the rule that failed.")
    message: str


class Problem(Schema):
    """RFC 9457 problem details, with the field errors of invalid input."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] = Field(default_factory=list)
    current_status: str | None = Field(
        default=None, description="For lifecycle conflicts: the campaign's status now."
    )
    action: str | None = None
    current_version_id: str | None = None

    # Other facts about a particular problem (e.g. how many units use an audience).
    model_config = ConfigDict(extra="allow")


def problems(*codes: int) -> dict[int, type[Problem]]:
    return dict.fromkeys(codes, Problem)


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An RFC 9457 problem document, as every error Herald answers carries it."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": [error.as_dict() for error in errors or []],
    }
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return body


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    import json

    body = problem_body(
        status=status, code=code, detail=detail, title=title, errors=errors, extra=extra
    )
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


# What Django raises while reading a body it refuses: too large, too many fields or
# files, broken multipart. Ninja lets them escape body parsing; they are bad input.
UNREADABLE_BODY_ERRORS = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
)


def unreadable_body_problem(request: HttpRequest, exc: object) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            request,
            status=413,
            code="request-too-large",
            detail="The request body is larger than the server accepts.",
        )
    return problem_response(
        request, status=400, code="bad-request", detail="Cannot parse request body"
    )


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key created in Settings or with `manage.py provision`."

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return api_key_authenticate(raw_key=token)


class MemberSessionAuth(SessionAuth):
    """The signed-in browser session, acting in the organization chosen in the UI."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        actor = member_actor(
            user=user, organization_id=request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
        )
        if actor is None:
            raise HttpError(403, "You are not a member of any organization.")
        return actor


F = TypeVar("F", bound=Callable[..., Any])


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare and enforce the permission an operation needs (see the module doc)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            actor: Actor = request.auth  # type: ignore[attr-defined]
            actor.require(permission)
            return view(request, *args, **kwargs)

        wrapper.herald_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


T = TypeVar("T")


class Page(Schema, Generic[T]):  # noqa: UP046 - pydantic generics need Generic here
    items: list[T]
    count: int = Field(description="Items matching the filters, over all pages.")
    page: int
    page_size: int


class PageQuery(Schema):
    page: int = Field(default=1, ge=1, description="1-based page number.")
    page_size: int = Field(default=50, ge=1, le=200)


def paginate[ModelT: Model](queryset: QuerySet[ModelT], query: PageQuery) -> dict[str, Any]:
    count = queryset.count()
    start = (query.page - 1) * query.page_size
    items = list(queryset[start : start + query.page_size])
    return {"items": items, "count": count, "page": query.page, "page_size": query.page_size}


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 1 else []
    elif parts and parts[0] in {"query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
    return ".".join(parts)


def _validation_errors(exc: NinjaValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors:
        message = str(error.get("msg", "Invalid value."))
        message = message.removeprefix("Value error, ")
        errors.append(
            FieldError(
                _field_path(error.get("loc", ())), str(error.get("type", "invalid")), message
            )
        )
    return errors


class HeraldAPI(NinjaAPI):
    """NinjaAPI that documents error responses as ``application/problem+json``."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if "requestBody" in operation:
                    # Any body can be unreadable (400) or over the size limit (413).
                    responses = operation.setdefault("responses", {})
                    for status, description in (("400", "Bad Request"), ("413", "Too large")):
                        responses.setdefault(
                            status,
                            {
                                "description": description,
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Problem"}
                                    }
                                },
                            },
                        )
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


def build_api() -> HeraldAPI:
    api = HeraldAPI(
        title="Herald API",
        version="1.0.0",
        description=(
            "Plan, launch and track campaigns. Authenticate with `Authorization: Bearer "
            "<key>`. Errors are RFC 9457 problem+json. POST requests accept an "
            "`Idempotency-Key` header: a repeat returns the first answer."
        ),
        auth=[ApiKeyAuth(), MemberSessionAuth()],
        urls_namespace="api-v1",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            extra=exc.extra,
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _validation_errors(exc)
        detail = errors[0].message if len(errors) == 1 else f"{len(errors)} fields are invalid."
        return problem_response(
            request, status=422, code="invalid-input", detail=detail, errors=errors
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem_response(
            request,
            status=401,
            code="authentication-required",
            detail="Send a valid API key as 'Authorization: Bearer <key>', or sign in.",
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "bad-request", 403: "permission-denied", 429: "too-many-requests"}.get(
            exc.status_code, "error"
        )
        return problem_response(request, status=exc.status_code, code=code, detail=str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, status=404, code="not-found", detail="Not found.")

    for error_class in UNREADABLE_BODY_ERRORS:
        api.add_exception_handler(error_class, unreadable_body_problem)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if settings.DEBUG:
            raise exc
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return problem_response(
            request,
            status=500,
            code="internal-error",
            detail="Something went wrong on our side; it has been logged.",
        )

    return api
