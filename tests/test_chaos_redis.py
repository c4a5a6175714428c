"""Chaos: Redis rolled back to a snapshot taken before the watches finished (a failover to a
replica that missed the last writes), through real processes. The notices already went out;
whichever process holds each watch now must not send its notice again."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pytest_aiohttp import AiohttpServer

from bot.store import Store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from tests.chaos import WAIT, all_closed, in_final_form, live_answers, notices
from tests.fleet import fleet
from tests.slack_harness import start_fakes
from tests.test_fleet import polls, until

WATCHES = 3
Snapshot = list[tuple[bytes, int, bytes]]  # key, milliseconds left (0: none), DUMP


async def snapshot(url: str) -> Snapshot:
    """Every key with its time to live, as a replica would hold them."""
    async with aioredis.from_url(url) as raw:
        kept: Snapshot = []
        async for key in raw.scan_iter(count=1000):
            dumped, left = await raw.dump(key), await raw.pttl(key)
            if dumped is not None:
                kept.append((key, max(0, left), dumped))
        return kept


async def roll_back(url: str, kept: Snapshot) -> None:
    async with aioredis.from_url(url) as raw:
        await raw.flushdb()
        for key, left, dumped in kept:
            await raw.restore(key, left, dumped, replace=True)


@pytest.mark.parametrize("holder", ["stays", "dies"])
async def test_a_redis_rolled_back_behind_the_notices_sends_none_again(
    aiohttp_server: AiohttpServer, tmp_path: Path, shared: Store, redis_url: str, holder: str
) -> None:
    """`stays`: the process that sent the notices gets its watches back; `dies`: it is
    killed, and the other takes them over after their leases run out."""
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first = await start()  # alone, so it holds every watch
        for n in range(WATCHES):
            await first.command(slack, f"watch ok-r{n}")
        await slack.wait_for(lambda: len(live_answers(slack)) == WATCHES, WAIT)
        await until(lambda: all(polls(api, f"ok-r{n}") >= 2 for n in range(WATCHES)))
        second = await start()
        before = await snapshot(redis_url)
        assert len(await shared.open_watches(HOME_TEAM)) == WATCHES  # what the rollback brings back
        api.step = 0.0  # every task finishes at its next poll
        await slack.wait_for(lambda: len(notices(slack)) == WATCHES, WAIT)

        async def closed() -> bool:
            return await all_closed(shared)

        await until(closed, WAIT)
        if holder == "dies":
            assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
        await roll_back(redis_url, before)  # active again, their notices forgotten
        await until(closed, WAIT)
        assert sorted(notices(slack)) == sorted(set(notices(slack)))
        assert len(notices(slack)) == WATCHES
        assert all(in_final_form(m) for m in live_answers(slack))
        if holder == "dies":
            assert slack.called("conversations.replies")  # looked before sending again
        assert second.process.returncode is None
