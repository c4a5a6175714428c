"""The real bot, wired to a fake Slack and the fake task API, fed signed Slack requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpServer
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.slack.front.server import Bot, http_app, run_socket_mode, running_bot
from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from bot.testing.net import free_port

SIGNING_SECRET = "test-signing-secret"


@dataclass
class Harness:
    bot: Bot
    slack: FakeSlack
    api: FakeTaskApi
    http: TestClient[Any, Any]

    async def send(self, body: str, content_type: str, **headers: str) -> Any:
        stamp = str(int(time.time()))
        signature = sign(body, stamp)
        return await self.http.post(
            "/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
                **headers,
            },
        )

    async def command(
        self, text: str, *, channel: str = "C1", user: str = "U1", team: str = HOME_TEAM
    ) -> tuple[Any, str]:
        key = uuid.uuid4().hex
        form = {
            "command": "/taskstatus",
            "text": text,
            "team_id": team,
            "channel_id": channel,
            "user_id": user,
            "response_url": self.slack.response_url(key),
            "trigger_id": "t",
        }
        response = await self.send(urlencode(form), "application/x-www-form-urlencoded")
        return response, key

    async def interactive(self, payload: dict[str, Any]) -> Any:
        return await self.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def shortcut(
        self,
        callback: str,
        message: dict[str, Any],
        *,
        channel: str = "C1",
        user: str = "U1",
        team: str = HOME_TEAM,
    ) -> tuple[Any, str]:
        key = uuid.uuid4().hex
        payload = {
            "type": "message_action",
            "callback_id": callback,
            "trigger_id": "t",
            "message_ts": message["ts"],
            "message": message,
            "response_url": self.slack.response_url(key),
            "user": {"id": user, "team_id": team},
            "channel": {"id": channel},
            "team": {"id": HOME_TEAM},
        }
        return await self.interactive(payload), key

    async def mention(
        self,
        text: str,
        *,
        channel: str = "C1",
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
        fields: Any = None,  # event fields to add (Any: the headers below are str)
        **headers: str,
    ) -> Any:
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@UBOT> {text}",
            "ts": ts or f"{time.time():.6f}",
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        event.update(fields or {})
        body = json.dumps(envelope(event, event_id))
        return await self.send(body, "application/json", **headers)

    async def click(
        self,
        action_id: str,
        value: str,
        message: dict[str, Any],
        *,
        channel: str = "C1",
        user: str = "U1",
    ) -> tuple[Any, str]:
        key = uuid.uuid4().hex
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": HOME_TEAM},
            "team": {"id": HOME_TEAM},
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
            "message": message,
            "response_url": self.slack.response_url(key),
            "trigger_id": "t",
            "actions": [
                {
                    "action_id": action_id,
                    "value": value,
                    "type": "button",
                    "block_id": "b",
                    "action_ts": "1",
                }
            ],
        }
        return await self.interactive(payload), key

    async def answers(
        self, key: str, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        await self.slack.wait_for(lambda: len(self.slack.responses.get(key, [])) >= count, timeout)
        return self.slack.responses[key]


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API body, as Slack wraps `event` for the bot's home workspace."""
    return {
        "type": "event_callback",
        "team_id": HOME_TEAM,
        "api_app_id": "A1",
        "event": event,
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10],
        "event_time": int(time.time()),
        "authorizations": [{"team_id": HOME_TEAM, "user_id": "UBOT", "is_bot": True}],
    }


def bot_settings(tmp_path: Path, slack: FakeSlack, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.base_url + "api/",
        "bot_mode": "http",
        "task_api_url": api_url,
        "task_api_public_key": FAKE_PUBLIC_KEY,
        "task_api_private_key": FAKE_PRIVATE_KEY,
        "task_api_timeout": 2.0,
        "state_url": f"sqlite:///{tmp_path}/state.sqlite3",
        "watch_poll_interval": 0.05,
        "watch_upload_pictures": False,
        "picture_allow_private": True,  # the fake task API serves pictures on 127.0.0.1
        "shutdown_grace": 5.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def socket_mode_settings(
    tmp_path: Path, slack: FakeSlack, api_url: str, **overrides: Any
) -> Settings:
    """Socket Mode (an app token, no signing secret); health and metrics on a free loopback
    port, so parallel runs never meet on the default one."""
    values: dict[str, Any] = {
        "bot_mode": None,
        "slack_app_token": "xapp-test",
        "slack_signing_secret": None,
        "host": "127.0.0.1",
        "port": free_port(),
    }
    return bot_settings(tmp_path, slack, api_url, **{**values, **overrides})


@contextlib.asynccontextmanager
async def socket_mode_bot(settings: Settings) -> AsyncIterator[Bot]:
    """The bot with its Socket Mode front connected; the front is stopped and awaited on the
    way out, so a failing front fails the test."""
    stop = asyncio.Event()
    async with running_bot(settings) as bot:
        front = asyncio.create_task(run_socket_mode(bot, stop))
        try:
            yield bot
        finally:
            stop.set()
            await front


def slash_command(slack: FakeSlack, text: str, key: str = "sock") -> dict[str, Any]:
    """A `/taskstatus` payload as Slack sends it, answering to the fake's `response_url` `key`."""
    return {
        "command": "/taskstatus",
        "text": text,
        "team_id": HOME_TEAM,
        "channel_id": "C1",
        "user_id": "U1",
        "response_url": slack.response_url(key),
    }


async def start_fakes(aiohttp_server: AiohttpServer, api: FakeTaskApi) -> tuple[FakeSlack, str]:
    slack = FakeSlack()
    slack_server = await aiohttp_server(slack.app())
    slack.base_url = str(slack_server.make_url("/"))
    api_server = await aiohttp_server(api.app())
    return slack, str(api_server.make_url("/"))


@contextlib.asynccontextmanager
async def start_harness(
    aiohttp_server: AiohttpServer, tmp_path: Path, **options: Any
) -> AsyncIterator[Harness]:
    api = FakeTaskApi(step=options.pop("step", 0.0))
    clock = options.pop("clock", time.time)
    watch_clock = options.pop("watch_clock", time.time)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = bot_settings(tmp_path, slack, api_url, **options)
    async with running_bot(settings, clock, watch_clock=watch_clock) as bot:
        server = TestServer(http_app(bot))
        async with TestClient(server) as http:
            yield Harness(bot, slack, api, http)


def sign(body: str, stamp: str) -> str:
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return signature
