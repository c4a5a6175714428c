"""What Bolt tells an operator: ack latency, the answer clock started, and the correlation ids
every log line of a request carries (see `bot.ops.logs`). Slack API errors are counted by
`bot.slack.delivery.observed_client`, answer latency by `bot.slack.delivery.latency`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.ops.logs import bind
from bot.ops.metrics import Metrics
from bot.slack.bolt.lean_bolt import LeanApp
from bot.slack.delivery import latency


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
        latency.start()
        body = req.body
        bind(event_id=_text(body.get("event_id")), team=team_of(body))
        return await next()


def install(app: LeanApp, metrics: Metrics) -> None:
    """Ids and the answer clock per request, and each dispatch timed as the ack latency
    (`LeanApp.on_dispatched`)."""
    app.use(Observe())
    app.on_dispatched = metrics.ack_latency.observe


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request comes from: events and commands say `team_id`, payloads `team`."""
    team = body.get("team")
    return _text(body.get("team_id")) or (_text(team.get("id")) if isinstance(team, dict) else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
