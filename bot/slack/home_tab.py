"""Publishing the App Home tab: at once when it is opened, debounced when watches change.

`views.publish` is Tier 4 (100+ calls a minute); a busy person's watches may change many
times a minute, so changes are merged per person (`DEBOUNCE` seconds) and publishes are
spaced to at most `PUBLISHES_PER_MINUTE` for the whole process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from cachetools import LRUCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.home import FollowedChannel, HomeWatch, home_view
from bot.store import Store
from bot.taskapi.models import TaskResult
from bot.watch.model import Watch
from bot.watch.publisher import Build, NoticePage, Outcome, Publisher, SlackTrouble

log = logging.getLogger(__name__)

DEBOUNCE = 2.0
PUBLISHES_PER_MINUTE = 60
SEEN_TTL = 30 * 24 * 3600.0  # a person who opened the tab this long ago still gets refreshes


class HomeTab:
    def __init__(self, client: AsyncWebClient, store: Store) -> None:
        self._client = client
        self._store = store
        # Its own tasks, not the request tracker's: a refresh is upkeep, not acknowledged work;
        # one dropped at shutdown is redone the next time the person opens the tab.
        self._tasks: set[asyncio.Task[None]] = set()
        self.team_id = ""
        self.workspace_url = ""  # from auth.test: links to live messages without an API call
        self._pending: set[str] = set()
        self._next_slot = 0.0
        self._links: LRUCache[str, str] = LRUCache(maxsize=5000)

    def touch(self, user_id: str) -> None:
        """Someone's watches changed: publish their Home soon, once for a burst of changes."""
        if not user_id.startswith(("U", "W")) or user_id in self._pending:
            return
        self._pending.add(user_id)
        task = asyncio.create_task(self._later(user_id), name="home")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, user_id: str) -> None:
        await asyncio.sleep(DEBOUNCE)  # merging a burst of changes into one publish
        self._pending.discard(user_id)
        try:
            if await self._store.add(self._seen_key(user_id), SEEN_TTL, 0):
                await self.publish(user_id)
        except Exception:
            log.exception("Home tab refresh failed")

    async def opened(self, user_id: str) -> None:
        """The person opened the tab: publish now, and refresh it from now on. People who
        never open it (authors in followed channels, say) cost no `views.publish` at all."""
        await self._store.add(self._seen_key(user_id), SEEN_TTL)
        await self.publish(user_id)

    def _seen_key(self, user_id: str) -> str:
        return f"home-seen:{self.team_id}:{user_id}"

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def publish(self, user_id: str) -> None:
        await self._slot()
        view = await self.view_for(user_id)
        try:
            await self._client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("could not publish the Home tab (%s)", exc.response.get("error"))

    async def view_for(self, user_id: str) -> dict[str, Any]:
        watches = [
            w
            for w in await self._store.open_watches()
            if w.user_id == user_id and w.state == "active"
        ]
        watches.sort(key=lambda w: w.created_at, reverse=True)
        shown = [
            HomeWatch(w.id, w.channel_id, w.uids, w.last_known(), await self._link(w))
            for w in watches
        ]
        followed = [
            FollowedChannel(f.channel_id, f.user_id, f.since)
            for f in await self._store.follows(self.team_id)
        ]
        return home_view(shown, followed, time.time())

    async def _link(self, watch: Watch) -> str | None:
        """The live message's address: the archive URL form, else chat.getPermalink."""
        if watch.message_ts is None:
            return None
        ts = watch.message_ts
        if self.workspace_url:
            base = self.workspace_url.rstrip("/")
            link = f"{base}/archives/{watch.channel_id}/p{ts.replace('.', '')}"
            if watch.thread_ts and watch.thread_ts != ts:
                link += f"?thread_ts={watch.thread_ts}&cid={watch.channel_id}"
            return link
        if watch.id not in self._links:
            try:
                got = await self._client.chat_getPermalink(channel=watch.channel_id, message_ts=ts)
            except SlackApiError:
                return None
            self._links[watch.id] = str(got.get("permalink") or "")
        return self._links[watch.id] or None

    async def _slot(self) -> None:
        now = time.monotonic()
        wait = self._next_slot - now
        self._next_slot = max(now, self._next_slot) + 60.0 / PUBLISHES_PER_MINUTE
        if wait > 0:
            await asyncio.sleep(wait)  # spacing calls to stay within Slack's rate limit


class RefreshingPublisher:
    """A `Publisher` that also refreshes the owner's Home after each change it shows.

    Live edits happen only when a status changed (or a heartbeat), and every ending (done,
    stopped, expired) is an edit too, so this sees every state change of a watch.
    """

    def __init__(self, inner: Publisher, home: HomeTab) -> None:
        self.inner = inner
        self._home = home

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        outcome = await self.inner.update(watch, build, final=final)
        if outcome.kind == "sent" or final:
            self._home.touch(watch.user_id)
        return outcome

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        await self.inner.notify(watch, results)
        self._home.touch(watch.user_id)

    def sort(self, exc: BaseException) -> SlackTrouble:
        return self.inner.sort(exc)

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        return await self.inner.notice_sent(watch, cursor)

    async def note(self, watch: Watch, text: str) -> None:
        await self.inner.note(watch, text)
