"""The two fronts: Socket Mode against a local websocket, and HTTP mode as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from pytest_aiohttp import AiohttpServer

from bot.taskapi.fake import FakeTaskApi, Faults
from bot.testing.fake_slack import HOME_TEAM
from bot.testing.net import free_port
from tests.slack_harness import (
    SIGNING_SECRET,
    sign,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)


async def test_socket_mode_serves_commands_and_mentions(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = socket_mode_settings(tmp_path, slack, api_url)
    assert settings.mode == "socket"
    async with socket_mode_bot(settings):
        command = slash_command(slack, "ok-1")
        ack = await slack.socket_send(
            {
                "envelope_id": "e1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": command,
            }
        )
        assert ack["envelope_id"] == "e1"
        await slack.wait_for(lambda: slack.responses.get("sock"))
        assert "ok-1" in json.dumps(slack.responses["sock"][0])
        event = {
            "type": "event_callback",
            "team_id": HOME_TEAM,
            "event_id": "EvS1",
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": "<@UBOT> ok-2",
                "ts": "5.1",
                "channel": "C1",
            },
        }
        await slack.socket_send({"envelope_id": "e2", "type": "events_api", "payload": event})
        [post] = await slack.wait_for(lambda: slack.called("chat.postMessage"))
        assert post["thread_ts"] == "5.1"
        async with aiohttp.ClientSession() as session:
            health = await session.get(f"http://127.0.0.1:{settings.port}/healthz")
            assert (await health.json())["ok"] is True
    assert slack.called("apps.connections.open")  # opened through SLACK_API_URL


async def test_sigterm_finishes_acknowledged_work_and_exits_0(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    api = FakeTaskApi(step=0.0, faults=Faults(latency=1.0))
    slack, api_url = await start_fakes(aiohttp_server, api)
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-secret-token-value",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url + "api/",
        "TASK_API_URL": api_url,
        "TASK_API_PUBLIC_KEY": api.public_key,
        "TASK_API_PRIVATE_KEY": api.private_key,
        "STATE_URL": f"sqlite:///{tmp_path}/state.sqlite3",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    lines: list[str] = []
    while not any("listening on" in line for line in lines):
        line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
        assert line, "bot exited early: " + "".join(lines)
        lines.append(line)
    form = urlencode(
        {
            "command": "/taskstatus",
            "text": "ok-1",
            "team_id": HOME_TEAM,
            "channel_id": "C1",
            "user_id": "U1",
            "response_url": slack.response_url("term"),
        }
    )
    stamp = str(int(time.time()))
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.post(
            f"http://127.0.0.1:{port}/slack/events",
            data=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(form, stamp),
            },
        ) as response:
            assert response.status == 200
        assert time.monotonic() - started < 1.0  # acked before the 1 s upstream answer
    process.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
    assert await process.wait() == 0
    assert slack.responses.get("term"), "the acknowledged answer was dropped"
    logs = "".join(lines) + rest
    assert "xoxb-secret-token-value" not in logs
    assert SIGNING_SECRET not in logs
    assert all(json.loads(line) for line in logs.splitlines() if line.strip())
    assert "request_uuid=" in logs
