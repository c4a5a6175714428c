"""Messages end to end: mentions as sentences, how-tos, subtypes answered, events left
alone, and a shortcut on another bot's message."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.payloads import BOT_ID, BOT_USER, CASES, rich, section, text
from tests.slack_harness import Harness


class LogWaiter(logging.Handler):
    """Lets a test await a log line instead of sleeping and hoping."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self._seen.set()

    async def wait_for(self, words: str, timeout: float = 5.0) -> str:
        async def found() -> str:
            while True:
                match = next((line for line in self.lines if words in line), None)
                if match:
                    return match
                self._seen.clear()
                await self._seen.wait()

        return await asyncio.wait_for(found(), timeout)


@pytest.fixture
def mention_log() -> Iterator[LogWaiter]:
    """Our handler's reasons, and Bolt's: it drops the bot's own events before any handler."""
    loggers = [logging.getLogger(n) for n in ("bot.slack.surfaces.mention", "slack_bolt")]
    waiter, levels = LogWaiter(), [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(waiter)
        logger.setLevel(logging.DEBUG)
    yield waiter
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(waiter)
        logger.setLevel(level)


def posts(harness: Harness) -> list[dict[str, Any]]:
    return harness.slack.called("chat.postMessage")


async def test_sentence_mention_looks_up_only_the_task_it_names(harness: Harness) -> None:
    sentence = "can you check `ok-3b8e70` for me? thanks!"
    blocks = [
        rich(
            section(
                {"type": "user", "user_id": BOT_USER},
                text(" can you check "),
                text("ok-3b8e70", code=True),
                text(" for me? thanks!"),
            )
        )
    ]
    await harness.mention(sentence, ts="700.1", fields={"blocks": blocks})
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == "700.1"
    assert "ok-3b8e70" in json.dumps(post["blocks"])
    assert "not task UIDs" not in json.dumps(post["blocks"])
    assert harness.api.calls == [["ok-3b8e70"]]


async def test_mention_naming_no_task_gets_a_private_how_to(harness: Harness) -> None:
    await harness.mention("hi, are you there?", ts="701.1")
    [note] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    assert note["user"] == "U1"
    assert note["thread_ts"] == "701.1"
    assert "no task UID" in json.dumps(note["blocks"])
    assert posts(harness) == []
    assert harness.api.calls == []


async def test_mention_command_of_no_uid_names_back_each_token(harness: Harness) -> None:
    # With a valid UID beside them, they are named in its answer instead
    # (tests/test_stray_tokens_e2e.py).
    await harness.mention("_ bad/uid", ts="702.1")
    [note] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    assert "`_`" in json.dumps(note["blocks"])
    assert "bad/uid" in json.dumps(note["blocks"])
    assert harness.api.calls == []


async def test_broadcast_reply_with_files_and_edited_is_answered(harness: Harness) -> None:
    [case] = [c for c in CASES if c.name == "thread broadcast with files, edited"]
    fields = {k: v for k, v in case.event.items() if k not in ("text", "ts", "user", "channel")}
    fields.pop("event_ts")
    await harness.mention("watch `ok-1`", ts="703.1", fields={**fields, "thread_ts": "703.0"})
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == "703.0"
    assert "ok-1" in json.dumps(post["blocks"])


async def test_file_share_mention_is_answered(harness: Harness) -> None:
    files = [{"id": "F2", "name": "out.png"}]
    await harness.mention(
        "ok-2", ts="704.1", fields={"subtype": "file_share", "files": files, "upload": True}
    )
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert "ok-2" in json.dumps(post["blocks"])


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        (
            {"bot_id": "B0OTHER", "subtype": "bot_message"},
            "mention 705.1 not answered: a bot's message",
        ),
        ({"bot_id": "B0OTHER"}, "mention 705.1 not answered: a bot's message"),
        ({"subtype": "message_changed"}, "mention 705.1 not answered: an edit"),
        ({"subtype": "message_deleted"}, "mention 705.1 not answered: a deletion"),
        ({"user": BOT_USER, "bot_id": BOT_ID}, "Skipped self event"),
        ({"user": BOT_USER}, "Skipped self event"),
    ],
)
async def test_edits_deletions_and_bots_are_left_alone_with_a_reason(
    harness: Harness, mention_log: LogWaiter, fields: dict[str, Any], line: str
) -> None:
    await harness.mention("ok-1", ts="705.1", fields=fields)
    await mention_log.wait_for(line)
    await harness.mention("ok-2", ts="705.2")
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == "705.2"
    assert harness.api.calls == [["ok-2"]]


async def test_shortcut_on_a_pipeline_bots_message_reads_its_fields(harness: Harness) -> None:
    [case] = [c for c in CASES if c.name.startswith("another bot's attachment fields")]
    message = {**case.event, "attachments": [dict(case.event["attachments"][0])]}
    message["attachments"][0]["fields"] = [{"title": "TaskUid", "value": "ok-c0ffee"}]
    await harness.shortcut("task_status_check", message)
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == case.event["ts"]
    assert harness.api.calls == [["ok-c0ffee"]]


async def test_emoji_beside_a_mentions_uid_is_not_named_back(harness: Harness) -> None:
    await harness.mention("ok-4 :pray:", ts="706.1")
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == "706.1"
    assert harness.api.calls == [["ok-4"]]
    assert harness.slack.called("chat.postEphemeral") == []


async def test_mention_with_a_code_block_of_uids_looks_up_each(harness: Harness) -> None:
    block = {"type": "rich_text_preformatted", "elements": [text("ok-5\nok-6\nok-7")]}
    await harness.mention(
        "watch\n```ok-5\nok-6\nok-7```",
        ts="707.1",
        fields={"blocks": [rich(section({"type": "user", "user_id": BOT_USER}), block)]},
    )
    [post] = await harness.slack.wait_for(lambda: posts(harness))
    assert post["thread_ts"] == "707.1"
    assert harness.api.calls[0] == ["ok-5", "ok-6", "ok-7"]
    assert harness.slack.called("chat.postEphemeral") == []
