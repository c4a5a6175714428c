"""Bolt's AsyncApp, without the per-request work this app has no use for.

Bolt's listener model stays as it is: the same decorators, matchers, middleware, `ack` and
argument names. Two things Bolt does on every request are done for less:

- Its argument injection builds every argument it knows of (about thirty: a dozen helper
  objects, each payload shape looked up) for every matcher and listener function it calls,
  then keeps the one or two the function names. Here a function gets the arguments it
  names, fetched the same way; a function naming anything else goes through Bolt's own
  injection. An action reached every earlier listener's matcher first, each paying for it.
- Since Bolt 1.15 every request gets a new `AsyncWebClient`, copied from the app's with the
  request's `team_id`, so that a listener may change its token without touching other
  requests. This app has one bot token and nothing changes it (Bolt's function-token
  middleware, the one thing that would, is off); the copy read proxy settings from the
  environment and copied the retry handlers, every time. Here the copy is made once per team.

Together these were a tenth of the CPU of a busy bot. One difference remains, on bodies Slack
never sends (and the strict decoder refuses): Bolt's injection failed on some malformed shapes
(a `view` without its `type`) before any listener ran, where here the listener runs and reads
what it names. Either way a body that trips the code reading it is a 400 (`request_errors`).
`slack-bolt` is pinned; the tests compare these arguments with Bolt's own for every kind of
request the app handles.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cachetools import LRUCache
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener import AsyncCustomListener
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.listener_matcher.async_listener_matcher import AsyncListenerMatcher
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_view,
)
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt import request_errors

Getter = Callable[[AsyncBoltRequest], Any]
TEAM_CLIENTS = 100  # workspaces whose client is kept (one, unless installed org-wide)

# Each as Bolt's `build_async_required_kwargs` makes it.
GETTERS: dict[str, Getter] = {
    "ack": lambda req: req.context.ack,
    "body": lambda req: req.body,
    "client": lambda req: req.context.client,
    "context": lambda req: req.context,
    "request": lambda req: req,  # its headers: Slack's retry number (`bot.slack.surfaces.follow`)
    "respond": lambda req: req.context.respond,
    "say": lambda req: req.context.say,
    "action": lambda req: to_action(req.body),
    "command": lambda req: to_command(req.body),
    "event": lambda req: to_event(req.body),
    "message": lambda req: to_message(req.body),
    "options": lambda req: to_options(req.body),
    "shortcut": lambda req: to_shortcut(req.body),
    "view": lambda req: to_view(req.body),
}


def getters_for(arg_names: Sequence[str]) -> tuple[tuple[str, Getter], ...] | None:
    """How to fetch each named argument, or None when one of them is left to Bolt."""
    if not all(name in GETTERS for name in arg_names):
        return None
    return tuple((name, GETTERS[name]) for name in arg_names)


def arguments(getters: tuple[tuple[str, Getter], ...], req: AsyncBoltRequest) -> dict[str, Any]:
    return {name: get(req) for name, get in getters}


class DirectMatcher(AsyncListenerMatcher):
    """A built-in matcher (they all take `body`), called with just what it names."""

    def __init__(
        self, matcher: AsyncBuiltinListenerMatcher, getters: tuple[tuple[str, Getter], ...]
    ):
        self._func: Callable[..., Awaitable[bool]] = matcher.func  # type: ignore[assignment]
        self._getters = getters

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        return await self._func(**arguments(self._getters, req))


class DirectListener(AsyncCustomListener):
    """A listener whose function is called with just the arguments it names."""

    _getters: tuple[tuple[str, Getter], ...]

    async def run_ack_function(
        self, *, request: AsyncBoltRequest, response: BoltResponse
    ) -> BoltResponse | None:
        return await self.ack_function(**arguments(self._getters, request))


def _copy(client: AsyncWebClient, token: str | None, team_id: str | None) -> AsyncWebClient:
    """The client Bolt makes for each request of `team_id` (`AsyncApp._init_context`), of
    the app client's own class, with what that class adds (its gate for Slack's limits)."""
    copy = type(client)(
        token=token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=client.headers,
        team_id=team_id,
        logger=client.logger,
        retry_handlers=client.retry_handlers.copy() if client.retry_handlers is not None else None,
    )
    added = {k: v for k, v in vars(client).items() if k not in vars(copy)}
    vars(copy).update(added)
    return copy


def _direct(listener: AsyncCustomListener) -> AsyncCustomListener:
    matchers = [_direct_matcher(m) for m in listener.matchers]
    getters = getters_for(listener.arg_names)
    if getters is None:
        listener.matchers = matchers
        return listener
    direct = DirectListener(
        app_name=listener.app_name,
        ack_function=listener.ack_function,
        lazy_functions=listener.lazy_functions,
        matchers=matchers,
        middleware=listener.middleware,
        auto_acknowledgement=listener.auto_acknowledgement,
        ack_timeout=listener.ack_timeout,
    )
    direct.logger = listener.logger
    direct._getters = getters
    return direct


def _direct_matcher(matcher: AsyncListenerMatcher) -> AsyncListenerMatcher:
    if type(matcher) is not AsyncBuiltinListenerMatcher:
        return matcher
    getters = getters_for(matcher.arg_names)
    return matcher if getters is None else DirectMatcher(matcher, getters)


class LeanApp(AsyncApp):
    def __init__(self, **kwargs: Any) -> None:
        # Bolt's function-token middleware sets `context.client.token` for requests from a
        # workflow function: with clients kept from request to request, that token would stay
        # for every later call. This app runs no workflow functions.
        kwargs["attaching_function_token_enabled"] = False
        super().__init__(**kwargs)
        self._context_logger = get_bolt_app_logger(self.name, base_logger=self._base_logger)
        self._team_clients: LRUCache[str | None, AsyncWebClient] = LRUCache(TEAM_CLIENTS)

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

    def _init_context(self, req: AsyncBoltRequest) -> None:
        """What Bolt's own sets, with the client kept for the request's team."""
        context = req.context
        context["logger"] = self._context_logger
        context["token"] = self._token
        context["client"] = self._client_for(context.team_id)
        context["listener_runner"] = self.listener_runner

    def _client_for(self, team_id: str | None) -> AsyncWebClient:
        client = self._team_clients.get(team_id)
        if client is None:
            client = self._team_clients[team_id] = _copy(self._async_client, self._token, team_id)
        return client

    def _register_listener(self, *args: Any, **kwargs: Any) -> Any:
        registered = super()._register_listener(*args, **kwargs)
        listener = self._async_listeners[-1]
        if type(listener) is AsyncCustomListener:
            self._async_listeners[-1] = _direct(listener)
        return registered
