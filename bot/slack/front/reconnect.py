"""Socket Mode reconnects with backoff, so a Slack outage is not met by a fleet in lock-step.

slack_sdk retries a lost connection at a fixed interval (its ping interval, 5 s) for as long
as it takes. Here each failed attempt to open a new connection adds a growing, jittered
wait before the next one; the first success resets it. Start-up does not come through
here: a token rejected at start has already stopped the bot (`bot.ops.startup`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


def reconnect_delay(failures: int, first: float = FIRST_DELAY) -> float:
    """Seconds to wait after `failures` failed attempts in a row: 0, then 1, 2, 4 ... 60,
    each between half and all of that (full jitter would allow near-zero waits)."""
    if failures <= 0:
        return 0.0
    ceiling = min(MAX_DELAY, first * 2.0 ** (failures - 1))
    return ceiling * random.uniform(0.5, 1.0)


class BackoffReconnect:
    """Mixin for slack_sdk's Socket Mode clients: wraps `issue_new_wss_url`, the step every
    (re)connection starts with and the one that fails while Slack cannot be reached."""

    _reconnect_failures = 0
    first_reconnect_delay = FIRST_DELAY

    async def issue_new_wss_url(self, *args: Any, **kwargs: Any) -> str:
        delay = reconnect_delay(self._reconnect_failures, self.first_reconnect_delay)
        if delay:
            log.info("Socket Mode: reconnecting in %.1fs", delay)
            await asyncio.sleep(delay)
        try:
            url: str = await super().issue_new_wss_url(*args, **kwargs)  # type: ignore[misc]
        except Exception:
            self._reconnect_failures += 1
            raise
        self._reconnect_failures = 0
        return url
