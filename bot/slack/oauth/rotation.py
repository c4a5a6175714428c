"""Token rotation, once for the whole fleet.

A rotating installation's access token lasts 12 hours and its refresh token is single-use:
`oauth.v2.access` with `grant_type=refresh_token` answers a new pair and kills the old refresh
token. Two replicas refreshing at once would each get a pair, one of them then stored dead
(Slack's own SDKs share this open problem). So a refresh happens only under the workspace's
refresh lease in the store; the holder re-reads the installation first (someone may just have
refreshed it), exchanges the refresh token, and SAVES the new pair before anyone uses the new
access token. Every other caller, in this process or another, waits for the saved one and
re-reads it. In one process, callers of one workspace share a single attempt.

Bolt's own `token_rotation_expiration_minutes` rotation is not used: it refreshes in every
process that meets an expiring token, which is exactly the race above.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from cachetools import LRUCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.store.base import OAuthStore

log = logging.getLogger(__name__)

REFRESH_BEFORE = 7200.0  # seconds before expiry a token is refreshed (Bolt's default: 120 min)
LEASE_TTL = 30.0  # seconds the refresh lease lasts if its holder dies mid-refresh
WAIT_STEP = 0.05  # seconds between re-reads while another replica refreshes
WAIT_LIMIT = 20.0  # seconds a caller waits for another's refresh before using what it has
KEEP_FOR = 30.0  # seconds an installation read from the store serves this process
SWEEP_EVERY = 60.0  # seconds between background sweeps for tokens coming due
KEPT_INSTALLATIONS = 10_000  # installations kept in memory (about 1 KiB each)
RETRY_REFUSED = 60.0  # seconds before a refresh Slack refused is tried again


class TokenKeeper:
    """The installation of a workspace, its token fresh; refreshed here only under the lease."""

    def __init__(
        self,
        store: OAuthStore,
        installations: StoreInstallations,
        client: AsyncWebClient,
        client_id: str,
        client_secret: str,
        *,
        refresh_before: float = REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._installations = installations
        self._client = client
        self._id, self._secret = client_id, client_secret
        self._before = refresh_before
        self._clock = clock
        self._holder = uuid.uuid4().hex
        self._flights: dict[str, asyncio.Future[Kept | None]] = {}
        # ws -> installation and the monotonic time it is read again; bounded, so a fleet of
        # many thousand workspaces keeps only its busy ones in memory.
        self._kept: LRUCache[str, tuple[Kept, float]] = LRUCache(KEPT_INSTALLATIONS)
        self.refreshes = 0  # grants this process made (for logs and tests)
        # ws -> monotonic time a refused refresh may be tried again: not one grant per request
        self._refused: LRUCache[str, float] = LRUCache(KEPT_INSTALLATIONS)

    def __repr__(self) -> str:
        return "TokenKeeper(<hidden>)"

    async def fresh(self, ws: str) -> Kept | None:
        """`ws`'s installation with a token good for a while yet; None when not installed."""
        loop = asyncio.get_running_loop()
        cached = self._kept.get(ws)
        if cached is not None and cached[1] > loop.time() and not self._due(cached[0]):
            return cached[0]
        kept = await self._installations.find(ws)
        if kept is not None and self._due(kept) and self._refused.get(ws, 0.0) <= loop.time():
            kept = await self._shared_refresh(ws)
        if kept is None:
            self._kept.pop(ws, None)
        else:
            self._kept[ws] = (kept, loop.time() + KEEP_FOR)
        return kept

    def forget(self, ws: str) -> None:
        """The workspace is gone (uninstalled): stop serving its installation from memory."""
        self._kept.pop(ws, None)

    def _due(self, kept: Kept) -> bool:
        expires = kept.bot_token_expires_at
        return (
            bool(kept.bot_refresh_token)
            and expires is not None
            and (expires - self._clock() < self._before)
        )

    async def _shared_refresh(self, ws: str) -> Kept | None:
        flight = self._flights.get(ws)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(ws))
            self._flights[ws] = flight
            flight.add_done_callback(lambda _: self._flights.pop(ws, None))
        return await asyncio.shield(flight)

    async def _refresh(self, ws: str) -> Kept | None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + WAIT_LIMIT
        while True:
            if await self._store.take_refresh_lease(ws, self._holder, LEASE_TTL):
                try:
                    kept = await self._installations.find(ws)  # refreshed meanwhile?
                    if kept is None or not self._due(kept):
                        return kept
                    return await self._grant(kept)
                finally:
                    await self._store.drop_refresh_lease(ws, self._holder)
            kept = await self._installations.find(ws)  # another replica is refreshing
            if kept is None or not self._due(kept) or loop.time() > give_up:
                return kept
            await asyncio.sleep(WAIT_STEP)

    async def _grant(self, kept: Kept) -> Kept:
        """Exchange the refresh token and save the new pair; only then is it handed out.
        A refusal keeps the installation as it is (its token works until it expires)."""
        try:
            answer = await self._client.oauth_v2_access(
                client_id=self._id,
                client_secret=self._secret,
                grant_type="refresh_token",
                refresh_token=kept.bot_refresh_token,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.error("token refresh for workspace %s refused by Slack (%s)", kept.ws, error)
            self._refused[kept.ws] = asyncio.get_running_loop().time() + RETRY_REFUSED
            return kept
        self.refreshes += 1
        new = kept.model_copy(
            update={
                "bot_token": str(answer["access_token"]),
                "bot_refresh_token": str(answer.get("refresh_token") or kept.bot_refresh_token),
                "bot_token_expires_at": int(self._clock()) + int(answer.get("expires_in") or 0),
            }
        )
        await self._installations.save(new)  # before the new access token is used anywhere
        log.info("refreshed the bot token of workspace %s", kept.ws)
        return new

    async def sweep(self) -> int:
        """Refresh every installation coming due, so quiet workspaces stay usable too."""
        due = await self._store.installations_due(self._clock() + self._before)
        for ws in due:
            try:
                await self.fresh(ws)
            except Exception:
                log.exception("background token refresh of workspace %s failed", ws)
        return len(due)

    async def run(self, every: float = SWEEP_EVERY) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("background token refresh sweep failed")
            await asyncio.sleep(every)
