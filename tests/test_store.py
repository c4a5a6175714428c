"""The store contract, against SQLite and a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.store import Store, open_store
from bot.testing.net import free_port
from bot.watch.model import Watch


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, for this test session only."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (.ci/run installs it)"
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE)  # noqa: S603 - our own fixed args
    assert process.stdout is not None
    for line in process.stdout:
        if b"Ready to accept connections" in line:
            break
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/nested/state.sqlite3"
    else:
        url = request.getfixturevalue("redis_url")
        async with aioredis.from_url(url) as fresh:
            await fresh.flushdb()
    opened = await open_store(url)
    yield opened
    await opened.close()


def watch(**fields: object) -> Watch:
    return Watch.model_validate(
        {
            "user_id": "U1",
            "channel_id": "C1",
            "uids": ["a"],
            "created_at": 1,
            "expires_at": 2,
            **fields,
        }
    )


async def test_claim_is_first_come_only(store: Store) -> None:
    assert await store.claim("event:1")
    assert not await store.claim("event:1")
    assert await store.claim("event:2")


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim("event:x") for _ in range(20)))
    assert results.count(True) == 1


async def test_uid_sets_round_trip(store: Store) -> None:
    uids = [f"uid-{n}" for n in range(300)]
    key = await store.put_uids(uids)
    assert await store.put_uids(uids) == key
    assert await store.get_uids(key) == uids
    assert await store.get_uids("missing") is None


async def test_watches_round_trip_and_close(store: Store) -> None:
    first, second = watch(), watch(user_id="U2", state="notifying")
    await store.save_watch(first)
    await store.save_watch(second)
    assert sorted(w.id for w in await store.open_watches()) == sorted([first.id, second.id])
    first.state = "done"
    first.snapshot = {"a": {"TaskUid": "a", "TaskStatus": "Finished"}}
    await store.save_watch(first)
    assert [w.id for w in await store.open_watches()] == [second.id]
    loaded = await store.get_watch(first.id)
    assert loaded is not None
    assert loaded.state == "done"
    assert loaded.last_known()[0].uid == "a"
    assert await store.get_watch("nope") is None


async def test_size_counts_every_item(store: Store) -> None:
    assert await store.size() == 0
    await store.claim("event:1")
    await store.put_uids(["a", "b"])
    await store.save_watch(watch())
    assert await store.size() == 3
