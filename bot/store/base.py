"""The store's interface. Each call is one atomic write or read."""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

from pydantic import BaseModel

from bot.watch.model import Watch

CLAIM_TTL = 24 * 3600.0
UID_SET_TTL = 30 * 24 * 3600.0


class Store(Protocol):
    async def claim(self, key: str, ttl: float = CLAIM_TTL) -> bool:
        """True for the first caller of `key` within `ttl`; False for every later one."""
        ...

    async def put_uids(self, uids: list[str]) -> str:
        """Keep a UID list for buttons too small to carry it; returns its key."""
        ...

    async def get_uids(self, key: str) -> list[str] | None: ...

    async def save_watch(self, watch: Watch) -> None: ...

    async def get_watch(self, watch_id: str) -> Watch | None: ...

    async def open_watches(self) -> list[Watch]:
        """Watches not yet done (active or notifying)."""
        ...

    async def close(self) -> None: ...

    # -- followed channels and per-channel counters (one block: see `Follow`) ----------------

    async def follow(self, follow: Follow) -> bool:
        """Turn following on; True when it was off (the caller announces it), else False."""
        ...

    async def unfollow(self, team_id: str, channel_id: str) -> Follow | None:
        """Turn following off; returns what was followed, None when it was not."""
        ...

    async def get_follow(self, team_id: str, channel_id: str) -> Follow | None: ...

    async def follows(self, team_id: str) -> list[Follow]:
        """Every channel followed in a workspace, oldest first."""
        ...

    async def add(self, key: str, ttl: float, amount: int = 1) -> int:
        """Add to a counter living `ttl` seconds from its first use; returns the new value.

        One atomic step, so replicas sharing the store share the count.
        """
        ...


def uid_set_key(uids: list[str]) -> str:
    """Content-addressed, so the same list saved twice is one row."""
    return hashlib.sha256(json.dumps(uids).encode()).hexdigest()[:24]


class Follow(BaseModel):
    """A channel whose new messages naming tasks get live answers, and who turned it on."""

    team_id: str
    channel_id: str
    user_id: str
    since: float
