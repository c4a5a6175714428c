"""The write before a completion notice is durable: SQLite syncs it to disk, Redis waits for
a replica's acknowledgement (or says none came), and a stale copy is refused as ever."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.records.watch import Watch
from bot.store import open_store
from bot.store.redis import REPLICA_WAIT_MS, RedisStore
from bot.store.sqlite import SqliteStore
from bot.testing.net import free_port
from bot.testing.redis_server import redis_cluster, redis_server_binary


def notifying(**fields: object) -> Watch:
    base = {"team_id": "T1", "user_id": "U1", "channel_id": "C1", "uids": ["a"], "created_at": 0}
    return Watch.model_validate({**base, "expires_at": time.time() + 3600, **fields})


async def _written(store: SqliteStore | RedisStore) -> Watch:
    watch = notifying()
    assert await store.create_watch(watch, 60)
    watch.state = "notifying"
    return watch


async def test_sqlite_syncs_the_notifying_write_then_goes_back_to_normal(tmp_path: Path) -> None:
    store = await SqliteStore.open(str(tmp_path / "state.sqlite3"))
    try:
        watch = await _written(store)
        stale = watch.model_copy()
        assert await store.update_watch_durably(watch) == "durable"
        assert watch.version == 2
        stored = await store.get_watch("T1", watch.id)
        assert stored is not None
        assert (stored.state, stored.version) == ("notifying", 2)
        assert await store.update_watch_durably(stale) == "lost"
        async with store._db.execute("PRAGMA synchronous") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        assert row[0] == 1  # NORMAL again for every other write
    finally:
        await store.close()


async def test_sqlite_durable_writes_amid_other_transactions(tmp_path: Path) -> None:
    """SQLite refuses to change the sync level inside a transaction: a durable write must wait
    for the one under way on its connection, not fail."""
    store = await SqliteStore.open(str(tmp_path / "state.sqlite3"))
    try:
        others = [await _written(store) for _ in range(5)]
        mine = await _written(store)
        outcomes = await asyncio.gather(
            *(store.update_watch(w) for w in others), store.update_watch_durably(mine)
        )
        assert outcomes == [True] * 5 + ["durable"]
    finally:
        await store.close()


@pytest.fixture
async def lone_redis(redis_url: str) -> AsyncIterator[RedisStore]:
    async with aioredis.from_url(redis_url) as fresh:
        await fresh.flushdb()
    store = await open_store(redis_url)
    assert isinstance(store, RedisStore)
    yield store
    await store.close()


async def test_redis_with_no_replica_says_unconfirmed_at_once(lone_redis: RedisStore) -> None:
    """WAIT on a server with no replica would block its whole timeout for nothing."""
    watch = await _written(lone_redis)
    stale = watch.model_copy()
    began = time.monotonic()
    assert await lone_redis.update_watch_durably(watch) == "unconfirmed"
    assert time.monotonic() - began < REPLICA_WAIT_MS / 1000 / 2
    assert watch.version == 2
    assert await lone_redis.update_watch_durably(stale) == "lost"


@contextlib.contextmanager
def _server(folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A redis-server of the test's own; a replica's first sync writes an RDB in `folder`."""
    port = free_port()
    folder.mkdir()
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE)  # noqa: S603 - our own fixed args
    assert process.stdout is not None
    for line in process.stdout:
        if b"Ready to accept connections" in line:
            break
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        yield process, port
    finally:
        process.terminate()
        process.wait(10)


async def test_redis_with_a_replica_waits_for_its_acknowledgement(tmp_path: Path) -> None:
    with (
        _server(tmp_path / "primary") as (_, primary),
        _server(tmp_path / "replica") as (_, replica_port),
    ):
        async with aioredis.from_url(f"redis://127.0.0.1:{replica_port}/0") as replica:
            await replica.replicaof("127.0.0.1", str(primary))
            deadline = time.monotonic() + 20
            while (await replica.info("replication")).get("master_link_status") != "up":
                assert time.monotonic() < deadline, "the replica never caught up"
                await asyncio.sleep(0.05)  # the link has no event to await
            store = await open_store(f"redis://127.0.0.1:{primary}/0")
            assert isinstance(store, RedisStore)
            try:
                watch = await _written(store)
                assert await store.update_watch_durably(watch) == "durable"
                copied = await replica.hget(f"taskstatus:{{T1}}:watch:{watch.id}", "v")
                assert copied == b"2"  # on the replica when the write returned
            finally:
                await store.close()


@pytest.fixture(scope="module")
def replicated_cluster() -> Iterator[str]:
    """Three primaries, each with a replica."""
    with redis_cluster(replicas=True) as url:
        yield url


@pytest.mark.parametrize("ws", ["TA", "TB", "TC", "TD"])  # their slots spread over the nodes
async def test_a_redis_cluster_waits_for_the_watch_nodes_replica(
    replicated_cluster: str, ws: str
) -> None:
    """The write and its `WAIT` go to the node of the watch's slot, on one connection."""
    store = await open_store(replicated_cluster)
    try:
        watch = notifying(team_id=ws)
        assert await store.create_watch(watch, 60)
        watch.state = "notifying"
        assert await store.update_watch_durably(watch) == "durable"
        stored = await store.get_watch(ws, watch.id)
        assert stored is not None
        assert stored.version == 2
        assert await store.update_watch_durably(watch.model_copy(update={"version": 1})) == "lost"
    finally:
        await store.close()
