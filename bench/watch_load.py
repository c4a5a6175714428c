"""1,000 watched UIDs over several poll intervals: upstream calls, Slack edits, CPU, memory.

100 watches of 10 UIDs each, started with signed `/taskstatus watch` commands: 90 watches on
tasks that keep running, 10 on tasks that finish during the run. The bot runs as its own
process; the fake Slack and fake task API run here.
Usage: python bench/watch_load.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import bot_process, fakes, measure_load, slash
from bot.taskapi.fake import FakeTaskApi

INTERVAL = 1.0
INTERVALS = 10
WATCHES, PER_WATCH, FINISHING = 100, 10, 10


async def main() -> None:
    api = FakeTaskApi(step=3 * INTERVAL)
    slack, api_url, runners = await fakes(api)
    env = {"WATCH_POLL_INTERVAL": str(INTERVAL), "WATCH_UPLOAD_PICTURES": "false"}
    async with bot_process(slack, api_url, **env) as bot, aiohttp.ClientSession() as session:
        for w in range(WATCHES):
            kind = "ok" if w < FINISHING else "slow"
            uids = " ".join(f"{kind}-w{w}-{n}" for n in range(PER_WATCH))
            await slash(
                session, bot.url, f"watch {uids}", slack.response_url(f"w{w}"), user=f"U{w}"
            )
        await slack.wait_for(lambda: len(slack.called("chat.postMessage")) >= WATCHES, 60)
        updates_start = len(slack.called("chat.update"))
        load = await measure_load(bot, api, INTERVAL, INTERVALS)
    notices = [m for m in slack.called("chat.postMessage") if m.get("metadata")]
    for runner in runners:
        await runner.cleanup()
    print(
        f"{WATCHES * PER_WATCH} watched UIDs in {WATCHES} watches, poll interval {INTERVAL:g} s, "
        f"batch size 20, {load.elapsed:.1f} s measured"
    )
    print(load.report(INTERVAL))
    print(
        f"Slack: {len(slack.called('chat.update')) - updates_start} live edits, "
        f"{len(notices)} completion notices ({FINISHING} watches finish)"
    )
    print(load.cost())


if __name__ == "__main__":
    asyncio.run(main())
