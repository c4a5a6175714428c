"""The demo's conversation: people and a pipeline talk in two channels, the bot answers, and
every message it posts or edits is printed as text with a Block Kit Builder link."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.demo.stage import Stage, stage
from bot.demo.transcript import message_lines
from bot.slack.delivery.live import NOTICE_EVENT
from bot.testing.fake_slack import BOT_USER

BUILDS, RENDERS, DEMO = "CBUILDS", "CRENDERS", "CDEMO"
ADA, BEN, YOU = "UADA", "UBEN", "UYOU"
NAMES = {
    ADA: "ada",
    BEN: "ben",
    YOU: "you",
    BOT_USER: "taskbot",
    BUILDS: "builds",
    RENDERS: "renders",
    DEMO: "demo",
}
# The calls by which the bot shows something to people; the others (auth.test, history...)
# only read.
SHOWN = {
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "response_url",
    "files.completeUploadExternal",
}
HINT = (
    "Type /taskstatus lines as in Slack, e.g. `/taskstatus ok-1 err-2`, `/taskstatus watch ok-3`,"
    " `/taskstatus help`.\nThe fake task API knows ok-* (finishes), ok5-* (5 pictures), err-*"
    " (fails), slow-* (runs forever); others are unknown. `quit` or Ctrl-D ends."
)


@dataclass
class Transcript:
    """Prints what people say, then each message the bot sent since the last print."""

    stage: Stage
    out: TextIO
    shown: int = 0  # how many of the fake Slack's calls were looked at
    asked: dict[str, tuple[str, str]] = field(default_factory=dict)  # response_url key: who, where

    def say(self, who: str, where: str, what: str) -> None:
        self._print("", f"{_at(who)} in {_in(where)}: {what}")

    def note(self, text: str) -> None:
        self._print("", f"-- {text}")

    def acknowledged(self, who: str, where: str, ack: dict[str, Any]) -> None:
        """An answer in the acknowledgement itself: Slack shows it to the asker alone."""
        heading = f"  taskbot answers at once in {_in(where)} (seen by {_at(who)} only):"
        self._print(*message_lines(heading, ack, NAMES))

    def flush(self) -> None:
        calls = self.stage.slack.calls
        while self.shown < len(calls):
            call = calls[self.shown]
            self.shown += 1
            if call.method in SHOWN:
                self._print(*message_lines(self._heading(call.method, call.args), call.args, NAMES))

    def _heading(self, method: str, args: dict[str, Any]) -> str:
        channel = str(args.get("channel") or args.get("channel_id") or "")
        where = _in(channel)
        if args.get("thread_ts"):
            where += ", in the thread"
        if method == "chat.update":
            return f"  taskbot edits its message in {where}:"
        if method == "chat.postEphemeral":
            return f"  taskbot, to {_at(str(args.get('user')))} only, in {where}:"
        if method == "files.completeUploadExternal":
            return f"  taskbot uploads pictures in {where}:"
        if method == "response_url":
            who, channel = self.asked.get(str(args.get("key")), ("", ""))
            seen = "everyone" if args.get("response_type") == "in_channel" else _at(who) + " only"
            verb = "replaces its answer" if args.get("replace_original") else "answers"
            return f"  taskbot {verb} in {_in(channel)} (seen by {seen}):"
        metadata = args.get("metadata") or {}
        notice = metadata.get("event_type") == NOTICE_EVENT if isinstance(metadata, dict) else False
        return f"  taskbot {'posts its completion notice' if notice else 'posts'} in {where}:"

    def _print(self, *lines: str) -> None:
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()


def _at(user: str) -> str:
    return "@" + NAMES.get(user, user)


def _in(channel: str) -> str:
    return "#" + NAMES.get(channel, channel)


async def play(stage: Stage, out: TextIO) -> Transcript:
    """The scripted conversation; each step waits for the bot's answer before the next."""
    t = Transcript(stage, out)
    slack = stage.slack
    t.note("The real bot in HTTP mode, a fake Slack and the fake task API, all on loopback.")
    t.note(
        "Open a Block Kit Builder link to see a message as Slack shows it (the fake's pictures"
        " live on loopback, so the Builder shows them broken)."
    )

    done, failed, unknown = "ok-7f3a2c", "err-51d0e9", "nope-0000"
    stage.finished_long_ago(done)
    stage.finished_long_ago(failed, "Error")
    await _command(t, f"{done} {failed} {unknown}", ADA, BUILDS)

    live = "ok-watch-9e12"
    await _command(t, f"watch {live}", ADA, BUILDS, wait=False)
    t.note("the fake task goes Queuing -> Running -> Finished; the bot edits its live answer")
    await stage.wait_for(lambda: _notices(stage, BUILDS, since=0))
    t.flush()

    batch = ["ok-banner-01", "ok-banner-02", "err-banner-03"]
    for uid in batch:
        stage.finished_long_ago(uid, "Error" if uid.startswith("err") else "Finished")
    text = "Nightly banner render: " + ", ".join(f"`{uid}`" for uid in batch)
    pipeline = slack.add_message(RENDERS, text=text, bot_id="BPIPE", username="pipeline")
    pipeline = {**pipeline, "channel": RENDERS}
    t.say("pipeline", RENDERS, text)
    t.note('@ben opens the message\'s menu and picks "Check task status"')
    await stage.shortcut("task_status_check", pipeline, user=BEN)
    await stage.wait_for(lambda: slack.thread(RENDERS, pipeline["ts"]))
    t.flush()

    since = len(slack.calls)
    await _command(t, "follow", BEN, RENDERS, wait=False)
    await stage.wait_for(lambda: _posts(stage, RENDERS, since))
    t.flush()
    asked = "is `ok-hero-4410` done yet? the hero image for Monday"
    message = slack.add_message(RENDERS, text=asked, user=ADA)
    t.say(ADA, RENDERS, asked)
    await stage.message_event({**message, "channel": RENDERS})
    await stage.wait_for(lambda: _notices(stage, RENDERS, since, thread=message["ts"]))
    t.flush()
    return t


