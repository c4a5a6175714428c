"""Several real `python -m bot` processes on one store, fed signed Slack requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from bot.testing.net import free_port
from tests.slack_harness import SIGNING_SECRET, sign


@dataclass
class Replica:
    process: asyncio.subprocess.Process
    url: str
    log: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    async def post(self, body: str, content_type: str, **headers: str) -> int:
        stamp = str(int(time.time()))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(body, stamp),
            **headers,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url + "slack/events", data=body.encode(), headers=all_headers) as r,
        ):
            await r.read()
            return r.status

    async def command(self, slack: FakeSlack, text: str, user: str = "U1") -> str:
        key = uuid.uuid4().hex
        form = {
            "command": "/taskstatus",
            "text": text,
            "team_id": HOME_TEAM,
            "channel_id": "C1",
            "user_id": user,
            "response_url": slack.response_url(key),
            "trigger_id": "t",
        }
        assert await self.post(urlencode(form), "application/x-www-form-urlencoded") == 200
        return key

    async def mention(self, text: str, ts: str, event_id: str, **headers: str) -> int:
        envelope = {
            "type": "event_callback",
            "team_id": HOME_TEAM,
            "api_app_id": "A1",
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": f"<@UBOT> {text}",
                "ts": ts,
                "channel": "C1",
                "event_ts": ts,
            },
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": HOME_TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        return await self.post(json.dumps(envelope), "application/json", **headers)

    async def message(
        self, text: str, ts: str, event_id: str, user: str = "U2", **headers: str
    ) -> int:
        """A person's message in C1 (a followed channel answers it; quiet follows)."""
        envelope = {
            "type": "event_callback",
            "team_id": HOME_TEAM,
            "api_app_id": "A1",
            "event": {
                "type": "message",
                "channel_type": "channel",
                "user": user,
                "text": text,
                "ts": ts,
                "channel": "C1",
                "event_ts": ts,
            },
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": HOME_TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        return await self.post(json.dumps(envelope), "application/json", **headers)

    async def click(
        self, slack: FakeSlack, action_id: str, value: str, message: dict[str, Any], user: str
    ) -> str:
        key = uuid.uuid4().hex
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": HOME_TEAM},
            "team": {"id": HOME_TEAM},
            "channel": {"id": "C1"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C1"},
            "message": message,
            "response_url": slack.response_url(key),
            "trigger_id": "t",
            "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        assert await self.post(body, "application/x-www-form-urlencoded") == 200
        return key

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, timeout)
        return code


@contextlib.asynccontextmanager
async def fleet(
    tmp_path: Path, slack: FakeSlack, api_url: str, state_url: str, **env: str
) -> AsyncIterator[Any]:
    """Yields `start()`, which starts one more replica; all are stopped on exit."""
    started: list[Replica] = []

    async def start() -> Replica:
        port = free_port()
        settings = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-fleet",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url + "api/",
            "BOT_MODE": "http",
            "TASK_API_URL": api_url,
            "TASK_API_PUBLIC_KEY": FAKE_PUBLIC_KEY,
            "TASK_API_PRIVATE_KEY": FAKE_PRIVATE_KEY,
            "TASK_API_TIMEOUT": "2",
            "STATE_URL": state_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
            "WATCH_POLL_INTERVAL": "0.2",
            "WATCH_UPLOAD_PICTURES": "false",
            "SHUTDOWN_GRACE": "5",
            # The test Redis has no replica, so each watch taken over is searched for its
            # notice before it is sent: thread reads as an internal app has them (Tier 3).
            "WATCH_THREAD_READS_PER_MINUTE": "60",
            **env,
        }
        cwd = tmp_path / f"replica{len(started)}"
        cwd.mkdir()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=settings,
            cwd=cwd,
            stderr=asyncio.subprocess.PIPE,
        )
        replica = Replica(process, f"http://127.0.0.1:{port}/")
        ready = asyncio.get_running_loop().create_future()
        replica.reader = asyncio.create_task(_read(replica, ready))
        started.append(replica)
        await asyncio.wait_for(ready, 30)  # the "listening on" log line
        return replica

    try:
        yield start
    finally:
        for n, replica in enumerate(started):
            print(
                f"--- replica {n} log (shown when a test fails) ---", *replica.log[-40:], sep="\n"
            )
            if replica.process.returncode is None:
                replica.process.kill()
                await replica.process.wait()


async def _read(replica: Replica, ready: asyncio.Future[None]) -> None:
    assert replica.process.stderr is not None
    async for raw in replica.process.stderr:
        line = raw.decode(errors="replace").rstrip()
        replica.log.append(line)
        if "listening on" in line and not ready.done():
            ready.set_result(None)
    if not ready.done():
        ready.set_exception(RuntimeError("bot exited:\n" + "\n".join(replica.log[-30:])))
