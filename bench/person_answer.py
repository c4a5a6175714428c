"""A person's answer time with 0 and with 1,000 watched UIDs, at the same upstream latency.

The bot runs as its own process; the fake Slack and fake task API (0.2 s per call) run here.
With 1,000 watched UIDs (20 watches of 50 tasks that keep running, polled every 2 s) each tick
needs 50 upstream calls, about 3.4 s over the watcher's 3 call slots, so ticks run back to
back. A person then looks up one task at a time, 20 times, from the command to the answer
reaching Slack through its `response_url`.
Usage: python bench/person_answer.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import bot_process, fakes, percentile, slash
from bot.taskapi.fake import FakeTaskApi, Faults

LATENCY = 0.2
WATCHES, PER_WATCH = 20, 50
LOOKUPS = 20


async def answer_times(watched: int) -> tuple[list[float], int]:
    """Seconds per lookup, and how many upstream calls the watcher made meanwhile."""
    api = FakeTaskApi(step=3600.0, faults=Faults(latency=LATENCY))
    slack, api_url, runners = await fakes(api)
    env = {"WATCH_POLL_INTERVAL": "2", "WATCH_UPLOAD_PICTURES": "false"}
    times = []
    async with bot_process(slack, api_url, **env) as bot, aiohttp.ClientSession() as session:
        for w in range(watched // PER_WATCH):
            uids = " ".join(f"slow-w{w}-{n}" for n in range(PER_WATCH))
            await slash(
                session, bot.url, f"watch {uids}", slack.response_url(f"w{w}"), user=f"UW{w}"
            )
        await slack.wait_for(
            lambda: len(slack.called("chat.postMessage")) >= watched // PER_WATCH, 120
        )
        await asyncio.sleep(3.0)  # let the watcher's ticks get going (wall-clock on purpose)
        polls_before = sum(1 for call in api.calls if call[0].startswith("slow-"))
        for n in range(LOOKUPS):
            key = f"p{n}"
            started = time.perf_counter()
            await slash(session, bot.url, f"ok-person-{n}", slack.response_url(key), user="UP")
            await slack.wait_for(partial(slack.responses.get, key), 30)
            times.append(time.perf_counter() - started)
            await asyncio.sleep(random.uniform(0, 0.3))  # land at different points of a tick
        polls = sum(1 for call in api.calls if call[0].startswith("slow-")) - polls_before
    for runner in runners:
        await runner.cleanup()
    return times, polls


async def main() -> None:
    print(f"task API answering in {LATENCY:g} s per call; {LOOKUPS} one-task lookups each")
    for watched in (0, WATCHES * PER_WATCH):
        times, polls = await answer_times(watched)
        ms = [t * 1000 for t in times]
        print(
            f"{watched:>5} watched UIDs: answer p50 {percentile(ms, 0.5):.0f} ms, "
            f"p90 {percentile(ms, 0.9):.0f} ms, max {max(ms):.0f} ms, "
            f"mean {statistics.mean(ms):.0f} ms ({polls} watcher calls meanwhile)"
        )


if __name__ == "__main__":
    asyncio.run(main())
