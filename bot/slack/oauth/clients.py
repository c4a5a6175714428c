"""OAuth mode's Slack client per workspace (`bot.slack.delivery.slack_clients`), and the
workspace each piece of work is for.

`Installed.client_for(ws)` is a copy of
the paced client (`copy_client`: same gate, metrics and session) carrying the installation's
current token, kept per (workspace, token) so a rotated token gets a new client and no kept
client is ever re-tokened.

The bot's long-lived clients (answers, live edits, notices, Home) are built once and shared;
in OAuth mode they carry no token and take the one of `current_workspace` at each call. The
variable is set for each request (`WorkspaceScope`, a Bolt middleware) and around each watch's
Slack work (`RoutedPublisher`); tasks started from there inherit it, as asyncio copies the
context into every task it creates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence

from cachetools import LRUCache
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.records.watch import Watch
from bot.slack.basics.payloads import delivered_to
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.observed_client import copy_client
from bot.slack.delivery.slack_clients import current_workspace
from bot.slack.oauth.rotation import TokenKeeper
from bot.taskapi.models import TaskResult
from bot.watch.publisher import Build, FollowOn, NoticePage, Outcome, Publisher, SlackTrouble

KEPT_CLIENTS = 1000  # (workspace, token) pairs whose client is kept


class NotInstalled(Exception):
    """A Slack call for a workspace that has no installation (or none was named)."""


class Installed:
    """OAuth mode: each workspace's client, with its installation's fresh token."""

    def __init__(self, base: AsyncWebClient, tokens: TokenKeeper) -> None:
        self._base = base
        self._tokens = tokens
        self._kept: LRUCache[tuple[str, str], AsyncWebClient] = LRUCache(KEPT_CLIENTS)
        # team -> its enterprise, for the teams of org-wide installs seen in requests: a
        # watch names its team, and the team's installation is its enterprise's.
        self._org: LRUCache[str, str] = LRUCache(KEPT_CLIENTS)

    def seen(self, team: str | None, ws: str) -> None:
        if team and team != ws:
            self._org[team] = ws

    async def client_for(self, ws: str) -> AsyncWebClient | None:
        kept = await self._tokens.fresh(ws)
        if kept is None:
            return None
        key = (ws, kept.bot_token)
        client = self._kept.get(key)
        if client is None:
            team = None if kept.is_enterprise_install else kept.team_id
            client = self._kept[key] = copy_client(self._base, kept.bot_token, team)
        return client

    async def installer(self, ws: str) -> str | None:
        kept = await self._tokens.fresh(ws)
        if kept is None or not kept.installer:
            return None
        return kept.installer

    def forget(self, ws: str) -> None:
        for key in [k for k in self._kept if k[0] == ws]:
            self._kept.pop(key, None)

    async def current_token(self) -> str:
        """The token of the workspace the running work is for (see the module)."""
        ws = current_workspace.get()
        kept = await self._tokens.fresh(self._org.get(ws, ws)) if ws else None
        if kept is None:
            raise NotInstalled(f"no installation for workspace {ws or '(none named)'}")
        return kept.bot_token


class WorkspaceScope(AsyncMiddleware):
    """Names the request's workspace for the shared clients (see the module). Not reset on
    the way out: Bolt runs the listener after the middleware chain returns, and each request
    runs in a task of its own."""

    def __init__(self, clients: Installed) -> None:
        self._clients = clients

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        ws = request_workspace(req.context)
        # An org-wide install's request names no team in Bolt's context; its body does.
        self._clients.seen(delivered_to(req.body) or req.context.team_id, ws)
        current_workspace.set(ws)
        return await next()


class RoutedPublisher:
    """The watcher's publisher, each call made for the watch's own workspace (and what the
    call starts, such as a Home tab refresh, inherits it)."""

    def __init__(self, inner: Publisher) -> None:
        self._inner = inner

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        with _for(watch):
            return await self._inner.update(watch, build, final=final)

    def sort(self, exc: BaseException) -> SlackTrouble:
        return self._inner.sort(exc)

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> FollowOn | None:
        with _for(watch):
            rest = await self._inner.notify(watch, results)
        if rest is None:
            return None

        async def follow_on() -> None:
            with _for(watch):
                await rest()

        return follow_on

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        with _for(watch):
            return await self._inner.notice_sent(watch, cursor)

    async def note(self, watch: Watch, text: str) -> None:
        with _for(watch):
            await self._inner.note(watch, text)


@contextlib.contextmanager
def _for(watch: Watch) -> Iterator[None]:
    token = current_workspace.set(_ws(watch))
    try:
        yield
    finally:
        current_workspace.reset(token)


def _ws(watch: Watch) -> str:
    return watch.workspace