async def _command(
    t: Transcript, text: str, user: str, channel: str, wait: bool = True
) -> str | None:
    """The command, and its answer; the `response_url` key of an answer still to come."""
    t.say(user, channel, f"/taskstatus {text}")
    key, ack = await t.stage.command(text, user=user, channel=channel)
    t.asked[key] = (user, channel)
    if ack.get("blocks") or ack.get("text"):
        t.acknowledged(user, channel, ack)
        return None
    if wait:
        await t.stage.wait_for(lambda: t.stage.slack.responses.get(key))
        t.flush()
    return key


def _posts(stage: Stage, channel: str, since: int) -> bool:
    return any(
        c.method == "chat.postMessage" and c.args.get("channel") == channel
        for c in stage.slack.calls[since:]
    )


def _notices(stage: Stage, channel: str, since: int, thread: str | None = None) -> bool:
    return any(
        c.method == "chat.postMessage"
        and c.args.get("channel") == channel
        and (thread is None or c.args.get("thread_ts") == thread)
        and isinstance(c.args.get("metadata"), dict)
        and c.args["metadata"].get("event_type") == NOTICE_EVENT
        for c in stage.slack.calls[since:]
    )


async def converse(t: Transcript, lines: asyncio.Queue[str | None]) -> None:
    """Typed `/taskstatus` lines, each sent as a signed command; later edits (a watch going
    on) print as they come."""
    t.out.write("\n" + HINT + "\n")
    t.out.flush()
    tail = asyncio.create_task(_tail(t))
    try:
        while (line := await lines.get()) is not None:
            line = line.strip()
            if line in ("quit", "exit"):
                break
            if not line:
                continue
            command, _, text = line.partition(" ")
            if command != "/taskstatus":
                t.note("only /taskstatus lines are understood here. " + HINT.splitlines()[0])
                continue
            since = len(t.stage.slack.calls)
            key = await _command(t, text.strip(), YOU, DEMO, wait=False)
            if key is None:
                continue
            with contextlib.suppress(TimeoutError):
                await t.stage.wait_for(_answered(t.stage, key, since))
            t.flush()
    finally:
        tail.cancel()
    t.flush()


def _answered(stage: Stage, key: str, since: int) -> Callable[[], bool]:
    """The bot answered a command: through its response_url, or with a post in the channel."""
    return lambda: bool(stage.slack.responses.get(key)) or _posts(stage, DEMO, since)


async def _tail(t: Transcript) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await t.stage.wait_for(lambda: t.shown < len(t.stage.slack.calls), timeout=60.0)
            t.flush()


def stdin_lines(loop: asyncio.AbstractEventLoop, source: TextIO) -> asyncio.Queue[str | None]:
    """Lines typed on `source`, then None at its end. A daemon thread reads them: a blocking
    read must not hold up the event loop, nor keep the process alive after Ctrl-C."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in source:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="demo-stdin", daemon=True).start()
    return queue


EXIT_INTERRUPTED = 130  # what a shell reports for a program ended by Ctrl-C


async def run(interactive: bool, out: TextIO = sys.stdout) -> int:
    """The demo from start to end; Ctrl-C (or SIGTERM) stops it at any point, cleanly."""
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    interrupted: list[int] = []

    def stop(signum: int) -> None:
        interrupted.append(signum)
        main.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    try:
        async with stage() as s:
            transcript = await play(s, out)
            if interactive:
                await converse(transcript, stdin_lines(loop, sys.stdin))
    except asyncio.CancelledError:
        if not interrupted:
            raise
        out.write("\n-- demo stopped\n")
        return EXIT_INTERRUPTED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    out.write("\n-- demo over: the bot and both fakes are stopped, the temporary state removed\n")
    return 0
