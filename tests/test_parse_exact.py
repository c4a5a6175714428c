"""Edges of reading UIDs: the help aliases, the 128-character limit on every path, and a
custom `TASK_UID_PATTERN` with and without capture groups."""

from __future__ import annotations

import pytest

from bot.reading.parse import Command, find_uids, parse_command, parse_mention, strip_pairs

LONGEST = "a1" * 64  # 128 characters: the longest UID
TOO_LONG = LONGEST + "b"


def mention(text: str) -> Command:
    body = f"<@UBOT> {text}"
    return parse_mention(body, {"type": "app_mention", "text": body})


@pytest.mark.parametrize(
    "text", ["help", "HELP", "?", "-h", "--help", "--HELP", "`help`", "*?*", "? a-1", "help me"]
)
def test_help_aliases(text: str) -> None:
    assert parse_command(text) == Command("help")
    assert mention(text) == Command("help")


@pytest.mark.parametrize("text", ["helps", "-help", "h", "??", "a-1 help"])
def test_near_aliases_are_not_help(text: str) -> None:
    assert parse_command(text).action == "lookup"


def test_help_after_watch_is_not_a_uid() -> None:
    assert parse_command("watch ?") == Command("watch", [], ["?"])


def test_explicit_uids_up_to_128_characters() -> None:
    assert parse_command(LONGEST) == Command("lookup", [LONGEST])
    assert parse_command(TOO_LONG) == Command("lookup", [], [TOO_LONG])
    assert mention(f"watch {LONGEST} {TOO_LONG}") == Command("watch", [LONGEST], [TOO_LONG])


@pytest.mark.parametrize(
    "template", ["task: {}", "uid: {}", "TaskUid={}", "`{}`", "```{}```", "uid `{}`"]
)
def test_free_text_uids_up_to_128_characters(template: str) -> None:
    assert find_uids([template.format(LONGEST)]) == [LONGEST]
    assert find_uids([template.format(TOO_LONG)]) == []


def test_a_custom_pattern_without_a_group_takes_the_whole_match() -> None:
    assert find_uids(["JOB-1 and job-2, JOB-1 again"], r"job-\d+") == ["JOB-1", "job-2"]


def test_a_custom_pattern_takes_the_first_group_that_matched() -> None:
    assert find_uids(["x:1 y:2"], r"x:(\d)|y:(\d)") == ["1", "2"]
    assert find_uids(["JOB-7"], r"(JOB)-(\d+)") == ["JOB"]


def test_a_custom_pattern_obeys_the_length_limit_and_skips_empty_matches() -> None:
    assert find_uids(["k" * 128], r"k+") == ["k" * 128]
    assert find_uids(["k" * 129], r"k+") == []
    assert find_uids(["abc"], r"(z)?") == []
    assert find_uids(["abc"], r"(z?)") == []


def test_a_sentence_mention_reads_with_the_custom_pattern() -> None:
    body = "<@UBOT> please check JOB-7 for me"
    event = {"type": "app_mention", "text": body}
    assert parse_mention(body, event, r"JOB-\d+") == Command("lookup", ["JOB-7"])


@pytest.mark.parametrize(
    ("token", "stripped"),
    [("``", ""), ("()", ""), ("(a)", "a"), ("`*a-1*`", "a-1"), ("(a]", "(a]"), ("_a_", "_a_")],
)
def test_strip_pairs(token: str, stripped: str) -> None:
    assert strip_pairs(token) == stripped


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("http://c.example/tasks/tsk-5", Command("lookup", ["tsk-5"])),
        ("<https://c.example/tasks/tsk-5>", Command("lookup", ["tsk-5"])),
        (
            "<https://c.example/tasks/tsk-12",
            Command("lookup", [], ["<https://c.example/tasks/tsk-12"]),
        ),
    ],
)
def test_links_in_commands(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "uids"),
    [
        ("see https://c.example/tasks/tsk-9.", ["tsk-9"]),
        ("https://c.example/tasks/tsk-1X", ["tsk-1X"]),
        ("(https://c.example/task?uid=q-1)!", ["q-1"]),
        ("<https://c.example/tasks/tsk-1|the task>", ["tsk-1"]),
        ("<https://c.example/task?x=1&amp;uid=q-7|x>", ["q-7"]),
        ("https://c.example/#/task?uid=q-8", ["q-8"]),
        ("https://c.example/tasks?id=x-12", ["x-12"]),
        ("https://c.example/search?id=x-12", []),  # `id` alone counts on a task page only
        ("https://c.example/id/x-12", []),
        ("https://c.example/x?uid=q-1", ["q-1"]),
        ("https://c.example/tasks?page=p-2", []),
        ("<> uid: a-1", ["a-1"]),
        ("<@U1|uid a-1> <#C1|task-1x> <!subteam^S1|uid a-2>", []),  # names, not tasks
        ("uids: a-1, _a-2_ and *a-3*", ["a-1", "a-2", "a-3"]),
        ("`a-1;a-2`", ["a-1", "a-2"]),
        ("`a-1, 12345`", ["a-1", "12345"]),
        ("`a-1; 12345`", ["a-1", "12345"]),
        ("`/taskstatus 12345`", ["12345"]),
        ("`/taskstatus a-1 a-2`", ["a-1", "a-2"]),
    ],
)
def test_free_text(text: str, uids: list[str]) -> None:
    assert find_uids([text]) == uids
