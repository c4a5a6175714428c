"""One scheduler for every watch: leased, batched polling, change-only edits, one notice.

Each process holds leases on the watches it polls (see `Store.take_leases`), so a fleet makes
the upstream calls and Slack edits one process would. Every change goes through the pure
`bot.watch.machine` and lands as a compare-and-set; completions (final edit, notice, pictures,
rate-limit waits) run as their own bounded tasks, so one slow completion never holds the tick.
A completion that meets Slack's trouble is put off to a later tick, never slept on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.records.watch import Watch
from bot.render.answer import Controls, LiveNote, Message, answer_message
from bot.render.links import TaskLinks
from bot.store import Store
from bot.taskapi.client import Lane, TaskApiClient
from bot.taskapi.errors import TaskApiError
from bot.taskapi.models import Failed, TaskResult, is_done
from bot.watch import machine
from bot.watch.machine import Edit, Expire, Finish, Rules
from bot.watch.notice_guard import NoticeGuard
from bot.watch.publisher import DEAD_TOKEN, Build, FollowOn, Publisher, SlackTrouble

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchConfig:
    poll_interval: float = 15.0
    max_duration: float = 86_400.0
    max_uids: int = 50
    max_per_user: int = 10
    updates_per_minute: int = 40
    heartbeat: float = 300.0
    lease_margin: float = 10.0  # a lease outlives its last renewal by one interval plus this
    completions: int = 8  # completions (notice, pictures, waits) running at once
    purge_every: float = 3600.0
    thread_reads_per_minute: int = 1  # per workspace, fleet-wide: notice searches
    links: TaskLinks | None = None  # TASK_LINK_URL: each UID links to its page


MAX_NOTICE_ATTEMPTS = machine.MAX_NOTICE_ATTEMPTS
SAVE_AGE_EVERY = 60.0  # seconds of watching that may go unsaved (a takeover recounts them)
FINAL_FORM_PATIENCE = 60.0  # seconds a Stop or a repair waits out Slack's trouble on its edit
# While a try is under way, its owed form is held from other processes this long (see
# `Store.take_owed_forms`); a process that dies mid-try leaves it to the fleet after it.
OWED_HOLD = FINAL_FORM_PATIENCE + 15.0
REDRAW_BACKOFF = (0.5, 8.0)  # first and longest wait between tries after a 5xx or no answer
WayOut = tuple[str, float] | None  # a fresh response_url, and when it dies (wall clock)
MAX_TROUBLE_BACKOFF = 30.0  # seconds between tries of a completion Slack keeps refusing


class Clients(Protocol):
    """Where each workspace's task API client comes from (`bot.tenancy.accounts.Accounts`)."""

    async def client_for(self, ws: str) -> TaskApiClient | None: ...


class WatchLimitError(Exception):
    """Asked for more than the limits allow; the message says what and how to go on."""


