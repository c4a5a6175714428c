"""Slack's `Retry-After` holds its whole scope, for every task and every process, and answers
wait their turn: through the real app (and real processes), a real store and the fake Slack."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery.pacing import (
    ANSWERS,
    ONCE_TURN_WAIT,
    Holds,
    PacedWebClient,
    scope_of,
    sent_once,
)
from bot.store import Store, open_store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, Call, FakeSlack
from tests.conftest import ManualClock
from tests.fleet import fleet
from tests.follow_events import message, send_event, text_of, thread_replies
from tests.slack_harness import start_fakes, start_harness
from tests.test_fleet import until

MID_WINDOW = ManualClock()
MID_WINDOW.now = 60 * 2000 + 5.0  # the whole burst falls in one FOLLOW_MAX_PER_MINUTE window
HOLD = 2.0  # Slack's Retry-After in these tests


def held_calls(calls: list[Call], hold: float) -> list[tuple[Call, Call]]:
    """Pairs (429, call): a call that reached Slack after a 429 and before its hold ended."""
    return [
        (refused, call)
        for refused in calls
        if refused.refused
        for call in calls
        if call is not refused and refused.at < call.at < refused.at + hold
    ]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_a_follow_burst_waits_out_the_channel_hold_and_answers_all_it_owes(
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    backend: str,
) -> None:
    state = (
        f"sqlite:///{tmp_path}/state.sqlite3"
        if backend == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    channel = "C" + uuid.uuid4().hex[:10].upper()  # Redis is shared by the whole session
    caplog.set_level(logging.WARNING)
    async with start_harness(aiohttp_server, tmp_path, state_url=state, clock=MID_WINDOW) as h:
        slack = h.slack
        response, _ = await h.command("follow", channel=channel)
        assert response.status == 200
        await slack.wait_for(lambda: slack.messages.get(channel))
        # Slack's per-channel posting limit: every post is refused for 4 s, Retry-After 2.
        slack.trouble("chat.postMessage", 2 * HOLD, retry_after=HOLD, channel=channel)
        stamps = [f"900.{n:02d}" for n in range(40)]
        for ts in stamps:
            await send_event(h, message(f"task: ok-m{ts[4:]}", channel=channel, ts=ts))
            await asyncio.sleep(0.1)  # the burst's own pace, as people and pipelines post

        def answered() -> list[str]:
            return [ts for ts in stamps if thread_replies(h, channel, ts)]

        await slack.wait_for(lambda: len(answered()) >= 20, timeout=30)
        assert len(answered()) == 20  # FOLLOW_MAX_PER_MINUTE, each answered once
        posts = slack.calls_to("chat.postMessage", channel)
        assert any(c.refused for c in posts)
        assert held_calls(posts, HOLD) == []
        assert all("ok-" in text_of(m) for ts in answered() for m in thread_replies(h, channel, ts))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []


# -- two processes ---------------------------------------------------------------------------


async def test_a_hold_set_by_one_process_is_kept_by_another(
    aiohttp_server: AiohttpServer, tmp_path: Path, redis_url: str, shared: Store
) -> None:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=3600.0))
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first, second = await start(), await start()
        window = slack.trouble("chat.postMessage", 30, retry_after=HOLD, channel="C1")
        assert await first.mention("ok-1", "800.1", "EvHold1") == 200
        scope = f"{HOME_TEAM}/channel/C1"
        deadline = time.monotonic() + 30
        while not await shared.scope_held(
            HOME_TEAM, scope
        ):  # written by the first process, in Redis
            assert time.monotonic() < deadline, "no hold was written"
            await asyncio.sleep(0.02)
        window.until = time.monotonic()  # Slack refused once; only the hold keeps calls back
        assert await second.mention("ok-2", "800.2", "EvHold2") == 200
        await slack.wait_for(
            lambda: slack.thread("C1", "800.1") and slack.thread("C1", "800.2"), timeout=30
        )
        posts = slack.calls_to("chat.postMessage", "C1")
        [refused] = [c for c in posts if c.refused]
        assert held_calls(posts, HOLD) == []
        [later] = [c for c in posts if c.args.get("thread_ts") == "800.2"]
        assert later.at >= refused.at + HOLD


# -- Slack's bad minutes, waited out by answers --------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, "service_unavailable"), (200, "internal_error"), (500, "fatal_error")],
)
async def test_an_answer_waits_out_slack_errors_for_a_while(
    aiohttp_server: AiohttpServer, tmp_path: Path, status: int, error: str
) -> None:
    async with start_harness(aiohttp_server, tmp_path) as h:
        slack = h.slack
        slack.trouble("chat.postMessage", 1.0, status=status, error=error, channel="C1")
        assert (await h.mention("ok-1", ts="700.1")).status == 200
        await slack.wait_for(lambda: slack.thread("C1", "700.1"), timeout=15)
        tries = slack.calls_to("chat.postMessage", "C1")
        assert tries[0].refused == error
        assert len(tries) >= 2
        assert not tries[-1].refused


async def test_live_edits_never_wait_for_a_held_scope(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    options = {"step": 0.1, "watch_poll_interval": 0.05}
    async with start_harness(aiohttp_server, tmp_path, **options) as h:
        slack, deps = h.slack, h.bot.deps
        await h.command("watch ok-1")
        await slack.wait_for(lambda: "task_unwatch" in text_of(slack.messages.get("C1", [{}])[0]))
        await deps.store.hold_scope(
            HOME_TEAM, f"{HOME_TEAM}/method/chat.update", HOLD
        )  # another replica's
        held_from = time.monotonic()
        # The tasks change every 0.1 s: ticks go on at their pace, none waits on the hold...
        await asyncio.wait_for(deps.watcher.wait_ticks(5), HOLD)
        # ...and no edit reached Slack during it.
        assert [c for c in slack.calls_to("chat.update") if c.at > held_from] == []
        assert deps.metrics.watch_updates.labels("rate_limited")._value.get() >= 1


# -- the completion notice never queues behind a waiting answer -----------------------------


@dataclass
class Clients:
    slack: FakeSlack
    store: Store
    answers: PacedWebClient
    notice: AsyncWebClient  # the notice's client: `ONCE`


@pytest.fixture
async def clients(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[Clients]:
    slack, _ = await start_fakes(aiohttp_server, FakeTaskApi())
    store = await open_store(f"sqlite:///{tmp_path}/state.sqlite3")
    async with aiohttp.ClientSession() as session:
        answers = PacedWebClient(
            token="xoxb-test", base_url=slack.base_url + "api/", session=session, retry_handlers=[]
        )
        answers.holds, answers.policy = Holds(store), ANSWERS
        yield Clients(slack, store, answers, sent_once(answers, timeout=10.0))
    await store.close()


async def test_the_notice_is_refused_at_once_while_an_answer_sleeps_out_a_retry_after(
    clients: Clients,
) -> None:
    """An answer met a 429 and sleeps out its Retry-After: the notice must not wait behind it
    (its lease was checked just before), but be refused at once as the channel is held."""
    slack = clients.slack
    window = slack.trouble("chat.postMessage", 60, retry_after=HOLD, channel="C1")
    answer = asyncio.create_task(clients.answers.chat_postMessage(channel="C1", text="answer"))
    await slack.wait_for(lambda: slack.calls_to("chat.postMessage", "C1"))
    scope = scope_of("", "chat.postMessage", {"channel": "C1"})
    await until(lambda: clients.store.scope_held("", scope))  # the answer's hold, in the store
    window.until = time.monotonic()  # Slack would take posts again; the hold stands
    began = time.monotonic()
    with pytest.raises(SlackApiError) as refused:
        await asyncio.wait_for(clients.notice.chat_postMessage(channel="C1", text="notice"), 5)
    assert time.monotonic() - began < 1.0  # a store read, not the answer's sleep
    assert refused.value.response["error"] == "ratelimited"
    assert float(refused.value.response.headers["Retry-After"]) >= 1
    await answer  # the answer still goes, once the hold is over
    assert [c.args["text"] for c in slack.calls_to("chat.postMessage")] == ["answer", "answer"]


async def test_the_notice_gives_up_a_channel_turn_taken_by_a_post_under_way(
    clients: Clients,
) -> None:
    """A post to the channel is on its way (Slack has not answered): the notice waits for
    its turn for a moment only, then is refused as rate limited, to be tried again."""
    slack = clients.slack
    stalled = slack.stall("chat.postMessage")
    answer = asyncio.create_task(clients.answers.chat_postMessage(channel="C1", text="answer"))
    await slack.wait_for(lambda: slack.calls_to("chat.postMessage", "C1"))
    began = time.monotonic()
    with pytest.raises(SlackApiError) as refused:
        await asyncio.wait_for(clients.notice.chat_postMessage(channel="C1", text="notice"), 5)
    assert time.monotonic() - began < ONCE_TURN_WAIT + 1.0
    assert refused.value.response["error"] == "ratelimited"
    stalled.set()
    await answer
    assert [c.args["text"] for c in slack.calls_to("chat.postMessage")] == ["answer"]
