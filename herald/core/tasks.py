"""Kernel housekeeping tasks."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from herald.core.idempotency import idempotency_prune
from herald.core.scheduler import register_periodic_job

__all__ = ["idempotency_prune_task"]


@task()
def idempotency_prune_task() -> int:
    return idempotency_prune()


register_periodic_job(
    "core.prune_idempotency", every=timedelta(hours=1), task=idempotency_prune_task
)
