"""Cost per answer: the bot against a bare server, side by side, under the same load.

Each round runs three servers as their own processes, one after the other, the order turning
between rounds: the bot (`python -m bot`, HTTP mode), the bare baseline
(`bench/baseline_server.py`: verify, ack, post a fixed answer) and the floor (the same with
`--lookup`: one signed task API call before the answer, which no implementation of the bot
can skip). This process is the load generator, the fake Slack and the fake task API (no
latency, tasks finished at once): it keeps CONCURRENCY signed `/taskstatus <new UID>`
commands in flight (each worker sends its next command once its previous answer has arrived
at the fake `response_url`) and times each one from sending the command to receiving its
answer. The fakes share this one process so that every server under test shares the
machine's cores with the same single neighbour; a task API of its own would be a third busy
process during the bot's and the floor's turns only.

CPU per answer is the server process's CPU time over the measured window divided by the
answers; on a shared machine it is the steadier figure, answers/s and latency move with the
neighbours' load.
Usage: python bench/answer_cost.py [--commands N] [--rounds N] [--concurrency N]
       [--profile FILE]   (needs `pip install py-spy`; the figures of a profiled run are slower)
       [--baseline-uvloop]  (baseline and floor on uvloop too: the bot runs on it where installed)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import BotProcess, bot_env, percentile, serve, slash, until_healthy
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from bot.testing.net import free_port

HERE = Path(__file__).resolve().parent
WARMUP = 200
ANSWER_TIMEOUT = 30.0
SERVERS = ("bot", "baseline", "floor")


@dataclass
class Figures:
    server: str
    answers: int
    seconds: float
    cpu: float
    system: float  # of which in the kernel (syscalls: sockets, epoll)
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.answers / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.answers

    def p(self, share: float) -> float:
        return 1000 * percentile(self.latencies, share)


class Answers:
    """The fake `response_url`: each arriving answer completes its command's future."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[bytes]] = {}

    def expect(self, key: str) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        future = self.waiting.pop(request.match_info["key"], None)
        if future is not None and not future.done():
            future.set_result(body)
        return web.Response(text="ok")


@contextlib.asynccontextmanager
async def server_process(
    name: str, slack_url: str, api_url: str, baseline_uvloop: bool = False
) -> AsyncIterator[tuple[BotProcess, Path]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = bot_env(slack_url, api_url, tmp, port)
        argv = ["-m", "bot"] if name == "bot" else [str(HERE / "baseline_server.py"), str(port)]
        if name != "bot" and baseline_uvloop:
            argv.append("--uvloop")
        if name == "floor":
            argv.append("--lookup")
        log = Path(tmp) / "stderr.log"
        with log.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *argv, env=env, cwd=tmp, stderr=err
            )
        url = f"http://127.0.0.1:{port}/"
        await until_healthy(url)
        try:
            yield BotProcess(process, url), log
        finally:
            process.terminate()
            await process.wait()


async def load(
    session: aiohttp.ClientSession,
    answers: Answers,
    server_url: str,
    slack_url: str,
    prefix: str,
    commands: int,
    concurrency: int,
) -> tuple[float, list[float]]:
    """Closed loop: `concurrency` workers, each with one command in flight until answered."""
    numbers = iter(range(commands))
    latencies: list[float] = []

    async def worker() -> None:
        for n in numbers:
            key = f"{prefix}-{n}"
            arrived = answers.expect(key)
            started = time.perf_counter()
            await slash(session, server_url, f"ok-{key}", f"{slack_url}answer/{key}", f"U{n}")
            body = await asyncio.wait_for(arrived, ANSWER_TIMEOUT)
            latencies.append(time.perf_counter() - started)
            assert b"Finished" in body, body[:300]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def measure(
    name: str,
    round_no: int,
    slack_url: str,
    api_url: str,
    answers: Answers,
    args: argparse.Namespace,
) -> Figures:
    async with (
        server_process(name, slack_url, api_url, args.baseline_uvloop) as (server, log),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as session,
    ):
        try:
            common = (session, answers, server.url, slack_url)
            await load(*common, f"{name}{round_no}w", WARMUP, args.concurrency)
            profiler = await _profile(server, args.profile) if name == "bot" else None
            cpu, system = server.cpu_seconds(), _system_seconds(server)
            seconds, latencies = await load(
                *common, f"{name}{round_no}", args.commands, args.concurrency
            )
            cpu, system = server.cpu_seconds() - cpu, _system_seconds(server) - system
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                await profiler.wait()
        except (TimeoutError, AssertionError):
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
    return Figures(name, args.commands, seconds, cpu, system, latencies)


