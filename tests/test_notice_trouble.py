"""The completion notice through Slack's bad minutes and the store's lost writes: delayed,
never cancelled, never sent twice, and Slack's scarce thread reads spent only when needed.
The real bot (or two real watchers), the fake task API and the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from pytest_aiohttp import AiohttpServer

from bot.records.watch import Watch
from bot.slack.delivery.live import NOTICE_EVENT
from bot.slack.front.server import running_bot
from bot.store import open_store
from bot.store.sqlite import SqliteStore
from bot.taskapi.fake import FakeTaskApi
from bot.taskapi.models import TaskResult
from bot.tenancy.accounts import OneClient
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from bot.watch.publisher import SENT, Build, NoticePage, Outcome, SlackTrouble
from bot.watch.scheduler import WatchConfig, Watcher
from tests.conftest import ClientFactory, ManualClock
from tests.slack_harness import Harness, bot_settings, start_fakes

TROUBLED = {"step": 30.0, "watch_poll_interval": 0.05, "watch_thread_reads_per_minute": 600}


def notices(slack: FakeSlack, channel: str = "C1") -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def final(message: dict[str, Any]) -> bool:
    return "Every task is done" in json.dumps(message.get("blocks"))


async def until_closed(harness: Harness, ticks: int = 400) -> None:
    """Every watch closed in the store, looked at after each tick."""
    for _ in range(ticks):
        if await harness.bot.deps.store.open_watches(HOME_TEAM) == []:
            return
        await asyncio.wait_for(harness.bot.deps.watcher.wait_ticks(1), 10)
    raise AssertionError("watches still open")


@pytest.mark.parametrize("harness", [TROUBLED], indirect=True)
async def test_rate_limits_and_5xx_on_the_notice_are_waited_out(harness: Harness) -> None:
    """Six failed posts in a row (more than the five attempts a notice had) are Slack's bad
    minutes, not attempts: the notice goes once Slack takes it."""
    slack = harness.slack
    await harness.command("watch ok-1")
    await slack.wait_for(lambda: slack.messages.get("C1"))
    slack.fail("chat.postMessage", "ratelimited", times=3, status=429, headers={"Retry-After": "0"})
    slack.fail("chat.postMessage", "internal_error", times=2, status=500)
    slack.fail("chat.postMessage", "service_unavailable", times=1, status=503)
    harness.api.step = 0.0
    await slack.wait_for(lambda: notices(slack), 20)
    await until_closed(harness)
    assert len(notices(slack)) == 1
    assert len(slack.called("chat.postMessage")) == 1 + 6 + 1  # answer, refusals, notice
    assert final(slack.messages["C1"][0])


@pytest.mark.parametrize("harness", [TROUBLED], indirect=True)
async def test_the_notice_goes_while_the_final_edit_keeps_failing(harness: Harness) -> None:
    slack = harness.slack
    await harness.command("watch ok-1")
    await slack.wait_for(lambda: slack.messages.get("C1"))
    slack.fail("chat.update", "internal_error", times=6, status=500)
    harness.api.step = 0.0
    await slack.wait_for(lambda: notices(slack), 20)
    assert slack.faults["chat.update"]  # the final form has not landed yet
    assert not final(slack.messages["C1"][0])
    await until_closed(harness)  # and is tried again until it lands
    assert slack.faults["chat.update"] == []
    assert final(slack.messages["C1"][0])
    assert len(notices(slack)) == 1


def notifying(live: dict[str, Any], team: str = "T1", **fields: Any) -> Watch:
    """A watch caught between its `notifying` write and its notice (a crash, a failover)."""
    return Watch(
        team_id=team,
        user_id="U1",
        channel_id="C1",
        uids=["ok-1"],
        message_ts=live["ts"],
        message_key=f"C1:{live['ts']}",
        state="notifying",
        created_at=0,
        expires_at=10**10,
        snapshot={"ok-1": {"TaskUid": "ok-1", "TaskStatus": "Finished"}},
        **fields,
    )


async def test_the_search_window_is_slacks_clock_not_the_writers(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """The process that wrote `notifying` had a clock two minutes fast: its notice, already
    in the thread, must still be found, not sent again."""
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    settings = bot_settings(tmp_path, slack, api_url)
    live = slack.add_message("C1", text="live", blocks=[], bot_id="BBOT")
    watch = notifying(live, notice_due_at=time.time() + 120.0)
    store = await open_store(settings.state_url)
    assert await store.create_watch(watch, 60)
    await store.close()
    slack.add_message(
        "C1",
        thread_ts=live["ts"],
        text="All done",
        metadata={"event_type": NOTICE_EVENT, "event_payload": {"watch_id": watch.id}},
    )
    async with running_bot(settings) as bot:
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(3), 10)
        assert await bot.deps.store.open_watches(watch.workspace) == []
    assert len(notices(slack)) == 1
    [search] = slack.called("conversations.replies")
    assert search["oldest"] == live["ts"]  # Slack's own timestamp of the live message


async def test_thread_reads_stay_within_the_workspaces_budget(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Two watches to resume in one workspace, one thread read a minute: one is searched and
    notified; the other waits for the next minute, and is never notified blind."""
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    settings = bot_settings(tmp_path, slack, api_url)
    lives = [slack.add_message("C1", text=f"live {n}", blocks=[], bot_id="BBOT") for n in (1, 2)]
    watches = [notifying(live) for live in lives]
    store = await open_store(settings.state_url)
    for watch in watches:
        assert await store.create_watch(watch, 60)
    await store.close()
    async with running_bot(settings) as bot:
        await slack.wait_for(lambda: notices(slack))
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(5), 10)
        [waiting] = await bot.deps.store.open_watches("T1")
        assert waiting.state == "notifying"
    assert len(slack.called("conversations.replies")) == 1
    assert len(notices(slack)) == 1


