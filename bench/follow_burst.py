"""A followed channel receiving 100 messages that name 1,000 tasks within one minute.

Half the messages come from a pipeline bot, half from people, 10 tasks each. The bot runs as
its own process (HTTP mode) with the fake Slack and fake task API here. Time is compressed
COMPRESS times for the watches (poll interval, task durations, the burst itself); the
per-channel cap keeps its real one-minute window, so the 100 messages land in one window as
they would in real time. Printed per real minute, next to Slack's rate tiers.

`errors` (quiet follows): the same burst with 2% of the tasks failing (one in every fifth
message), followed in mode `errors` and then in mode `all`: the Slack calls each makes (the
target in `errors`: one post per failing message and nothing else) and the upstream calls.
Usage: python bench/follow_burst.py [errors]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.support import bot_process, fakes, signed_headers, slash
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack

COMPRESS = 10
MESSAGES, PER_MESSAGE = 100, 10
POLL = 15.0 / COMPRESS  # WATCH_POLL_INTERVAL's default, compressed
TASK_STEP = 60.0 / COMPRESS  # each task queues for a minute, then runs for a minute
CHANNEL = "C1"  # where bench.support.slash runs /taskstatus


FAILING_EVERY = 5  # quiet follows: one failing task in every fifth message, 2% of all tasks


def event(n: int, failing: bool = False) -> str:
    """Message `n`; `failing`: its first task ends in `Error` (quiet follows' bench)."""
    names = [f"ok-m{n}-t{t}" for t in range(PER_MESSAGE)]
    if failing and n % FAILING_EVERY == 0:
        names[0] = f"err-m{n}-t0"
    uids = " ".join(f"`{uid}`" for uid in names)
    message = {
        "type": "message",
        "channel": CHANNEL,
        "channel_type": "channel",
        "text": f"Submitted batch {n}: {uids}",
        "ts": f"{1000 + n}.000100",
    }
    if n % 2:
        message.update(subtype="bot_message", bot_id="BPIPE", username="pipeline")
    else:
        message["user"] = f"UP{n}"
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": HOME_TEAM,
            "api_app_id": "A1",
            "event_id": f"EvBurst{n}",
            "event_time": int(time.time()),
            "event": message,
        }
    )


async def send(session: aiohttp.ClientSession, url: str, body: str) -> None:
    headers = signed_headers(body, "application/json")
    async with session.post(url + "slack/events", data=body, headers=headers) as resp:
        assert resp.status == 200, resp.status


def answers(slack: FakeSlack) -> set[str]:
    """Threads that got a live answer (a reply without the notice's metadata)."""
    return {
        str(m.get("thread_ts"))
        for m in slack.called("chat.postMessage")
        if m.get("thread_ts") and not m.get("metadata")
    }


def notices(slack: FakeSlack) -> list[dict[str, object]]:
    return [m for m in slack.called("chat.postMessage") if m.get("metadata")]


def skip_notes(slack: FakeSlack) -> list[dict[str, object]]:
    return [m for m in slack.called("chat.postMessage") if "skipped" in str(m.get("text"))]


async def scenario(cap: int) -> None:
    api = FakeTaskApi(step=TASK_STEP)
    slack, api_url, runners = await fakes(api)
    env = {
        "WATCH_POLL_INTERVAL": str(POLL),
        "WATCH_UPLOAD_PICTURES": "false",
        "FOLLOW_MAX_PER_MINUTE": str(cap),
        "WATCH_HEARTBEAT": str(300 / COMPRESS),
        "WATCH_UPDATES_PER_MINUTE": str(40 * COMPRESS),
    }
    async with bot_process(slack, api_url, **env) as bot, aiohttp.ClientSession() as session:
        await slash(session, bot.url, "follow", slack.response_url("f"), user="U1")
        await slack.wait_for(lambda: slack.called("chat.postMessage"))
        left = 60 - time.time() % 60
        if left < 60 / COMPRESS + 2:  # keep the whole burst inside one minute window
            await asyncio.sleep(left + 0.1)
        start_calls, start_slack = len(api.calls), len(slack.calls)
        started = time.perf_counter()
        for n in range(MESSAGES):
            await send(session, bot.url, event(n))
            await asyncio.sleep(60 / COMPRESS / MESSAGES)  # the burst's own pace
        burst = time.perf_counter() - started
        await slack.wait_for(lambda: len(answers(slack)) >= min(cap, MESSAGES), timeout=60)
        burst_posts = len(slack.called("chat.postMessage")) - 1  # all but the announcement
        await slack.wait_for(lambda: len(notices(slack)) >= len(answers(slack)), timeout=120)
        elapsed = time.perf_counter() - started
        cpu = bot.cpu_seconds()
        calls = api.calls[start_calls:]
        methods = Counter(c.method for c in slack.calls[start_slack:])
        if cap < MESSAGES:  # the skip note comes when the minute window ends
            await slack.wait_for(lambda: skip_notes(slack), timeout=70)
    for runner in runners:
        await runner.cleanup()
    minutes = elapsed * COMPRESS / 60  # the real minutes the watches' part stands for
    answered = len(answers(slack))
    print(
        f"\nFOLLOW_MAX_PER_MINUTE={cap}: {MESSAGES} messages naming {MESSAGES * PER_MESSAGE} "
        f"tasks in {burst:.1f} s (one minute / {COMPRESS}); until every answer was final: "
        f"{elapsed:.0f} s, standing for {minutes:.0f} real minutes of watching"
    )
    print(
        f"  live answers {answered}, skipped {MESSAGES - answered}, completion notices "
        f"{len(notices(slack))}, skip notes {len(skip_notes(slack))} (at the minute's end)"
    )
    print(
        f"  upstream calls {len(calls)} for {sum(len(c) for c in calls)} UIDs "
        f"(batches of up to 20): {len(calls) / minutes:.1f} per real minute"
    )
    print("  Slack calls: " + ", ".join(f"{m} {n}" for m, n in sorted(methods.items())))
    print(
        f"  in the burst minute: {burst_posts} chat.postMessage in the channel (Slack: about 1 "
        f"a second per channel, 60 a minute); chat.update {methods['chat.update'] / minutes:.1f} "
        f"per real minute over the run (Tier 3: about 50 a minute)"
    )
    print(f"  bot CPU {cpu:.2f} s")


