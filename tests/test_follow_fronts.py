"""Following across processes and fronts: two replicas on one real Redis; Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpServer

from bot.slack.front.server import http_app, running_bot
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from tests.conftest import ManualClock
from tests.follow_events import message, text_of
from tests.slack_harness import (
    Harness,
    bot_settings,
    envelope,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)


@contextlib.asynccontextmanager
async def replica(
    slack: FakeSlack, api: FakeTaskApi, api_url: str, tmp_path: Path, url: str, **options: Any
) -> AsyncIterator[Harness]:
    clock = options.pop("clock")
    settings = bot_settings(tmp_path, slack, api_url, state_url=url, **options)
    async with running_bot(settings, clock) as bot, TestClient(TestServer(http_app(bot))) as http:
        yield Harness(bot, slack, api, http)


async def test_two_replicas_on_redis_answer_and_notify_each_message_once_and_share_the_cap(
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
    redis_url: str,
) -> None:
    async with aioredis.from_url(redis_url) as fresh:
        await fresh.flushdb()
    api = FakeTaskApi(step=0.2)  # live answers: both replicas poll, one notice each
    slack, api_url = await start_fakes(aiohttp_server, api)
    clock = ManualClock()
    clock.now = 60 * 2000 - 0.5  # one minute window for the whole test, ending soon
    options = {
        "follow_max_per_minute": 4,
        "clock": clock,
        "watch_poll_interval": 0.05,
        # No replica behind the test Redis: a watch taken over is searched for its notice.
        "watch_thread_reads_per_minute": 60,
    }
    async with (
        replica(slack, api, api_url, tmp_path, redis_url, **options) as one,
        replica(slack, api, api_url, tmp_path, redis_url, **options) as two,
    ):
        await one.command("follow", channel="C1")
        await slack.wait_for(lambda: slack.messages.get("C1"))

        async def deliver(
            harness: Harness, event: dict[str, Any], event_id: str, **headers: str
        ) -> None:
            body = json.dumps(envelope(event, event_id))
            assert (await harness.send(body, "application/json", **headers)).status == 200

        event = message("TaskUid: ok-1", ts="10.1")
        await asyncio.gather(
            deliver(one, event, "EvA"),
            deliver(two, event, "EvA", **{"X-Slack-Retry-Num": "1"}),  # the retry went elsewhere
            deliver(two, event, "EvB"),
        )
        await slack.wait_for(lambda: slack.thread("C1", "10.1"))
        burst = [message(f"TaskUid: ok-{n}", ts=f"20.{n}") for n in range(1, 9)]
        await asyncio.gather(
            *(deliver(one if n % 2 else two, e, f"EvBurst{n}") for n, e in enumerate(burst))
        )
        await slack.wait_for(lambda: any("skipped" in text_of(m) for m in slack.messages["C1"]))
        for harness in (one, two):
            await harness.bot.deps.tracker.idle.wait()
        assert len([m for m in slack.thread("C1", "10.1") if not m.get("metadata")]) == 1
        answered = [n for n in range(1, 9) if slack.thread("C1", f"20.{n}")]
        assert len(answered) == 3  # the cap of 4, shared: one went to the first message
        notes = [m for m in slack.messages["C1"] if "skipped" in text_of(m)]
        assert len(notes) == 1

        def notices() -> list[dict[str, Any]]:
            return [m for m in slack.messages["C1"] if m.get("metadata")]

        await slack.wait_for(lambda: len(notices()) >= 4)
        await asyncio.gather(*(h.bot.deps.watcher.wait_ticks(3) for h in (one, two)))
        threads = sorted(m["thread_ts"] for m in notices())
        assert threads == sorted(["10.1", *(f"20.{n}" for n in answered)])  # once each


async def test_socket_mode_follows_publishes_home_and_answers_the_modal(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = socket_mode_settings(tmp_path, slack, api_url)
    async with socket_mode_bot(settings):
        command = slash_command(slack, "follow")
        await slack.socket_send({"envelope_id": "e1", "type": "slash_commands", "payload": command})
        await slack.wait_for(lambda: slack.messages.get("C1"))
        event = envelope(message("built: `ok-3`", ts="30.1"))
        await slack.socket_send({"envelope_id": "e2", "type": "events_api", "payload": event})
        [reply] = await slack.wait_for(lambda: slack.thread("C1", "30.1"))
        assert "ok-3" in text_of(reply)

        opened = envelope({"type": "app_home_opened", "user": "U1", "tab": "home"})
        await slack.socket_send({"envelope_id": "e3", "type": "events_api", "payload": opened})
        await slack.wait_for(lambda: slack.homes.get("U1"))
        assert "<#C1>" in json.dumps(slack.homes["U1"])

        submission = {
            "type": "view_submission",
            "team": {"id": HOME_TEAM},
            "user": {"id": "U1", "team_id": HOME_TEAM},
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": "task_lookup_modal",
                "state": {"values": {"lookup_uids": {"uids": {"value": "no/good"}}}},
            },
        }
        ack = await slack.socket_send(
            {"envelope_id": "e4", "type": "interactive", "payload": submission}
        )
        assert ack["payload"]["response_action"] == "errors"
        assert "no/good" in ack["payload"]["errors"]["lookup_uids"]
