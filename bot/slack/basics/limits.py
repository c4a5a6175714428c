"""A per-person rate limit on lookups, counted in UIDs (what costs the task API)."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache


class LookupLimiter:
    """A token bucket per person: `per_minute` UIDs, refilled evenly over the minute.

    A lookup larger than the whole bucket costs the whole bucket, so one big lookup is always
    possible after a quiet minute. A person quiet for a minute has a full bucket again, which
    is why their entry may then be forgotten (the cache bounds memory). `per_minute=0`: no limit.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        max_people: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        # person -> (tokens left, when counted)
        self._buckets: TTLCache[str, tuple[float, float]] = TTLCache(max_people, 60.0, timer=clock)

    def take(self, person: str, uids: int) -> float:
        """0 when the lookup may go ahead (and is counted); else seconds until it could."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        rate = self.per_minute / 60.0
        tokens, then = self._buckets.get(person, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - then) * rate)
        cost = float(min(uids, self.per_minute))
        if tokens < cost:
            self._buckets[person] = (tokens, now)
            return (cost - tokens) / rate
        self._buckets[person] = (tokens - cost, now)
        return 0.0
