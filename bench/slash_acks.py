"""Ack latency of 300 signed slash commands at concurrency 50 while the task API takes 2 s.

The bot runs as its own process (HTTP mode); the fake Slack and fake task API run here.
Usage: python bench/slash_acks.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import bot_process, fakes, percentile, slash
from bot.taskapi.fake import FakeTaskApi, Faults

COMMANDS = 300
CONCURRENCY = 50


async def main() -> None:
    api = FakeTaskApi(step=0.0, faults=Faults(latency=2.0))
    slack, api_url, runners = await fakes(api)
    async with bot_process(slack, api_url) as bot:
        gate = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY)
        ) as session:

            async def one(n: int) -> float:
                async with gate:
                    return await slash(
                        session, bot.url, f"ok-{n} ok-{n + 1}", slack.response_url(f"r{n}")
                    )

            started = time.perf_counter()
            acks = await asyncio.gather(*(one(n) for n in range(COMMANDS)))
            acked = time.perf_counter() - started
            await slack.wait_for(lambda: len(slack.responses) >= COMMANDS, timeout=120)
            answered = time.perf_counter() - started
        cpu = bot.cpu_seconds()
        rss, peak = bot.memory_mib()
    for runner in runners:
        await runner.cleanup()
    ms = [a * 1000 for a in acks]
    print(f"{COMMANDS} slash commands, concurrency {CONCURRENCY}, task API answering in 2 s")
    print(
        f"ack latency: p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms, mean {statistics.mean(ms):.1f} ms"
    )
    delivered = len(slack.responses)
    print(
        f"all acked in {acked:.2f} s; answers delivered: {delivered}/{COMMANDS} in {answered:.2f} s"
    )
    print(
        f"upstream calls: {len(api.calls)}; "
        f"bot CPU {cpu:.2f} s, RSS {rss:.0f} MiB (peak {peak:.0f} MiB)"
    )


if __name__ == "__main__":
    asyncio.run(main())
