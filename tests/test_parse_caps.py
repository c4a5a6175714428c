"""Where reading stops: the cap on one text and on all the texts of one message (exact)."""

from __future__ import annotations

from bot.reading.parse import (
    MAX_CHAIN_VALUES,
    MAX_MESSAGE_TEXT,
    MAX_TEXT,
    find_uids,
    message_uids,
    parse_command,
    parse_mention,
)


def padded(tail: str, size: int = MAX_TEXT) -> str:
    """`tail` at the end of a text of exactly `size` characters."""
    return " " * (size - len(tail)) + tail


def test_the_caps_are_slacks_text_limit_and_twice_it() -> None:
    assert (MAX_TEXT, MAX_MESSAGE_TEXT) == (40_000, 80_000)


def test_a_command_is_read_up_to_the_cap() -> None:
    assert parse_command(padded(" a-1")).uids == ["a-1"]
    assert parse_command(padded(" a-1") + " b-2").uids == ["a-1"]


def test_a_word_the_cap_would_cut_is_left_out_whole() -> None:
    assert parse_command(padded(" a-1 ab-12") + "34").uids == ["a-1"]
    assert parse_command(padded(" a-1 b-2 ab-12") + "34").uids == ["a-1", "b-2"]
    assert parse_command(padded(" a-1 ab-12") + " 34").uids == ["a-1", "ab-12"]
    assert parse_command(padded(" a-1 ab-12") + "!").uids == ["a-1"]  # `ab-12!` is cut
    assert find_uids([padded("uid: ab-12") + "34"]) == []
    assert find_uids([padded("uid: ab-12") + ".5"]) == []  # `ab-12.5` is no value, as before
    assert find_uids([padded("uid: ab-12") + ", c-3"]) == []  # `ab-12,` is cut
    assert find_uids([padded("uid: ab-12") + " c-3"]) == ["ab-12"]
    assert find_uids([padded("uid: ab-12 ") + "34"]) == ["ab-12"]
    assert find_uids([padded("uid: ab-12\n") + "34"]) == ["ab-12"]


def test_a_text_of_one_long_word_is_not_read() -> None:
    assert parse_command("a" * (MAX_TEXT + 1)).action == "help"
    assert find_uids(["`" + "a" * MAX_TEXT + "`"]) == []


def test_a_mention_is_read_up_to_the_cap() -> None:
    text = padded(" a-1") + " b-2"
    assert parse_mention(text, {}).uids == ["a-1"]


def test_the_texts_of_a_message_share_one_budget() -> None:
    full = padded("uid: a-1")
    assert find_uids([full, padded("uid: b-2"), "uid: c-3"]) == ["a-1", "b-2"]
    assert find_uids([full, "uid: b-2", "uid: c-3"]) == ["a-1", "b-2", "c-3"]
    assert find_uids([full + " uid: x-9", padded("uid: b-2", MAX_TEXT + 5)]) == ["a-1"]
    long_blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": padded("uid: b-2")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "uid: c-3"}},
    ]
    assert message_uids({"text": full, "blocks": long_blocks}) == ["a-1", "b-2"]


def test_an_operators_pattern_reads_within_the_caps() -> None:
    assert find_uids([padded("JOB-1") + " JOB-2"], r"JOB-\d") == ["JOB-1"]
    assert find_uids([padded("JOB-1"), padded("JOB-2"), "JOB-3"], r"JOB-\d") == ["JOB-1", "JOB-2"]


def test_a_chain_after_a_label_is_read_to_its_cap() -> None:
    """The label's own value, then `MAX_CHAIN_VALUES` more; a value after them is not read."""
    assert MAX_CHAIN_VALUES == 2_000
    values = [f"a{i}" for i in range(MAX_CHAIN_VALUES + 2)]
    assert find_uids(["uid: " + " ".join(values)]) == values[: MAX_CHAIN_VALUES + 1]
    assert find_uids(["uid: " + ", ".join(values[: MAX_CHAIN_VALUES + 1])]) == values[:-1]


def test_a_chain_of_one_value_repeated_stops_at_the_cap() -> None:
    """`uid: a1 a1 ... b2`: the `b2` past the cap is not read, nor is anything after it."""
    chain = "uid: " + "a1 " * MAX_CHAIN_VALUES
    assert find_uids([chain + "b2"]) == ["a1", "b2"]
    assert find_uids([chain + "a1 b2 tsk-3f"]) == ["a1"]
    assert find_uids([chain + "a1 b2 `c-3`"]) == ["a1", "c-3"]
