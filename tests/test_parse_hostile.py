"""Hostile and odd input to the message readers: each must return at once and never raise.

Every message of a followed channel, and every mention, is read on the event loop; a reader
that backtracks or raises on one odd message stalls or breaks the bot for everyone.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.reading.parse import (
    Command,
    find_uids,
    message_uids,
    parse_command,
    parse_mention,
    strip_pairs,
)

LONGEST = 40_000  # the longest text Slack delivers in a message
HOSTILE = {
    "spaces after a label": "task" + " " * LONGEST,
    "tabs after a label": "uid" + "\t" * LONGEST + "!",
    "stars after a label": "TaskUid" + "*" * LONGEST + "!",
    "tildes and a space after a label": "task" + "~" * LONGEST + " !",
    "labels each followed by stars": ("task" + "*" * 200 + "! ") * (LONGEST // 206),
    "unclosed user mentions": "<@U|" * (LONGEST // 4),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_texts_are_read_in_linear_time(text: str) -> None:
    start = time.perf_counter()
    find_uids([text])
    parse_command(text)
    parse_mention("<@UBOT> " + text, {"text": text})
    # Linear reading takes a few ms here; the backtracking this guards against took minutes.
    assert time.perf_counter() - start < 1.0


def test_nested_wrappers_are_stripped_in_linear_time() -> None:
    long = 4 * LONGEST  # a command is no message, but the slash command is read the same way
    start = time.perf_counter()
    assert strip_pairs("`" * long) == ""
    assert strip_pairs("(" * (long // 2) + "a-1" + ")" * (long // 2)) == "a-1"
    # ~50 ms here; stripping by slicing copied the token once a pair: seconds.
    assert time.perf_counter() - start < 0.5


ODD_MESSAGES: dict[str, Any] = {
    "a text object whose type is a list": {
        "blocks": [{"type": "section", "text": {"type": ["mrkdwn"], "text": "`a-1`"}}]
    },
    "a block whose type is an object": {"blocks": [{"type": {"a": 1}, "text": "x"}]},
    "an unbalanced IPv6 bracket in a link": {"text": "<http://[oops/tasks/tsk-1> `ok-1`"},
    "an unbalanced IPv6 bracket in a bare URL": {"text": "see http://[::1/tasks/tsk-1 ok"},
    "an unbalanced IPv6 bracket in code": {"text": "`http://[x/tasks/a-1`"},
    "a rich_text link to one": {
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "link", "url": "http://["}]}
                ],
            }
        ]
    },
    "not an object at all": ["text", "`a-1`"],
}


@pytest.mark.parametrize("message", ODD_MESSAGES.values(), ids=ODD_MESSAGES.keys())
def test_odd_messages_never_raise(message: Any) -> None:
    uids = message_uids(message)
    assert all(isinstance(uid, str) and uid for uid in uids)


def test_a_link_that_is_no_url_is_named_back_in_a_command() -> None:
    parsed = parse_command("http://[x/tasks/a-1 ok-1")
    assert (parsed.uids, parsed.invalid) == (["ok-1"], ["http://[x/tasks/a-1"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # `task`/`uid` inside a hyphenated or underscored name is no label: never `-7f3a`.
        ("see task-7f3a for details", []),
        ("the task_9ab failed, uid-5 too", []),
        ("multi-task-v2 rollout, sub-task 4b is blocked", []),
        ("_TaskUid:_ tsk-it2", ["tsk-it2"]),
        ("task_uid: ab13, Task-ID: t-5", ["ab13", "t-5"]),
        # Commas in a pasted log line, traceback or shell command part phrases, not UIDs.
        ("```\nerror: could not open file, retrying\n```", []),
        ("run `ls -la; cd foo` then `npm install; npm test`", []),
        ('```\nFile "x.py", line 3, in <module>\nValueError: bad\n```', []),
        ("```\nTaskUid: tsk-4; Status: Running\n```", ["tsk-4"]),
        ('`{"TaskUid": "tsk-6", "TaskStatus": "Running"}`', ["tsk-6"]),
        ("```tsk-1, tsk-2\ntsk-3``` `a, b`", ["tsk-1", "tsk-2", "tsk-3", "a", "b"]),
    ],
)
def test_words_that_only_look_like_labels_or_lists(text: str, expected: list[str]) -> None:
    assert find_uids([text]) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"[A-Z0-9]{9,}", ["TSK0000001"]),
        (r"(?:T|TSK)(\d+)", ["0000001"]),
        (r"\btsk-\w+", ["tsk-1"]),
    ],
)
def test_a_custom_pattern_never_takes_slack_user_or_channel_ids(
    pattern: str, expected: list[str]
) -> None:
    body = "<@U0BOT12345> <!subteam^S0123ABCD|@renders> see <#C0123ABCD|general>: TSK0000001"
    event = {"type": "app_mention", "text": body + " and tsk-1"}
    assert parse_mention(body, event, pattern).uids == [*expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":eyes: tsk-1", Command("lookup", ["tsk-1"])),
        ("tsk-1 tsk-2 :pray: :+1::skin-tone-2:", Command("lookup", ["tsk-1", "tsk-2"])),
        ("watch <#C0123ABCD|renders> tsk-1", Command("watch", ["tsk-1"])),
        ("<!here> tsk-1", Command("lookup", ["tsk-1"])),
        (":wave:", Command("help")),
        ("tsk-1 :pray: bad/uid", Command("lookup", ["tsk-1"], ["bad/uid"])),
    ],
)
def test_emoji_and_references_beside_a_mentions_uids_are_no_uids(
    text: str, expected: Command
) -> None:
    body = f"<@UBOT> {text}"
    assert parse_mention(body, {"type": "app_mention", "text": body}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```tsk-1\ntsk-2\ntsk-3```", Command("lookup", ["tsk-1", "tsk-2", "tsk-3"])),
        ("watch\n```tsk-1\ntsk-2```", Command("watch", ["tsk-1", "tsk-2"])),
        ("`tsk-1 tsk-2`", Command("lookup", ["tsk-1", "tsk-2"])),
        ("`tsk-1` `tsk-2`", Command("lookup", ["tsk-1", "tsk-2"])),
        ("`tsk-1` bad/uid", Command("lookup", ["tsk-1"], ["bad/uid"])),
    ],
)
def test_a_code_block_of_uids_after_a_mention_is_read_whole(text: str, expected: Command) -> None:
    body = f"<@UBOT> {text}"
    assert parse_mention(body, {"type": "app_mention", "text": body}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Task v2.1 renders are stuck, TaskUid: tsk-1.", ["tsk-1"]),
        ("uid 10.0.0.1 answered, task: 2024-05-01T10:00Z", []),
        ("task: tsk-1.png and uid: a-1@host", []),
        ("uids: a-1, v1.2.3, a-2", ["a-1"]),
        ("TaskUid: *tsk-1*. Then TaskUid: tsk-2: running", ["tsk-1", "tsk-2"]),
    ],
)
def test_a_label_takes_whole_words_only(text: str, expected: list[str]) -> None:
    assert find_uids([text]) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (
            r"TaskUid: (\S+)|\b[0-9a-f]{12}\b",
            "TaskUid: a-1 and 0123456789ab",
            ["a-1", "0123456789ab"],
        ),
        (r"(x)?y-\d", "y-1 xy-2", ["y-1", "x"]),
        (r"uid: (\w*)", "uid: ", []),  # a group that took part but matched nothing: no UID
        (r"job-\d+", "JOB-7", ["JOB-7"]),
    ],
)
def test_custom_pattern_takes_the_first_group_that_took_part_else_the_match(
    pattern: str, text: str, expected: list[str]
) -> None:
    assert find_uids([text], pattern) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Slack escapes what people type: `<a-1>` arrives as `&lt;a-1&gt;`.
        ("&lt;a-1&gt; ok-2", Command("lookup", ["ok-2"], ["<a-1>"])),
        ("ok-1 &amp; ok-2", Command("lookup", ["ok-1", "ok-2"], ["&"])),
        ("&lt;https://console.example.com/tasks/a-1&gt;", Command("lookup", ["a-1"])),
    ],
)
def test_escaped_characters_in_a_command_are_named_back_as_typed(
    text: str, expected: Command
) -> None:
    assert parse_command(text) == expected


UUID = "123e4567-e89b-12d3-a456-426614174000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A UID made of a prefix and a UUID is one word: never its UUID alone.
        (f"job_{UUID} failed", [f"job_{UUID}"]),
        (f"tsk-{UUID} is stuck", [f"tsk-{UUID}"]),
        (f"_{UUID}_ and *{UUID}*", [UUID]),
        (f"x{UUID} {UUID}x {UUID}_v2", []),
    ],
)
def test_a_uuid_is_read_with_its_prefix(text: str, expected: list[str]) -> None:
    assert find_uids([text]) == expected
