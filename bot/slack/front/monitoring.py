"""`/metrics` (and `/healthz`), on the main port or on `METRICS_PORT` of their own, so the
metrics need not sit on the public port next to `/slack/events`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.ops.metrics import Metrics
from bot.store import Store

log = logging.getLogger(__name__)
SIZE_TIMEOUT = 5.0  # seconds for one size read
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def metrics_handler(metrics: Metrics) -> Handler:
    """Prometheus text, rendered from memory: a scrape costs the same however large the
    store is, so `/metrics` on a public port cannot be used to load the store (its size
    comes from `sample_store_size`)."""

    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain")

    return handle


async def sample_store_size(metrics: Metrics, store: Store, every: float) -> None:
    """Read the store's size now and every `every` seconds, one read at a time: counting
    is a scan of every key (Redis) or of every table (SQLite), too dear for each scrape."""
    while True:
        try:
            metrics.store_size.set(await asyncio.wait_for(store.size(), SIZE_TIMEOUT))
        except Exception as exc:  # a slow or failing store must not end the sampling
            log.warning("store size unavailable for /metrics (%s)", type(exc).__name__)
        await asyncio.sleep(every)


async def listen_metrics(app: web.Application, host: str, port: int) -> web.AppRunner:
    """The separate listener (`app` serves `/metrics` and `/healthz` only)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics on http://%s:%d/metrics", host, port)
    return runner
