"""Publishing the App Home tab: at once when it is opened, merged when watches change.

`views.publish` is Tier 4 (100+ calls a minute); a busy person's watches may change every
second. So each person has at most one publish pending: changes while it waits only mark the
person again, and the view is read from the store just before the call, so it shows the
newest state however long the wait. A person's publishes are `PERSON_GAP` seconds apart,
and the process keeps to `PUBLISHES_PER_MINUTE` with short bursts allowed (`Pace`).

A person is a workspace (`ws`) and a user id: what their Home shows, and whether they ever
opened it, is read from that workspace's part of the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from cachetools import LRUCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.records.watch import Watch
from bot.render.accounts import account_blocks
from bot.render.home import FollowedChannel, HomeWatch, home_view
from bot.store import Store
from bot.taskapi.models import TaskResult
from bot.tenancy.accounts import Accounts
from bot.watch.publisher import Build, FollowOn, NoticePage, Outcome, Publisher, SlackTrouble

log = logging.getLogger(__name__)

DEBOUNCE = 1.0  # seconds after the first change of a burst: its next changes join it
PERSON_GAP = 3.0  # seconds between one person's refreshes: 5 busy people fit Tier 4's 100
UNREACHABLE_FOR = 600.0  # seconds a refresh Slack cannot reach is tried again, then left owed
PUBLISHES_PER_MINUTE = 100  # Tier 4's floor
BURST = 20  # publishes that may go at once (people opening the tab together)
PACES = 10_000  # workspaces whose publishing pace is kept
SEEN_TTL = 30 * 24 * 3600.0  # a person who opened the tab this long ago still gets refreshes


class HomeTab:
    def __init__(self, client: AsyncWebClient, store: Store) -> None:
        self._client = client
        self._store = store
        # Its own tasks, not the request tracker's: a refresh is upkeep, not acknowledged work;
        # one dropped at shutdown is redone the next time the person opens the tab.
        self._tasks: set[asyncio.Task[None]] = set()
        self.workspace_url = ""  # from auth.test: links to live messages without an API call
        self._dirty: set[Person] = set()  # people whose Home is older than their watches
        self._unreachable: dict[Person, float] = {}  # monotonic time Slack first failed
        self._refreshing: dict[Person, asyncio.Task[None]] = {}  # one pending publish each
        self._published: LRUCache[Person, float] = LRUCache(maxsize=10_000)  # monotonic time
        # Slack counts `views.publish` per workspace: one workspace's busy people never
        # spend another's pace. Bounded; a pace forgotten is a full one, as Slack's would be
        # after a quiet while.
        self._paces: LRUCache[str, Pace] = LRUCache(maxsize=PACES)
        self._links: LRUCache[str, str] = LRUCache(maxsize=5000)
        # OAuth mode: the workspace's task API account, with its Connect button, is shown.
        self.accounts: Accounts | None = None

    def touch(self, ws: str, user_id: str) -> None:
        """Someone's watches changed: publish their Home soon, once for any number of changes
        until then."""
        if not user_id.startswith(("U", "W")):
            return
        person = (ws, user_id)
        self._dirty.add(person)
        self._pend(person, debounce=DEBOUNCE)

    def _pend(self, person: Person, *, debounce: float) -> None:
        if person in self._refreshing:
            return  # its pending publish reads the store when it goes: this change included
        task = asyncio.create_task(self._refresh(person, debounce), name="home")
        self._refreshing[person] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._refreshing.pop(person, None))

    async def _refresh(self, person: Person, debounce: float = DEBOUNCE) -> None:
        """The person's one pending publish; again after it if they changed meanwhile."""
        ws, user_id = person
        try:
            while person in self._dirty:
                await asyncio.sleep(self._wait(person, debounce))
                if self._wait(person, 0.0) > 0:
                    continue  # published meanwhile (the person opened the tab)
                if await self._store.add(ws, _seen_key(user_id), SEEN_TTL, 0):
                    await self.publish(ws, user_id)
                    self._unreachable.pop(person, None)
                else:
                    self._dirty.discard(person)  # never opened the tab: nothing to refresh
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # Slack out of reach past the client's patience: its trouble, not the bot's. The
            # refresh stays owed and is tried again a person's gap later (or at the next
            # change), reading the newest state then.
            self._dirty.add(person)
            first = self._unreachable.setdefault(person, time.monotonic())
            if time.monotonic() - first > UNREACHABLE_FOR:
                del self._unreachable[person]  # still owed: done at the person's next change
                log.warning("Home tab refresh given up for now: Slack out of reach too long")
                return
            log.warning(
                "Home tab refresh put off %gs: Slack could not be reached (%s)",
                PERSON_GAP,
                type(exc).__name__,
            )

            async def again() -> None:
                await asyncio.sleep(PERSON_GAP)
                self.touch(ws, user_id)

            retry = asyncio.create_task(again(), name="home-retry")
            self._tasks.add(retry)
            retry.add_done_callback(self._tasks.discard)
        except Exception:
            self._dirty.discard(person)
            log.exception("Home tab refresh failed")

    def _wait(self, person: Person, at_least: float) -> float:
        last = self._published.get(person)
        gap = 0.0 if last is None else last + PERSON_GAP - time.monotonic()
        return max(at_least, gap)

    async def opened(self, ws: str, user_id: str) -> None:
        """The person opened the tab: publish now, and refresh it from now on. People who
        never open it (authors in followed channels, say) cost no `views.publish` at all."""
        await self._store.add(ws, _seen_key(user_id), SEEN_TTL)
        await self.publish_soon(ws, user_id)

    async def publish_soon(self, ws: str, user_id: str) -> None:
        """Publish at once if the person's last publish is `PERSON_GAP` old (Slack sends
        `app_home_opened` at every switch to the tab), else once the gap allows: the pending
        publish reads the store when it goes, so it shows the newest state."""
        person = (ws, user_id)
        if self._wait(person, 0.0) > 0 or person in self._refreshing:
            self._dirty.add(person)
            self._pend(person, debounce=0.0)
            return
        self._published[person] = time.monotonic()  # claimed now: a second call waits
        await self.publish(ws, user_id)

    def _pace(self, ws: str) -> Pace:
        pace = self._paces.get(ws)
        if pace is None:
            pace = self._paces[ws] = Pace(PUBLISHES_PER_MINUTE, BURST)
        return pace

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def publish(self, ws: str, user_id: str) -> None:
        person = (ws, user_id)
        await self._pace(ws).wait()
        self._dirty.discard(person)  # the view below is read after every change so far
        view = await self.view_for(ws, user_id)
        self._published[person] = time.monotonic()
        try:
            await self._client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("could not publish the Home tab (%s)", exc.response.get("error"))

    async def view_for(self, ws: str, user_id: str) -> dict[str, Any]:
        watches = [
            w
            for w in await self._store.open_watches(ws)
            if w.user_id == user_id and w.state == "active" and w.mode == "all"
        ]
        watches.sort(key=lambda w: w.created_at, reverse=True)
        shown = [
            HomeWatch(w.id, w.channel_id, w.uids, w.last_known(), await self._link(w))
            for w in watches
        ]
        followed = [
            FollowedChannel(f.channel_id, f.user_id, f.since, f.mode)
            for f in await self._store.follows(ws)
        ]
        return home_view(shown, followed, time.time(), await self._account(ws))

    async def _account(self, ws: str) -> list[Any]:
        """The account section, in OAuth mode only (single mode's keys are settings)."""
        if self.accounts is None or not self.accounts.per_workspace:
            return []
        status = await self.accounts.status(ws)
        return list(
            account_blocks(
                status.connected,
                status.fallback,
                status.public_key,
                status.connected_by,
                status.connected_at,
            )
        )

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


