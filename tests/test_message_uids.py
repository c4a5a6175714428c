"""Which tasks a person would expect found, in messages shaped as Slack sends them."""

from __future__ import annotations

import random
import re

import pytest

from bot.reading.parse import (
    EXPLICIT_UID,
    Command,
    message_uids,
    parse_command,
    parse_mention,
    strip_pairs,
)
from bot.slack.basics.event_filter import ignore_reason
from tests.payloads import BOT_USER, CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_uids_found_in_real_payloads(case: Case) -> None:
    assert message_uids(case.event) == case.uids


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_only_edits_deletions_and_bots_are_ignored(case: Case) -> None:
    assert ignore_reason(case.event, BOT_USER) == case.ignored


def test_own_messages_are_ignored_even_without_bot_fields() -> None:
    assert ignore_reason({"type": "message", "user": BOT_USER, "text": "hi"}, BOT_USER)
    assert ignore_reason({"type": "message", "subtype": "me_message", "user": "U1"}) is None


def test_custom_pattern_reads_the_same_texts() -> None:
    [case] = [c for c in CASES if c.name == "several code spans, one split over styled runs"]
    assert message_uids(case.event, r"`tsk-(\w+)`") == ["a9", "0b7e11"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok-1 ok-2", Command("lookup", ["ok-1", "ok-2"])),
        ("watch ok-1", Command("watch", ["ok-1"])),
        ("help", Command("help")),
        ("", Command("help")),
        ("`ok-1`, *ok-2*", Command("lookup", ["ok-1", "ok-2"])),
        ("ok-1 bad/uid _", Command("lookup", ["ok-1"], ["bad/uid", "_"])),
        ("12345", Command("lookup", ["12345"])),
        (
            "<https://console.example.com/tasks/tsk-5|task> ok-6",
            Command("lookup", ["tsk-5", "ok-6"]),
        ),
        ("can you check `tsk-3b8e70` for me? thanks!", Command("lookup", ["tsk-3b8e70"])),
        ("please watch the task: tsk-7 for me", Command("lookup", ["tsk-7"])),
        ("watch this one: `tsk-8`", Command("watch", ["tsk-8"])),
        ("Task 2 of the banner set is stuck", Command("lookup", [])),
        ("hi there", Command("lookup", [])),
        ("prüfe bitte `ok-1`", Command("lookup", ["ok-1"])),
        ("watch", Command("watch", [])),
        ("can you check tsk-3b8e70 please?", Command("lookup", ["tsk-3b8e70"])),
        ("status of ok-1 and `ok-2`, thanks", Command("lookup", ["ok-2", "ok-1"])),
        ("is COVID-19 v2 or x-y done?", Command("lookup", ["COVID-19"])),
    ],
)
def test_mentions_are_commands_or_sentences(text: str, expected: Command) -> None:
    body = f"<@{BOT_USER}> {text}"
    assert parse_mention(body, {"type": "app_mention", "text": body}) == expected


def test_a_sentence_mention_reads_its_blocks() -> None:
    [case] = [c for c in CASES if c.name == "Enterprise Grid mention written as a sentence"]
    assert parse_mention(case.event["text"], case.event) == Command("lookup", ["tsk-3b8e70"])


@pytest.mark.parametrize(
    ("text", "uids", "invalid"),
    [
        ("_, 3a9c", ["3a9c"], ["_"]),
        ("_abc_ abc_ _abc", ["_abc_", "abc_", "_abc"], []),
        ("`a-1` \"a-2\" “a-3” (a-4) [a-5] {a-6} ~a-7~ 'a-8'", [f"a-{n}" for n in range(1, 9)], []),
        ("``a-1`` *`a-2`*", ["a-1", "a-2"], []),
        ("(a-1 a-2) `a-3 a-4`", [], ["(a-1", "a-2)", "`a-3", "a-4`"]),
        ("- -- __", [], ["-", "--", "__"]),
        (
            "https://console.example.com/task?uid=q-1 https://example.com/x",
            ["q-1"],
            ["https://example.com/x"],
        ),
    ],
)
def test_commands_name_back_every_token_that_is_not_a_uid(
    text: str, uids: list[str], invalid: list[str]
) -> None:
    assert parse_command(text) == Command("lookup", uids, invalid)


def test_every_command_token_is_looked_up_or_named_back() -> None:
    alphabet = "ab1-_`*()\"'~[]{}/.!?<>:é "
    rng = random.Random(9)
    for _ in range(1000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        parsed = parse_command(text)
        if parsed.action == "help":
            continue
        tokens = [t for t in re.split(r"[\s,;]+", text) if t]
        if parsed.action == "watch":
            tokens = tokens[1:]
        for token in tokens:
            assert strip_pairs(token) in parsed.uids or token in parsed.invalid, (text, token)
        assert all(EXPLICIT_UID.fullmatch(u) for u in parsed.uids)
