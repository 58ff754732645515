"""Domain errors: what went wrong, in words a caller can act on.

Services raise these; the API turns them into RFC 9457 problem+json responses
(``herald.core.api``) and the UI into form errors. Each error carries a stable ``code``
(the problem ``type`` suffix), an HTTP status, a human ``detail`` and, for bad input, a
list of ``FieldError`` naming the field path and the rule that failed.

Do not raise ``django.core.exceptions.ValidationError`` from services for input
problems: raise ``InvalidInput`` so the field paths survive to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "DomainError",
    "FieldError",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
]


@dataclass(frozen=True)
class FieldError:
    """One broken rule: ``field`` is a dotted path (``budget.allocations.meta_ads``),
    ``rule`` a short stable identifier (``max_length``), ``message`` plain English."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


@dataclass
class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail


class InvalidInput(DomainError):
    """The request is well-formed but breaks a rule (422)."""

    status = 422
    code = "invalid-input"
    title = "Invalid input"

    @classmethod
    def single(cls, field_path: str, rule: str, message: str) -> InvalidInput:
        return cls(detail=message, errors=[FieldError(field_path, rule, message)])


class NotFound(DomainError):
    """The object does not exist in the caller's organization (404)."""

    status = 404
    code = "not-found"
    title = "Not found"


class PermissionDenied(DomainError):
    """The caller's role does not allow the action (403)."""

    status = 403
    code = "permission-denied"
    title = "Permission denied"


class Conflict(DomainError):
    """The action conflicts with the object's current state (409)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    """A lifecycle action that the current status does not allow (409)."""

    code = "invalid-transition"
    title = "Transition not allowed"


class PreconditionFailed(DomainError):
    """The action is allowed in this state but its checks failed (422), e.g. a launch
    without budget. ``errors`` lists every failed check."""

    status = 422
    code = "precondition-failed"
    title = "Checks failed"
