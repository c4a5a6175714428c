"""Slack counts its limits per workspace, so the watcher's budgets are per workspace too: one
workspace's busy watches never spend another's live edits. Real store and task API client;
the Slack side is a recording stand-in for the `Publisher` interface."""

from __future__ import annotations

from pathlib import Path

from bot.records.watch import Watch
from bot.store import open_store
from bot.tenancy.accounts import OneClient
from bot.watch.publisher import SENT, Build, Outcome
from bot.watch.scheduler import WatchConfig, Watcher
from tests.conftest import ClientFactory, ManualClock
from tests.test_watch_clock import RecordingPublisher


class EditsByWorkspace(RecordingPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []  # the workspace of each live edit

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        if not final:
            self.live.append(watch.workspace)
        return SENT


async def test_one_workspaces_edits_leave_anothers_budget_alone(
    tmp_path: Path, make_client: ClientFactory
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/state.sqlite3")
    mono = ManualClock()
    # One live edit per poll interval, per workspace (WATCH_UPDATES_PER_MINUTE=4 at 15 s).
    config = WatchConfig(poll_interval=15.0, updates_per_minute=4)
    publisher = EditsByWorkspace()
    watcher = Watcher(store, OneClient(await make_client()), publisher, config, monotonic=mono)
    try:
        for ws, n in (("TA", 1), ("TA", 2), ("TB", 3)):
            watch = watcher.new_watch(
                team_id=ws, user_id="U1", channel_id="C1", uids=[f"slow-{n}"], message_ts=f"{n}.0"
            )
            assert await watcher.begin(watch, []) is not None
        mono.advance(config.poll_interval)  # all three due in one tick
        await watcher.tick()
        assert sorted(publisher.live) == ["TA", "TB"]  # TA's second waits; TB's is not held
    finally:
        await store.close()
