"""Two or three real bot processes on one store: each watch has one owner, every change is
atomic, and a replica that dies or stops hands its watches over with one notice each."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer

from bot.slack.delivery.live import NOTICE_EVENT
from bot.store import Store, open_store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from tests.fleet import Replica, fleet
from tests.slack_harness import start_fakes

INTERVAL = 0.2
LEASE_MARGIN = 10.0
WAIT = 30.0  # generous: real processes on a loaded machine
Start = Callable[[], Awaitable[Replica]]


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, FakeTaskApi, str]:
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    return slack, api, api_url


def notices(slack: FakeSlack) -> list[str]:
    """Watch ids of the completion notices in the channel."""
    return [
        m["metadata"]["event_payload"]["watch_id"]
        for m in slack.messages.get("C1", [])
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def live_answers(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages.get("C1", []) if "task_unwatch" in json.dumps(m)]


def button(message: dict[str, Any], action_id: str) -> str:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button")


def polls(api: FakeTaskApi, uid: str) -> int:
    return sum(uid in call for call in api.calls)


async def until(check: Callable[[], Any], timeout: float = WAIT) -> None:
    """For state in other processes or in Redis, which send no event here: look again
    every 50 ms until `check()` (sync or async) is true."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_an_event_retried_to_another_replica_is_answered_once(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, _, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        a, b = await start(), await start()
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        for n in range(1, 6):  # the first delivery and its retry arrive at once, five times
            statuses = await asyncio.gather(
                a.mention("ok-1", f"100.00000{n}", f"EvDup{n}"),
                b.mention("ok-1", f"100.00000{n}", f"EvDup{n}", **retry),
            )
            assert list(statuses) == [200, 200]
        # Later events through both replicas: a duplicate answered late would show by then.
        await a.mention("ok-2", "101.000001", "EvA")
        await b.mention("ok-3", "101.000002", "EvB")

        def answered(ts: str) -> int:
            return sum(1 for m in slack.called("chat.postMessage") if m.get("thread_ts") == ts)

        stamps = [f"100.00000{n}" for n in range(1, 6)] + ["101.000001", "101.000002"]
        await slack.wait_for(lambda: all(answered(ts) for ts in stamps), WAIT)
        assert [answered(ts) for ts in stamps] == [1] * 7


@pytest.mark.parametrize("kind", ["redis", "sqlite"])
async def test_two_replicas_poll_each_watch_once_and_notify_once(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeTaskApi, str],
    shared: Store,
    redis_url: str,
    kind: str,
) -> None:
    slack, api, api_url = fakes
    api.step = 1.0  # ok-* tasks finish 2 s after the first lookup
    state = redis_url if kind == "redis" else f"sqlite:///{tmp_path}/shared.sqlite3"
    async with fleet(tmp_path, slack, api_url, state) as start:
        replicas = [await start(), await start()]
        for n in range(4):
            await replicas[n % 2].command(slack, f"watch ok-f{n}")
        await slack.wait_for(lambda: len(notices(slack)) == 4, WAIT)
        # One process polls a UID about 2 s / 0.2 s = 10 times; two unleased ones, twice that.
        counts = [polls(api, f"ok-f{n}") for n in range(4)]
        assert max(counts) <= 14, counts
        assert sorted(set(notices(slack))) == sorted(notices(slack))
        await replicas[0].command(slack, "watch ok-late")  # more ticks on both, no late copies
        await slack.wait_for(lambda: len(notices(slack)) == 5, WAIT)
        assert len(set(notices(slack))) == 5


async def _owned_by_first(
    start: Start, slack: FakeSlack, api: FakeTaskApi, count: int, prefix: str
) -> tuple[Replica, Replica]:
    """Watches started while only the first replica runs, so it holds their leases."""
    first = await start()
    for n in range(count):
        await first.command(slack, f"watch ok-{prefix}{n}")
    await slack.wait_for(lambda: len(live_answers(slack)) == count, WAIT)
    await until(lambda: all(polls(api, f"ok-{prefix}{n}") >= 2 for n in range(count)))
    return first, await start()


