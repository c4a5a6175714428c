"""A process whose lease ran out during a slow tick keeps its hands off the watch: the process
that took it over is the only one to edit it or send its notice. Two watchers on one SQLite
file (as two processes would be), one clock moved by hand, the real task API client and fake."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from bot.records.watch import Watch
from bot.store.sqlite import SqliteStore
from bot.taskapi.fake import FakeTaskApi
from bot.taskapi.models import TaskResult
from bot.tenancy.accounts import OneClient
from bot.watch.publisher import SENT, Build, NoticePage, Outcome, SlackTrouble
from bot.watch.scheduler import WatchConfig, Watcher
from tests.conftest import ClientFactory, ManualClock


class Recorder:
    def __init__(self) -> None:
        self.updates: list[str] = []
        self.notices: list[str] = []

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        self.updates.append(watch.id)
        return SENT

    def sort(self, exc: BaseException) -> SlackTrouble:
        return SlackTrouble("fault", type(exc).__name__)

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        self.notices.append(watch.id)

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        return NoticePage(found=False)

    async def note(self, watch: Watch, text: str) -> None:
        self.notices.append(text)


async def _store(path: Path, clock: ManualClock) -> SqliteStore:
    db = await aiosqlite.connect(path, timeout=10.0, isolation_level=None)
    return SqliteStore(db, clock=clock)


async def test_a_watch_taken_over_mid_tick_is_not_edited_by_its_old_holder(
    tmp_path: Path, make_client: ClientFactory, fake_api: FakeTaskApi, clock: ManualClock
) -> None:
    path = tmp_path / "state.sqlite3"
    await (await SqliteStore.open(str(path))).close()  # the schema, as start-up makes it
    first, second = await _store(path, clock), await _store(path, clock)
    config = WatchConfig(poll_interval=15.0, lease_margin=10.0)
    old_pub, new_pub = Recorder(), Recorder()
    old = Watcher(
        first, OneClient(await make_client()), old_pub, config, clock=clock, monotonic=clock
    )
    new = Watcher(
        second, OneClient(await make_client()), new_pub, config, clock=clock, monotonic=clock
    )
    try:
        token = await old.reserve("T1", "U1")
        watch = old.new_watch(
            id=token, team_id="T1", user_id="U1", channel_id="C1", uids=["slow-1"], message_ts="1.0"
        )
        assert await old.begin(watch, []) is not None
        clock.advance(15.0)  # its first poll is due
        fake_api.faults.latency = 0.3  # the old holder's upstream call hangs...
        slow_tick = asyncio.create_task(old.tick())
        await fake_api.wait_until(lambda: fake_api.received >= 1)
        fake_api.faults.latency = 0.0
        clock.advance(old.lease_ttl + 1.0)  # ...past its lease
        await new.tick()  # the other process takes the watch over and shows it
        assert new.takeovers == 1
        assert new_pub.updates == [token]
        await slow_tick
        assert old_pub.updates == []  # a stale edit would land after the newer one
        stored = await second.get_watch("T1", token)
        assert stored is not None
        assert stored.state == "active"
    finally:
        await first.close()
        await second.close()
