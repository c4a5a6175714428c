"""One gate for every Slack Web API call of the app: Slack's `Retry-After` and bad minutes.

Slack counts its rate limits per workspace and method, and posts per channel too. A 429
says how long the whole scope must rest, not just the request that met it, so the hold is
written to the store (`Store.hold_scope`) and every later call in that scope, from any task
of any replica, waits it out first. Each client has a `Policy`:

- answers (and Home, modals, notes) wait their turn: holds, then 429s, 5xx, connection
  errors and Slack's `internal_error`-like codes are waited out and tried again, for at
  most `ANSWER_PATIENCE` seconds in all (a time, not a count of tries);
- live edits of watches never wait: a held scope is refused at once as `ratelimited`, with
  the hold's rest as `Retry-After`, and the scheduler shows the newest state later;
- the completion notice never waits: not for a held scope, and not for long for its
  channel's posting turn (`ONCE_TURN_WAIT`), as it goes out under a lease checked just
  before; and no transport retry sends it twice (after a connection error the post may have
  reached Slack). Refused, it is put off to a later try.

Each try holds its channel's turn only while its request is under way: every wait (a hold, a
`Retry-After`, a backoff) is slept out with the turn handed on, so no call queues behind a
sleeping one.

Why an `AsyncWebClient` subclass overriding the public `api_call`: every method helper of
the SDK goes through it with its method name and arguments (the scope), and it runs before
the first request. slack_sdk's retry handlers only see a request after it was sent, cannot
hold one back, and are bounded by a count of tries per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import FormData
from cachetools import LRUCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse

from bot.ops.limited_log import LimitedLog
from bot.slack.delivery.observed_client import ObservedWebClient, copy_client
from bot.slack.delivery.slack_clients import current_workspace
from bot.store import Store

log = logging.getLogger(__name__)

ANSWER_PATIENCE = 60.0  # default of SLACK_RETRY_PATIENCE: seconds an answer may wait out Slack
MAX_HOLD = 600.0  # a Retry-After beyond this is taken as this (a garbled header)
BACKOFF_FIRST = 0.5  # seconds before the first retry of a 5xx or connection error; doubles
BACKOFF_MAX = 8.0
TURNS = 10_000  # channels whose per-process posting turn is kept
# Scoped per channel: Slack limits posting to a channel (about one message a second).
CHANNEL_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal", "files.upload"}
)
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


# Seconds the notice waits for its channel's posting turn, held by a post under way: longer,
# and it is refused as rate limited (the completion tries again), since its lease was checked
# just before the call and must still hold when the post leaves.
ONCE_TURN_WAIT = 1.0


@dataclass(frozen=True)
class Policy:
    wait: bool  # wait out a held scope (else refuse the call at once as rate limited)
    retry: bool  # try again after 429s, 5xx, connection errors and TRANSIENT_ERRORS
    patience: float  # seconds, from the call, after which nothing more is waited for
    turn_wait: float | None = None  # seconds for the channel's posting turn (None: no limit)


ANSWERS = Policy(wait=True, retry=True, patience=ANSWER_PATIENCE)
LIVE_EDITS = Policy(wait=False, retry=False, patience=0.0)
ONCE = Policy(wait=False, retry=False, patience=0.0, turn_wait=ONCE_TURN_WAIT)


def scope_of(team: str, method: str, args: dict[str, Any]) -> str:
    """Posts are held per channel; every other method per workspace."""
    channel = args.get("channel") or args.get("channel_id")
    if method in CHANNEL_METHODS and channel:
        return f"{team}/channel/{channel}"
    return f"{team}/method/{method}"


def _ws_of(scope: str) -> str:
    """The workspace a scope belongs to (`scope_of` puts it first): its hold is kept in that
    workspace's part of the store, so an uninstall deletes it and a cluster spreads them."""
    return scope.split("/", 1)[0]


class Holds:
    """The store's holds, and each channel's posting turn in this process.

    `team` is the bot token's workspace (from `auth.test`): Slack counts its limits there,
    and its holds are kept in that workspace's part of the store. In OAuth mode (no one
    team) each call's own workspace.
    """

    def __init__(self, store: Store, team: str = "") -> None:
        self._store = store
        self.team = team
        self._turns: LRUCache[str, asyncio.Lock] = LRUCache(TURNS)
        self._faults = LimitedLog(log)  # a store outage would otherwise log every call

    def scope(self, method: str, args: dict[str, Any]) -> str:
        return scope_of(self.team or current_workspace.get(), method, args)

    async def hold(self, scope: str, seconds: float) -> None:
        await self._store.hold_scope(_ws_of(scope), scope, min(max(seconds, 0.0), MAX_HOLD))

    async def left(self, scope: str) -> float:
        """Seconds the scope is still held; a store fault holds nothing (Slack still would)."""
        try:
            return await self._store.scope_held(_ws_of(scope), scope)
        except Exception as exc:
            self._faults.warning(
                "could not read Slack holds (%s); calling Slack anyway", type(exc).__name__
            )
            return 0.0

    @contextlib.asynccontextmanager
    async def turn(self, scope: str, timeout: float | None = None) -> AsyncIterator[bool]:
        """Posts to one channel leave this process one at a time, in order: after a 429 no
        other post of ours is already on its way there. Yields False when the turn could not
        be had within `timeout` seconds (None: waits as long as it takes)."""
        if "/channel/" not in scope:
            yield True
            return
        lock = self._turns.get(scope)
        if lock is None:
            lock = self._turns[scope] = asyncio.Lock()
        got = True
        try:
            async with asyncio.timeout(timeout):
                await lock.acquire()
        except TimeoutError:
            got = False
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


