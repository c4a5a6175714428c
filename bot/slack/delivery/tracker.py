"""Work started after an ack: tracked, so shutdown can finish it (or cancel it cleanly)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

from bot.slack.delivery.deliver import expected_refusal

log = logging.getLogger(__name__)


class Tracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepting = True
        self.idle = asyncio.Event()
        self.idle.set()
        self.stopping = asyncio.Event()  # work that waits on a timer ends its wait early

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._guard(work, name), name=name)
        self._tasks.add(task)
        self.idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self.idle.set()

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            log.warning("%s cancelled at shutdown", name)
            raise
        except Exception as exc:
            if (refusal := expected_refusal(exc)) is not None:
                log.warning("%s: Slack refused (%s); nothing sent", name, refusal)
                return
            log.exception("%s failed [ref=%s]", name, uuid.uuid4().hex[:12])

    async def drain(self, grace: float) -> int:
        """Stop taking work, wait up to `grace` seconds, cancel the rest; returns how many."""
        self.accepting = False
        self.stopping.set()
        pending = set(self._tasks)
        if not pending:
            return 0
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)
        return len(late)