async def test_one_workspaces_thread_reads_leave_anothers_budget_alone(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """One thread read a minute per workspace: a search in T1 spends T1's, so T2's watch is
    searched and notified in the same minute."""
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    settings = bot_settings(tmp_path, slack, api_url)
    lives = [slack.add_message("C1", text=f"live {n}", blocks=[], bot_id="BBOT") for n in (1, 2)]
    store = await open_store(settings.state_url)
    for live, team in zip(lives, ("T1", "T2"), strict=True):
        assert await store.create_watch(notifying(live, team), 60)
    await store.close()
    async with running_bot(settings) as bot:
        await slack.wait_for(lambda: len(notices(slack)) == 2)
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(3), 10)
        assert await bot.deps.store.open_watches("T1") == []
        assert await bot.deps.store.open_watches("T2") == []
    assert len(slack.called("conversations.replies")) == 2


# -- two watchers on one store, one clock moved by hand ------------------------------------


class SharedSlack:
    """The notices both watchers post, as Slack would keep them."""

    def __init__(self) -> None:
        self.notices: list[str] = []


class Recorder:
    def __init__(self, shared: SharedSlack) -> None:
        self.shared = shared
        self.final_edit = asyncio.Event()  # set when the final edit was asked for
        self.release = asyncio.Event()  # the final edit answers once this is set
        self.release.set()

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        if final:
            self.final_edit.set()
            await self.release.wait()
        return SENT

    def sort(self, exc: BaseException) -> SlackTrouble:
        return SlackTrouble("fault", type(exc).__name__)

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        self.shared.notices.append(watch.id)

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        return NoticePage(found=watch.id in self.shared.notices)

    async def note(self, watch: Watch, text: str) -> None:
        self.shared.notices.append(text)


async def _store(path: Path, clock: ManualClock) -> SqliteStore:
    db = await aiosqlite.connect(path, timeout=10.0, isolation_level=None)
    return SqliteStore(db, clock=clock)


async def test_a_holder_whose_final_edit_outlived_its_lease_sends_no_notice(
    tmp_path: Path, make_client: ClientFactory, fake_api: FakeTaskApi, clock: ManualClock
) -> None:
    """The final edit hangs (a rate-limit wait, a slow Slack) past the lease; another process
    resumes the watch, searches, finds nothing and notifies. The first must not notify too:
    the lease is checked again just before the notice."""
    path = tmp_path / "state.sqlite3"
    await (await SqliteStore.open(str(path))).close()
    first, second = await _store(path, clock), await _store(path, clock)
    config = WatchConfig(poll_interval=15.0, lease_margin=10.0)
    slack = SharedSlack()
    old_pub, new_pub = Recorder(slack), Recorder(slack)
    old = Watcher(
        first, OneClient(await make_client()), old_pub, config, clock=clock, monotonic=clock
    )
    new = Watcher(
        second, OneClient(await make_client()), new_pub, config, clock=clock, monotonic=clock
    )
    try:
        token = await old.reserve("T1", "U1")
        watch = old.new_watch(
            id=token, team_id="T1", user_id="U1", channel_id="C1", uids=["ok-1"], message_ts="1.0"
        )
        assert await old.begin(watch, []) is not None
        fake_api.step = 0.0  # finished at the next poll
        old_pub.release.clear()
        clock.advance(15.0)
        await old.tick()  # Finish: the final edit starts, and hangs
        await asyncio.wait_for(old_pub.final_edit.wait(), 5)
        clock.advance(old.lease_ttl + 1.0)
        await new.tick()  # takes the watch over and completes it
        await new.shutdown(grace=5.0)
        assert slack.notices == [token]
        old_pub.release.set()  # the first holder's edit answers at last
        await old.shutdown(grace=5.0)
        assert slack.notices == [token]
        stored = await second.get_watch("T1", token)
        assert stored is not None
        assert (stored.state, stored.end_reason) == ("done", "done")
    finally:
        await first.close()
        await second.close()


LONG = {"step": 3600.0, "watch_poll_interval": 0.5}
FIFTY = [f"ok-n{n:02d}" for n in range(50)]  # their picture links need follow-on messages


@pytest.mark.parametrize("harness", [LONG], indirect=True)
async def test_a_refused_follow_on_message_never_posts_the_notice_again(
    harness: Harness,
) -> None:
    """The notice's main message went out; its follow-on message meets Slack's per-channel
    limit. The notice is posted: the follow-on waits the limit out, the notice is not sent
    again."""
    slack = harness.slack
    await harness.command("watch " + " ".join(FIFTY))
    await slack.wait_for(lambda: "task_unwatch" in json.dumps(slack.messages.get("C1")), 10)
    stalled = slack.stall("chat.postMessage")  # the notice is served; its answer waits
    harness.api.step = 0.0  # every task finishes at its next poll
    await slack.wait_for(lambda: notices(slack), 15)
    window = slack.trouble("chat.postMessage", 60, retry_after=1.0, channel="C1")
    stalled.set()
    del slack.stalls["chat.postMessage"]
    await slack.wait_for(lambda: any(c.refused for c in slack.calls_to("chat.postMessage")), 10)
    window.until = time.monotonic()  # Slack takes posts again

    def follow_ons() -> list[dict[str, Any]]:
        thread = slack.thread("C1", slack.messages["C1"][0]["ts"])
        return [m for m in thread if str(m.get("text")).startswith("More pictures")]

    await slack.wait_for(follow_ons, 15)
    await until_closed(harness)
    assert len(notices(slack)) == 1
    assert len(follow_ons()) == 1
