"""Two real bot processes on one SQLite file (a rolling restart on one host), with a store
write cancelled while it waits for the file's write lock.

The test holds the write lock as a third process would; the first replica is SIGTERM'd
meanwhile, so its tick under way is cancelled inside `BEGIN IMMEDIATE` and its lease
release gives up. Once the lock is free the first exits 0, and the second takes the watches
over and finishes them: one notice per watch, no message left *Live*, no failed write.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import aiosqlite
import pytest
from pytest_aiohttp import AiohttpServer

from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.fleet import Replica, fleet
from tests.slack_harness import start_fakes
from tests.test_fleet import WAIT, live_answers, notices, polls, until

WATCHES = 3


async def listener_gone(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(url + "healthz"):
            return False
    except aiohttp.ClientConnectionError:
        return True


async def waits_on_the_lock(replica: Replica) -> bool:
    """What its readiness says: no tick lately, and its store, whose one connection is busy
    in a lock wait, does not answer the probe."""
    async with aiohttp.ClientSession() as session, session.get(replica.url + "readyz") as r:
        failed = set((await r.json())["failed"])
    return {"store", "watcher"} <= failed


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, FakeTaskApi, str]:
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    return slack, api, api_url


async def test_a_cancelled_lock_wait_still_ends_with_one_notice_each(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str]
) -> None:
    slack, api, api_url = fakes
    path = tmp_path / "shared.sqlite3"
    async with fleet(tmp_path, slack, api_url, f"sqlite:///{path}", SHUTDOWN_GRACE="3") as start:
        first = await start()
        for n in range(WATCHES):
            await first.command(slack, f"watch ok-q{n}")
        await slack.wait_for(lambda: len(live_answers(slack)) == WATCHES, WAIT)
        await until(lambda: all(polls(api, f"ok-q{n}") >= 2 for n in range(WATCHES)))
        second = await start()  # the first holds every lease

        async with aiosqlite.connect(path, isolation_level=None) as holder:
            await holder.execute("BEGIN IMMEDIATE")  # a third process takes the write lock
            api.step = 0.0  # every task finishes meanwhile
            # The first replica's tick waits on the lock, as does the second's.
            await asyncio.gather(
                until(lambda: waits_on_the_lock(first)), until(lambda: waits_on_the_lock(second))
            )
            first.process.send_signal(signal.SIGTERM)
            # Its tick is cancelled in its lock wait and its lease release gives up; then the
            # drain is over and its listener closes, while its store waits on the lock.
            await until(lambda: listener_gone(first.url))
            await holder.execute("COMMIT")
        assert await first.stop() == 0

        # The leases expire on their own (the release gave up), then the second replica
        # finishes every watch: one notice each, and no message left *Live*.
        await slack.wait_for(lambda: len(notices(slack)) == WATCHES, WAIT)
        assert sorted(set(notices(slack))) == sorted(notices(slack)), notices(slack)
        await slack.wait_for(lambda: live_answers(slack) == [], WAIT)
        api.step = 0.3  # a watch that lives a few ticks
        await second.command(slack, "watch ok-after")  # later ticks send no second notice
        await slack.wait_for(lambda: len(notices(slack)) == WATCHES + 1, WAIT)
        assert len(set(notices(slack))) == WATCHES + 1
        assert not any("Traceback" in line for line in second.log), second.log
