"""People before polls: a person's lookup is not held up by the watcher's batches, whether
the watcher is polling 1,000 UIDs or retrying through an outage; and one person cannot flood
the task API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from bot.watch import machine
from tests.slack_harness import Harness

WATCHES, PER_WATCH = 20, 50  # 1,000 watched UIDs
BUSY = {
    "step": 3600.0,
    "watch_poll_interval": 30.0,  # one tick with every watch due, woken by the last `begin`
    "watch_max_uids": PER_WATCH,
    "task_api_batch_size": 20,
    "task_api_concurrency": 4,
    "shutdown_grace": 1.0,
}


async def watch_many(harness: Harness) -> None:
    """1,000 UIDs that keep running, each watch with a live message of its own, all due in the
    same tick (recorded straight in the store, then the watcher woken by one more watch)."""
    watcher, store = harness.bot.deps.watcher, harness.bot.deps.store
    for w in range(WATCHES + 1):
        live = harness.slack.add_message("C1", text="live", blocks=[], bot_id="BBOT")
        watch = watcher.new_watch(
            team_id="T0HOME",
            user_id=f"U{w}",
            channel_id="C1",
            uids=[f"slow-w{w}-{n}" for n in range(PER_WATCH)] if w < WATCHES else ["slow-x"],
            message_ts=live["ts"],
            thread_ts=live["ts"],
            message_key=f"C1:{live['ts']}",
        )
        if w < WATCHES:
            assert await store.create_watch(machine.started(watch, []), slot_seconds=3600)
        else:
            assert await watcher.begin(watch, []) is not None


def watch_calls(calls: list[list[str]]) -> int:
    return sum(1 for call in calls if call and call[0].startswith("slow-w"))


async def timed_lookup(harness: Harness, text: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    _, key = await harness.command(text)
    [answer] = await harness.answers(key, timeout=30)
    return time.perf_counter() - started, answer


@pytest.mark.parametrize("harness", [BUSY], indirect=True)
async def test_a_lookup_goes_ahead_of_a_1000_uid_tick(harness: Harness) -> None:
    api = harness.api
    api.faults.latency = 0.1  # 50 watch batches over 3 slots: about 1.7 s per tick
    await watch_many(harness)
    await api.wait_until(lambda: watch_calls(api.calls) >= 3)
    elapsed, answer = await timed_lookup(harness, "ok-person")
    assert "ok-person" in json.dumps(answer)
    mine = next(i for i, call in enumerate(api.calls) if "ok-person" in call)
    # The first tick's 50 batches were far from done: the lookup went ahead of them.
    assert watch_calls(api.calls[:mine]) < 25
    await api.wait_until(lambda: watch_calls(api.calls[mine + 1 :]) >= 10)
    api.faults.latency = 0.0
    assert elapsed < 1.0, f"the lookup took {elapsed:.2f} s"


@pytest.mark.parametrize(
    "harness", [{**BUSY, "task_api_timeout": 0.3, "task_api_retries": 1}], indirect=True
)
async def test_a_lookup_during_an_outage_waits_only_for_its_own_tries(harness: Harness) -> None:
    api = harness.api
    api.faults.latency = 5.0  # every call times out: the watcher retries batch after batch
    await watch_many(harness)
    await api.wait_until(lambda: api.received >= 6)
    elapsed, answer = await timed_lookup(harness, "ok-person")
    api.faults.latency = 0.0
    assert "The task API is not answering" in json.dumps(answer)
    # Its own two tries of 0.3 s and one backoff; queued behind the watcher's 50 batches
    # (two tries each, three at a time) it would have waited about 10 s.
    assert elapsed < 4.0, f"the lookup took {elapsed:.2f} s"


@pytest.mark.parametrize("harness", [{"lookup_uids_per_minute": 3}], indirect=True)
async def test_one_person_is_rate_limited_with_a_clear_note(harness: Harness) -> None:
    _, first = await harness.command("ok-1 ok-2")
    assert "ok-1" in json.dumps(await harness.answers(first))
    calls = len(harness.api.calls)
    _, second = await harness.command("ok-3 ok-4")
    [note] = await harness.answers(second)
    assert "Try again in" in json.dumps(note)
    assert "at most 3 a minute" in json.dumps(note)
    assert len(harness.api.calls) == calls  # nothing was asked upstream
    _, other = await harness.command("ok-3 ok-4", user="U2")  # someone else is not held back
    assert "ok-3" in json.dumps(await harness.answers(other))
    metrics = await (await harness.http.get("/metrics")).text()
    assert "taskstatus_lookups_limited_total 1.0" in metrics
