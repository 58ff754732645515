"""Helpers shared by the campaign services; not part of their public surface."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import models

from herald.accounts.actors import Actor
from herald.core.errors import FieldError, InvalidInput, NotFound

__all__ = [
    "clean_text",
    "clean_text_list",
    "get_for_actor",
    "raise_if_errors",
    "require_aware",
]


def get_for_actor[ModelT: models.Model](
    model: type[ModelT], *, actor: Actor, pk: object, lock: bool = False, label: str
) -> ModelT:
    """Fetch a tenant row by id within the actor's organization, or raise ``NotFound``.

    Another organization's id is indistinguishable from an id that does not exist.
    """
    queryset = model._default_manager.filter(organization_id=actor.organization.pk)
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, models.ObjectDoesNotExist):  # type: ignore[attr-defined]
        raise NotFound(detail=f"No such {label} in this organization.") from None


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput.single(field, "required", "This field is required.")
    if len(text) > max_length:
        raise InvalidInput.single(
            field, "max_length", f"Use at most {max_length} characters (this has {len(text)})."
        )
    return text


def clean_text_list(
    values: Iterable[str], *, field: str, max_items: int, max_length: int
) -> list[str]:
    """Trim each item; reject too many items or over-long ones, naming the index."""
    items = [str(value).strip() for value in values]
    errors: list[FieldError] = []
    if len(items) > max_items:
        errors.append(FieldError(field, "max_items", f"Use at most {max_items} items."))
    for index, item in enumerate(items):
        if len(item) > max_length:
            errors.append(
                FieldError(
                    f"{field}.{index}",
                    "max_length",
                    f"Use at most {max_length} characters (this has {len(item)}).",
                )
            )
    raise_if_errors(errors)
    return items


def require_aware(value: datetime | None, *, field: str) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidInput.single(
            field, "aware_datetime", "Give the time with its UTC offset, e.g. 2026-12-01T09:00Z."
        )
    return value


def raise_if_errors(errors: list[FieldError], detail: str | None = None) -> None:
    if errors:
        raise InvalidInput(
            detail=detail
            or (errors[0].message if len(errors) == 1 else "Some fields are invalid."),
            errors=errors,
        )
