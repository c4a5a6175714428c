"""Socket Mode's front: every envelope checked as strictly as an HTTP body before Bolt sees it.

Slack's websocket is authenticated, so there is no signature; but a malformed envelope
(not JSON, nested 10,000 deep, a payload that is a list, `actions: []`, ...) would otherwise
raise inside slack_sdk or Bolt and log a traceback. Here it is one short WARNING within a
budget, and the envelope is acknowledged when it has an id, so Slack does not send it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_base_handler import AsyncBaseSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.ops.limited_log import LimitedLog
from bot.ops.logs import bind
from bot.slack.front.front_door import to_bolt
from bot.slack.front.reconnect import BackoffReconnect
from bot.slack.front.request_body import Malformed, socket_envelope

log = logging.getLogger(__name__)


class StrictSocketModeClient(BackoffReconnect, SocketModeClient):
    """slack_sdk's aiohttp client with its message parsing replaced by `socket_envelope`,
    and reconnects spaced out with backoff."""

    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_base = api_base
        self._refusals = LimitedLog(log)
        self._running: set[asyncio.Task[None]] = set()

    async def process_message(self) -> None:
        raw = await self.message_queue.get()
        if raw is None:
            return
        try:
            envelope = socket_envelope(raw, self._api_base)
        except Malformed as exc:
            self._refusals.warning("refused a Socket Mode envelope: %s", exc)
            if exc.envelope_id is not None:
                await self.send_socket_mode_response(SocketModeResponse(exc.envelope_id))
            return
        task = asyncio.create_task(self.run_message_listeners(envelope, raw))
        self._running.add(task)
        task.add_done_callback(self._running.discard)


class QuietConnectFailures(logging.Filter):
    """The SDK logs every failed websocket connection at ERROR with a traceback, and its text
    carries the connection URL (a one-time ticket to connect as the app). Such a record becomes
    one short WARNING naming the kind of error, within a budget."""

    def __init__(self) -> None:
        super().__init__()
        self._limiter = LimitedLog(log)

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Failed to connect"):
            return True
        if not self._limiter.allow():
            return False
        exc = record.exc_info[1] if record.exc_info else None
        record.msg = "Socket Mode: could not connect (%s); retrying%s"
        record.args = (type(exc).__name__ if exc else "?", self._limiter.take_suppressed())
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class StrictSocketModeHandler(AsyncBaseSocketModeHandler):
    """Bolt's `AsyncSocketModeHandler`, on `StrictSocketModeClient`."""

    app: AsyncApp

    def __init__(self, app: AsyncApp, app_token: str, api_base: str) -> None:
        self.app = app
        self.client = StrictSocketModeClient(
            api_base, app_token=app_token, logger=app.logger, web_client=app.client
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        if not any(isinstance(f, QuietConnectFailures) for f in app.logger.filters):
            app.logger.addFilter(QuietConnectFailures())

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        request = to_bolt(req.payload, build_headers(req) or {}, "socket_mode")
        response = await self.app.async_dispatch(request)
        if response.status == 200:
            await send_async_response(client, req, response, start)
        elif response.status < 500:
            # Refused (`request_errors` has said why, once) or taken by no listener: sending
            # it again would get the same answer, so it is acknowledged, as a 4xx is over HTTP.
            await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))
        # A 5xx, the bot's own fault, stays unacknowledged: Slack's retry may find it mended.


class ObservedSocketModeHandler(StrictSocketModeHandler):
    """Puts each Socket Mode envelope's id into the log context of the work it starts (each
    envelope is handled in a task of its own, so ids never leak from one to the next)."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        bind(envelope_id=req.envelope_id)
        await super().handle(client, req)
