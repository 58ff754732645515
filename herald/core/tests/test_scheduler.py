"""The scheduler: each periodic job is enqueued once per period, however many scheduler
processes tick, and ``run_scheduler --once`` runs exactly one tick."""

from __future__ import annotations

import io
import signal
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from herald.core import scheduler
from herald.core.models import PeriodicJob
from herald.core.scheduler import (
    PeriodicJobSpec,
    _claim,
    periodic_jobs,
    register_periodic_job,
    scheduler_tick,
)


class RecordingTask:
    """Stands in for a django.tasks Task: counts ``enqueue()`` calls."""

    def __init__(self) -> None:
        self.enqueued = 0

    def enqueue(self) -> None:
        self.enqueued += 1


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> dict[str, RecordingTask]:
    """Replace the registry with two jobs: one every minute, one every five."""
    tasks = {"test.every_minute": RecordingTask(), "test.every_five": RecordingTask()}
    monkeypatch.setattr(scheduler, "_JOBS", {})
    register_periodic_job(
        "test.every_minute", every=timedelta(minutes=1), task=tasks["test.every_minute"]
    )
    register_periodic_job(
        "test.every_five", every=timedelta(minutes=5), task=tasks["test.every_five"]
    )
    return tasks


def _counts(tasks: dict[str, RecordingTask]) -> dict[str, int]:
    return {name: task.enqueued for name, task in tasks.items()}


# --- once per period --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_tick_enqueues_every_job_and_records_the_next_run(jobs):
    now = timezone.now()

    # When the scheduler ticks for the first time
    enqueued = scheduler_tick(now=now)

    # Then every job is enqueued once (names in a stable order)
    assert enqueued == ["test.every_five", "test.every_minute"]
    assert _counts(jobs) == {"test.every_minute": 1, "test.every_five": 1}

    # ...and each job's row says when it ran and when it is next due
    rows = {job.name: job for job in PeriodicJob.objects.all()}
    assert set(rows) == {"test.every_minute", "test.every_five"}
    assert rows["test.every_minute"].next_run_at == now + timedelta(minutes=1)
    assert rows["test.every_five"].next_run_at == now + timedelta(minutes=5)
    assert rows["test.every_minute"].last_enqueued_at == now
    assert rows["test.every_five"].last_enqueued_at == now


@pytest.mark.django_db
def test_a_second_tick_in_the_same_period_enqueues_nothing(jobs):
    now = timezone.now()
    scheduler_tick(now=now)

    # When ticks come again at the same instant and just before the next period
    assert scheduler_tick(now=now) == []
    assert scheduler_tick(now=now + timedelta(seconds=59)) == []

    # Then nothing more was enqueued and the next run did not move
    assert _counts(jobs) == {"test.every_minute": 1, "test.every_five": 1}
    assert PeriodicJob.objects.get(name="test.every_minute").next_run_at == now + timedelta(
        minutes=1
    )


@pytest.mark.django_db
def test_each_job_is_enqueued_again_once_its_period_has_passed(jobs):
    t0 = timezone.now()
    scheduler_tick(now=t0)

    # After one minute only the every-minute job is due (exactly at its next run)
    assert scheduler_tick(now=t0 + timedelta(minutes=1)) == ["test.every_minute"]
    assert _counts(jobs) == {"test.every_minute": 2, "test.every_five": 1}
    # Its next run counts from when it actually ran
    assert PeriodicJob.objects.get(name="test.every_minute").next_run_at == t0 + timedelta(
        minutes=2
    )

    # After five minutes both are due again
    assert scheduler_tick(now=t0 + timedelta(minutes=5)) == [
        "test.every_five",
        "test.every_minute",
    ]
    assert _counts(jobs) == {"test.every_minute": 3, "test.every_five": 2}


@pytest.mark.django_db
def test_after_downtime_a_job_runs_once_not_once_per_missed_period(jobs):
    t0 = timezone.now()
    scheduler_tick(now=t0)

    # When the scheduler comes back after an hour down
    later = t0 + timedelta(hours=1)
    assert scheduler_tick(now=later) == ["test.every_five", "test.every_minute"]
    assert scheduler_tick(now=later) == []

    # Then each job ran once for the gap, and is next due one period from now
    assert _counts(jobs) == {"test.every_minute": 2, "test.every_five": 2}
    assert PeriodicJob.objects.get(name="test.every_minute").next_run_at == later + timedelta(
        minutes=1
    )


@pytest.mark.django_db
def test_a_job_whose_row_says_later_is_not_enqueued(jobs):
    now = timezone.now()
    PeriodicJob.objects.create(name="test.every_five", next_run_at=now + timedelta(seconds=1))

    assert scheduler_tick(now=now) == ["test.every_minute"]
    assert _counts(jobs) == {"test.every_minute": 1, "test.every_five": 0}


# --- racing schedulers -----------------------------------------------------------------


