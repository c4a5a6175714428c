"""Per-workspace figures without a per-workspace metric label: the busiest workspaces named in
a log line once per interval, from the watcher's open watches and the lookups answered."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.ops.busiest import BusiestWorkspaces, report_line
from bot.ops.metrics import Metrics
from bot.store import open_store
from bot.tenancy.accounts import OneClient
from bot.watch.scheduler import WatchConfig, Watcher
from tests.conftest import ClientFactory, ManualClock
from tests.test_watch_clock import RecordingPublisher


def test_the_report_names_only_the_top_workspaces_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    busiest = BusiestWorkspaces(interval=300.0, top=2, clock=clock)
    for ws, uids in (("T1", 5), ("T2", 50), ("T3", 1), ("T2", 10)):
        busiest.looked_up(ws, uids)
    watches = {"T1": 40, "T2": 3, "T3": 7, "T4": 0}
    clock.advance(299.0)
    assert busiest.maybe_report(watches) is None  # not yet
    clock.advance(1.0)
    with caplog.at_level(logging.INFO, logger="bot.ops.busiest"):
        line = busiest.maybe_report(watches)
    assert line == "busiest workspaces (300 s): watches T1=40 T3=7; UIDs looked up T2=60 T1=5"
    assert caplog.messages == [line]
    clock.advance(300.0)  # the counts start again from nothing; watches are a snapshot
    assert busiest.maybe_report({}) is None


def test_a_quiet_interval_logs_nothing() -> None:
    assert report_line({"T1": 0}, {}, 5, 300.0) == ""


def test_no_metric_carries_a_workspace_label() -> None:
    metrics = Metrics()
    metrics.workspaces.looked_up("T0ONE", 3)
    assert b"T0ONE" not in metrics.render()


async def test_the_watcher_counts_its_open_watches_per_workspace(
    tmp_path: Path, make_client: ClientFactory
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/state.sqlite3")
    mono = ManualClock()
    config = WatchConfig(poll_interval=15.0)
    watcher = Watcher(
        store, OneClient(await make_client()), RecordingPublisher(), config, monotonic=mono
    )
    try:
        for ws, n in (("TA", 1), ("TA", 2), ("TB", 3)):
            watch = watcher.new_watch(
                team_id=ws, user_id="U1", channel_id="C1", uids=[f"slow-{n}"], message_ts=f"{n}.0"
            )
            assert await watcher.begin(watch, []) is not None
        mono.advance(config.poll_interval)
        await watcher.tick()
        assert dict(watcher.open_by_workspace) == {"TA": 2, "TB": 1}
    finally:
        await store.close()
