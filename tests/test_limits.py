"""The per-person lookup limit: a token bucket in UIDs, refilled evenly over a minute."""

from __future__ import annotations

import pytest

from bot.slack.basics.limits import LookupLimiter
from tests.conftest import ManualClock


def test_a_full_bucket_then_an_even_refill(clock: ManualClock) -> None:
    limiter = LookupLimiter(60, clock=clock)
    assert limiter.take("U1", 60) == 0
    assert limiter.take("U1", 1) == pytest.approx(1.0)
    assert limiter.take("U2", 10) == 0  # each person has a bucket of their own
    clock.advance(1.0)
    assert limiter.take("U1", 1) == 0
    assert limiter.take("U1", 30) == pytest.approx(30.0)


def test_a_lookup_larger_than_the_bucket_costs_the_bucket(clock: ManualClock) -> None:
    limiter = LookupLimiter(50, clock=clock)
    assert limiter.take("U1", 200) == 0
    assert limiter.take("U1", 1) > 0
    clock.advance(60.0)
    assert limiter.take("U1", 200) == 0


def test_zero_means_no_limit(clock: ManualClock) -> None:
    limiter = LookupLimiter(0, clock=clock)
    assert all(limiter.take("U1", 200) == 0 for _ in range(100))
