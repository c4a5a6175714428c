"""Bolt's AsyncApp, without the per-request work this app has no use for.

Bolt's listener model stays as it is: the same decorators, matchers, middleware, `ack` and
argument names. Two things Bolt does on every request are done for less:

- Its argument injection builds every argument it knows of (about thirty: a dozen helper
  objects, each payload shape looked up) for every matcher and listener function it calls,
  then keeps the one or two the function names. Here a function gets the arguments it
  names, fetched the same way; a function naming anything else goes through Bolt's own
  injection. An action reached every earlier listener's matcher first, each paying for it.
- Since Bolt 1.15 every request gets a new `AsyncWebClient`, copied from the app's, so that a
  listener may change its token without touching other requests. This app has one bot token
  and no listener changes it; the copy reads proxy settings from the environment and copies
  the retry handlers, every time.

Together these were a tenth of the CPU of a busy bot. `slack-bolt` is pinned; the tests
compare these arguments with Bolt's own for every kind of request the app handles.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

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

Getter = Callable[[AsyncBoltRequest], Any]

# Each as Bolt's `build_async_required_kwargs` makes it.
GETTERS: dict[str, Getter] = {
    "ack": lambda req: req.context.ack,
    "body": lambda req: req.body,
    "client": lambda req: req.context.client,
    "context": lambda req: req.context,
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
    _context_logger: logging.Logger | None = None

    def _init_context(self, req: AsyncBoltRequest) -> None:
        """What Bolt's own sets, with the app's client instead of a copy."""
        if self._context_logger is None:
            self._context_logger = get_bolt_app_logger(self.name, base_logger=self._base_logger)
        context = req.context
        context["logger"] = self._context_logger
        context["token"] = self._token
        context["client"] = self._async_client
        context["listener_runner"] = self.listener_runner

    def _register_listener(self, *args: Any, **kwargs: Any) -> Any:
        registered = super()._register_listener(*args, **kwargs)
        listener = self._async_listeners[-1]
        if type(listener) is AsyncCustomListener:
            self._async_listeners[-1] = _direct(listener)
        return registered
