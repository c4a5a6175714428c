"""How fast UIDs are read from whole Slack messages, and the worst case of a 40,000-char text.

Every followed channel's messages go through `message_uids`, on the event loop, so it must
stay far below a millisecond for ordinary messages and bounded for the largest text Slack
allows (40,000 characters), whatever it holds.
Usage: python bench/parse_messages.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.reading.parse import message_uids, parse_command, parse_mention
from tests.payloads import CASES

ROUNDS = 200
HOSTILE = {
    "labels without values": "TaskUid: " * 4_444,
    "unclosed backticks": "`a" * 20_000,
    "unclosed fence": "```" + "a " * 19_998,
    "open angle brackets": "<http://x " * 4_000,
    "a long list after a label": "TaskUids: " + "a1, " * 9_997,
    "task words": "task " * 8_000,
    "spaces after a label": "task" + " " * 39_996,
    "stars after a label": "TaskUid" + "*" * 39_992 + "!",
    "unclosed user mentions": "<@U|" * 10_000,
    "nested backticks": "`" * 40_000,
}


def main() -> None:
    events = [case.event for case in CASES]
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for event in events:
            message_uids(event)
    elapsed = time.perf_counter() - start
    count = ROUNDS * len(events)
    print(f"messages read: {count} ({len(events)} real shapes x {ROUNDS})")
    print(f"messages/s: {count / elapsed:,.0f}  mean: {elapsed / count * 1e6:.1f} µs")
    for name, text in HOSTILE.items():
        start = time.perf_counter()
        message_uids({"text": text})
        parse_command(text)
        parse_mention(text, {"text": text})
        print(f"40k chars, {name}: {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
