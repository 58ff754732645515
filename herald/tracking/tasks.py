"""Tracking tasks: the incremental rollup and the daily partitions ahead of time."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.tasks import task
from django.utils import timezone

from herald.core.scheduler import register_periodic_job
from herald.tracking.rollup import rollup_run
from herald.tracking.storage import ensure_partitions

__all__ = ["partitions_task", "rollup_task"]


@task()
def rollup_task() -> int:
    """Roll up everything appended since the last run (in bounded steps)."""
    total = 0
    while True:
        result = rollup_run()
        total += result.events
        if result.to_seq == result.from_seq:
            return total


@task()
def partitions_task() -> int:
    """Create the event table's daily partitions for the next week."""
    return len(ensure_partitions(connection, start=timezone.now().date(), days=8))


register_periodic_job("tracking.rollup", every=timedelta(seconds=30), task=rollup_task)
register_periodic_job("tracking.partitions", every=timedelta(hours=6), task=partitions_task)
