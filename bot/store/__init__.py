"""State behind one small interface: dedupe claims, UID sets for buttons, watches."""

from __future__ import annotations

from bot.store.base import Store


async def open_store(url: str) -> Store:
    """`sqlite:///path` or `redis://...` (validated by settings)."""
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore

        return await SqliteStore.open(url.removeprefix("sqlite:///"))
    from bot.store.redis import RedisStore

    return await RedisStore.open(url)


__all__ = ["Store", "open_store"]
