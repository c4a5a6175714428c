"""Bolt's AsyncApp, extended only where Bolt says it may be: global middleware, listener
options, `async_dispatch` and the arguments its constructor takes. No private method of
Bolt is overridden, so a Bolt release that keeps its public API keeps this app working.

What it adds to Bolt:

- The client of each request is of the app client's own class (`PacedWebClient`: the one
  gate for Slack's limits, and the count of failed calls, `bot.slack.delivery.pacing`,
  `bot.slack.bolt.observe`). Bolt makes a plain `AsyncWebClient` for every request (since 1.15,
  so that a listener may change its token without touching other requests); the
  `TeamClients` middleware puts in its place the client kept for the request's team and
  token, made once. A workflow function's per-execution token (set on Bolt's own
  per-request client by its function-token middleware, which runs before any of the app's)
  gets a client of its own, never kept: no kept client is ever re-tokened. The one call
  Bolt makes before it, the single-team `auth.test` (once per process), goes through Bolt's
  own client.
- Each dispatch is timed (`on_dispatched`: the ack latency) and a body that trips Bolt
  while it builds the request's context is refused as its listeners' would be.

Listener functions get their arguments from Bolt's own injection, and every request still
gets Bolt's own client before `TeamClients` replaces it. Each was a private override here
until Bolt's own took its place (`_register_listener`, `_init_context`); each was worth about
0.07 ms of CPU per answer (`bench/answer_cost.py`: bot / floor 1.30x then, 1.44x now), too
little to be worth what a Bolt release could break.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import LRUCache
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt import request_errors
from bot.slack.delivery.observed_client import copy_client

TEAM_CLIENTS = 100  # (team, token) pairs whose client is kept (one, unless installed org-wide)


class TeamClients(AsyncMiddleware):
    """A global middleware, the app's first (Bolt's own, authorization and the function
    token included, run before it): the request's client becomes the app client's kind.

    A class, not a function: Bolt calls a function middleware through its argument
    injection, which builds every argument it knows of, on every request.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._kept: LRUCache[tuple[str | None, str | None], AsyncWebClient] = LRUCache(TEAM_CLIENTS)

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        context = req.context
        context["client"] = self.client_for(
            context.team_id, context.client.token, keep=context.function_bot_access_token is None
        )
        return await next()

    def client_for(self, team_id: str | None, token: str | None, *, keep: bool) -> AsyncWebClient:
        if not keep:  # a workflow function's token: valid for one execution only
            return copy_client(self._client, token, team_id)
        key = (team_id, token)
        client = self._kept.get(key)
        if client is None:
            client = self._kept[key] = copy_client(self._client, token, team_id)
        return client


class LeanApp(AsyncApp):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.team_clients = TeamClients(self.client)
        self.use(self.team_clients)

    # Told how long each dispatch took: Bolt returns once the listener has acknowledged
    # (`process_before_response`), so that is the ack latency, in both modes. A global
    # middleware cannot time it: Bolt runs listeners after the last middleware returned.
    on_dispatched: Callable[[float], object] | None = None

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.monotonic()
        try:
            response = await super().async_dispatch(req)
        except request_errors.SHAPE_ERRORS as exc:
            # Bolt builds its context outside its own error handling: a body that trips it
            # is refused as its listeners' would be.
            response = request_errors.refuse(exc)
        if self.on_dispatched is not None:
            self.on_dispatched(time.monotonic() - started)
        return response