def _system_seconds(server: BotProcess) -> float:
    stat = Path(f"/proc/{server.process.pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[12]) / os.sysconf("SC_CLK_TCK")


async def _profile(server: BotProcess, path: str | None) -> asyncio.subprocess.Process | None:
    """py-spy sampling the bot over the measured window (collapsed stacks, busy samples)."""
    if not path:
        return None
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("py-spy")),
        *("record", "--pid", str(server.process.pid), "--format", "raw", "--nonblocking"),
        *("--rate", "250", "--output", path),
        stdout=asyncio.subprocess.DEVNULL,
    )


def line(f: Figures) -> str:
    return (
        f"  {f.server:8} {f.rate:6.0f} answers/s  CPU {f.cpu_ms:5.2f} ms/answer "
        f"({100 * f.system / f.cpu:2.0f}% system)  "
        f"latency p50 {f.p(0.5):6.1f} ms  p99 {f.p(0.99):6.1f} ms"
    )


def summary(rounds: Sequence[dict[str, Figures]]) -> None:
    print("median over rounds: bot / baseline = ratio  (and bot / floor, floor / baseline)")
    figures: list[tuple[str, Callable[[Figures], float], str]] = [
        ("answers/s", lambda f: f.rate, "{:.0f}"),
        ("CPU per answer", lambda f: f.cpu_ms, "{:.2f} ms"),
        ("latency p50", lambda f: f.p(0.5), "{:.1f} ms"),
        ("latency p99", lambda f: f.p(0.99), "{:.1f} ms"),
    ]
    for label, figure, fmt in figures:
        bot, base, floor = (statistics.median(figure(r[name]) for r in rounds) for name in SERVERS)
        print(
            f"  {label:15} {fmt.format(bot)} / {fmt.format(base)} = {bot / base:.2f}x"
            f"   (bot / floor {bot / floor:.2f}x, floor / baseline {floor / base:.2f}x)"
        )


async def main(args: argparse.Namespace) -> None:
    answers = Answers()
    slack = FakeSlack()
    slack_app = slack.app()
    slack_app.router.add_post("/answer/{key}", answers.receive)
    slack_runner, slack.base_url = await serve(slack_app)
    api_runner, api_url = await serve(FakeTaskApi(step=0).app())
    print(
        f"{args.rounds} rounds x {args.commands} /taskstatus commands (a new UID each) per "
        f"server, {args.concurrency} in flight, task API without latency; latency is "
        "command sent -> answer at the response_url",
        flush=True,
    )
    rounds: list[dict[str, Figures]] = []
    try:
        for n in range(args.rounds):
            order = SERVERS[n % 3 :] + SERVERS[: n % 3]
            done = {
                name: await measure(name, n, slack.base_url, api_url, answers, args)
                for name in order
            }
            rounds.append(done)
            print(f"round {n + 1}: {' then '.join(order)}")
            print("\n".join(line(done[name]) for name in SERVERS), flush=True)
        summary(rounds)
    finally:
        await api_runner.cleanup()
        await slack_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--commands", type=int, default=3000, help="measured commands per server and round"
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--baseline-uvloop", action="store_true", help="run baseline and floor on uvloop too"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="sample the bot with py-spy (collapsed stacks to FILE)"
    )
    asyncio.run(main(parser.parse_args()))