@pytest.mark.django_db
def test_two_schedulers_reading_the_same_due_row_claim_it_once(monkeypatch):
    # Given a job that is due, read by two scheduler processes before either updates it
    now = timezone.now()
    spec = PeriodicJobSpec(name="test.race", every=timedelta(minutes=1), task=RecordingTask())
    PeriodicJob.objects.create(name="test.race", next_run_at=now - timedelta(seconds=10))
    stale_a = PeriodicJob.objects.get(name="test.race")
    stale_b = PeriodicJob.objects.get(name="test.race")
    reads = iter([(stale_a, False), (stale_b, False)])
    monkeypatch.setattr(PeriodicJob.objects, "get_or_create", lambda **kwargs: next(reads))

    # When both try to claim it with what they read
    first = _claim(spec, now)
    second = _claim(spec, now)

    # Then only the first wins; the row moved on exactly once
    assert (first, second) == (True, False)
    job = PeriodicJob.objects.get(name="test.race")
    assert job.next_run_at == now + timedelta(minutes=1)
    assert job.last_enqueued_at == now


@pytest.mark.django_db
def test_two_racing_ticks_enqueue_the_job_once(monkeypatch):
    # Given a registry with one due job, and every read returning the same stale row
    now = timezone.now()
    task = RecordingTask()
    monkeypatch.setattr(scheduler, "_JOBS", {})
    register_periodic_job("test.race", every=timedelta(minutes=1), task=task)
    PeriodicJob.objects.create(name="test.race", next_run_at=now - timedelta(minutes=3))
    stale = PeriodicJob.objects.get(name="test.race")
    monkeypatch.setattr(
        PeriodicJob.objects,
        "get_or_create",
        lambda **kwargs: (
            PeriodicJob(pk=stale.pk, name=stale.name, next_run_at=stale.next_run_at),
            False,
        ),
    )

    # When two scheduler processes tick at the same moment
    results = [scheduler_tick(now=now), scheduler_tick(now=now)]

    # Then the job was enqueued by exactly one of them
    assert results == [["test.race"], []]
    assert task.enqueued == 1


@pytest.mark.django_db
def test_losing_the_race_to_create_the_row_claims_nothing(monkeypatch):
    # Given another scheduler inserted the job's row between our read and our insert
    def conflict(**kwargs: Any) -> Any:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(PeriodicJob.objects, "get_or_create", conflict)
    spec = PeriodicJobSpec(name="test.new", every=timedelta(minutes=1), task=RecordingTask())

    # Then this scheduler does not claim it (the other one did)
    assert _claim(spec, timezone.now()) is False


# --- registration ------------------------------------------------------------------------


@pytest.mark.parametrize("every", [timedelta(0), timedelta(seconds=-1)])
def test_a_job_needs_a_positive_period(monkeypatch, every):
    monkeypatch.setattr(scheduler, "_JOBS", {})
    with pytest.raises(ValueError, match="positive period"):
        register_periodic_job("test.bad", every=every, task=RecordingTask())
    assert periodic_jobs() == []


def test_registering_a_name_again_replaces_the_job(monkeypatch):
    monkeypatch.setattr(scheduler, "_JOBS", {})
    first, second = RecordingTask(), RecordingTask()
    register_periodic_job("test.job", every=timedelta(minutes=1), task=first)
    register_periodic_job("test.job", every=timedelta(minutes=2), task=second)
    assert periodic_jobs() == [
        PeriodicJobSpec(name="test.job", every=timedelta(minutes=2), task=second)
    ]


def test_the_apps_register_their_jobs():
    names = [spec.name for spec in periodic_jobs()]
    assert names == sorted(names)
    assert {"campaigns.launch_due", "campaigns.complete_ended", "core.prune_idempotency"} <= set(
        names
    )


@pytest.mark.django_db
def test_a_tick_enqueues_the_registered_tasks_for_the_worker():
    # With the real registry, one tick queues each job's task once in the task table
    enqueued = scheduler_tick()

    specs = periodic_jobs()
    assert enqueued == [spec.name for spec in specs]
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(
        spec.task.module_path for spec in specs
    )
    assert scheduler_tick() == []
    assert DBTaskResult.objects.count() == len(specs)


# --- the command -------------------------------------------------------------------------


@pytest.fixture
def keep_signal_handlers() -> Any:
    """The command installs SIGINT/SIGTERM handlers; put the test runner's back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


# The command closes stale database connections each tick, as a long-running process
# must; that needs a real (non-wrapped) transaction, hence transaction=True.
@pytest.mark.django_db(transaction=True)
def test_run_scheduler_once_runs_one_tick(jobs, keep_signal_handlers):
    out = io.StringIO()

    call_command("run_scheduler", "--once", "--tick", "0.5", stdout=out)

    assert out.getvalue().splitlines() == [
        "Scheduler started (tick 0.5s): test.every_five, test.every_minute",
        "enqueued test.every_five",
        "enqueued test.every_minute",
        "Scheduler stopped.",
    ]
    assert _counts(jobs) == {"test.every_minute": 1, "test.every_five": 1}
    assert PeriodicJob.objects.count() == 2

    # A second run within the period finds nothing due
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert [line for line in out.getvalue().splitlines() if line.startswith("enqueued")] == []
    assert _counts(jobs) == {"test.every_minute": 1, "test.every_five": 1}
