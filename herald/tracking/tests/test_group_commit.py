"""Group commit: many threads, one writer; every acknowledged event is stored."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from herald.testing.factories import make_launchable_campaign
from herald.tracking.ingest import GroupCommitWriter
from herald.tracking.models import TrackingEvent
from herald.tracking.tests.test_rollup import _events

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_event_table")]


def test_concurrent_submissions_are_all_committed_before_acknowledgement(owner: Any) -> None:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    writer = GroupCommitWriter(max_delay=0.005)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        for round_number in range(10):
            batch = _events(campaign, 5, start=worker * 1000 + round_number * 5)
            writer.submit(batch)
            # Acknowledged: it must be readable from another connection right now.
            with lock:
                acknowledged.extend(event.event_id for event in batch)
        connection.close()

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    writer.close()
    stored = set(TrackingEvent.objects.values_list("event_id", flat=True))
    assert len(acknowledged) == 400
    assert stored == set(acknowledged)


def test_a_failed_write_is_reported_to_every_waiter(owner: Any) -> None:
    from dataclasses import replace

    campaign = make_launchable_campaign(owner, channels=("meta_ads",))
    writer = GroupCommitWriter()
    good = _events(campaign, 1)
    bad = [replace(good[0], event_id="bad", campaign_id=None)]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - the database's own error, whatever it is
        writer.submit(bad)
    writer.close()
    assert TrackingEvent.objects.count() == 0
