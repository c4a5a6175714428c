"""What the Slack side tells an operator: ack and answer latency, Slack API errors, and the
correlation ids every log line of a request carries (see `bot.ops.logs`)."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import FormData
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.ops.logs import bind
from bot.ops.metrics import Metrics
from bot.slack.bolt.lean_bolt import LeanApp
from bot.slack.front.socket_front import StrictSocketModeHandler

# When the request being served reached the app (monotonic); unset outside request work.
_received: contextvars.ContextVar[float | None] = contextvars.ContextVar("received", default=None)


class Observe(AsyncMiddleware):
    """A global middleware: ids into the log context, the clock started for answer latency.

    A middleware class, not a function: Bolt calls a function middleware through its argument
    injection, which builds every argument it knows of, on every request.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        _received.set(time.monotonic())
        body = req.body
        bind(event_id=_text(body.get("event_id")), team=team_of(body))
        return await next()


def install(app: LeanApp, metrics: Metrics) -> None:
    """Ids and the answer clock per request, and each dispatch timed as the ack latency
    (`LeanApp.on_dispatched`)."""
    app.use(Observe())
    app.on_dispatched = metrics.ack_latency.observe


def answered(metrics: Metrics, surface: str) -> None:
    """An answer reached Slack: how long since its request reached the app."""
    received = _received.get()
    if received is not None:
        metrics.answer_latency.labels(surface).observe(time.monotonic() - received)


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from: events and commands say `team_id`, payloads `team`."""
    team = body.get("team")
    return _text(body.get("team_id")) or (_text(team.get("id")) if isinstance(team, dict) else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ObservedWebClient(AsyncWebClient):
    """Counts every failed Web API call by method and Slack's error code, then re-raises.

    Every method of the SDK client goes through `api_call`, so this is the one place to see
    them all without wrapping each call site.
    """

    metrics: Metrics | None = None

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        try:
            return await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            self._count(api_method, str(error or "unknown"))
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(api_method, type(exc).__name__)
            raise

    def _count(self, method: str, error: str) -> None:
        if self.metrics is not None:
            self.metrics.slack_errors.labels(method, error).inc()


class ObservedSocketModeHandler(StrictSocketModeHandler):
    """Puts each Socket Mode envelope's id into the log context of the work it starts (each
    envelope is handled in a task of its own, so ids never leak from one to the next)."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        bind(envelope_id=req.envelope_id)
        await super().handle(client, req)
