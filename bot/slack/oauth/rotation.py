"""Token rotation, once for the whole fleet, off the request path.

A rotating installation's access token lasts 12 hours and its refresh token is single-use:
`oauth.v2.access` with `grant_type=refresh_token` answers a new pair and kills the old refresh
token. Two replicas refreshing at once would each get a pair, one of them then stored dead
(Slack's own SDKs share this open problem). So a refresh happens only under the workspace's
refresh lease in the store; the holder re-reads the installation first (someone may just have
refreshed it), exchanges the refresh token, and SAVES the new pair before anyone uses the new
access token. Every other caller, in this process or another, waits for the saved one and
re-reads it. In one process, callers of one workspace share a single attempt.

The save is a compare-and-set on the sealed value the refresh read: an uninstall or a
reinstall that lands while `oauth.v2.access` is answering wins, and the refreshed pair is
dropped rather than bringing back a deleted installation or overwriting a newer one.

A refresh starts 2 hours before expiry, so a request meeting a due token does not wait for
it: the token still works for hours, it is handed out at once and the refresh runs in the
background. Only a token about to expire (`URGENT`) makes a request wait, and then at most
`URGENT_WAIT`, well inside Slack's 3 s acknowledgement. A refusal or a network error holds
further tries of that workspace off for `RETRY_REFUSED`; neither reaches the request.

Bolt's own `token_rotation_expiration_minutes` rotation is not used: it refreshes in every
process that meets an expiring token, which is exactly the race above.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable

import aiohttp
from cachetools import LRUCache
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.installations import Kept, Read, StoreInstallations
from bot.store.base import OAuthStore

log = logging.getLogger(__name__)

REFRESH_BEFORE = 7200.0  # seconds before expiry a token is refreshed (Bolt's default: 120 min)
URGENT = 300.0  # seconds before expiry below which a request waits for the refresh
URGENT_WAIT = 2.0  # seconds such a request waits at most (Slack wants its ack within 3)
LEASE_TTL = 30.0  # seconds the refresh lease lasts if its holder dies mid-refresh
WAIT_STEP = 0.05  # seconds between re-reads while another replica refreshes
WAIT_LIMIT = LEASE_TTL + 5.0  # seconds a background refresh waits on another's lease
KEEP_FOR = 30.0  # seconds an installation read from the store serves this process
SWEEP_EVERY = 60.0  # seconds between background sweeps for tokens coming due
KEPT_INSTALLATIONS = 10_000  # installations kept in memory (about 1 KiB each)
RETRY_REFUSED = 60.0  # seconds before a refused or failed refresh is tried again
# What a grant that did not happen raises: Slack said no, or it could not be reached.
GRANT_FAILED = (SlackClientError, aiohttp.ClientError, TimeoutError)


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
        """`ws`'s installation, its token good for a while yet; None when not installed.
        Never raises for a refresh that failed, and waits for one only when the token it
        has is about to expire."""
        return await self._get(ws, sweeping=False)

    async def _get(self, ws: str, *, sweeping: bool) -> Kept | None:
        """`sweeping`: the background sweep, which waits for the refresh to end."""
        loop = asyncio.get_running_loop()
        cached = self._kept.get(ws)
        if cached is not None and cached[1] > loop.time() and not self._due(cached[0]):
            return cached[0]
        kept = await self._installations.find(ws)
        if kept is not None and self._due(kept) and self._refused.get(ws, 0.0) <= loop.time():
            flight = self._start_refresh(ws)
            if sweeping:
                kept = await asyncio.shield(flight)
            elif self._urgent(kept):
                try:
                    kept = await asyncio.wait_for(asyncio.shield(flight), URGENT_WAIT)
                except TimeoutError:
                    log.warning("token refresh of workspace %s still under way", ws)
        if kept is None:
            self._kept.pop(ws, None)
        else:
            self._kept[ws] = (kept, loop.time() + KEEP_FOR)
        return kept

    async def settled(self) -> None:
        """Wait for the refreshes under way in this process (tests, and a clean stop)."""
        while self._flights:
            await asyncio.gather(*self._flights.values(), return_exceptions=True)

    def forget(self, ws: str) -> None:
        """The workspace is gone (uninstalled): stop serving its installation from memory."""
        self._kept.pop(ws, None)

    def _due(self, kept: Kept) -> bool:
        return self._left(kept) < self._before

    def _urgent(self, kept: Kept) -> bool:
        return self._left(kept) < URGENT

    def _left(self, kept: Kept) -> float:
        """Seconds the access token has left; infinite for one that does not rotate."""
        expires = kept.bot_token_expires_at
        if not kept.bot_refresh_token or expires is None:
            return float("inf")
        return expires - self._clock()

    def _start_refresh(self, ws: str) -> asyncio.Future[Kept | None]:
        """This process's one refresh of `ws`, started if none is under way."""
        flight = self._flights.get(ws)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(ws))
            self._flights[ws] = flight
            flight.add_done_callback(lambda _: self._flights.pop(ws, None))
        return flight

    async def _refresh(self, ws: str) -> Kept | None:
        """Runs unawaited: whatever goes wrong is logged and held off here, never raised."""
        try:
            kept = await self._refresh_under_lease(ws)
        except Exception:
            log.exception("token refresh of workspace %s failed", ws)
            self._hold_off(ws)
            with contextlib.suppress(Exception):  # the store itself may be what failed
                return await self._installations.find(ws)
            return None
        if kept is None:
            self._kept.pop(ws, None)
        else:
            self._kept[ws] = (kept, asyncio.get_running_loop().time() + KEEP_FOR)
        return kept

    async def _refresh_under_lease(self, ws: str) -> Kept | None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + WAIT_LIMIT
        while True:
            if await self._store.take_refresh_lease(ws, self._holder, LEASE_TTL):
                try:
                    read = await self._installations.read(ws)  # refreshed meanwhile?
                    if read is None or not self._due(read.kept):
                        return read.kept if read is not None else None
                    return await self._grant(read)
                finally:
                    await self._store.drop_refresh_lease(ws, self._holder)
            kept = await self._installations.find(ws)  # another replica is refreshing
            if kept is None or not self._due(kept) or loop.time() > give_up:
                return kept
            await asyncio.sleep(WAIT_STEP)

    def _hold_off(self, ws: str) -> None:
        self._refused[ws] = asyncio.get_running_loop().time() + RETRY_REFUSED

    async def _grant(self, read: Read) -> Kept | None:
        """Exchange the refresh token and save the new pair; only then is it handed out.
        A refusal or a network error keeps the installation as it is (its token works until
        it expires); an uninstall or reinstall meanwhile keeps what it left."""
        kept = read.kept
        try:
            answer = await self._client.oauth_v2_access(
                client_id=self._id,
                client_secret=self._secret,
                grant_type="refresh_token",
                refresh_token=kept.bot_refresh_token,
            )
        except GRANT_FAILED as exc:
            if isinstance(exc, SlackApiError) and exc.response is not None:
                why = str(exc.response.get("error"))
            else:
                why = type(exc).__name__  # the message may name the URL, nothing secret
            log.error("token refresh for workspace %s failed (%s)", kept.ws, why)
            self._hold_off(kept.ws)
            return kept
        self.refreshes += 1
        new = kept.model_copy(
            update={
                "bot_token": str(answer["access_token"]),
                "bot_refresh_token": str(answer.get("refresh_token") or kept.bot_refresh_token),
                "bot_token_expires_at": int(self._clock()) + int(answer.get("expires_in") or 0),
            }
        )
        # Saved before the new access token is used anywhere, and only over what was read.
        if not await self._installations.replace(read, new):
            log.warning(
                "workspace %s was uninstalled or reinstalled during its token refresh: "
                "the refreshed token is dropped",
                kept.ws,
            )
            return await self._installations.find(kept.ws)
        log.info("refreshed the bot token of workspace %s", kept.ws)
        return new

    async def sweep(self) -> int:
        """Refresh every installation coming due, so quiet workspaces stay usable too."""
        due = await self._store.installations_due(self._clock() + self._before)
        for ws in due:
            try:
                await self._get(ws, sweeping=True)
            except Exception:
                log.exception("background token refresh of workspace %s failed", ws)
        return len(due)

    async def run(self, every: float = SWEEP_EVERY) -> None:
        try:
            while True:
                try:
                    await self.sweep()
                except Exception:
                    log.exception("background token refresh sweep failed")
                await asyncio.sleep(every)
        finally:
            # At a stop: a grant under way has spent its refresh token, so it gets what is
            # left of the stop to save the new pair (a second cancel ends the wait).
            await asyncio.shield(self.settled())
