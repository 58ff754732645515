"""The scheduler: enqueue each periodic job once per period, whoever runs it.

Apps register jobs with ``register_periodic_job`` (a name, a period and a task taking
no arguments). ``scheduler_tick`` enqueues every job whose time has come, claiming it
with a conditional update on its ``PeriodicJob`` row first, so two scheduler processes
never enqueue the same period twice. The work itself happens in the worker; the
scheduler only decides *when*.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from herald.core.models import PeriodicJob

__all__ = ["PeriodicJobSpec", "periodic_jobs", "register_periodic_job", "scheduler_tick"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJobSpec:
    name: str
    every: timedelta
    task: Any  # a django.tasks Task taking no arguments


_JOBS: dict[str, PeriodicJobSpec] = {}


def register_periodic_job(name: str, *, every: timedelta, task: Any) -> None:
    if every <= timedelta(0):
        raise ValueError("A periodic job needs a positive period.")
    _JOBS[name] = PeriodicJobSpec(name=name, every=every, task=task)


def periodic_jobs() -> list[PeriodicJobSpec]:
    return sorted(_JOBS.values(), key=lambda spec: spec.name)


def _claim(spec: PeriodicJobSpec, now: datetime) -> bool:
    try:
        job, _created = PeriodicJob.objects.get_or_create(
            name=spec.name, defaults={"next_run_at": now}
        )
    except IntegrityError:  # another scheduler created it a moment ago
        return False
    if job.next_run_at > now:
        return False
    claimed = PeriodicJob.objects.filter(pk=job.pk, next_run_at=job.next_run_at).update(
        next_run_at=now + spec.every, last_enqueued_at=now
    )
    return claimed == 1


def scheduler_tick(*, now: datetime | None = None) -> list[str]:
    """Enqueue every due job; return the names enqueued. Safe to call concurrently."""
    now = now or timezone.now()
    enqueued = []
    for spec in periodic_jobs():
        if _claim(spec, now):
            spec.task.enqueue()
            enqueued.append(spec.name)
            logger.info("Enqueued periodic job %s", spec.name)
    return enqueued
