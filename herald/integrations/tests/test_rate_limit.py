"""The per-account token bucket shared by every worker."""

from datetime import UTC, datetime, timedelta

import pytest

from herald.integrations.models import RateLimitBucket
from herald.integrations.services.metrics import rate_limit_acquire

pytestmark = pytest.mark.django_db


NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_burst_is_free_then_callers_queue_at_the_rate():
    waits = [rate_limit_acquire("google_ads:1", per_second=2.0, now=NOON) for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10:] == [0.5, 1.0]
    assert RateLimitBucket.objects.get(key="google_ads:1").tokens == -2.0


def test_tokens_come_back_with_time():
    for _ in range(11):
        rate_limit_acquire("google_ads:2", per_second=2.0, now=NOON)
    later = NOON + timedelta(seconds=1)
    assert rate_limit_acquire("google_ads:2", per_second=2.0, now=later) == 0.0


def test_buckets_are_per_account():
    for _ in range(10):
        rate_limit_acquire("meta_ads:act_1", per_second=1.0, now=NOON)
    assert rate_limit_acquire("meta_ads:act_2", per_second=1.0, now=NOON) == 0.0
    assert rate_limit_acquire("meta_ads:act_1", per_second=1.0, now=NOON) == 1.0
