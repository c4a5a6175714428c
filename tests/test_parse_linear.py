"""No text makes reading UIDs slow: every hostile family, 40,000 characters, every reader.

The budget is generous: the slowest family takes about 0.2 s on an idle machine, so 3 s
leaves room for a loaded two-core box; the quadratic reading this replaces took tens of
seconds on the worst of them (underscores after a label), so it fails at its first text.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings, target
from hypothesis import strategies as st

from bot.reading.parse import _WORDISH, MAX_TEXT, message_uids, parse_command, parse_mention
from tests.hostile_text import LABELS, UNITS, contexts, families, hostile, old_worst

BUDGET = 3.0  # seconds for one reader on one 40,000-character text
READERS: dict[str, Callable[[str], Any]] = {
    "parse_command": parse_command,
    "message_uids": lambda text: message_uids({"text": text}),
    # A mention's own tokens; the message it came in is read by `message_uids` above.
    "parse_mention": lambda text: parse_mention(text, {}),
}


def slowest(text: str) -> tuple[float, str]:
    """The time of the slowest reader on `text`, and its name."""
    times = []
    for name, read in READERS.items():
        start = time.perf_counter()
        read(text)
        times.append((time.perf_counter() - start, name))
    return max(times)


@pytest.mark.parametrize("context", list(contexts()))
def test_every_family_is_read_within_the_budget(context: str) -> None:
    for family, unit in families().items():
        text = hostile(unit, context)
        assert MAX_TEXT - 10 <= len(text) <= MAX_TEXT
        elapsed, reader = slowest(text)
        assert elapsed < BUDGET, f"{reader} took {elapsed:.1f} s on {family}, {context}"


def test_the_old_worst_message_is_read_within_the_budget() -> None:
    elapsed, reader = slowest(old_worst())
    assert elapsed < BUDGET, f"{reader} took {elapsed:.1f} s"


def test_a_whole_message_at_every_cap_is_read_within_the_budget() -> None:
    """Text, 50 blocks and 100 attachments each full of the slowest family now: only the
    message's budget is read (all of it, 250 texts, took over 10 s)."""
    text = hostile("`&lt;", "alone")
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    message = {
        "text": text,
        "blocks": [section] * 50,
        "attachments": [{"text": text, "fields": [{"title": "uid", "value": text}]}] * 100,
    }
    start = time.perf_counter()
    message_uids(message)
    assert time.perf_counter() - start < BUDGET


# What a generated message is built of: the units, the labels and what else the readers
# give a meaning to (spaces, lists, `is`, links, fences, mentions, UIDs).
PIECES = [*UNITS, *LABELS, " ", "\n", ",", "=", "#", " is ", "and ", "```", ">", "|"]
PIECES += ["<@U1>", "<http://h/tasks/a-1|", "http://h/tasks/", "tsk-1", "é", "&amp;"]


@settings(max_examples=30, deadline=None)
@given(
    prefix=st.sampled_from(["", *LABELS, "`", "<"]),
    unit=st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
    end=st.sampled_from(["", ".a", "`", ">", "*", "_a"]),
)
@example(prefix="TaskUid: ", unit="_", end=".a")
@example(prefix="uid:", unit="_*", end=".a")
def test_no_generated_message_is_slow(prefix: str, unit: str, end: str) -> None:
    """Hypothesis steers towards the slowest texts it finds (`target`)."""
    text = prefix + unit * ((MAX_TEXT - len(prefix) - len(end)) // len(unit)) + end
    elapsed, reader = slowest(text)
    target(elapsed, label="seconds")
    assert elapsed < BUDGET, f"{reader} took {elapsed:.1f} s on {text[:60]!r}..."


# The value pattern after a label, as it was before it was made linear: the new one must
# read every text the same way (the same match, or none, at every position).
OLD_WORDISH = r"[*_~]*[A-Za-z0-9_-]++[*_~]*(?![.:/@]?\w)"


def test_the_value_after_a_label_is_read_as_before() -> None:
    old, new = re.compile(OLD_WORDISH), re.compile(_WORDISH)
    alphabet = "_*~-a.é :"
    for size in range(1, 6):
        for letters in itertools.product(alphabet, repeat=size):
            text = "".join(letters)
            before, after = old.match(text), new.match(text)
            assert (before and before.group()) == (after and after.group()), text
