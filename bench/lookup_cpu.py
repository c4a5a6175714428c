"""CPU per one-UID lookup through `TaskApiClient` against a minimal local task API.

The API here answers a fixed one-task body with no work of its own, so what changes between
two versions of the client shows in the figure (client and server share this process: the
server's part is the same for both). Rounds alternate nothing: run it once per version.
Usage: python bench/lookup_cpu.py [--lookups N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import serve
from bot.taskapi.client import ClientConfig, TaskApiClient

BODY = json.dumps(
    {
        "RetCode": 0,
        "Message": "",
        "TaskDetailList": [
            {"TaskUid": "ok-1", "TaskStatus": "Finished", "FinalPictureUrls": ["http://x/1.png"]}
        ],
    }
).encode()


async def answer(_: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


async def main(lookups: int, rounds: int) -> None:
    app = web.Application()
    app.router.add_post("/", answer)
    runner, url = await serve(app)
    try:
        async with aiohttp.ClientSession() as session:
            client = TaskApiClient(session, ClientConfig(url, "pub", "priv", cache_size=0))
            figures = []
            for round_ in range(rounds + 1):
                started = time.process_time()
                for n in range(lookups):
                    await client.get_tasks([f"ok-{n}"])
                if round_:  # the first round warms up
                    figures.append((time.process_time() - started) / lookups * 1e6)
            print(
                f"one-UID lookup, client and server CPU: median {statistics.median(figures):.1f} "
                f"us, best {min(figures):.1f} us ({rounds} rounds of {lookups})"
            )
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.lookups, args.rounds))
