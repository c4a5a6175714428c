"""Lookups per second and upstream calls for 1,000 concurrent lookups (same UID, distinct UIDs).

Runs against the fake task API on loopback, in this process.
Usage: python bench/taskapi_lookups.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import serve
from bot.taskapi.client import ClientConfig, TaskApiClient
from bot.taskapi.fake import FakeTaskApi, Faults

LOOKUPS = 1000


async def scenario(name: str, url: str, api: FakeTaskApi, uids: list[str], rounds: int = 1) -> None:
    async with aiohttp.ClientSession() as session:
        client = TaskApiClient(session, ClientConfig(url, api.public_key, api.private_key))
        for round_ in range(1, rounds + 1):
            before = len(api.calls)
            started = time.perf_counter()
            results = await asyncio.gather(*(client.get_tasks([uid]) for uid in uids))
            elapsed = time.perf_counter() - started
            calls = len(api.calls) - before
            assert len(results) == LOOKUPS
            label = f"{name} #{round_}" if rounds > 1 else name
            print(
                f"{label:<36} {LOOKUPS} lookups in {elapsed * 1000:7.1f} ms "
                f"= {LOOKUPS / elapsed:9.0f}/s, {calls:3d} upstream calls"
            )


async def main() -> None:
    api = FakeTaskApi(step=3600.0, faults=Faults(latency=0.05))
    runner, url = await serve(api.app())
    print(f"fake API latency 50 ms, batch size 20, concurrency 4 (python {sys.version.split()[0]})")
    await scenario("same UID (in-flight sharing)", url, api, ["slow-1"] * LOOKUPS)
    await scenario("distinct UIDs (batched)", url, api, [f"slow-{n}" for n in range(LOOKUPS)])
    api.step = 0.0
    await scenario("distinct finished (cache)", url, api, [f"ok-{n}" for n in range(LOOKUPS)], 2)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
