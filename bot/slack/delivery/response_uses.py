"""How many times each `response_url` has been used: Slack allows 5 uses within 30 minutes.

Every request sent counts, whatever it carried: an answer, a note, a continuation message, a
second try after `invalid_blocks` or a 429. Counted per process in memory (bounded, each entry
forgotten once its URL is dead); a live watch also keeps its own count in the store and brings
it back here with `restore` after a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

USES = 5
LIFETIME = 30 * 60.0


class ResponseUrlUses:
    def __init__(
        self,
        *,
        limit: int = USES,
        max_urls: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._used: TTLCache[str, int] = TTLCache(max_urls, LIFETIME, timer=clock)

    def used(self, url: str) -> int:
        return self._used.get(url, 0)

    def left(self, url: str) -> int:
        return max(0, self.limit - self.used(url))

    def spend(self, url: str) -> None:
        self._used[url] = self.used(url) + 1

    def take(self, url: str, keep: int = 0) -> bool:
        """`spend` a use when more than `keep` are `left`, else False: one lookup for both."""
        used = self._used.get(url, 0)
        if max(0, self.limit - used) <= keep:
            return False
        self._used[url] = used + 1
        return True

    def restore(self, url: str, used: int) -> None:
        """Never forget a use: the larger of what is known here and what was recorded."""
        if used > self.used(url):
            self._used[url] = used
