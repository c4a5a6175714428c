"""`/healthz` (liveness) and `/readyz` (readiness), in both modes.

Liveness only says the process and its event loop answer: restarting a bot because Slack or
Redis is down would not help. Readiness says whether this process should get work now, and
names each failed check, so a load balancer (and a person reading the probe) can follow it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.slack.delivery.tracker import Tracker
from bot.store import Store
from bot.watch.scheduler import Watcher

PROBE_TIMEOUT = 1.0  # a store that takes longer than this to answer is not ready
PROBE_WORKSPACE = "readyz"  # the probe reads under a workspace key no team has
TICKS_LATE = 3  # the watcher is stuck when it has not ticked for this many poll intervals


@dataclass
class Health:
    """What readiness looks at; the Socket Mode front plugs its connection check in."""

    store: Store
    watcher: Watcher
    tracker: Tracker
    poll_interval: float
    slack_connected: Callable[[], Awaitable[bool]] | None = None
    started_at: float = field(default_factory=time.monotonic)

    async def failed_checks(self) -> dict[str, str]:
        """Each failed check with a short reason; empty when ready."""
        failed: dict[str, str] = {}
        if not self.tracker.accepting:
            failed["shutting_down"] = "SIGTERM received; finishing acknowledged work"
        if self.slack_connected is not None and not await self.slack_connected():
            failed["slack"] = "Socket Mode connection is down (reconnecting)"
        try:
            await asyncio.wait_for(
                self.store.get_uids(PROBE_WORKSPACE, "readyz-probe"), PROBE_TIMEOUT
            )
        except Exception as exc:
            failed["store"] = f"state store did not answer ({type(exc).__name__})"
        last = self.watcher.ticked_at or self.started_at
        late = time.monotonic() - last
        if late > TICKS_LATE * self.poll_interval:
            failed["watcher"] = f"no watch tick for {late:.0f}s"
        return failed


def add_routes(app: web.Application, health: Health) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        failed = await health.failed_checks()
        body = {"ok": not failed, "failed": sorted(failed), "reasons": failed}
        return web.json_response(body, status=503 if failed else 200)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
