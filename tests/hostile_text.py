"""Texts made to be slow to read, for the readers of UIDs (`bot.reading.parse`).

A pattern is slow when two runs that can take the same characters meet around a test that
fails, as `[*_~]*[A-Za-z0-9_-]++` did after a label: each family repeats one or two units to
the length Slack allows, so such a pattern shows its quadratic time. Shared by
`tests/test_parse_linear.py` and `bench/parse_worst.py`.
"""

from __future__ import annotations

import itertools

from bot.reading.parse import MAX_TEXT

# The characters mrkdwn and the readers give a meaning to, an escape, digits and letters.
UNITS = ("_", "*", "~", "-", ".", ":", "/", "@", "<", "`", "&lt;", "1", "a")
LABELS = ("TaskUid: ", "task ", "uid:")
# UID-shaped values in a list: behind a label each one is read as one more UID of the chain.
CHAINS = ("a1 ", "a1, ")
# What follows a run: the `.a` makes the lookahead after a value fail at the very end.
END = ".a"


def families() -> dict[str, str]:
    """Each unit repeated, each pair of units alternating, then each chain of values:
    name -> repeated unit."""
    units = {f"run of {u}": u for u in UNITS}
    pairs = {f"{a} and {b} alternating": a + b for a, b in itertools.combinations(UNITS, 2)}
    chains = {f"chain of {c!r}": c for c in CHAINS}
    return units | pairs | chains


def contexts() -> dict[str, tuple[str, str]]:
    """Where a family is put: alone, behind each label, in a code span and a code block."""
    alone = {"alone": ("", END)}
    labelled = {f"after {label.strip()!r}": (label, END) for label in LABELS}
    code = {"in a code span": ("`", END + "`"), "in a code block": ("```", END + "```")}
    return alone | labelled | code


def hostile(unit: str, context: str, size: int = MAX_TEXT) -> str:
    """`unit` repeated inside `context`, `size` characters at most, as close as it fits."""
    before, after = contexts()[context]
    room = size - len(before) - len(after)
    return before + unit * (room // len(unit)) + after


def old_worst(size: int = MAX_TEXT) -> str:
    """The message that held the event loop for 30 s: underscores after a label."""
    return hostile("_", "after 'TaskUid:'", size)
