"""Start-up order and shutdown through real `python -m bot` processes.

Nothing writes to Slack or to the store before start-up has succeeded (port bound, Slack
connected, store reachable); SIGTERM exits 0 in every state, imports included; and after
SIGTERM the HTTP front answers 503 for `SHUTDOWN_DRAIN` even with nothing in flight.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from bot.records.watch import Watch
from bot.store.sqlite import SqliteStore
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from bot.testing.net import free_port
from tests.bot_process import BotProcess, good_env
from tests.slack_harness import sign, start_fakes


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, FakeTaskApi, str]:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    return slack, api, api_url


@pytest.fixture
async def port_in_use() -> AsyncIterator[int]:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()


async def stored_watch(path: Path) -> Watch:
    """A live watch whose task has finished upstream: its next tick would end it."""
    store = await SqliteStore.open(str(path))
    watch = Watch(
        team_id=HOME_TEAM,
        user_id="U1",
        channel_id="C1",
        uids=["ok-done-1"],
        message_key="C1:1700000000.000100",
        message_ts="1700000000.000100",
        created_at=time.time(),
        expires_at=time.time() + 3600,
    )
    assert await store.create_watch(watch, 3600.0)
    await store.close()
    return watch


async def test_a_failed_start_touches_no_watch(
    fakes: tuple[FakeSlack, FakeTaskApi, str], tmp_path: Path, port_in_use: int
) -> None:
    """The port is taken: exit 2 before the stored watch is polled, edited or notified."""
    slack, api, api_url = fakes
    watch = await stored_watch(tmp_path / "state.sqlite3")
    env = good_env(slack, api_url, tmp_path, port_in_use)
    env["WATCH_POLL_INTERVAL"] = "0.05"
    code, err, _ = await (await BotProcess.start(env, tmp_path)).finish()
    assert code == 2, err
    assert "address already in use" in err
    assert [c.method for c in slack.calls] == ["auth.test"]  # no edit, no notice
    assert api.calls == []  # not even polled
    store = await SqliteStore.open(str(tmp_path / "state.sqlite3"))
    after = await store.get_watch(HOME_TEAM, watch.id)
    await store.close()
    assert after is not None
    assert (after.state, after.version) == ("active", 1)


async def test_sigterm_while_importing_exits_0(tmp_path: Path) -> None:
    """`-X importtime` reports each import as it ends: SIGTERM lands in the middle of them,
    long before the event loop (and its signal handlers) exists."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "bot",
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    while b"pydantic" not in (line := await asyncio.wait_for(process.stderr.readline(), 20)):
        assert line, "the bot exited before importing pydantic"
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.stderr.read(), 20)
    assert await asyncio.wait_for(process.wait(), 20) == 0


async def answers(session: aiohttp.ClientSession, port: int) -> tuple[int, int] | None:
    """`/readyz` and a signed Slack request, or None once the listener is gone."""
    form = urlencode({"command": "/taskstatus", "text": "ok-1", "team_id": HOME_TEAM})
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(form, stamp),
    }
    url = f"http://127.0.0.1:{port}/"
    try:
        async with session.get(url + "readyz") as ready:
            ready_status = ready.status
        async with session.post(url + "slack/events", data=form, headers=headers) as events:
            return ready_status, events.status
    except aiohttp.ClientConnectionError:
        return None


async def test_an_idle_bot_answers_503_for_the_drain_delay_then_exits_0(
    fakes: tuple[FakeSlack, FakeTaskApi, str], tmp_path: Path
) -> None:
    slack, _, api_url = fakes
    port = free_port()
    env = {**good_env(slack, api_url, tmp_path, port), "SHUTDOWN_DRAIN": "1.5"}
    bot = await BotProcess.start(env, tmp_path)
    await bot.wait_for_line("listening on")
    seen: list[tuple[int, int]] = []
    # A fresh connection each time, as a load balancer's probes and Slack's requests come.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(f"http://127.0.0.1:{port}/readyz") as ready:
            assert ready.status == 200
        bot.process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        await bot.wait_for_line("stopping: no new work")
        while (got := await answers(session, port)) is not None:
            seen.append(got)
            await asyncio.sleep(0.1)  # a probe's period: the time passing is what is tested
        gone = time.monotonic() - sent
    code, err, _ = await bot.finish()
    assert code == 0, err
    assert seen, "the listener closed at once"
    assert set(seen) == {(503, 503)}
    assert 1.4 <= gone < 1.5 + 2.0, gone