async def open_quiet_watches(session: aiohttp.ClientSession, url: str) -> float:
    """The bot's `/metrics` figure of open `errors` watches (quiet follows)."""
    async with session.get(url + "metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith('taskstatus_watches_open_by_mode{mode="errors"}'):
            return float(line.split()[-1])
    return -1.0


async def quiet_scenario(mode: str) -> dict[str, int]:
    """The burst with 2% failing tasks, followed in `mode`; returns what it cost."""
    api = FakeTaskApi(step=TASK_STEP)
    slack, api_url, runners = await fakes(api)
    env = {
        "WATCH_POLL_INTERVAL": str(POLL),
        "WATCH_UPLOAD_PICTURES": "false",
        "FOLLOW_MAX_PER_MINUTE": str(MESSAGES),
        "WATCH_HEARTBEAT": str(300 / COMPRESS),
        "WATCH_UPDATES_PER_MINUTE": str(40 * COMPRESS),
    }
    failing = MESSAGES // FAILING_EVERY
    async with bot_process(slack, api_url, **env) as bot, aiohttp.ClientSession() as session:
        command = "follow errors" if mode == "errors" else "follow"
        await slash(session, bot.url, command, slack.response_url("f"), user="U1")
        await slack.wait_for(lambda: slack.called("chat.postMessage"))
        start_calls, start_slack = len(api.calls), len(slack.calls)
        started = time.perf_counter()
        for n in range(MESSAGES):
            body = event(n, failing=True)
            for uid in json.loads(body)["event"]["text"].split("`")[1::2]:
                task = api.task_for(uid)  # the tasks started when the pipeline posted, in
                assert task is not None  # either mode (the fake's clock starts at first sight)
                api.status_of(task)
            await send(session, bot.url, body)
            await asyncio.sleep(60 / COMPRESS / MESSAGES)
        if mode == "errors":
            await slack.wait_for(lambda: len(notices(slack)) >= failing, timeout=120)
            # The rest end silently: the figure lives in another process, no event to await.
            while await open_quiet_watches(session, bot.url) != 0:  # noqa: ASYNC110
                await asyncio.sleep(POLL / 4)
        else:
            await slack.wait_for(lambda: len(answers(slack)) >= MESSAGES, timeout=60)
            await slack.wait_for(lambda: len(notices(slack)) >= MESSAGES, timeout=120)
        elapsed = time.perf_counter() - started
        calls = api.calls[start_calls:]
        methods = Counter(c.method for c in slack.calls[start_slack:])
        threads = Counter(
            str(m.get("thread_ts")) for m in slack.called("chat.postMessage") if m.get("thread_ts")
        )
    for runner in runners:
        await runner.cleanup()
    print(
        f"\nmode {mode}: {MESSAGES} messages naming {MESSAGES * PER_MESSAGE} tasks in one minute "
        f"/ {COMPRESS}, {failing} of them with a failing task (2% of the tasks); "
        f"every watch ended after {elapsed:.0f} s"
    )
    print("  Slack calls: " + ", ".join(f"{m} {n}" for m, n in sorted(methods.items())))
    print(
        f"  threads posted in {len(threads)}, posts per thread at most "
        f"{max(threads.values(), default=0)}; failure/completion notices {len(notices(slack))}"
    )
    print(f"  upstream calls {len(calls)} for {sum(len(c) for c in calls)} UIDs")
    return {"slack": sum(methods.values()), "upstream": len(calls), "threads": len(threads)}


async def quiet_main() -> None:
    quiet = await quiet_scenario("errors")
    loud = await quiet_scenario("all")
    print(
        f"\nerrors vs all: Slack calls {quiet['slack']} vs {loud['slack']}, threads "
        f"{quiet['threads']} vs {loud['threads']}, upstream calls {quiet['upstream']} vs "
        f"{loud['upstream']}"
    )


async def main() -> None:
    await scenario(20)
    await scenario(MESSAGES)


if __name__ == "__main__":
    asyncio.run(quiet_main() if sys.argv[1:] == ["errors"] else main())
