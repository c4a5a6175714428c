"""The store's interface. Each call is one atomic write or read."""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

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

    async def size(self) -> int:
        """How many items (claims, UID sets, watches) the store holds now: a gauge for operators."""
        ...

    async def close(self) -> None: ...


def uid_set_key(uids: list[str]) -> str:
    """Content-addressed, so the same list saved twice is one row."""
    return hashlib.sha256(json.dumps(uids).encode()).hexdigest()[:24]
