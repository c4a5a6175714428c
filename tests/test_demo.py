"""`python -m bot demo` as a newcomer runs it: a real process, the real bot, the bundled fakes."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bot.demo.transcript import BUILDER_URL, blocks_text, builder_link, message_lines, plain
from tests.bot_process import clean_env

DEMO_BUDGET = 45.0  # seconds; the demo takes a few, "well under a minute" even on a busy box


async def start_demo(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        *args,
        env={**clean_env(), "TMPDIR": str(tmp_path)},  # no settings at all; temp state here
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def builder_blocks(transcript: str) -> list[list[dict[str, Any]]]:
    """The blocks behind every Block Kit Builder link in the transcript."""
    links = re.findall(r"Block Kit Builder: (\S+)", transcript)
    assert all(link.startswith(BUILDER_URL) for link in links)
    return [json.loads(unquote(link.removeprefix(BUILDER_URL)))["blocks"] for link in links]


def demo_dirs_left(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("taskbot-demo-*"))


async def test_demo_plays_every_surface_and_prints_what_slack_would_show(tmp_path: Path) -> None:
    started = time.monotonic()
    process = await start_demo(tmp_path)
    out, err = await asyncio.wait_for(process.communicate(b""), DEMO_BUDGET)
    took = time.monotonic() - started
    transcript = out.decode()
    assert process.returncode == 0, err.decode()
    assert took < DEMO_BUDGET
    assert "Traceback" not in err.decode()
    # The lookup: a finished, a failed and an unknown task, answered through response_url.
    lookup = transcript.split("@ada in #builds: /taskstatus watch")[0]
    assert "@ada in #builds: /taskstatus ok-7f3a2c err-51d0e9 nope-0000" in lookup
    assert "taskbot answers in #builds (seen by everyone):" in lookup
    assert "*Finished*  `ok-7f3a2c`" in lookup
    assert "[picture: Picture 1 of task ok-7f3a2c]" in lookup
    assert "*Error 1001:* Generation failed" in lookup
    assert "*Not found:* `nope-0000`" in lookup
    assert "[Refresh]" in lookup
    # The watch: posted live, edited as the task moves on, then a notice in its thread.
    watch = transcript.split("@ada in #builds: /taskstatus watch ok-watch-9e12")[1]
    watch = watch.split("@pipeline")[0]
    assert watch.index("*Queuing*  `ok-watch-9e12`") < watch.index("Every task is done")
    assert "taskbot edits its message in #builds:" in watch
    assert "[Stop watching]" in watch
    assert "Every task is done" in watch
    assert "taskbot posts its completion notice in #builds, in the thread:" in watch
    assert "@ada all done." in watch  # the asker is pinged, by name
    # The shortcut on a pipeline's message answers in that message's thread.
    shortcut = transcript.split('picks "Check task status"')[1].split("/taskstatus follow")[0]
    assert "taskbot posts in #renders, in the thread:" in shortcut
    assert "`err-banner-03`" in shortcut
    # The followed channel: announced, then a person's message gets a live answer and a notice.
    followed = transcript.split("@ben in #renders: /taskstatus follow")[1]
    assert "@ben turned on following in this channel" in followed
    assert "@ada in #renders: is `ok-hero-4410` done yet?" in followed
    assert "taskbot posts its completion notice in #renders, in the thread:" in followed
    assert "demo over" in transcript
    # Every message has a Builder link, and each opens exactly blocks Slack takes.
    headings = re.findall(r"^  taskbot .*:$", transcript, re.M)
    blocks = builder_blocks(transcript)
    assert len(blocks) == len(headings) >= 9  # a watch edits once at least, maybe more
    assert all(b and all("type" in block for block in b) for b in blocks)
    assert demo_dirs_left(tmp_path) == []  # the temporary state is gone


async def test_interactive_demo_takes_typed_commands_until_end_of_input(tmp_path: Path) -> None:
    process = await start_demo(tmp_path, "--interactive")
    typed = "/taskstatus ok-1 nope-2\nhello\n/taskstatus help\n/taskstatus err-3 ok-4\n"
    out, err = await asyncio.wait_for(process.communicate(typed.encode()), DEMO_BUDGET)
    assert process.returncode == 0, err.decode()
    typing = out.decode().split("`quit` or Ctrl-D ends.")[1]
    first = typing.split("@you in #demo: /taskstatus ok-1 nope-2")[1].split("-- only")[0]
    assert "taskbot answers in #demo (seen by everyone):" in first
    assert "`ok-1`" in first
    assert "*Not found:* `nope-2`" in first
    assert "-- only /taskstatus lines are understood here" in typing
    helped = typing.split("@you in #demo: /taskstatus help")[1]
    assert "taskbot answers at once in #demo (seen by @you only):" in helped
    assert "/taskstatus watch UID" in helped
    last = typing.split("@you in #demo: /taskstatus err-3 ok-4")[1]
    assert "`err-3`" in last
    assert "`ok-4`" in last
    assert "demo over" in last
    assert demo_dirs_left(tmp_path) == []


async def test_interactive_demo_ends_on_quit(tmp_path: Path) -> None:
    process = await start_demo(tmp_path, "--interactive")
    assert process.stdin is not None
    process.stdin.write(b"quit\n")  # the pipe stays open: only `quit` can end it
    await process.stdin.drain()
    out = await asyncio.wait_for(process.stdout.read(), DEMO_BUDGET)  # type: ignore[union-attr]
    assert await asyncio.wait_for(process.wait(), 10) == 0
    assert out.decode().rstrip().endswith("the temporary state removed")


async def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    process = await start_demo(tmp_path)
    assert process.stdout is not None
    while b"@ada in #builds" not in await asyncio.wait_for(process.stdout.readline(), 20):
        pass
    process.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 130
    assert "-- demo stopped" in out.decode()
    assert "Traceback" not in err.decode()
    assert demo_dirs_left(tmp_path) == []


# The transcript's rendering, block by block.

SECTION: dict[str, Any] = {
    "type": "section",
    "text": {"type": "mrkdwn", "text": "*Error*  `err-1`\n>failed &amp; gone"},
    "fields": [{"type": "plain_text", "text": "Type: <not a link>"}],
    "accessory": {"type": "image", "image_url": "https://x/1.png", "alt_text": "Picture 1"},
}


@pytest.mark.parametrize(
    ("block", "lines"),
    [
        (
            SECTION,
            ["*Error*  `err-1`", ">failed & gone", "Type: <not a link>", "[picture: Picture 1]"],
        ),
        (
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "by <@U1>"}, SECTION["accessory"]],
            },
            ["by @ada [picture: Picture 1]"],
        ),
        (
            {
                "type": "image",
                "image_url": "https://x",
                "alt_text": "a",
                "title": {"type": "plain_text", "text": "Result"},
            },
            ["[picture: Result]"],
        ),
        (
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Refresh"}}],
            },
            ["[Refresh]"],
        ),
        ({"type": "divider"}, ["---"]),
        ({"type": "header", "text": {"type": "plain_text", "text": "Tasks"}}, ["Tasks"]),
        ({"type": "input"}, ["[input block]"]),
    ],
)
def test_each_block_reads_as_plain_text(block: dict[str, Any], lines: list[str]) -> None:
    assert blocks_text([block], {"U1": "ada"}) == lines


@pytest.mark.parametrize(
    ("mrkdwn", "shown"),
    [
        ("<@U1> and <@U9>", "@ada and @U9"),
        ("in <#C1> and <#C2|general>", "in #builds and #general"),
        ("<!here> <!date^1700000000^{date_short}|Nov 14>", "@here Nov 14"),
        (
            "<https://example.com/t/1|task 1> or <https://example.com>",
            "task 1 or https://example.com",
        ),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
    ],
)
def test_mrkdwn_reads_as_on_screen(mrkdwn: str, shown: str) -> None:
    assert plain(mrkdwn, {"U1": "ada", "C1": "builds"}) == shown


def test_builder_link_carries_exactly_the_blocks_as_a_message() -> None:
    blocks = [SECTION, {"type": "divider"}]
    link = builder_link(blocks)
    assert link.startswith("https://app.slack.com/block-kit-builder/#%7B%22blocks%22")
    assert " " not in link
    assert json.loads(unquote(link.removeprefix(BUILDER_URL))) == {"blocks": blocks}


def test_message_from_blocks_as_a_json_string_or_text_only() -> None:
    lines = message_lines("heading", {"blocks": json.dumps([{"type": "divider"}])})
    assert lines[:2] == ["heading", "    ---"]
    assert lines[2].startswith("    Block Kit Builder: " + BUILDER_URL)
    assert message_lines("heading", {"text": "one\ntwo"}) == ["heading", "    one", "    two"]


def test_readme_picture_draws_each_block_as_well_formed_svg() -> None:
    from xml.etree import ElementTree

    from bot.demo.picture import svg

    drawn = svg(
        [
            {**SECTION, "text": {"type": "mrkdwn", "text": ":x: *Error*  `err-1` &lt;b&gt; &amp;"}},
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Checked now"}]},
            {"type": "actions", "elements": [{"type": "button", "text": {"text": "Refresh"}}]},
        ]
    )
    root = ElementTree.fromstring(drawn)  # noqa: S314 - our own output; a `<` must not break it
    words = "".join(root.itertext())
    assert "\u2715" in words  # :x: as its badge
    assert "Error" in words
    assert "err-1" in words
    assert "<b> &" in words  # mrkdwn escapes undone, then escaped again for SVG
    assert "Checked now" in words
    assert "Refresh" in words
    assert ":x:" not in words
