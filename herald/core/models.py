"""Shared model bases and the kernel's own tables.

- ``TimeStampedModel``: created/updated times, aware UTC.
- ``TenantModel``: every tenant-owned row carries its organization, and its default
  manager offers ``for_org(org)``; selectors always start from it, so another
  organization's rows are never reached by accident.
- ``IdempotencyRecord``: the stored first answer to a create request sent with an
  ``Idempotency-Key`` header.
- ``PeriodicJob``: when each scheduler job last ran and is next due, shared by every
  scheduler process so a job is enqueued once per period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from herald.accounts.models import Organization

__all__ = ["IdempotencyRecord", "PeriodicJob", "TenantModel", "TenantQuerySet", "TimeStampedModel"]


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet[Any]):
    def for_org(self, organization: Organization | int) -> Self:
        organization_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=organization_id)


class TenantModel(TimeStampedModel):
    """A row that belongs to exactly one organization."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response given to a create request carrying an ``Idempotency-Key``.

    A row is claimed (``status_code`` null) before the request runs and completed with
    the response afterwards; a concurrent request with the same key finds the claim and
    is refused instead of running twice.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    # Who sent it: the API key's id or the session user's id. Keys are scoped per
    # credential, as two clients of one organization may pick the same key.
    principal = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    response_content_type = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "principal", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.method} {self.path})"


class PeriodicJob(models.Model):
    """Scheduling state of one periodic job; see ``herald.core.scheduler``."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