async def test_a_killed_replicas_watches_finish_elsewhere_with_one_notice_each(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, api, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first, second = await _owned_by_first(start, slack, api, 3, "k")
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
        killed = time.monotonic()
        api.step = 0.0  # every task is finished from now on
        await slack.wait_for(lambda: len(notices(slack)) == 3, 2 * INTERVAL + LEASE_MARGIN + 10)
        took = time.monotonic() - killed
        assert took <= 2 * INTERVAL + LEASE_MARGIN + 3, took
        api.step = 0.3
        await second.command(slack, "watch ok-after")
        await slack.wait_for(lambda: len(notices(slack)) == 4, WAIT)
        assert len(set(notices(slack))) == 4

        async def all_closed() -> bool:
            return await shared.open_watches(HOME_TEAM) == []

        await until(all_closed)  # "done" is written right after each notice


async def test_sigterm_hands_watches_over_at_once_and_exits_0(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, api, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first, _ = await _owned_by_first(start, slack, api, 2, "t")
        assert await first.stop(signal.SIGTERM) == 0
        api.step = 0.0
        # Well inside the lease's own life (interval + 10 s): the leases were handed back.
        await slack.wait_for(lambda: len(notices(slack)) == 2, LEASE_MARGIN - 3)
        assert len(set(notices(slack))) == 2


async def test_stop_through_another_replica_is_final(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, api, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first, second = await _owned_by_first(start, slack, api, 1, "s")
        live = live_answers(slack)[0]
        watch_id = button(live, "task_unwatch")
        await second.click(slack, "task_unwatch", watch_id, live, "U2")

        def stopped() -> bool:
            return "Stopped updating" in json.dumps(slack.messages["C1"][0])

        await slack.wait_for(stopped, WAIT)
        api.step = 0.3  # the stopped watch's task is finished now: it must not notify
        await first.command(slack, "watch ok-other")  # its notice means later ticks ran
        await slack.wait_for(lambda: len(notices(slack)) == 1, WAIT)
        assert notices(slack) != [watch_id]
        assert stopped()
        record = await shared.get_watch(HOME_TEAM, watch_id)
        assert record is not None
        assert (record.state, record.end_reason, record.stopped_by) == ("done", "stopped", "U2")


async def test_two_concurrent_watch_presses_make_one_watch(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, _, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        a, b = await start(), await start()
        await a.mention("slow-p1", "200.000001", "EvP")
        await slack.wait_for(lambda: slack.messages.get("C1"), WAIT)
        answer = slack.messages["C1"][0]
        value = button(answer, "task_watch")
        keys = await asyncio.gather(
            a.click(slack, "task_watch", value, answer, "U1"),
            b.click(slack, "task_watch", value, answer, "U2"),
        )

        def said_live() -> bool:
            return any("already live" in json.dumps(slack.responses.get(k)) for k in keys)

        await slack.wait_for(said_live, WAIT)
        await until(lambda: "task_unwatch" in json.dumps(slack.messages["C1"][0]))
        assert len(await shared.open_watches(HOME_TEAM)) == 1
        await a.click(slack, "task_watch", value, answer, "U3")  # later press: same answer
        assert len(await shared.open_watches(HOME_TEAM)) == 1


async def test_the_per_person_limit_holds_under_concurrent_requests(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, _, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url, WATCH_MAX_PER_USER="1") as start:
        a, b = await start(), await start()
        keys = await asyncio.gather(
            *(r.command(slack, f"watch slow-l{n}") for n, r in enumerate([a, b] * 3))
        )

        def refused() -> int:
            return sum(
                "already have 1 live watch" in json.dumps(slack.responses.get(k)) for k in keys
            )

        await slack.wait_for(lambda: refused() == 5 and live_answers(slack), WAIT)

        async def one_open() -> bool:
            return len(await shared.open_watches(HOME_TEAM)) == 1

        await until(one_open)
        assert len(live_answers(slack)) == 1


@pytest.mark.parametrize("kind", ["redis", "sqlite"])
async def test_two_replicas_quietly_following_post_one_failure_message_each(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeTaskApi, str],
    shared: Store,
    redis_url: str,
    kind: str,
) -> None:
    """Quiet follows: each message arrives at one replica and again, retried, at the other;
    every failing one gets one failure message, the succeeding one nothing, no edits."""
    slack, api, api_url = fakes
    api.step = 0.5
    state = redis_url if kind == "redis" else f"sqlite:///{tmp_path}/shared.sqlite3"
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    async with fleet(tmp_path, slack, api_url, state) as start:
        a, b = await start(), await start()
        await a.command(slack, "follow errors")
        await slack.wait_for(lambda: slack.messages.get("C1"), WAIT)
        await a.message("TaskUid: ok-q0", "500.000001", "EvQ0")
        await b.message("TaskUid: ok-q0", "500.000001", "EvQ0", **retry)
        stamps = [f"500.00001{n}" for n in range(4)]
        for n, ts in enumerate(stamps):
            first, other = (a, b) if n % 2 else (b, a)
            await asyncio.gather(
                first.message(f"TaskUid: ok-q{n + 1} `err-q{n + 1}`", ts, f"EvQ{n + 1}"),
                other.message(f"TaskUid: ok-q{n + 1} `err-q{n + 1}`", ts, f"EvQ{n + 1}", **retry),
            )

        def failures() -> list[str]:
            return [
                str(m.get("thread_ts")) for m in slack.messages.get("C1", []) if m.get("thread_ts")
            ]

        await slack.wait_for(lambda: len(set(failures())) == 4, WAIT)
        store = shared if kind == "redis" else await open_store(state)
        try:
            await until(lambda: _none_open(store))  # every quiet watch ended, the ok one too
        finally:
            if store is not shared:
                await store.close()
        assert sorted(failures()) == stamps  # one each, none for the message that succeeded
        assert len(notices(slack)) == 4
        assert not slack.called("chat.update")


async def _none_open(store: Store) -> bool:
    return not await store.open_watches(HOME_TEAM)
