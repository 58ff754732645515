"""The per-account token bucket shared by every worker."""

import pytest

from herald.integrations.models import RateLimitBucket
from herald.integrations.services.metrics import rate_limit_acquire

pytestmark = pytest.mark.django_db


def test_a_burst_is_free_then_callers_queue_at_the_rate():
    waits = [rate_limit_acquire("google_ads:1", per_second=2.0) for _ in range(12)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.5, abs=0.05)
    assert waits[11] == pytest.approx(1.0, abs=0.05)
    assert RateLimitBucket.objects.get(key="google_ads:1").tokens == pytest.approx(-2.0, abs=0.1)


def test_buckets_are_per_account():
    for _ in range(10):
        rate_limit_acquire("meta_ads:act_1", per_second=1.0)
    assert rate_limit_acquire("meta_ads:act_2", per_second=1.0) == 0.0
    assert rate_limit_acquire("meta_ads:act_1", per_second=1.0) > 0.9
