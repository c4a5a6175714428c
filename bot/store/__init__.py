"""State behind one small interface: dedupe claims, UID sets, watches, leases, slots."""

from __future__ import annotations

from bot.store.base import DEFAULT_RETENTION, OAuthStore, Store


async def open_store(url: str, retention: float = DEFAULT_RETENTION) -> OAuthStore:
    """`sqlite:///path` or `redis://...` (validated by settings); items kept `retention` s."""
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore

        return await SqliteStore.open(url.removeprefix("sqlite:///"), retention)
    from bot.store.redis import RedisStore

    return await RedisStore.open(url, retention)


__all__ = ["OAuthStore", "Store", "open_store"]
