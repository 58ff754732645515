"""``Idempotency-Key`` for POST requests to the API (Stripe's contract).

The first request with a key is claimed, run, and — when it succeeded (2xx) — its
status and body are stored. A repeat with the same key and the same request (method,
path and body) gets the stored answer with ``Idempotent-Replayed: true``; a repeat
with a different request is refused (422); a repeat while the first is still running
is refused (409). A request that failed stores nothing, so the client can fix it and
retry under the same key. Keys are scoped to the organization and the credential,
and expire after ``HERALD_IDEMPOTENCY_TTL_HOURS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from herald.accounts.actors import Actor
from herald.core.api import (
    ACTIVE_ORGANIZATION_SESSION_KEY,
    UNREADABLE_BODY_ERRORS,
    problem_response,
    unreadable_body_problem,
)
from herald.core.errors import FieldError
from herald.core.models import IdempotencyRecord

__all__ = ["IdempotencyMiddleware", "idempotency_prune"]

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _resolve_actor(request: HttpRequest) -> Actor | None:
    from herald.accounts.selectors import member_actor
    from herald.accounts.services import api_key_authenticate

    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return api_key_authenticate(raw_key=authorization[7:].strip())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from ninja.utils import check_csrf

        if check_csrf(request) is not None:
            return None  # the API refuses it; never replay to a forged request
        return member_actor(
            user=user, organization_id=request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
        )
    return None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        # Multipart boundaries differ between identical requests: hash the parts.
        for name, values in sorted(request.POST.lists()):
            digest.update(f"field {name}={values!r}\n".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                file_hash = hashlib.sha256()
                for chunk in upload.chunks():
                    file_hash.update(chunk)
                upload.seek(0)
                digest.update(f"file {name}:{upload.name}:{file_hash.hexdigest()}\n".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _principal(actor: Actor) -> str:
    if actor.api_key is not None:
        return f"key:{actor.api_key.pk}"
    return f"user:{actor.user.pk if actor.user is not None else 'system'}"


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return problem_response(
                request,
                status=422,
                code="invalid-input",
                detail=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.",
                errors=[FieldError(HEADER, "format", "Use a unique printable string.")],
            )
        actor = _resolve_actor(request)
        if actor is None:
            return self.get_response(request)  # the API answers 401 itself
        try:
            fingerprint = _fingerprint(request)
        except UNREADABLE_BODY_ERRORS as exc:
            return unreadable_body_problem(request, exc)  # as the API answers without a key
        scope = {
            "organization": actor.organization,
            "principal": _principal(actor),
            "key": key,
        }
        expired_before = timezone.now() - timedelta(hours=settings.HERALD_IDEMPOTENCY_TTL_HOURS)
        IdempotencyRecord.objects.filter(**scope, created_at__lt=expired_before).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    **scope, method=request.method, path=request.path[:500], fingerprint=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(**scope).first()
            if existing is None:
                # The first request failed and released its claim in between: it stored
                # nothing, so this one may run as if it were the first.
                return self.get_response(request)
            return self._replay(request, existing, fingerprint)

        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if 200 <= response.status_code < 300 and not response.streaming:
            record.status_code = response.status_code
            record.response_body = response.content.decode("utf-8")
            record.response_content_type = response.get("Content-Type", "application/json")
            record.save(update_fields=["status_code", "response_body", "response_content_type"])
        else:
            record.delete()
        return response

    @staticmethod
    def _replay(request: HttpRequest, record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
        if record.fingerprint != fingerprint:
            return problem_response(
                request,
                status=422,
                code="idempotency-key-reused",
                detail=f"This {HEADER} was used for a different request; use a new key.",
                errors=[FieldError(HEADER, "reused", "The key belongs to another request.")],
            )
        if record.status_code is None:
            return problem_response(
                request,
                status=409,
                code="idempotency-key-in-use",
                detail=f"A request with this {HEADER} is still being processed; retry shortly.",
            )
        response = HttpResponse(
            record.response_body,
            status=record.status_code,
            content_type=record.response_content_type,
        )
        response["Idempotent-Replayed"] = "true"
        return response


def idempotency_prune() -> int:
    """Delete expired records; returns how many."""
    expired_before = timezone.now() - timedelta(hours=settings.HERALD_IDEMPOTENCY_TTL_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=expired_before).delete()
    return deleted
