"""What the benchmarks share: fakes on loopback, the bot as a real process, signed requests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from bot.testing.net import free_port

SECRET = "bench-signing-secret"


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/"


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    url: str

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mib(self) -> tuple[float, float]:
        """Resident memory now and at its peak."""
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        kib = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith("Vm")}
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024


def bot_env(slack_url: str, api_url: str, state_dir: str, port: int) -> dict[str, str]:
    """The environment of a bot process in HTTP mode against the local fakes."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_url + "api/",
        "BOT_MODE": "http",
        "TASK_API_URL": api_url,
        "TASK_API_PUBLIC_KEY": "fake-public-key",
        "TASK_API_PRIVATE_KEY": "fake-private-key",
        "STATE_URL": f"sqlite:///{state_dir}/state.sqlite3",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


@contextlib.asynccontextmanager
async def bot_process(slack: FakeSlack, api_url: str, **env: str) -> AsyncIterator[BotProcess]:
    with tempfile.TemporaryDirectory() as tmp:
        async with bot_in(tmp, slack, api_url, env) as bot:
            yield bot


@contextlib.asynccontextmanager
async def bot_in(
    folder: str, slack: FakeSlack, api_url: str, env: dict[str, str]
) -> AsyncIterator[BotProcess]:
    """The bot as its own process, its state (and any `.env`) in `folder`."""
    port = free_port()
    settings = {**bot_env(slack.base_url, api_url, folder, port), **env}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=settings, cwd=folder, stderr=asyncio.subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/"
    await until_healthy(url)
    try:
        yield BotProcess(process, url)
    finally:
        process.terminate()
        await process.wait()


async def until_healthy(url: str, tries: int = 400) -> None:
    """Until the server at `url` answers `/healthz` (each try 50 ms apart)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(tries):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)  # a readiness probe of another process: nothing to await
    raise RuntimeError(f"{url} never became healthy")


def signed_headers(body: str, content_type: str) -> dict[str, str]:
    """The headers Slack sends with `body`, signed with the bench's secret."""
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "",
    }


async def slash(
    session: aiohttp.ClientSession, bot_url: str, text: str, response_url: str, user: str = "U1"
) -> float:
    """Send one signed /taskstatus; returns the ack latency in seconds."""
    form = urlencode(
        {
            "command": "/taskstatus",
            "text": text,
            "team_id": HOME_TEAM,
            "channel_id": "C1",
            "user_id": user,
            "response_url": response_url,
        }
    )
    headers = signed_headers(form, "application/x-www-form-urlencoded")
    started = time.perf_counter()
    async with session.post(bot_url + "slack/events", data=form, headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - started


async def fakes(api: FakeTaskApi) -> tuple[FakeSlack, str, list[web.AppRunner]]:
    slack = FakeSlack()
    slack_runner, slack.base_url = await serve(slack.app())
    api_runner, api_url = await serve(api.app())
    return slack, api_url, [slack_runner, api_runner]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Load:
    """What the bot did over a run of poll intervals with a steady load on it."""

    per_interval: list[int]  # upstream calls in each interval
    calls: int
    elapsed: float
    cpu: float
    rss: float
    peak: float

    def report(self, interval: float) -> str:
        mean = self.calls / (self.elapsed / interval)
        return f"upstream calls per interval: {self.per_interval} (mean {mean:.1f})"

    def cost(self) -> str:
        return (
            f"bot CPU {self.cpu:.2f} s over {self.elapsed:.1f} s "
            f"({100 * self.cpu / self.elapsed:.0f}% of a core), "
            f"RSS {self.rss:.0f} MiB (peak {self.peak:.0f} MiB)"
        )


async def measure_load(bot: BotProcess, api: FakeTaskApi, interval: float, count: int) -> Load:
    """Upstream calls in each of `count` wall-clock intervals, and the bot's CPU and memory."""
    cpu_start, calls_start = bot.cpu_seconds(), len(api.calls)
    started = time.perf_counter()
    per_interval = []
    for _ in range(count):
        before = len(api.calls)
        await asyncio.sleep(interval)  # measuring a rate over wall-clock intervals
        per_interval.append(len(api.calls) - before)
    elapsed = time.perf_counter() - started
    rss, peak = bot.memory_mib()
    cpu = bot.cpu_seconds() - cpu_start
    return Load(per_interval, len(api.calls) - calls_start, elapsed, cpu, rss, peak)
