"""1,000 watched UIDs on one process, then on two replicas sharing Redis.

Prints upstream calls and Slack edits per poll interval for each, and the Redis round trips
per tick (commands counted by a small proxy in front of a real redis-server). With leases,
two replicas should make what one process makes.
Usage: python bench/fleet_load.py
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import BotProcess, bot_process, fakes, slash
from bot.store.redis import TAKE_LEASES
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from bot.testing.redis_server import redis_server

INTERVAL = 1.0
INTERVALS = 6
WATCHES, PER_WATCH, FINISHING = 100, 10, 10


TAKE_SHA = hashlib.sha1(TAKE_LEASES.encode()).hexdigest().encode()  # noqa: S324 - Redis's own id


@dataclass
class Counter:
    commands: int = 0
    ticks: int = 0  # one lease-taking script call per tick and process


async def count_commands(reader: asyncio.StreamReader, counter: Counter) -> bytes:
    """Read one RESP command (an array of bulk strings) off a client connection."""
    header = await reader.readline()
    if not header:
        return b""
    data = header
    parts: list[bytes] = []
    if header.startswith(b"*"):
        for _ in range(int(header[1:])):
            size_line = await reader.readline()
            part = await reader.readexactly(int(size_line[1:]) + 2)
            parts.append(part[:-2])
            data += size_line + part
    counter.commands += 1
    if parts[:2] == [b"EVALSHA", TAKE_SHA]:
        counter.ticks += 1
    return data


@contextlib.asynccontextmanager
async def counting_proxy(target: str, counter: Counter) -> AsyncIterator[str]:
    host, port = target.removeprefix("redis://").split("/")[0].split(":")

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, int(port))

        async def upstream() -> None:
            while data := await count_commands(client_r, counter):
                server_w.write(data)
            server_w.close()

        async def downstream() -> None:
            while data := await server_r.read(65_536):
                client_w.write(data)
            client_w.close()

        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await asyncio.gather(upstream(), downstream())

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy_port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"redis://127.0.0.1:{proxy_port}/0"


async def run(replicas: int, redis_url: str) -> dict[str, float]:
    api = FakeTaskApi(step=3 * INTERVAL)
    slack, api_url, runners = await fakes(api)
    counter = Counter()
    env = {"WATCH_POLL_INTERVAL": str(INTERVAL), "WATCH_UPLOAD_PICTURES": "false"}
    async with contextlib.AsyncExitStack() as stack:
        proxy = await stack.enter_async_context(counting_proxy(redis_url, counter))
        bots = [
            await stack.enter_async_context(bot_process(slack, api_url, STATE_URL=proxy, **env))
            for _ in range(replicas)
        ]
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await start_watches(session, slack, bots)
        result: dict[str, float] = {}
        for phase in ("changing", "steady"):
            calls, edits = len(api.calls), len(slack.called("chat.update"))
            commands, tick_count = counter.commands, counter.ticks
            started = time.perf_counter()
            await asyncio.sleep(INTERVALS * INTERVAL)  # measuring a rate over wall-clock time
            intervals = (time.perf_counter() - started) / INTERVAL
            result[f"{phase} calls"] = (len(api.calls) - calls) / intervals
            result[f"{phase} edits"] = (len(slack.called("chat.update")) - edits) / intervals
            result[f"{phase} round_trips"] = (counter.commands - commands) / max(
                1, counter.ticks - tick_count
            )
        result["notices"] = sum(1 for m in slack.called("chat.postMessage") if m.get("metadata"))
    for runner in runners:
        await runner.cleanup()
    return result


async def start_watches(
    session: aiohttp.ClientSession, slack: FakeSlack, bots: list[BotProcess]
) -> None:
    for w in range(WATCHES):
        kind = "ok" if w < FINISHING else "slow"
        uids = " ".join(f"{kind}-w{w}-{n}" for n in range(PER_WATCH))
        bot = bots[w % len(bots)]
        await slash(session, bot.url, f"watch {uids}", slack.response_url(f"w{w}"), user=f"U{w}")
    await slack.wait_for(lambda: len(slack.called("chat.postMessage")) >= WATCHES, 60)


async def main() -> None:
    with redis_server() as redis_url:
        one = await run(1, redis_url)
    with redis_server() as redis_url:
        two = await run(2, redis_url)
    print(
        f"{WATCHES * PER_WATCH} watched UIDs in {WATCHES} watches, poll interval {INTERVAL:g} s, "
        f"{INTERVALS} intervals measured, state on Redis"
    )
    print(
        f"first {INTERVALS} intervals: every task changes status (edits capped by "
        f"WATCH_UPDATES_PER_MINUTE); next {INTERVALS}: 90 watches unchanged, 10 finished"
    )
    print(f"{'':36}{'1 process':>12}{'2 replicas':>12}")
    for phase in ("changing", "steady"):
        for label, key in (
            ("upstream calls/interval", "calls"),
            ("Slack edits/interval", "edits"),
            ("Redis round trips/tick", "round_trips"),
        ):
            name = f"{phase} {key}"
            print(f"{phase + ': ' + label:36}{one[name]:>12.1f}{two[name]:>12.1f}")
    print(f"{'completion notices (10 expected)':36}{one['notices']:>12.0f}{two['notices']:>12.0f}")


if __name__ == "__main__":
    asyncio.run(main())
