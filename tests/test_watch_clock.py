"""Scheduling runs on a monotonic clock: a step of the wall clock neither stalls polling nor
ends watches early. Real store and task API client; the Slack side is a recording stand-in
for the `Publisher` interface."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from bot.records.watch import Watch
from bot.store import open_store
from bot.taskapi.fake import FakeTaskApi
from bot.taskapi.models import TaskResult
from bot.tenancy.accounts import OneClient
from bot.watch.publisher import SENT, Build, NoticePage, Outcome, SlackTrouble
from bot.watch.scheduler import WatchConfig, Watcher
from tests.conftest import ClientFactory, ManualClock


class RecordingPublisher:
    def __init__(self) -> None:
        self.updates: list[bool] = []
        self.notices: list[str] = []

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        self.updates.append(final)
        return SENT

    def sort(self, exc: BaseException) -> SlackTrouble:
        return SlackTrouble("fault", type(exc).__name__)

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        self.notices.append(watch.id)

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        return NoticePage(found=watch.id in self.notices)

    async def note(self, watch: Watch, text: str) -> None:
        self.notices.append(text)


async def test_a_wall_clock_step_neither_stalls_polling_nor_expires_watches(
    tmp_path: Path, make_client: ClientFactory, fake_api: FakeTaskApi
) -> None:
    wall = ManualClock()
    store = await open_store(f"sqlite:///{tmp_path}/state.sqlite3")
    config = WatchConfig(poll_interval=0.02, max_duration=3600.0)
    watcher = Watcher(
        store, OneClient(await make_client()), RecordingPublisher(), config, clock=wall
    )
    token = await watcher.reserve("", "U1")
    watch = watcher.new_watch(
        id=token, user_id="U1", channel_id="C1", uids=["slow-1"], message_ts="1.0"
    )
    assert await watcher.begin(watch, []) is not None
    runner = asyncio.create_task(watcher.run())
    try:
        await watcher.wait_ticks(2)
        assert watcher.takeovers == 0  # its own new watch
        wall.advance(2 * 86_400.0)  # two days ahead: far past WATCH_MAX_DURATION on the wall
        await watcher.wait_ticks(5)
        stored = await store.get_watch("", watch.id)
        assert stored is not None
        assert stored.state == "active"
        wall.advance(-3 * 86_400.0)  # and three days back
        polled = len(fake_api.calls)
        await watcher.wait_ticks(5)
        assert len(fake_api.calls) >= polled + 3  # still polled every interval
    finally:
        await watcher.shutdown(1.0)
        await runner
        await store.close()
