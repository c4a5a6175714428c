"""What a flood of unsigned requests costs the bot: log bytes and CPU per rejected request.

10,000 unsigned 1 MB POSTs to `/slack/events` (no signature headers), then 1,000 with a fresh
timestamp and a forged signature (the body is read and hashed before the 401), and, for
comparison, 2,000 unsigned with an empty body (what a refusal costs without the bytes), at
concurrency 8, against the bot as its own process (HTTP mode, LOG_LEVEL=INFO). Then one
real command, which must still be answered.
Usage: python bench/front_door_flood.py [unsigned-count]
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import BotProcess, bot_process, fakes, slash
from bot.taskapi.fake import FakeTaskApi

UNSIGNED = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
FORGED = UNSIGNED // 10
CONCURRENCY = 8
BODY = b"x" * 1_000_000  # the app's size limit is 1,000,000: a forged body must stay under it


class StderrCounter:
    def __init__(self, bot: BotProcess) -> None:
        self.bytes = 0
        self.lines: list[bytes] = []
        assert bot.process.stderr is not None
        self._task = asyncio.create_task(self._read(bot.process.stderr))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.bytes += len(line)
            self.lines.append(line)

    async def settled(self) -> int:
        """Bytes so far, once the bot has stopped writing for a moment."""
        last = -1
        while last != self.bytes:
            last = self.bytes
            await asyncio.sleep(0.3)  # another process's pipe: nothing to await but quiet
        return self.bytes


async def flood(bot: BotProcess, count: int, headers: dict[str, str], body: bytes) -> Counter[int]:
    statuses: Counter[int] = Counter()
    queue = iter(range(count))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def worker() -> None:
            for _ in queue:
                async with session.post(
                    bot.url + "slack/events",
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
                ) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


async def measure(
    bot: BotProcess,
    log: StderrCounter,
    name: str,
    count: int,
    headers: dict[str, str],
    body: bytes = BODY,
) -> None:
    log_before, cpu_before = await log.settled(), bot.cpu_seconds()
    started = time.perf_counter()
    statuses = await flood(bot, count, headers, body)
    elapsed = time.perf_counter() - started
    log_bytes, cpu = await log.settled() - log_before, bot.cpu_seconds() - cpu_before
    print(
        f"{name}: {count} x {len(body):,} B in {elapsed:.1f} s ({count / elapsed:.0f}/s), "
        f"statuses {dict(statuses)}"
    )
    print(
        f"  log: {log_bytes:,} bytes in total, {log_bytes / count:.2f} bytes per request; "
        f"bot CPU: {cpu:.2f} s in total, {cpu / count * 1000:.3f} ms per request"
    )


async def main() -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url, runners = await fakes(api)
    async with bot_process(slack, api_url, LOG_LEVEL="INFO") as bot:
        log = StderrCounter(bot)
        await measure(bot, log, "unsigned", UNSIGNED, {})
        stamp = str(int(time.time()))
        forged = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
        await measure(bot, log, "forged signature", FORGED, forged, BODY[:999_000])
        await measure(bot, log, "unsigned, empty body", UNSIGNED // 5, {}, b"")
        async with aiohttp.ClientSession() as session:
            await slash(session, bot.url, "ok-1", slack.response_url("after"))
        await slack.wait_for(lambda: slack.responses.get("after"), timeout=20)
        print("a real command afterwards: answered")
        print("log lines written during the floods:")
        for line in log.lines[-4:]:
            print("  " + line.decode(errors="replace").rstrip()[:160])
    for runner in runners:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