class Watcher:
    def __init__(
        self,
        store: Store,
        accounts: Clients,
        publisher: Publisher,
        config: WatchConfig,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self.publisher = publisher
        self._config = config
        self._clock = clock
        self._monotonic = monotonic
        self.owner = uuid.uuid4().hex  # this process's lease token
        self.rules = Rules(config.poll_interval, config.max_duration, config.heartbeat)
        self._wake = asyncio.Event()
        self._stopping = False
        self._run_task: asyncio.Task[Any] | None = None
        self.ticks = 0
        self.ticked_at: float | None = None  # monotonic end of the last tick (readiness)
        self.open_watches = 0
        self.open_by_mode: Counter[str] = Counter()  # quiet follows: open watches by mode
        # Open watches per workspace, for the busiest-workspaces log line (`bot.ops.busiest`).
        self.open_by_workspace: Counter[str] = Counter()
        self._ticked = asyncio.Condition()
        self._due: dict[str, float] = {}  # watch id -> monotonic time of its next poll
        self._seen: dict[str, float] = {}  # watch id -> monotonic time of its last poll
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._repairs: set[asyncio.Task[None]] = set()  # ended forms waiting out rate limits
        # Owed ended forms tried here, by (workspace, watch id).
        self._redrawing: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._follow_ons: set[asyncio.Task[None]] = set()  # what follows posted notices
        self._slots = asyncio.Semaphore(config.completions)
        self._last_purge = monotonic()
        self._budget_spent: set[str] = set()  # workspaces whose edit budget said no this tick
        self._held: set[str] = set()  # watches leased here as of the last tick
        self._leased_at = 0.0  # monotonic time `_held` was last confirmed by the store
        self._created: set[str] = set()  # created here, lease not yet taken
        self.takeovers = 0  # watches taken from another process (or from before a restart)
        self._taken: set[str] = set()  # held watches that were taken over (see `NoticeGuard`)
        self._notices = NoticeGuard()
        self._waits: dict[str, int] = {}  # watch id -> completion tries put off in a row
        # Told each tick's duration and how late it started (seconds); the app's metrics.
        self.on_tick: Callable[[float, float], None] | None = None

    @property
    def lease_ttl(self) -> float:
        """Renewed every tick: a dead process's watches are free one interval plus margin
        after its last tick, and taken by another within its next interval."""
        return self._config.poll_interval + self._config.lease_margin

    # -- starting and stopping watches -------------------------------------------------------

    def check_size(self, uids: Sequence[str]) -> None:
        if len(uids) > self._config.max_uids:
            raise WatchLimitError(
                f"A watch follows at most {self._config.max_uids} tasks; you gave {len(uids)}. "
                "Split them into several watches."
            )

    async def reserve(self, ws: str, user_id: str) -> str:
        """Take one of the person's watch slots before any lookup; returns the new watch's id.
        Atomic in the store, so concurrent requests on any process cannot overshoot."""
        token = uuid.uuid4().hex
        if not await self._store.reserve(ws, user_id, token, self._config.max_per_user):
            count = self._config.max_per_user
            raise WatchLimitError(
                f"You already have {count} live watch{'es' if count != 1 else ''} "
                "(the most one person can have). "
                "Stop one with its *Stop watching* button, or wait for one to finish."
            )
        return token

    async def release(self, ws: str, user_id: str, token: str) -> None:
        """Give back a slot whose watch did not start."""
        await self._store.release(ws, user_id, token)

    def new_watch(self, **fields: object) -> Watch:
        now = self._clock()
        return Watch.model_validate(
            {"created_at": now, "expires_at": now + self._config.max_duration, **fields}
        )

    def live_message(
        self, watch: Watch, results: Sequence[TaskResult], *, retrying: str = ""
    ) -> Callable[[frozenset[str]], Message]:
        now = self._clock()
        note = (
            LiveNote("retrying", retrying)
            if retrying
            else LiveNote("watching", f"{self._config.poll_interval:g}")
        )
        controls = Controls(watch.button_value, "live", watch.id)
        return lambda no_preview: answer_message(
            results,
            controls=controls,
            checked_at=now,
            live=note,
            no_preview=no_preview,
            skipped=watch.skipped,
            links=self._config.links,
        )

    async def begin(self, watch: Watch, results: Sequence[TaskResult]) -> Watch | None:
        """Record a new watch (its slot reserved under its id). None when its message already
        has an open watch: nothing is written then."""
        started = machine.started(watch, results)
        hold = self._config.max_duration + 3600.0
        if not await self._store.create_watch(started, slot_seconds=hold):
            return None
        self._due[started.id] = self._monotonic() + self._config.poll_interval
        self._created.add(started.id)  # not a takeover when its lease is first taken
        self._wake.set()
        return started

    async def stop(self, ws: str, watch_id: str, user: str = "", *, way_out: WayOut = None) -> None:
        """Stop pressed (on any process): final, whoever holds the watch's lease; then the
        stopped form is shown, through rate limits. A Stop on a watch already ended shows
        its ended form again (an earlier edit of it may have failed).

        `way_out`: the Stop action's own `response_url` and when it dies, fresher than the
        one kept since the answer (which lives 30 minutes)."""
        await self._transition(ws, watch_id, lambda w: machine.stop(w, user))
        # A task of the watcher's own: a drain that cancels the action leaves it to finish
        # (or to be handed back to the fleet at shutdown), so the stopped form stays owed.
        await asyncio.shield(self._redraw_in_task(ws, watch_id, way_out=way_out))

    async def abandon(self, ws: str, watch_id: str) -> Watch | None:
        """End a watch whose live message could not be shown."""
        return await self._transition(ws, watch_id, machine.abandon)

    async def amend(self, ws: str, watch_id: str, change: Callable[[Watch], Watch]) -> Watch | None:
        """A handler's change to an open watch (where its message lives), as a CAS."""
        return await self._transition(ws, watch_id, lambda w: change(w) if w.is_open else None)

    async def _transition(
        self, ws: str, watch_id: str, change: Callable[[Watch], Watch | None]
    ) -> Watch | None:
        """Apply `change` to the latest stored copy; on a lost race, read again and retry."""
        for _ in range(10):
            watch = await self._store.get_watch(ws, watch_id)
            new = change(watch) if watch is not None else None
            if new is None:
                return None
            if await self._store.update_watch(new):
                return new
        return None

    def ended_message(
        self, watch: Watch, results: Sequence[TaskResult], note: LiveNote
    ) -> Callable[[frozenset[str]], Message]:
        now = self._clock()
        controls = Controls(watch.button_value, "none" if note.kind == "done" else "offer")
        return lambda no_preview: answer_message(
            results,
            controls=controls,
            checked_at=now,
            live=note,
            no_preview=no_preview,
            skipped=watch.skipped,
            links=self._config.links,
        )

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Tick every poll interval until `shutdown`; one bad tick never ends the loop."""
        self._run_task = asyncio.current_task()
        backoff = 1.0
        due_at = self._monotonic()
        while not self._stopping:
            began = self._monotonic()
            try:
                await self.tick()
                backoff = 1.0
            except Exception:
                log.exception("watch tick failed; going on in %.0fs", backoff)
                backoff = min(backoff * 2, 60.0)
            if self.on_tick is not None:
                self.on_tick(self._monotonic() - began, max(0.0, began - due_at))
            self.ticked_at = self._monotonic()
            async with self._ticked:
                self._ticked.notify_all()
            if self._stopping:
                break
            self._wake.clear()
            # A fixed cadence: a slow tick shortens the wait instead of adding to it.
            spent = self._monotonic() - began
            delay = max(0.0, self._config.poll_interval - spent) if backoff == 1.0 else backoff
            due_at = began + self._config.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def wait_ticks(self, count: int) -> None:
        """Wait until `count` more ticks have run (tests and benchmarks use it)."""
        target = self.ticks + count
        async with self._ticked:
            await self._ticked.wait_for(lambda: self.ticks >= target)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Stop polling, let the tick under way and completions in flight finish (cancelled
        half a second before `grace` ends: their watches stay "notifying" and are resumed
        elsewhere), then hand every lease back so another process takes the watches over at
        once. Returns within about `grace` seconds."""
        self._stopping = True
        self._wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, grace - 0.5)  # half a second kept for the leases
        run = self._run_task
        if run is not None and not run.done():
            await _finish({run}, deadline - loop.time())
        # Ended forms still owed, and what follows notices already posted.
        pending = set(self._inflight.values()) | self._repairs | self._follow_ons
        if pending:
            await _finish(pending, deadline - loop.time())
        try:
            await asyncio.wait_for(self._store.release_leases(self.owner), 1.0)
        except Exception:
            log.exception("could not hand leases back; they expire on their own")
        await self._hand_back_owed()

    async def _hand_back_owed(self) -> None:
        """Ended forms whose tries were cut short go back to the fleet at once, not after
        their hold ends."""
        cut = [key for key, task in self._redrawing.items() if task.cancelled()]
        try:
            for ws, watch_id in cut:
                await asyncio.wait_for(self._store.owe_final_form(ws, watch_id, 0.0), 0.5)
        except Exception:
            log.warning("could not hand owed ended forms back; their holds end on their own")

    async def tick(self) -> None:
        self.ticks += 1
        mono, now = self._monotonic(), self._clock()
        await self._purge_when_due(mono)
        watches = await self._lease()
        self.open_watches = len(watches)
        await self._redraw_owed()
        self.open_by_mode = Counter(w.mode for w in watches)
        self.open_by_workspace = Counter(w.workspace for w in watches)
        self._forget(self._held)
        for watch in watches:
            if (
                watch.state == "notifying"
                and watch.id not in self._inflight
                and self._due.get(watch.id, 0.0) <= mono  # put off after Slack's trouble
            ):
                self._spawn(watch.id, self._complete(watch, watch.last_known()))
        due = [w for w in watches if w.state == "active" and self._due.get(w.id, 0.0) <= mono]
        if not due:
            return
        paused = await self._store.paused_teams(sorted({w.workspace for w in due}))
        self._budget_spent = set()
        by_workspace: dict[str, list[Watch]] = {}
        for watch in due:
            by_workspace.setdefault(watch.workspace, []).append(watch)
        # Each workspace through its own client, side by side: one whose lookups are slow
        # (a flood, an outage of its account) holds back no other's edits.
        await asyncio.gather(
            *(
                self._poll_workspace(ws, watches, paused, mono, now)
                for ws, watches in by_workspace.items()
            )
        )

    async def _poll_workspace(
        self, ws: str, due: list[Watch], paused: set[str], mono: float, now: float
    ) -> None:
        """Look up one workspace's due watches in one batched call and advance each."""
        try:
            client = await self._accounts.client_for(ws)
            uids = list(dict.fromkeys(uid for w in due for uid in w.uids))
            if client is None:
                # No account any more (disconnected): no upstream call; the watches wait, and
                # go on if one is connected again before they expire. A step still ends at its
                # timeout (its execution's token dies then): it goes on as a failed lookup.
                log.info("%d watches not polled: their workspace has no task API account", len(due))
                due = [w for w in due if w.step is not None]
                results: Sequence[TaskResult] = [Failed(uid, _NO_ACCOUNT) for uid in uids]
            else:
                results = await client.get_tasks(uids, lane=Lane.WATCH)
        except Exception:
            log.exception("watches of a workspace not polled; next tick tries again")
            return
        found = dict(zip(uids, results, strict=True))
        for watch in sorted(due, key=lambda w: w.last_shown_age - w.age):
            try:
                # A quiet watch has no message to edit: it spends none of the edit budget.
                may_edit = watch.workspace not in paused and watch.mode == "all"
                await self._advance(watch, found, mono, now, may_edit=may_edit)
            except Exception:
                log.exception("watch %s: update failed; next tick tries again", watch.id)

    async def _lease(self) -> list[Watch]:
        """Renew and take leases (one store call); `_held` is what this process now holds."""
        asked = self._monotonic()
        watches = await self._store.take_leases(self.owner, self.lease_ttl)
        mine = {w.id for w in watches}
        taken = mine - self._held - self._created
        self.takeovers += len(taken)
        self._taken = (self._taken & mine) | taken
        self._held, self._created = (
            mine,
            (self._created - mine) if len(self._created) < 10_000 else set(),
        )
        self._leased_at = asked
        return watches

    async def _holds(self, watch_id: str, *, fresh: bool = False) -> bool:
        """Whether this process may still act on a watch. A slow tick or completion (a hung
        task API, Slack waits) can outlive the lease, and another process then owns the watch:
        past one poll interval since the last renewal, renew before any edit; `fresh`: renew
        now (just before a notice, which must never go out from two holders)."""
        if fresh or self._monotonic() - self._leased_at > self._config.poll_interval:
            await self._lease()
        return watch_id in self._held

    async def _purge_when_due(self, mono: float) -> None:
        """At least once per retention period (and hourly at most), drop what expired."""
        every = min(self._config.purge_every, self._store.retention / 2)
        if mono - self._last_purge >= every:
            self._last_purge = mono
            removed = await self._store.purge()
            if removed:
                log.info("retention: %d expired items removed from the store", removed)

    def _forget(self, mine: set[str]) -> None:
        """Drop timers of watches this process no longer holds."""
        for table in (self._due, self._seen):
            for watch_id in [i for i in table if i not in mine]:
                del table[watch_id]
        self._notices.forget(mine)
        for watch_id in [i for i in self._waits if i not in mine]:
            del self._waits[watch_id]

    def _spawn(self, watch_id: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=f"watch-{watch_id}")
        self._inflight[watch_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._inflight.get(watch_id) is finished:
                del self._inflight[watch_id]

        task.add_done_callback(done)

    async def _advance(
        self, watch: Watch, found: dict[str, TaskResult], mono: float, now: float, *, may_edit: bool
    ) -> int:
        """Poll results into one watch; returns how many live edits it sent (0 or 1)."""
        if not await self._holds(watch.id):
            log.info("watch %s: its lease went to another process during this tick", watch.id)
            return 0
        elapsed = mono - self._seen.setdefault(watch.id, mono)  # since its age was saved
        latest = [found[uid] for uid in watch.uids]
        new, effect = machine.poll(
            watch, latest, elapsed=elapsed, now=now, rules=self.rules, may_edit=may_edit
        )
        if isinstance(effect, Expire):
            if await self._store.update_watch(new):
                self._spawn(new.id, self._expire(new, effect.results))
            return 0
        if isinstance(effect, Finish):
            # Saved, durably, before the notice (see `NoticeGuard`); a lost race means someone
            # else moved it.
            durability = await self._store.update_watch_durably(new)
            if durability != "lost":
                self._notices.finished(new.id, durability, taken_over=new.id in self._taken)
                self._spawn(new.id, self._complete(new, effect.results))
            return 0
        sent = 0
        if isinstance(effect, Edit) and await self._may_edit(new.workspace):
            build = self.live_message(new, effect.results, retrying=effect.retrying)
            outcome = await self.publisher.update(new, build, final=False)
            if outcome.kind == "rate_limited":
                await self._store.pause_team(new.workspace, outcome.retry_after)
            sent = int(outcome.kind == "sent")
            new = machine.edited(new, outcome.kind, effect.digest)
            if new.state == "done":
                log.info("watch %s: its message is gone; watch ended", watch.id)
        # else: no edit budget left this interval; shown on a later poll
        self._due[new.id] = mono + machine.next_delay(new, self.rules)
        if not _worth_saving(watch, new):
            return 0  # only its age moved: saved later, one write per watch per minute at most
        if not await self._store.update_watch(new):
            log.info("watch %s: changed elsewhere; this poll's copy is dropped", watch.id)
            if sent:
                await self.repair(new.workspace, new.id)
            return sent
        self._seen[new.id] = mono
        return sent

    async def _may_edit(self, ws: str) -> bool:
        """A workspace's live edits share one budget across the fleet, so replicas add no
        Slack traffic (Slack counts its limits per workspace, so one workspace's busy watches
        never hold back another's)."""
        if ws in self._budget_spent:
            return False  # asked once this tick already: no round trip per waiting watch
        per_tick = max(1, round(self._config.updates_per_minute * self._config.poll_interval / 60))
        allowed = await self._store.spend(ws, "edits", per_tick, self._config.poll_interval)
        if not allowed:
            self._budget_spent.add(ws)
        return allowed

    async def repair(
        self, ws: str, watch_id: str, *, way_out: WayOut = None, patient: bool = False
    ) -> None:
        """An edit raced a Stop or an end (a poll here, a refresh, another process): show
        the ended form again, so a message never says *Live* with no watch behind it.

        Slack's trouble (rate limits, 5xx, no answer, its transient errors) is waited out for
        up to FINAL_FORM_PATIENCE seconds: here when `patient` (a person's Stop or Refresh),
        else in a task of its own, so a tick never waits on Slack. A done watch's ended form
        stays owed in the store until it lands or its message is gone, and any process's
        tick takes up one still owed after that (see `Store.owe_final_form`)."""
        fresh = await self._store.get_watch(ws, watch_id)
        note = self._ended_note(fresh) if fresh is not None else None
        if fresh is None:  # its message is past caring (or its workspace was deleted)
            await self._store.settle_final_form(ws, watch_id)
            return
        if note is None:
            return  # still live: nothing is owed
        if not fresh.is_open:
            await self._store.owe_final_form(ws, watch_id, OWED_HOLD)  # held while tried here
        if way_out is not None and fresh.via_response_url:
            url, expires_at = way_out
            fresh = fresh.model_copy(
                update={
                    "response_url": url,
                    "response_url_uses": 0,
                    "response_url_expires_at": expires_at,
                }
            )
        build = self.ended_message(fresh, fresh.last_known(), note)
        deadline = self._monotonic() + FINAL_FORM_PATIENCE
        backoff = REDRAW_BACKOFF[0]
        while True:
            wait = await self._redraw(fresh, build, backoff)
            if wait is None:
                if not fresh.is_open:
                    await self._store.settle_final_form(ws, watch_id)
                return
            if not patient:
                self._redraw_in_task(ws, watch_id, way_out=way_out)
                return
            if self._monotonic() + wait > deadline:
                if not fresh.is_open:
                    await self._store.owe_final_form(ws, watch_id, wait)
                log.warning(
                    "watch %s: Slack still refuses its ended form; tried again in %.0fs",
                    fresh.id,
                    wait,
                )
                return
            await asyncio.sleep(wait)  # Slack's Retry-After, or a backoff after a 5xx
            backoff = min(backoff * 2, REDRAW_BACKOFF[1])

    async def _redraw(self, watch: Watch, build: Build, backoff: float) -> float | None:
        """One try at an ended form: None when it is settled (shown, its message gone, or
        refused for good), else seconds to wait before the next try."""
        try:
            outcome = await self.publisher.update(watch, build, final=True)
        except Exception as exc:
            trouble = self.publisher.sort(exc)
            if trouble.kind != "wait":
                log.warning("watch %s: its ended form was refused (%s)", watch.id, trouble.reason)
                return None
            log.info("watch %s: its ended form is put off (%s)", watch.id, trouble.reason)
            return trouble.retry_after or backoff
        if outcome.kind == "rate_limited":
            return max(outcome.retry_after, 0.1)
        return None

    def _redraw_in_task(
        self, ws: str, watch_id: str, *, way_out: WayOut = None
    ) -> asyncio.Task[None]:
        """A patient repair that no request's cancellation ends (shutdown waits for it)."""
        key = (ws, watch_id)
        running = self._redrawing.get(key)
        if running is not None and not running.done() and way_out is None:
            return running
        task = asyncio.create_task(self.repair(ws, watch_id, way_out=way_out, patient=True))
        self._repairs.add(task)
        self._redrawing[key] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._repairs.discard(finished)
            if self._redrawing.get(key) is finished and not finished.cancelled():
                del self._redrawing[key]

        task.add_done_callback(done)
        return task

    async def _redraw_owed(self) -> None:
        """Ended forms owed by any process (a Stop cut short, a long Retry-After, a process
        that died): this tick takes the ones whose time has come, one try task each."""
        if self._stopping:
            return
        for ws, watch_id in await self._store.take_owed_forms(OWED_HOLD):
            running = self._redrawing.get((ws, watch_id))
            if running is None or running.done():
                self._redraw_in_task(ws, watch_id)

    def _ended_note(self, watch: Watch) -> LiveNote | None:
        """How an ended (or finishing) watch's message reads; None while it is still live."""
        if watch.end_reason == "stopped":
            return LiveNote("stopped", user=watch.stopped_by)
        if watch.state == "notifying" or watch.end_reason == "done":
            return LiveNote("done")
        if watch.end_reason == "expired":
            return LiveNote("expired", f"{self._config.max_duration / 3600:g} h")
        if watch.end_reason == "gone":  # abandoned: what is left of it is a plain answer
            return LiveNote("stopped")
        return None

    async def _complete(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """Final form and the one notice, off the tick, each retried on its own until it
        lands: a message that cannot be edited still gets its notice. Slack's trouble puts
        the rest off to a later tick; nothing here sleeps, as the lease would run out."""
        async with self._slots:
            if not await self._holds(watch.id):
                return  # its lease expired while waiting: the new holder resumes it
            current: Watch | None = watch
            trouble: SlackTrouble | None = None
            try:
                if not watch.final_shown:
                    current, trouble = await self._show_final(watch, results)
                if current is not None and current.is_open and not current.notice_posted:
                    current = await self._notify_once(current, results)
            except SlackTrouble as failed:
                trouble = failed
            except Exception as exc:
                trouble = SlackTrouble("fault", type(exc).__name__)
                trouble.__cause__ = exc  # logged once, with its traceback, by `_troubled`
            if trouble is None:
                self._waits.pop(watch.id, None)
            elif current is not None and current.is_open:
                await self._troubled(current, trouble)
            elif trouble.__cause__ is not None:
                log.error("watch %s: completion failed", watch.id, exc_info=trouble.__cause__)

    async def _show_final(
        self, watch: Watch, results: Sequence[TaskResult]
    ) -> tuple[Watch | None, SlackTrouble | None]:
        """The final form; its trouble is returned, not raised, so the notice still goes."""
        build = self.ended_message(watch, results, LiveNote("done"))
        try:
            outcome = await self.publisher.update(watch, build, final=True)
        except Exception as exc:
            return watch, self.publisher.sort(exc)
        if outcome.kind == "rate_limited":
            await self._store.pause_team(watch.workspace, outcome.retry_after)
            return watch, SlackTrouble("wait", "ratelimited", retry_after=outcome.retry_after)
        shown = machine.final_shown(watch, outcome.kind)
        return (await self._save(shown) if shown is not None else watch), None

    async def _notify_once(self, watch: Watch, results: Sequence[TaskResult]) -> Watch | None:
        """Post the notice unless it may already be in Slack and is found there."""
        guard = self._notices
        # A step's completion is never searched for: Slack refuses a second completion of
        # an execution, which the publisher takes as done, so sending it again is safe.
        searchable = watch.mode != "step"
        # A step whose completion may have gone out (taken over, or an answer lost): a dead
        # token then most likely means Slack completed it with that very call.
        maybe_completed = not searchable and guard.must_search(watch.id)
        if guard.was_posted(watch.id):
            log.info("watch %s: its notice was sent from here; the store had lost it", watch.id)
        elif searchable and guard.must_search(watch.id) and await self._notice_found(watch):
            log.info("watch %s: its notice is already in Slack", watch.id)
        else:
            if not await self._holds(watch.id, fresh=True):
                log.info("watch %s: its lease went elsewhere before the notice", watch.id)
                return None
            guard.posting(watch.id)
            try:
                rest = await self.publisher.notify(watch, results)
            except SlackTrouble as trouble:
                dead = trouble.kind == "never" and trouble.reason in DEAD_TOKEN
                if not (maybe_completed and dead):
                    if not trouble.maybe_sent:
                        guard.not_sent(watch.id)
                    raise
                log.info("watch %s: its step was most likely completed before", watch.id)
                rest = None
            guard.posted(watch.id)  # whatever happens next, it is never posted again
            if rest is not None:
                self._follow_notice(watch.id, rest)
        noticed = machine.noticed(watch)
        return await self._save(noticed) if noticed is not None else None

    def _follow_notice(self, watch_id: str, rest: FollowOn) -> None:
        """What follows a posted notice (continuations, pictures), off the completion: it may
        wait out Slack's limits longer than a lease, and its failures are only logged."""

        async def run() -> None:
            try:
                await rest()
            except Exception:
                log.exception("watch %s: what follows its notice failed", watch_id)

        task = asyncio.create_task(run(), name=f"notice-rest-{watch_id}")
        self._follow_ons.add(task)
        task.add_done_callback(self._follow_ons.discard)

    async def _notice_found(self, watch: Watch) -> bool:
        """Search the notice's thread, one page per unit of the workspace's fleet-wide budget
        of thread reads. When it is spent, the search (and the notice) waits: never blind."""
        while True:
            per_minute = self._config.thread_reads_per_minute
            if not await self._store.spend(watch.workspace, "thread-reads", per_minute, 60.0):
                raise SlackTrouble("wait", "thread reads budget spent")
            page = await self.publisher.notice_sent(watch, self._notices.cursor(watch.id))
            self._notices.searched(watch.id, page)
            if page.found or page.cursor is None:
                return page.found

    async def _troubled(self, watch: Watch, trouble: SlackTrouble) -> None:
        """Record a failed completion step and put the next try off."""
        mono = self._monotonic()
        elapsed = mono - self._seen.setdefault(watch.id, mono)
        new = machine.notice_failed(watch, trouble.kind, elapsed=elapsed, rules=self.rules)
        self._due[watch.id] = mono + self._put_off(watch.id, trouble)
        if new is not None and not new.is_open:
            log.warning("watch %s: completion given up (%s)", watch.id, trouble.reason)
        elif trouble.kind == "wait":
            log.info("watch %s: completion put off (%s)", watch.id, trouble.reason)
        else:  # an answer nobody foresaw: the bot's own fault, as far as it can tell
            log.error(
                "watch %s: completion failed (%s); counted as an attempt",
                watch.id,
                trouble.reason,
                exc_info=trouble.__cause__,
            )
        if new is not None and await self._store.update_watch(new):
            self._seen[watch.id] = mono

    def _put_off(self, watch_id: str, trouble: SlackTrouble) -> float:
        """Seconds to the next try: Slack's `Retry-After`, else a backoff that doubles from
        one poll interval, so an outage (or a spent read budget) is not hammered."""
        interval = self._config.poll_interval
        if trouble.kind != "wait":
            return interval
        waits = self._waits.get(watch_id, 0)
        self._waits[watch_id] = waits + 1
        if trouble.retry_after > 0:
            return max(trouble.retry_after, interval)
        return max(interval, min(MAX_TROUBLE_BACKOFF, interval * 2.0**waits))

    async def _save(self, watch: Watch) -> Watch | None:
        if await self._store.update_watch(watch):
            return watch
        log.warning("watch %s: changed elsewhere while completing", watch.id)
        return None

    async def _expire(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """The expired form, owed until it lands as any ended form is (see `repair`), then
        the line in the thread, which goes whatever became of the edit."""
        hours = f"{self._config.max_duration / 3600:g} h"
        waiting = sum(1 for r in results if not is_done(r))
        async with self._slots:
            try:
                await self.repair(watch.workspace, watch.id)
            except Exception as exc:  # the store: the edit is owed only if it was recorded
                log.warning("watch %s: its expired form is not shown (%s)", watch.id, exc)
            try:
                await self.publisher.note(
                    watch,
                    f":stopwatch: I stopped watching after {hours}; {waiting} of "
                    f"{len(results)} tasks were not done yet. Press *Watch* on the answer to "
                    "follow them again.",
                )
            except Exception as exc:
                trouble = self.publisher.sort(exc)
                log.warning("watch %s: could not say it expired (%s)", watch.id, trouble.reason)


# What a watch sees of its tasks while its workspace has no task API account.
_NO_ACCOUNT = TaskApiError("this workspace has no task API account", "-")


def _worth_saving(old: Watch, new: Watch) -> bool:
    """A poll that changed nothing but the age need not cost a store write."""
    if new.age - old.age >= SAVE_AGE_EVERY:
        return True
    return bool(new.model_dump(exclude={"age"}) != old.model_dump(exclude={"age"}))


async def _finish(tasks: set[asyncio.Task[Any]], seconds: float) -> None:
    """Wait up to `seconds` for `tasks`, then cancel what is left and let it unwind briefly."""
    _, late = await asyncio.wait(tasks, timeout=max(0.0, seconds))
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=0.2)
