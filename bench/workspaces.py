"""1,000 workspaces on one bot process: memory per workspace, and one quiet workspace's
answer time beside a noisy one.

The bot runs as its own process in OAuth mode, through its own OAuth wiring: 1,000
workspaces are installed (each installation sealed in the store before it starts, with a bot
token of its own that the fake Slack answers for that team only) and have each connected
their own task API account (sealed too; the fake task API knows all 1,000 key pairs and
checks each signature). Every answer is checked to hold its task, so a request refused for
want of an installation or an account fails the bench instead of being timed.

1. Memory: the bot's resident memory before and after one lookup from every workspace
   (each then holds its own task API client and cache), divided by 1,000.
2. Quiet answer time: one workspace looks up one new task at a time, `LOOKUPS` times, from
   the signed command to the answer reaching its `response_url`; first with every other
   workspace idle, then while one other workspace has 10,000 watched UIDs (200 watches of
   50 running tasks, polled every `POLL` s) and its people send 50 lookups a second.
   The task API answers every call in `LATENCY` s. Goal: noisy within 1.2x of alone.
Usage: python bench/workspaces.py
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (
    BotProcess,
    bot_in,
    fakes,
    percentile,
    signed_headers,
)
from bot.records.account import TaskAccount
from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.store.keyring import Keyring
from bot.store.sqlite import SqliteStore
from bot.taskapi.fake import FakeTaskApi, Faults
from bot.testing.fake_slack import FakeSlack, Tenant

WORKSPACES = 1_000
QUIET, NOISY = "TW0000", "TW0001"
LATENCY = 0.1  # seconds per task API call
LOOKUPS = 40
WATCHES, PER_WATCH = 200, 50  # 10,000 watched UIDs in the noisy workspace
NOISY_PEOPLE, NOISY_RATE = 50, 50.0  # lookups a second, spread over this many people
POLL = 15.0  # WATCH_POLL_INTERVAL's default


def team(n: int) -> str:
    return f"TW{n:04d}"


async def install_all(path: str, secrets_key: str, slack: FakeSlack) -> None:
    """Every workspace installed (as the OAuth redirect saves it, with a token the fake Slack
    takes for that team alone) and its own account connected (as `/taskstatus connect`
    saves it)."""
    store = await SqliteStore.open(path)
    keyring = Keyring(secrets_key)
    installations = StoreInstallations(store, keyring)
    for n in range(WORKSPACES):
        token = f"xoxb-{team(n)}-bench"
        slack.tenants[token] = Tenant(team(n))
        await installations.save(Kept(team_id=team(n), bot_token=token, bot_user_id="UBOT"))
        sealed = keyring.seal(f"priv-{n}")
        await store.save_account(
            team(n), TaskAccount(public_key=f"pub-{n}", sealed_private_key=sealed)
        )
    await store.close()


async def command(
    session: aiohttp.ClientSession, bot: BotProcess, text: str, ws: str, user: str, url: str
) -> None:
    form = urlencode(
        {
            "command": "/taskstatus",
            "text": text,
            "team_id": ws,
            "channel_id": f"C{user}",
            "user_id": user,
            "response_url": url,
            "trigger_id": "t",
        }
    )
    headers = signed_headers(form, "application/x-www-form-urlencoded")
    async with session.post(bot.url + "slack/events", data=form, headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status


async def quiet_answers(
    session: aiohttp.ClientSession, bot: BotProcess, slack: FakeSlack, label: str
) -> list[float]:
    """Milliseconds from the quiet workspace's command to its answer, one at a time."""
    times = []
    for n in range(LOOKUPS):
        key = f"quiet-{label}-{n}"
        started = time.perf_counter()
        await command(session, bot, f"ok-quiet-{label}-{n}", QUIET, "UQ", slack.response_url(key))
        answered(await slack.wait_for(partial(slack.responses.get, key), 30), f"-{label}-{n}")
        times.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(random.uniform(0.05, 0.25))  # land at different points of a tick
    return times


async def noisy_people(session: aiohttp.ClientSession, bot: BotProcess, slack: FakeSlack) -> None:
    """50 lookups a second from the noisy workspace, until cancelled."""
    pending: set[asyncio.Task[None]] = set()
    for n in itertools.count():
        user = f"UN{n % NOISY_PEOPLE}"
        task = asyncio.create_task(
            command(session, bot, f"ok-noisy-{n}", NOISY, user, slack.response_url(f"n{n}"))
        )
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(1 / NOISY_RATE)  # the load's own pace


def answered(responses: list[dict[str, object]], uid: str) -> None:
    """The answer names its task: not a how-to note, an error or another workspace's."""
    if uid not in str(responses):
        raise SystemExit(f"no answer with {uid!r}: {str(responses)[:300]}")