Person = tuple[str, str]  # (workspace, user id)


def _seen_key(user_id: str) -> str:
    """The person opened their Home (a counter in their workspace's part of the store)."""
    return f"home-seen:{user_id}"


class Pace:
    """At most `per_minute` calls a minute on average, `burst` of them at once.

    A token bucket in its "virtual scheduling" form (GCRA): one timestamp, no refill task.
    Each caller reserves the next free instant before sleeping, so waiters go in order and
    none is passed over. Hand-written: the few lines cost less than a dependency.
    """

    def __init__(self, per_minute: int, burst: int) -> None:
        self._interval = 60.0 / per_minute
        self._tolerance = self._interval * (burst - 1)
        self._due = 0.0  # the theoretical time of the next call

    async def wait(self) -> None:
        now = time.monotonic()
        due = max(self._due, now)
        self._due = due + self._interval
        delay = due - self._tolerance - now
        if delay > 0:
            await asyncio.sleep(delay)  # staying within Slack's rate limit


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
        if watch.mode != "all":
            return outcome  # quiet watches and steps are on nobody's Home
        if outcome.kind == "sent" or final:
            self._home.touch(watch.workspace, watch.user_id)
        return outcome

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> FollowOn | None:
        rest = await self.inner.notify(watch, results)
        if watch.mode == "all":  # quiet watches and steps are on nobody's Home
            self._home.touch(watch.workspace, watch.user_id)
        return rest

    def sort(self, exc: BaseException) -> SlackTrouble:
        return self.inner.sort(exc)

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        return await self.inner.notice_sent(watch, cursor)

    async def note(self, watch: Watch, text: str) -> None:
        await self.inner.note(watch, text)
