"""The slowest 40,000-character message for each reader of UIDs, before and after the value
pattern after a label was made linear.

Every family of `tests/hostile_text.py` (each unit repeated, each pair alternating, each
chain of UID-shaped values) is put alone, after each label and in code, and read by each
entry point: `parse_command` (slash command), `parse_mention` (a mention, with its event)
and `message_uids` (message shortcut and followed channels). "After" reads every text at
40,000 characters. "Before" uses the same code with the old value pattern (copied below):
its worst text per reader is found on texts of 4,000 characters (the quadratic ones take 100
times longer at 40,000, minutes for all), then timed at 40,000.
Usage: python bench/parse_worst.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.reading import parse
from tests.hostile_text import CHAINS, UNITS, contexts, families, hostile

# The value after a label as it was up to 832a6dd: `[*_~]*` and `[A-Za-z0-9_-]++` both take
# `_`, so a failing lookahead after a long run of them retries every split.
OLD_WORDISH = r"[*_~]*[A-Za-z0-9_-]++[*_~]*(?![.:/@]?\w)"
SCREEN = 4_000
Reader = Callable[[str], Any]


def old_parse() -> ModuleType:
    """`bot.reading.parse` with the old value pattern, every other line as it is now."""
    source = Path(parse.__file__).read_text()
    start = source.index("_WORDISH = (")
    end = source.index("\n)\n", start) + 3
    module = sys.modules["old_parse"] = ModuleType("old_parse")  # dataclasses look it up
    old = source[:start] + f"_WORDISH = {OLD_WORDISH!r}\n" + source[end:]
    exec(compile(old, "old_parse", "exec"), module.__dict__)  # noqa: S102 - this repo's own code
    assert OLD_WORDISH in module._SCAN.pattern
    return module


def readers(module: Any) -> dict[str, Reader]:
    return {
        "parse_command": module.parse_command,
        "parse_mention": lambda text: module.parse_mention(text, {"text": text}),
        "message_uids": lambda text: module.message_uids({"text": text}),
    }


def timed(read: Reader, text: str) -> float:
    start = time.perf_counter()
    read(text)
    return time.perf_counter() - start


def worst(read: Reader, size: int) -> tuple[float, str, str]:
    """The slowest (seconds, family, context) of every text of `size` characters."""
    return max(
        (timed(read, hostile(unit, context, size)), family, context)
        for family, unit in families().items()
        for context in contexts()
    )


def main() -> None:
    count = len(families()) * len(contexts())
    print(f"texts: {count} of 40,000 characters per reader")
    print(f"  families: runs of {' '.join(UNITS)}; each pair alternating")
    print(f"  chains of values: {', '.join(map(repr, CHAINS))}")
    print(f"  contexts: {', '.join(contexts())}")
    before, after = readers(old_parse()), readers(parse)
    overall: list[tuple[float, str, str, str]] = []
    for name in after:
        _, family, context = worst(before[name], SCREEN)
        unit = families()[family]
        old_time = timed(before[name], hostile(unit, context))
        new_time, new_family, new_context = worst(after[name], parse.MAX_TEXT)
        same = timed(after[name], hostile(unit, context))
        print(f"{name}:")
        print(f"  before: {old_time:8.3f} s  worst: {family}, {context}")
        print(f"  after:  {same:8.3f} s  on that text")
        print(f"  after:  {new_time:8.3f} s  worst now: {new_family}, {new_context}")
        overall.append((old_time, name, family, context))
    old_time, name, family, context = max(overall)
    print(f"worst message before: {family}, {context} ({name}, {old_time:.1f} s)")


if __name__ == "__main__":
    main()
