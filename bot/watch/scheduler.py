"""One scheduler for every watch: batched polling, change-only updates, exactly one notice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.render.answer import Controls, LiveNote, Message, answer_message
from bot.store import Store
from bot.taskapi.client import Lane, TaskApiClient
from bot.taskapi.models import Failed, TaskResult, all_done, is_done
from bot.watch.fingerprint import fingerprint, slowdown
from bot.watch.model import Watch
from bot.watch.publisher import Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchConfig:
    poll_interval: float = 15.0
    max_duration: float = 86_400.0
    max_uids: int = 50
    max_per_user: int = 10
    updates_per_minute: int = 40
    heartbeat: float = 300.0


MAX_NOTICE_ATTEMPTS = 5


class WatchLimitError(Exception):
    """Asked for more than the limits allow; the message says what and how to go on."""


class Watcher:
    def __init__(
        self,
        store: Store,
        tasks: TaskApiClient,
        publisher: Publisher,
        config: WatchConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self.publisher = publisher
        self._config = config
        self._clock = clock
        self._paused_until: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self.ticks = 0
        self.ticked_at: float | None = None  # monotonic end of the last tick (readiness)
        self.open_watches = 0
        self._ticked = asyncio.Condition()
        self._stopped: set[str] = set()
        # Told each tick's duration and how late it started (seconds); the app's metrics.
        self.on_tick: Callable[[float, float], None] | None = None

    # -- starting and stopping watches -------------------------------------------------------

    async def check_limits(self, user_id: str, uids: Sequence[str]) -> None:
        if len(uids) > self._config.max_uids:
            raise WatchLimitError(
                f"A watch follows at most {self._config.max_uids} tasks; you gave {len(uids)}. "
                "Split them into several watches."
            )
        mine = [w for w in await self._store.open_watches() if w.user_id == user_id]
        if len(mine) >= self._config.max_per_user:
            raise WatchLimitError(
                f"You already have {len(mine)} live watches (the most one person can have). "
                "Stop one with its *Stop watching* button, or wait for one to finish."
            )

    def new_watch(self, **fields: object) -> Watch:
        now = self._clock()
        return Watch.model_validate(
            {
                "created_at": now,
                "expires_at": now + self._config.max_duration,
                "next_poll_at": now + self._config.poll_interval,
                "last_change_at": now,
                "last_shown_at": now,
                **fields,
            }
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
            results, controls=controls, checked_at=now, live=note, no_preview=no_preview
        )

    async def begin(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """Record a watch whose live message is already posted."""
        watch.remember(list(results))
        watch.last_hash = fingerprint(results, "watching")
        await self._store.save_watch(watch)
        self._wake.set()

    async def stop(self, watch_id: str) -> Watch | None:
        watch = await self._store.get_watch(watch_id)
        if watch is None or watch.state != "active":
            return None
        watch.state, watch.end_reason = "done", "stopped"
        self._stopped.add(watch.id)  # a tick holding an older copy must not revive it
        await self._store.save_watch(watch)
        return watch

    async def _save(self, watch: Watch) -> None:
        if watch.id not in self._stopped:
            await self._store.save_watch(watch)

    def ended_message(
        self, watch: Watch, results: Sequence[TaskResult], note: LiveNote
    ) -> Callable[[frozenset[str]], Message]:
        now = self._clock()
        controls = Controls(watch.button_value, "none" if note.kind == "done" else "offer")
        return lambda no_preview: answer_message(
            results, controls=controls, checked_at=now, live=note, no_preview=no_preview
        )

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Tick every poll interval until `shutdown`; one bad tick never ends the loop."""
        backoff = 1.0
        due_at = time.monotonic()
        while not self._stopping:
            started = time.monotonic()
            try:
                await self.tick()
                backoff = 1.0
            except Exception:
                log.exception("watch tick failed; going on in %.0fs", backoff)
                backoff = min(backoff * 2, 60.0)
            if self.on_tick is not None:
                self.on_tick(time.monotonic() - started, max(0.0, started - due_at))
            self.ticked_at = time.monotonic()
            async with self._ticked:
                self._ticked.notify_all()
            if self._stopping:
                break
            self._wake.clear()
            delay = self._config.poll_interval if backoff == 1.0 else backoff
            due_at = started + self._config.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def wait_ticks(self, count: int) -> None:
        """Wait until `count` more ticks have run (tests and benchmarks use it)."""
        target = self.ticks + count
        async with self._ticked:
            await self._ticked.wait_for(lambda: self.ticks >= target)

    def shutdown(self) -> None:
        """The loop ends after the tick under way, so no update is cut in half."""
        self._stopping = True
        self._wake.set()

    async def tick(self) -> None:
        self.ticks += 1
        now = self._clock()
        watches = await self._store.open_watches()
        self.open_watches = len(watches)
        for watch in [w for w in watches if w.state == "notifying"]:
            await self._resume_notice(watch)
        due = [w for w in watches if w.state == "active" and w.next_poll_at <= now]
        uids = list(dict.fromkeys(uid for w in due for uid in w.uids))
        found = (
            dict(zip(uids, await self._tasks.get_tasks(uids, lane=Lane.WATCH), strict=True))
            if uids
            else {}
        )
        budget = max(1, round(self._config.updates_per_minute * self._config.poll_interval / 60))
        updates = 0
        for watch in sorted(due, key=lambda w: w.last_shown_at):
            try:
                updates += await self._advance(watch, found, now, may_update=updates < budget)
            except Exception:
                log.exception("watch %s: update failed; next tick tries again", watch.id)

    async def _resume_notice(self, watch: Watch) -> None:
        """A watch left between "notice due" and "done" by a crash or a failed send."""
        try:
            await self._finish(watch, watch.last_known(), resumed=True)
        except Exception:
            watch.notice_attempts += 1
            if watch.notice_attempts >= MAX_NOTICE_ATTEMPTS:
                watch.state, watch.end_reason = "done", "gone"
                log.exception("watch %s: giving up on its notice", watch.id)
            else:
                log.exception("watch %s: notice failed; next tick tries again", watch.id)
            await self._save(watch)

    async def _advance(
        self, watch: Watch, found: dict[str, TaskResult], now: float, *, may_update: bool
    ) -> int:
        """Poll results into one watch; returns how many live edits it sent (0 or 1)."""
        if watch.id in self._stopped:
            return 0
        latest = [found[uid] for uid in watch.uids]
        failures = [r for r in latest if isinstance(r, Failed)]
        watch.remember(latest)
        known = {r.uid: r for r in watch.last_known()}
        results = [
            known[r.uid] if isinstance(r, Failed) and r.uid in watch.snapshot else r for r in latest
        ]
        if now >= watch.expires_at:
            await self._expire(watch, results)
            return 0
        if all_done(latest):
            watch.state = "notifying"
            await self._save(watch)  # before the notice: see `Watch`
            await self._finish(watch, results, resumed=False)
            return 1
        retrying = (
            f"{failures[0].error.detail}; ref {failures[0].error.request_uuid}" if failures else ""
        )
        digest = fingerprint(results, "retrying" if failures else "watching")
        stale = now - watch.last_shown_at >= self._config.heartbeat
        sent = 0
        if (
            (digest != watch.last_hash or stale)
            and may_update
            and self._paused_until.get(watch.team_id, 0) <= now
        ):
            outcome = await self.publisher.update(
                watch, self.live_message(watch, results, retrying=retrying), final=False
            )
            if outcome.kind == "gone":
                watch.state, watch.end_reason = "done", "gone"
                await self._save(watch)
                log.info("watch %s: its message is gone; watch ended", watch.id)
                return 0
            if outcome.kind == "rate_limited":
                self._paused_until[watch.team_id] = now + outcome.retry_after
            elif outcome.kind == "sent":
                sent = 1
                if digest != watch.last_hash:
                    watch.last_change_at = now
                watch.last_hash, watch.last_shown_at = digest, now
        watch.next_poll_at = now + self._config.poll_interval * slowdown(now - watch.last_change_at)
        await self._save(watch)
        return sent

    async def _finish(self, watch: Watch, results: Sequence[TaskResult], *, resumed: bool) -> None:
        if resumed and await self.publisher.notice_sent(watch):
            log.info("watch %s: notice was already sent before a restart", watch.id)
        else:
            outcome = await self.publisher.update(
                watch, self.ended_message(watch, results, LiveNote("done")), final=True
            )
            if outcome.kind == "rate_limited":
                await asyncio.sleep(min(outcome.retry_after, 30.0))
                await self.publisher.update(
                    watch, self.ended_message(watch, results, LiveNote("done")), final=True
                )
            await self.publisher.notify(watch, results)
        watch.state, watch.end_reason = "done", "done"
        await self._save(watch)

    async def _expire(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        hours = f"{self._config.max_duration / 3600:g} h"
        watch.state, watch.end_reason = "done", "expired"
        await self._save(watch)
        await self.publisher.update(
            watch, self.ended_message(watch, results, LiveNote("expired", hours)), final=True
        )
        waiting = sum(1 for r in results if not is_done(r))
        await self.publisher.note(
            watch,
            f":stopwatch: I stopped watching after {hours}; {waiting} of {len(results)} tasks "
            "were not done yet. Press *Watch* on the answer to follow them again.",
        )
