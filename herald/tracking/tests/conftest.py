"""The event table is not managed by Django, so a transactional test's flush does not
empty it: transactional tests here clear it themselves."""

from collections.abc import Iterator

import pytest
from django.db import connection


@pytest.fixture
def clean_event_table(transactional_db: None) -> Iterator[None]:
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_event")