async def read_log(bot: BotProcess, lines: list[bytes]) -> None:
    """The bot's warnings, read as they come: an unread pipe would block the bot when full."""
    assert bot.process.stderr is not None
    async for line in bot.process.stderr:
        lines.append(line)


def summary(ms: list[float]) -> str:
    return (
        f"p50 {percentile(ms, 0.5):.0f} ms, p90 {percentile(ms, 0.9):.0f} ms, "
        f"mean {statistics.mean(ms):.0f} ms"
    )


async def main() -> None:
    api = FakeTaskApi(step=3600.0, faults=Faults(latency=LATENCY))
    api.accounts = {f"pub-{n}": f"priv-{n}" for n in range(WORKSPACES)}
    slack, api_url, runners = await fakes(api)
    secrets_key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory() as state:
        await install_all(f"{state}/state.sqlite3", secrets_key, slack)
        env = {
            # OAuth mode: the bot gives Bolt its own flow, installation store and authorize,
            # so Bolt builds none of its own from these.
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            "SECRETS_KEY": secrets_key,
            "SLACK_BOT_TOKEN": "",
            "STATE_URL": f"sqlite:///{state}/state.sqlite3",
            "WATCH_POLL_INTERVAL": str(POLL),
            "WATCH_UPLOAD_PICTURES": "false",
            "TASK_API_PUBLIC_KEY": "",  # no fallback: each workspace its own account
            "TASK_API_PRIVATE_KEY": "",
        }
        async with bot_in(state, slack, api_url, env) as bot, aiohttp.ClientSession() as session:
            lines: list[bytes] = []
            drain = asyncio.create_task(read_log(bot, lines))
            await figures(bot, slack, api, session)
            drain.cancel()
        if lines:
            print(f"bot log: {len(lines)} lines, the first: {lines[0].decode()[:300]!r}")
    for runner in runners:
        await runner.cleanup()


async def figures(
    bot: BotProcess, slack: FakeSlack, api: FakeTaskApi, session: aiohttp.ClientSession
) -> None:
    await quiet_answers(session, bot, slack, "warm")  # the first requests' one-time costs
    rss_before, _ = bot.memory_mib()
    for n in range(WORKSPACES):
        await command(session, bot, f"ok-ws-{n}", team(n), "U1", slack.response_url(f"ws{n}"))
    await slack.wait_for(lambda: all(f"ws{n}" in slack.responses for n in range(WORKSPACES)), 120)
    for n in range(WORKSPACES):
        answered(slack.responses[f"ws{n}"], f"ok-ws-{n}")
    rss_after, _ = bot.memory_mib()
    per_ws = (rss_after - rss_before) * 1024 / WORKSPACES
    print(
        f"{WORKSPACES} workspaces, each with its own account and client: RSS "
        f"{rss_before:.0f} -> {rss_after:.0f} MiB after one lookup each, "
        f"{per_ws:.1f} KiB per workspace"
    )

    alone = await quiet_answers(session, bot, slack, "alone")
    for w in range(WATCHES):
        uids = " ".join(f"slow-w{w}-{k}" for k in range(PER_WATCH))
        await command(
            session, bot, f"watch {uids}", NOISY, f"UW{w // 10}", slack.response_url(f"w{w}")
        )
    await slack.wait_for(lambda: len(slack.called("chat.postMessage")) >= WATCHES, 300)
    flood = asyncio.create_task(noisy_people(session, bot, slack))
    await asyncio.sleep(POLL)  # a whole poll interval of the flood before measuring
    calls_before, cpu_before, started = len(api.calls), bot.cpu_seconds(), time.perf_counter()
    noisy = await quiet_answers(session, bot, slack, "noisy")
    elapsed = time.perf_counter() - started
    calls, cpu = len(api.calls) - calls_before, bot.cpu_seconds() - cpu_before
    flood.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await flood
    print(f"task API answering in {LATENCY:g} s per call; {LOOKUPS} one-task lookups each")
    print(f"quiet workspace alone:        {summary(alone)}")
    print(
        f"beside the noisy workspace:   {summary(noisy)} "
        f"({WATCHES * PER_WATCH} watched UIDs, {NOISY_RATE:g} lookups/s; "
        f"{calls / elapsed:.0f} upstream calls/s, bot CPU {100 * cpu / elapsed:.0f}% of a core)"
    )
    ratio = statistics.median(noisy) / statistics.median(alone)
    print(f"ratio of medians: {ratio:.2f}x (goal: within 1.2x)")


if __name__ == "__main__":
    asyncio.run(main())