class PacedWebClient(ObservedWebClient):
    """An `AsyncWebClient` whose calls go through `holds` under `policy` (see the module).

    Built with `retry_handlers=[]`: the retries are here, bounded by time.
    """

    holds: Holds | None = None
    policy: Policy = ANSWERS

    def paced_copy(self, policy: Policy) -> PacedWebClient:
        """The same client (token, session, gate) under another policy."""
        copy = copy_client(self, self.token, self.default_params.get("team_id"))
        copy.policy = policy
        return copy

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
        call = super().api_call

        def send() -> Awaitable[AsyncSlackResponse]:
            return call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )

        if self.holds is None:
            return await send()
        args = {**(params or {}), **(data if isinstance(data, dict) else {}), **(json or {})}
        scope = self.holds.scope(api_method, args)
        return await self._paced(self.holds, scope, api_method, send)

    async def _paced(
        self,
        holds: Holds,
        scope: str,
        method: str,
        send: Callable[[], Awaitable[AsyncSlackResponse]],
    ) -> AsyncSlackResponse:
        """Try until sent, the policy gives up or the patience is spent. Each try takes the
        channel's turn for its request alone; every wait is slept with the turn released."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy.patience
        backoff = BACKOFF_FIRST
        while True:
            turn_wait = self.policy.turn_wait
            if turn_wait is None and self.policy.wait:  # a patient call waits its turn, for a while
                turn_wait = max(0.0, deadline - loop.time())
            async with holds.turn(scope, turn_wait) as got:
                if not got:
                    raise self._held(method, turn_wait or 0.0, "its channel's turn is taken")
                left = await holds.left(scope)
                if left <= 0:
                    try:
                        return await send()
                    except SlackApiError as exc:
                        retry_after = rate_limited(exc)
                        if retry_after is not None:  # written before the turn passes on
                            await holds.hold(scope, retry_after)
                        failure: Exception = exc
                    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                        failure = exc
            if left > 0:  # a hold set earlier (by any task or replica): sleep it out
                if not self.policy.wait or loop.time() + left > deadline:
                    raise self._held(method, left, "held by an earlier Retry-After")
                await asyncio.sleep(left)
                continue
            wait = self._retry_wait(failure, backoff, deadline)
            if isinstance(failure, SlackApiError) and rate_limited(failure) is not None:
                log.info("%s: rate limited; waiting %.1fs (%s)", method, wait, scope)
            else:
                log.info("%s: %s; trying again in %.1fs", method, _describe(failure), wait)
                backoff = min(backoff * 2, BACKOFF_MAX)
            await asyncio.sleep(wait)

    def _retry_wait(self, failure: Exception, backoff: float, deadline: float) -> float:
        """Seconds to sleep before trying `failure`'s call again; raises it when the policy
        or the patience left says not to."""
        now = asyncio.get_running_loop().time()
        if isinstance(failure, SlackApiError):
            retry_after = rate_limited(failure)
            if retry_after is not None:
                if self.policy.retry and now + retry_after <= deadline:
                    return retry_after
                raise failure
            if not transient(failure):
                raise failure
        if not self.policy.retry or now + backoff > deadline:
            raise failure
        return backoff

    def _held(self, method: str, left: float, why: str) -> SlackApiError:
        """Slack's own answer to a call in a held scope, without asking Slack."""
        response = AsyncSlackResponse(
            client=self,
            http_verb="POST",
            api_url=self.base_url + method,
            req_args={},
            data={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": str(max(1, math.ceil(left)))},
            status_code=429,
        )
        message = f"{method}: refused for {left:.1f}s, {why}"
        return SlackApiError(message, response)  # type: ignore[no-untyped-call]


def rate_limited(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait, when this is a rate limit; else None."""
    error = error_of(exc)
    if status_of(exc) != 429 and error not in RATE_LIMITED:
        return None
    headers = getattr(exc.response, "headers", None) or {}
    return retry_after_seconds(headers.get("Retry-After"))


def retry_after_seconds(value: str | None) -> float:
    """Slack's `Retry-After` header in seconds: 1 when missing or garbled."""
    try:
        return max(0.0, float(value or 1))
    except ValueError:
        return 1.0


def transient(exc: SlackApiError) -> bool:
    """Slack's trouble, not the call's: worth trying the same call again."""
    error = error_of(exc)
    return status_of(exc) >= 500 or error in TRANSIENT_ERRORS


def error_of(exc: SlackApiError) -> str | None:
    """Slack's error code; None when the body was not Slack's JSON."""
    response = exc.response
    if isinstance(response, AsyncSlackResponse | SlackResponse):
        error = response.get("error")
        return str(error) if error is not None else None
    return None


def status_of(exc: SlackApiError) -> int:
    # A body that is not JSON leaves aiohttp's own response here, which names it `status`.
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else 0


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        error = error_of(exc)
        return f"Slack answered {status_of(exc)} {error or ''}".rstrip()
    return type(exc).__name__


def sent_once(client: PacedWebClient, timeout: float) -> PacedWebClient:
    """A client for what must not be sent twice and is sent under a lease (the completion
    notice): no transport retry, no wait for a held scope (refused at once as rate limited),
    and a short `timeout`."""
    copy = client.paced_copy(ONCE)
    copy.timeout = int(timeout)
    return copy
