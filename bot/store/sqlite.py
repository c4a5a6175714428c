"""SQLite store (the default): one file, WAL mode, through aiosqlite's own thread."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiosqlite

from bot.store.base import UID_SET_TTL, Follow, uid_set_key
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
        await db.executescript(_FOLLOW_SCHEMA)
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

    async def close(self) -> None:
        await self._db.close()

    # -- followed channels and per-channel counters -------------------------------------------

    async def follow(self, follow: Follow) -> bool:
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO follows (team_id, channel_id, data) VALUES (?, ?, ?)",
            (follow.team_id, follow.channel_id, follow.model_dump_json()),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def unfollow(self, team_id: str, channel_id: str) -> Follow | None:
        # Fetched in the same step as the statement: a RETURNING cursor left open would
        # block another task's commit ("SQL statements in progress").
        rows = list(
            await self._db.execute_fetchall(
                "DELETE FROM follows WHERE team_id = ? AND channel_id = ? RETURNING data",
                (team_id, channel_id),
            )
        )
        await self._db.commit()
        return Follow.model_validate_json(rows[0][0]) if rows else None

    async def get_follow(self, team_id: str, channel_id: str) -> Follow | None:
        async with self._db.execute(
            "SELECT data FROM follows WHERE team_id = ? AND channel_id = ?", (team_id, channel_id)
        ) as cursor:
            row = await cursor.fetchone()
        return Follow.model_validate_json(row[0]) if row else None

    async def follows(self, team_id: str) -> list[Follow]:
        async with self._db.execute(
            "SELECT data FROM follows WHERE team_id = ?", (team_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return sorted((Follow.model_validate_json(r[0]) for r in rows), key=lambda f: f.since)

    async def add(self, key: str, ttl: float, amount: int = 1) -> int:
        now = time.time()
        await self._db.execute("DELETE FROM counters WHERE key = ? AND expires_at < ?", (key, now))
        rows = list(
            await self._db.execute_fetchall(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value RETURNING value",
                (key, amount, now + ttl),
            )
        )
        await self._db.commit()
        return int(rows[0][0])


_FOLLOW_SCHEMA = """
CREATE TABLE IF NOT EXISTS follows (
    team_id TEXT NOT NULL, channel_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id)
);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL
);
"""
