"""1,000 waiting "Wait for tasks" steps, one UID each: upstream calls per poll interval, bot
CPU and memory, and the completions. The same load as `bench/watch_load.py` (1,000 watched
UIDs), as Workflow Builder steps: the waits share the watcher's batched polling.

990 steps wait on tasks that keep running, 10 on tasks that finish during the run. The bot runs
as its own process; the fake Slack and fake task API run here.
Usage: python bench/step_load.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import bot_process, fakes, measure_load, signed_headers
from bot.taskapi.fake import FakeTaskApi
from tests.steps_payloads import function_event

INTERVAL = 1.0
INTERVALS = 10
STEPS, FINISHING = 1000, 10


async def main() -> None:
    api = FakeTaskApi(step=3 * INTERVAL)
    slack, api_url, runners = await fakes(api)
    env = {"WATCH_POLL_INTERVAL": str(INTERVAL), "WATCH_UPLOAD_PICTURES": "false"}
    async with bot_process(slack, api_url, **env) as bot, aiohttp.ClientSession() as session:
        for n in range(STEPS):
            uid = f"ok-s{n}" if n < FINISHING else f"slow-s{n}"
            body = function_event("wait_for_tasks", {"task_uids": uid}, f"Fx{n}", f"xwfp-{n}")
            headers = signed_headers(body, "application/json")
            async with session.post(bot.url + "slack/events", data=body, headers=headers) as r:
                assert r.status == 200, r.status
        await api.wait_until(lambda: len({u for c in api.calls for u in c}) >= STEPS, 60)
        load = await measure_load(bot, api, INTERVAL, INTERVALS)
    for runner in runners:
        await runner.cleanup()
    print(
        f"{STEPS} waiting steps of one UID each, poll interval {INTERVAL:g} s, batch size 20, "
        f"{load.elapsed:.1f} s measured"
    )
    print(load.report(INTERVAL))
    print(f"Slack: {len(slack.completions)} completions ({FINISHING} steps finish), nothing else")
    print(load.cost())


if __name__ == "__main__":
    asyncio.run(main())
