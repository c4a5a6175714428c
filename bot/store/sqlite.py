"""SQLite store (the default): one file, WAL mode, through aiosqlite's own thread."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiosqlite

from bot.store.base import UID_SET_TTL, uid_set_key
from bot.watch.model import Watch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS uid_sets (key TEXT PRIMARY KEY, uids TEXT NOT NULL, expires_at REAL);
CREATE TABLE IF NOT EXISTS watches (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS watches_state ON watches (state);
"""


class SqliteStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(_SCHEMA)
        await db.commit()
        return cls(db)

    async def claim(self, key: str, ttl: float = 24 * 3600.0) -> bool:
        now = time.time()
        await self._db.execute("DELETE FROM claims WHERE key = ? AND expires_at < ?", (key, now))
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO claims (key, expires_at) VALUES (?, ?)", (key, now + ttl)
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def put_uids(self, uids: list[str]) -> str:
        key = uid_set_key(uids)
        await self._db.execute(
            "INSERT OR REPLACE INTO uid_sets (key, uids, expires_at) VALUES (?, ?, ?)",
            (key, json.dumps(uids), time.time() + UID_SET_TTL),
        )
        await self._db.commit()
        return key

    async def get_uids(self, key: str) -> list[str] | None:
        async with self._db.execute("SELECT uids FROM uid_sets WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return list(json.loads(row[0])) if row else None

    async def save_watch(self, watch: Watch) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO watches (id, state, data) VALUES (?, ?, ?)",
            (watch.id, watch.state, watch.model_dump_json()),
        )
        await self._db.commit()

    async def get_watch(self, watch_id: str) -> Watch | None:
        async with self._db.execute("SELECT data FROM watches WHERE id = ?", (watch_id,)) as cursor:
            row = await cursor.fetchone()
        return Watch.model_validate_json(row[0]) if row else None

    async def open_watches(self) -> list[Watch]:
        async with self._db.execute("SELECT data FROM watches WHERE state != 'done'") as cursor:
            rows = await cursor.fetchall()
        return [Watch.model_validate_json(row[0]) for row in rows]

    async def size(self) -> int:
        query = (
            "SELECT (SELECT COUNT(*) FROM claims) + (SELECT COUNT(*) FROM uid_sets)"
            " + (SELECT COUNT(*) FROM watches)"
        )
        async with self._db.execute(query) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        await self._db.close()
