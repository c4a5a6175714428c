"""Hostile text through the real app: signed mentions and message events never stall it.

A message of 40,000 characters is read in well under a second now; the quadratic reading
held the event loop (every request, tick and probe) for tens of seconds. `BUDGET` is the time
from sending the event to the answer, or to the next health probe answered: generous for a
loaded two-core machine, far below the old stall.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from pytest_aiohttp import AiohttpServer

from bot.reading.parse import MAX_TEXT
from bot.taskapi.fake import FakeTaskApi
from tests.follow_events import message, send_event, text_of, thread_replies
from tests.hostile_text import hostile, old_worst
from tests.slack_harness import (
    Harness,
    envelope,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)
from tests.test_follow_e2e import follow
from tests.test_monitoring import sample

BUDGET = 5.0


async def stall(harness: Harness, send: Callable[[], Awaitable[Any]]) -> float:
    """Seconds from sending a request to the next health probe answered: a handler reading
    a text on the event loop holds the probe until it is done."""
    start = time.monotonic()
    await send()
    assert (await harness.http.get("/healthz")).status == 200
    return time.monotonic() - start


MENTION = MAX_TEXT - len("<@UBOT> ")  # the harness puts the mention before the text


@pytest.mark.parametrize(
    "text",
    [
        old_worst(MENTION),  # 49 s before on a busy machine (bench/parse_worst.py)
        hostile("_", "after 'task'", MENTION),
        hostile("`&lt;", "in a code span", MENTION),  # the slowest family now
    ],
    ids=["underscores after TaskUid", "underscores after task", "code spans of escapes"],
)
async def test_a_hostile_mention_is_answered_within_the_budget(harness: Harness, text: str) -> None:
    start = time.monotonic()
    response = await harness.mention(text)
    assert response.status == 200
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"), 60)
    assert time.monotonic() - start < BUDGET
    [note] = harness.slack.called("chat.postEphemeral")
    assert "found no task UID" in str(note)


async def test_a_hostile_message_in_a_followed_channel_is_answered_within_the_budget(
    harness: Harness,
) -> None:
    await follow(harness)
    named = "TaskUid: ok-7\n"
    text = named + old_worst(len(old_worst()) - len(named))
    start = time.monotonic()
    await send_event(harness, message(text, ts="500.1"))
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "500.1"), 60)
    assert time.monotonic() - start < BUDGET
    [reply] = thread_replies(harness, "C1", "500.1")
    assert "ok-7" in text_of(reply)


# An operator's pattern that takes seconds on a line of `x`: only reading the text costs
# anything, so the time shows whether it was read at all.
SLOW_PATTERN = {"task_uid_pattern": "x*y"}


@pytest.mark.parametrize("harness", [SLOW_PATTERN], indirect=True)
async def test_a_message_in_a_channel_not_followed_is_not_read(harness: Harness) -> None:
    event = message("x" * 20_000, channel="C5")
    assert await stall(harness, lambda: send_event(harness, event)) < BUDGET / 2
    await harness.bot.deps.tracker.idle.wait()
    assert harness.slack.called("chat.postMessage") == []


async def test_a_retry_of_an_event_already_taken_is_dropped_unread(harness: Harness) -> None:
    """The `follow` request count goes up once per message read that names tasks."""
    await follow(harness)
    event = message("TaskUid: ok-8", ts="500.2")
    await send_event(harness, event, "EvFirst")
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "500.2"))
    for attempt in ("1", "2"):
        await send_event(harness, event, "EvFirst", **{"X-Slack-Retry-Num": attempt})
    await send_event(harness, message("TaskUid: ok-9", ts="500.3"), "EvNext")
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "500.3"))
    await harness.bot.deps.tracker.idle.wait()
    metrics = await (await harness.http.get("/metrics")).text()
    assert sample(metrics, 'taskstatus_slack_requests_total{surface="follow"}') == 2
    assert len(thread_replies(harness, "C1", "500.2")) == 1


async def test_a_retry_of_an_event_never_taken_is_still_answered(harness: Harness) -> None:
    """A first delivery that was lost (here: never sent) leaves the retry to answer."""
    await follow(harness)
    event = message("TaskUid: ok-10", ts="500.4")
    await send_event(harness, event, "EvLost", **{"X-Slack-Retry-Num": "1"})
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "500.4"))
    assert "ok-10" in text_of(thread_replies(harness, "C1", "500.4")[0])


async def test_a_socket_mode_retry_of_an_event_already_taken_is_dropped_unread(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Socket Mode says `retry_attempt` in the envelope, not in a header."""
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    async with socket_mode_bot(socket_mode_settings(tmp_path, slack, api_url)) as bot:
        command = slash_command(slack, "follow")
        await slack.socket_send({"envelope_id": "e1", "type": "slash_commands", "payload": command})
        await slack.wait_for(lambda: slack.messages.get("C1"))
        first = envelope(message("TaskUid: ok-8", ts="40.1"), "EvSock")
        retry = {"retry_attempt": 1, "retry_reason": "timeout"}
        for envelope_id, extra in (("e2", {}), ("e3", retry), ("e4", retry)):
            await slack.socket_send(
                {"envelope_id": envelope_id, "type": "events_api", "payload": first, **extra}
            )
        await slack.wait_for(lambda: slack.thread("C1", "40.1"))
        last = envelope(message("TaskUid: ok-9", ts="40.2"))
        await slack.socket_send({"envelope_id": "e5", "type": "events_api", "payload": last})
        await slack.wait_for(lambda: slack.thread("C1", "40.2"))
        await bot.deps.tracker.idle.wait()
        metrics = generate_latest(bot.deps.metrics.registry).decode()
        assert sample(metrics, 'taskstatus_slack_requests_total{surface="follow"}') == 2
        assert len(slack.thread("C1", "40.1")) == 1
