"""`/metrics` (and `/healthz`), on the main port or on `METRICS_PORT` of their own, so the
metrics need not sit on the public port next to `/slack/events`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.metrics import Metrics
from bot.store import Store

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def metrics_handler(metrics: Metrics, store: Store) -> Handler:
    """Prometheus text; the store's size is read at each scrape (bounded, never fatal)."""

    async def handle(_: web.Request) -> web.Response:
        try:
            metrics.store_size.set(await asyncio.wait_for(store.size(), 5.0))
        except Exception as exc:  # a slow or failing store must not hide every other metric
            log.warning("store size unavailable for /metrics (%s)", type(exc).__name__)
        return web.Response(body=metrics.render(), content_type="text/plain")

    return handle


async def listen_metrics(app: web.Application, host: str, port: int) -> web.AppRunner:
    """The separate listener (`app` serves `/metrics` and `/healthz` only)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics on http://%s:%d/metrics", host, port)
    return runner
