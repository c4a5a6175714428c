from __future__ import annotations

import pytest

from bot.reading.parse import find_uids, message_texts, parse_command


@pytest.mark.parametrize(
    ("text", "action", "uids", "invalid"),
    [
        ("", "help", [], []),
        ("help", "help", [], []),
        ("  HELP ", "help", [], []),
        ("a-1 b_2", "lookup", ["a-1", "b_2"], []),
        ("a-1,b-2\nc-3;a-1", "lookup", ["a-1", "b-2", "c-3"], []),
        ("watch a-1 b-2", "watch", ["a-1", "b-2"], []),
        ("WATCH", "watch", [], []),
        ("`a-1` *b-2*", "lookup", ["a-1", "b-2"], []),
        ("<@UBOT> a-1", "lookup", ["a-1"], []),
        ("a/b <!channel> " + "x" * 129, "lookup", [], ["a/b", "<!channel>", "x" * 129]),
    ],
)
def test_parse_command(text: str, action: str, uids: list[str], invalid: list[str]) -> None:
    parsed = parse_command(text)
    assert (parsed.action, parsed.uids, parsed.invalid) == (action, uids, invalid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("done: 123e4567-e89b-12d3-a456-426614174000!", ["123e4567-e89b-12d3-a456-426614174000"]),
        ("see `job-42` and `x`", ["job-42", "x"]),
        ("task: abc123 / TaskUid=ZZ_9 / uid #q-1", ["abc123", "ZZ_9", "q-1"]),
        ("the task is running fine", []),
        ("nothing here", []),
        ("`a-1` then `a-1` again", ["a-1"]),
    ],
)
def test_find_uids(text: str, expected: list[str]) -> None:
    assert find_uids([text]) == expected


def test_custom_pattern_replaces_the_default() -> None:
    assert find_uids(["JOB-1 and job-2 `x`"], r"JOB-(\d+)") == ["1", "2"]


def test_message_texts_cover_blocks_and_attachments() -> None:
    message = {
        "text": "hi",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "task: s-1"}},
            {
                "type": "rich_text",
                "elements": [
                    {"elements": [{"type": "text", "text": "c-1", "style": {"code": True}}]}
                ],
            },
        ],
        "attachments": [{"fallback": "uid: a-9", "fields": [{"title": "t", "value": "`v-1`"}]}],
    }
    assert find_uids(message_texts(message)) == ["s-1", "c-1", "a-9", "v-1"]
