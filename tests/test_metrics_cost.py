"""`/metrics` costs the same however large the store is: its size is sampled on a timer, so
scrapes (on a public port, from anyone) never scan the store."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis
from pytest_aiohttp import AiohttpServer

from tests.slack_harness import Harness, start_harness

KEYS = 5000  # five SCAN pages of 1,000: a scan per scrape would be plain to see
SCRAPES = 20


async def scan_calls(redis: aioredis.Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_scan", {}).get("calls", 0))


async def store_items(harness: Harness) -> float:
    text = await (await harness.http.get("/metrics")).text()
    line = next(line for line in text.splitlines() if line.startswith("taskstatus_store_items "))
    return float(line.rsplit(" ", 1)[1])


async def test_scrapes_do_not_scan_the_store(
    aiohttp_server: AiohttpServer, tmp_path: Path, redis_url: str
) -> None:
    url = redis_url.rsplit("/", 1)[0] + "/9"  # a database of this test's own
    async with aioredis.from_url(url) as redis:
        await redis.flushdb()
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(KEYS):
                pipe.set(f"taskstatus:filler:{n}", "1", ex=600)
            await pipe.execute()
        options = {"state_url": url, "store_size_interval": 3600.0}
        async with start_harness(aiohttp_server, tmp_path, **options) as harness:
            # The first sample is taken at start; scrapes before it show 0.
            while await store_items(harness) < KEYS:
                await harness.bot.deps.watcher.wait_ticks(1)
            before = await scan_calls(redis)
            for _ in range(SCRAPES):
                assert await store_items(harness) >= KEYS
            assert await scan_calls(redis) == before  # no scrape touched the store
        await redis.flushdb()
