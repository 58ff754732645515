"""Fixtures of the tracking tests: a launchable campaign's creative and its signed
links, and a clean event table for transactional tests (the event table is not managed
by Django, so a transactional test's flush does not empty it)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from herald.campaigns.models import AdCreative
from herald.testing.factories import make_launchable_campaign
from herald.tracking import services


@pytest.fixture
def clean_event_table(transactional_db: None) -> Iterator[None]:
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_event")


@pytest.fixture
def creative(owner: Any) -> AdCreative:
    campaign = make_launchable_campaign(owner, channels=("meta_ads",), name="Spicy Jalapeño Chips")
    return AdCreative.objects.get(unit__campaign=campaign)


@pytest.fixture
def links(creative: AdCreative) -> dict[str, str]:
    return services.tracking_links(creative, base_url="")
