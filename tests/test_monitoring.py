"""What an operator sees: the metrics on their own port, histograms and error counts fed by
real requests, and log lines that carry correlation ids (never a secret)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpServer

from bot.ops.logs import AddCorrelation, JsonFormatter, RedactSecrets
from bot.slack.front.server import http_app, running_bot
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from bot.testing.net import free_port
from tests.slack_harness import (
    Harness,
    bot_settings,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)

METRICS_PORT = free_port()


@pytest.mark.parametrize(
    "harness", [{"metrics_port": METRICS_PORT, "host": "127.0.0.1"}], indirect=True
)
async def test_metrics_on_their_own_port(harness: Harness) -> None:
    assert (await harness.http.get("/metrics")).status == 404  # not next to /slack/events
    assert (await harness.http.get("/healthz")).status == 200
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{METRICS_PORT}/metrics") as resp:
            assert resp.status == 200
            assert "taskstatus_ack_seconds" in await resp.text()
        async with session.get(f"http://127.0.0.1:{METRICS_PORT}/healthz") as resp:
            assert resp.status == 200
        async with session.post(f"http://127.0.0.1:{METRICS_PORT}/slack/events") as resp:
            assert resp.status in (404, 405)


def sample(metrics: str, prefix: str) -> float:
    """The value of the first sample line starting with `prefix`."""
    line = next(line for line in metrics.splitlines() if line.startswith(prefix))
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.parametrize("harness", [{"step": 0.0}], indirect=True)
async def test_histograms_and_errors_fed_by_real_requests(harness: Harness) -> None:
    _, key = await harness.command("ok-1 ok-2")
    await harness.answers(key)
    _, again = await harness.command("ok-1")  # finished: from the cache
    await harness.answers(again)
    harness.slack.not_in_channel.add("GPRIV")
    await harness.mention("ok-3", channel="GPRIV")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    metrics = await (await harness.http.get("/metrics")).text()
    assert sample(metrics, "taskstatus_ack_seconds_count") >= 3
    assert sample(metrics, 'taskstatus_answer_seconds_count{surface="command"}') == 2
    assert (
        sample(metrics, 'taskstatus_task_api_call_seconds_count{lane="person",outcome="ok"}') >= 1
    )
    assert sample(metrics, 'taskstatus_task_api_call_uids_sum{lane="person"}') >= 2
    assert sample(metrics, 'taskstatus_task_cache_lookups_total{result="hit"}') == 1
    assert sample(metrics, 'taskstatus_task_cache_lookups_total{result="miss"}') >= 2
    errors = 'taskstatus_slack_api_errors_total{error="not_in_channel",method="chat.postMessage"}'
    assert sample(metrics, errors) == 1
    assert (
        sample(metrics, "taskstatus_store_items") >= 0
    )  # sampled on a timer: see test_metrics_cost
    assert sample(metrics, "taskstatus_watch_tick_seconds_count") >= 1
    assert "taskstatus_watch_tick_lag_seconds_bucket" in metrics
    assert "taskstatus_watch_lease_takeovers_total 0.0" in metrics


@pytest.mark.parametrize("harness", [{"step": 0.0}], indirect=True)
async def test_metrics_carry_no_created_series(harness: Harness) -> None:
    _, key = await harness.command("ok-1")
    await harness.answers(key)
    metrics = await (await harness.http.get("/metrics")).text()
    assert sample(metrics, 'taskstatus_answer_seconds_count{surface="command"}') == 1
    assert "taskstatus_ack_seconds_bucket" in metrics
    assert "_created" not in metrics


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The app's JSON log handler, as `bot.ops.logs.configure` builds it, on a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactSecrets(["xoxb-test-token"]))
    handler.addFilter(AddCorrelation())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("harness", [{"step": 0.0}], indirect=True)
async def test_log_lines_carry_correlation_ids(harness: Harness, json_log: io.StringIO) -> None:
    harness.slack.not_in_channel.add("GPRIV")
    await harness.mention("ok-1", channel="GPRIV", event_id="EvCORRELATE1")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)  # its log line is last
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    call = next(line for line in lines if line["message"].startswith("task API call"))
    assert call["event_id"] == "EvCORRELATE1"
    assert call["team"] == "T0HOME"
    assert call["request_uuid"] in call["message"]
    refused = next(line for line in lines if line["message"].startswith("mention not answered"))
    assert refused["level"] == "WARNING"
    assert refused["event_id"] == "EvCORRELATE1"
    assert "xoxb-test-token" not in json_log.getvalue()


async def test_socket_mode_log_lines_carry_the_envelope_id(
    aiohttp_server: AiohttpServer, tmp_path: Path, json_log: io.StringIO
) -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = socket_mode_settings(tmp_path, slack, api_url)
    async with socket_mode_bot(settings):
        command = slash_command(slack, "ok-1")
        envelope = {"envelope_id": "eCORR", "type": "slash_commands", "payload": command}
        await slack.socket_send(envelope)
        await slack.wait_for(lambda: slack.responses.get("sock"))
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    call = next(line for line in lines if line["message"].startswith("task API call"))
    assert call["envelope_id"] == "eCORR"
    assert call["team"] == HOME_TEAM
    assert "xapp-test" not in json_log.getvalue()


async def test_a_watch_taken_over_after_a_restart_is_counted(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = bot_settings(tmp_path, slack, api_url, watch_poll_interval=0.05)
    async with running_bot(settings) as bot, TestClient(TestServer(http_app(bot))) as http:
        await Harness(bot, slack, api, http).command("watch slow-1")
        await slack.wait_for(lambda: slack.messages.get("C1"))
        await asyncio.wait_for(bot.deps.tracker.idle.wait(), 10)
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(2), 10)
        assert "taskstatus_watch_lease_takeovers_total 0.0" in bot.deps.metrics.render().decode()
    async with running_bot(settings) as bot:
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(2), 10)
        metrics = bot.deps.metrics.render().decode()
    assert "taskstatus_watch_lease_takeovers_total 1.0" in metrics
