"""The stage the demo plays on: the bundled fake task API and fake Slack on free loopback
ports, the real bot between them in HTTP mode, and a Slack stand-in that signs every request
it sends exactly as Slack does."""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.slack.front.server import Bot, http_app, running_bot
from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTask, FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack

STEP = 1.0  # seconds each fake task status lasts: a watch ends in about two
POLL = 0.25  # seconds between the watcher's polls, so the demo shows changes as they come


@dataclass
class Stage:
    bot: Bot
    slack: FakeSlack
    api: FakeTaskApi
    session: aiohttp.ClientSession
    events_url: str
    signing_secret: str

    def finished_long_ago(self, uid: str, outcome: str = "Finished") -> None:
        """A task that ended before the demo began, as most tasks someone asks about have."""
        self.api.tasks[uid] = FakeTask(
            uid, outcome, pictures=2 if outcome == "Finished" else 0, first_seen=-1e9
        )

    async def wait_for(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        return await self.slack.wait_for(check, timeout)

    async def command(self, text: str, *, user: str, channel: str) -> tuple[str, dict[str, Any]]:
        """`/taskstatus text` from `user` in `channel`: its `response_url` key, and the answer
        in the acknowledgement itself (help, a bad UID), which Slack shows to `user` alone."""
        key = uuid.uuid4().hex
        form = {
            "command": "/taskstatus",
            "text": text,
            "team_id": HOME_TEAM,
            "channel_id": channel,
            "user_id": user,
            "response_url": self.slack.response_url(key),
            "trigger_id": "demo." + key,
        }
        ack = await self._send(urlencode(form), "application/x-www-form-urlencoded")
        return key, ack

    async def shortcut(self, callback: str, message: dict[str, Any], *, user: str) -> str:
        """A message shortcut on `message`, as Slack sends it from the message's menu."""
        key = uuid.uuid4().hex
        payload = {
            "type": "message_action",
            "callback_id": callback,
            "trigger_id": "demo." + key,
            "message_ts": message["ts"],
            "message": message,
            "response_url": self.slack.response_url(key),
            "user": {"id": user, "team_id": HOME_TEAM},
            "channel": {"id": message["channel"]},
            "team": {"id": HOME_TEAM},
        }
        body = urlencode({"payload": json.dumps(payload)})
        await self._send(body, "application/x-www-form-urlencoded")
        return key

    async def message_event(self, message: dict[str, Any]) -> None:
        """The Events API callback for a new message, as a channel's members see it."""
        envelope = {
            "type": "event_callback",
            "team_id": HOME_TEAM,
            "api_app_id": "ADEMO",
            "event": {"channel_type": "channel", **message},
            "event_id": "Ev" + uuid.uuid4().hex[:10],
            "event_time": int(time.time()),
            "authorizations": [{"team_id": HOME_TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        await self._send(json.dumps(envelope), "application/json")

    async def _send(self, body: str, content_type: str) -> dict[str, Any]:
        """Signed as Slack signs; the bot's acknowledgement body, when it carries a message."""
        stamp = str(int(time.time()))
        verifier = SignatureVerifier(self.signing_secret)
        signature = verifier.generate_signature(timestamp=stamp, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": str(signature),
        }
        async with self.session.post(self.events_url, data=body.encode(), headers=headers) as r:
            if r.status != 200:
                raise RuntimeError(f"the bot answered {r.status}: {await r.text()}")
            if r.content_type != "application/json":
                return {}
            ack = await r.json()
            return ack if isinstance(ack, dict) else {}


@contextlib.asynccontextmanager
async def stage() -> AsyncIterator[Stage]:
    """Everything up, on loopback ports the system picks, state in a temporary directory;
    all of it closed and removed on the way out."""
    api, slack = FakeTaskApi(step=STEP), FakeSlack()
    secret = secrets.token_hex(16)
    async with contextlib.AsyncExitStack() as stack:
        state = stack.enter_context(tempfile.TemporaryDirectory(prefix="taskbot-demo-"))
        api_url = await stack.enter_async_context(_serving(api.app()))
        slack.base_url = await stack.enter_async_context(_serving(slack.app()))
        settings = demo_settings(slack.base_url + "api/", api_url, f"{state}/state.sqlite3", secret)
        bot = await stack.enter_async_context(running_bot(settings))
        events = await stack.enter_async_context(_serving(http_app(bot)))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        yield Stage(bot, slack, api, session, events + "slack/events", secret)


def demo_settings(slack_api: str, task_api: str, state_path: str, secret: str) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-demo",  # noqa: S106 - only the fake Slack ever sees it
        slack_signing_secret=secret,
        slack_api_url=slack_api,
        bot_mode="http",
        host="127.0.0.1",
        task_api_url=task_api,
        task_api_public_key=FAKE_PUBLIC_KEY,
        task_api_private_key=FAKE_PRIVATE_KEY,
        state_url=f"sqlite:///{state_path}",
        watch_poll_interval=POLL,
        # The fake's pictures live on loopback: Slack could not fetch them, so none is uploaded.
        watch_upload_pictures=False,
        picture_allow_private=True,
        shutdown_grace=2.0,
    )


@contextlib.asynccontextmanager
async def _serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on a loopback port the system picks (none is guessed, so none can clash)."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()
