"""How many install links this process hands out: `GET /slack/install` needs no sign-in and
each hit stores a one-time state for ten minutes, so without a budget anyone could grow the
store at will.

A token bucket (`burst` links at once, refilled at `per_minute`): with the defaults one
process keeps at most 20 + 20 * 10 = 220 unused states alive, far more than people installing
at once ever need. Over budget the page says to try again in a minute, with a 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable

INSTALL_LINKS_PER_MINUTE = 20.0
INSTALL_LINKS_BURST = 20.0


class InstallBudget:
    def __init__(
        self,
        *,
        per_minute: float = INSTALL_LINKS_PER_MINUTE,
        burst: float = INSTALL_LINKS_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = burst
        self._tokens = burst
        self._clock = clock
        self._last = clock()

    def allow(self) -> bool:
        """Spends one link of budget; False when there is none left."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def wait(self) -> int:
        """Whole seconds until the next link (for `Retry-After`)."""
        return max(1, int((1.0 - self._tokens) / self._rate + 0.999))
