"""SQLite transactions survive cancellation: a store write cancelled while its `BEGIN
IMMEDIATE` waits on another connection's lock (a rolling restart's two processes on one file)
leaves the store usable, its lease releases durable, and the other side free to write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.records.watch import Watch
from bot.store.sqlite import SqliteStore


@pytest.fixture
async def other(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """Another connection to the same file (the other process), with a short busy timeout."""
    await (await SqliteStore.open(str(tmp_path / "s.sqlite3"))).close()  # creates the tables
    async with aiosqlite.connect(tmp_path / "s.sqlite3", timeout=2.0, isolation_level=None) as db:
        yield db


def watch(watch_id: str) -> Watch:
    return Watch(
        id=watch_id,
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        uids=["slow-1"],
        message_ts="1.0",
        created_at=0.0,
        expires_at=1e12,
    )


async def owner_of(db: aiosqlite.Connection, watch_id: str) -> str:
    rows = list(await db.execute_fetchall("SELECT owner FROM watches WHERE id = ?", (watch_id,)))
    return str(rows[0][0])


async def test_a_write_cancelled_in_a_lock_wait_leaves_the_store_working(
    tmp_path: Path, other: aiosqlite.Connection
) -> None:
    store = await SqliteStore.open(str(tmp_path / "s.sqlite3"))
    assert await store.create_watch(watch("w1"), 60.0)
    assert [w.id for w in await store.take_leases("A", 30.0)] == ["w1"]

    await other.execute("BEGIN IMMEDIATE")  # the other process holds the write lock
    with pytest.raises(TimeoutError):  # cancelled while its BEGIN waits on that lock
        await asyncio.wait_for(store.claim("T1", "first"), 0.3)
    await other.execute("COMMIT")

    assert await store.claim("T1", "second")  # later transactions work
    await store.release_leases("A")
    assert await owner_of(other, "w1") == ""  # the release is visible to the other side
    await other.execute("BEGIN IMMEDIATE")  # and the other side can write at once
    await other.execute("INSERT INTO claims (ws, key, expires_at) VALUES ('T1', 'x', 1e12)")
    await other.execute("COMMIT")
    await store.close()

    reopened = await SqliteStore.open(str(tmp_path / "s.sqlite3"))
    assert [w.id for w in await reopened.take_leases("B", 30.0)] == ["w1"]  # no full lease wait
    await reopened.close()
