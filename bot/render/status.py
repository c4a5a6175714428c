"""Status words and emoji. The vendor's own words are kept, so Slack matches its console."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from bot.render.text import clip, escape, one_line
from bot.taskapi.models import Found, NotFound, TaskResult

EMOJI = {
    "Queuing": ":hourglass_flowing_sand:",
    "Running": ":arrows_counterclockwise:",
    "Finished": ":white_check_mark:",
    "Error": ":x:",
}
UNKNOWN_STATUS_EMOJI = ":grey_question:"
NOT_FOUND = "not found"
LOOKUP_FAILED = "lookup failed"
EXTRA_EMOJI = {NOT_FOUND: ":mag:", LOOKUP_FAILED: ":warning:"}
_ORDER = ["Finished", "Error", "Running", "Queuing"]


def status_of(result: TaskResult) -> str:
    if isinstance(result, Found):
        return result.task.task_status or "unknown"
    return NOT_FOUND if isinstance(result, NotFound) else LOOKUP_FAILED


def emoji_for(status: str) -> str:
    return EMOJI.get(status) or EXTRA_EMOJI.get(status) or UNKNOWN_STATUS_EMOJI


def counts(results: Sequence[TaskResult]) -> list[tuple[str, int]]:
    """Statuses with their counts, known ones first, so summaries read the same every time."""
    if len(results) == 1:  # the commonest answer: one status, nothing to order
        return [(status_of(results[0]), 1)]
    counter: dict[str, int] = {}
    for result in results:  # not a `Counter`: this runs for every answer, and it is faster
        status = status_of(result)
        counter[status] = counter.get(status, 0) + 1
    known = [(s, counter.pop(s)) for s in _ORDER if s in counter]
    tail = [(s, counter.pop(s)) for s in (NOT_FOUND, LOOKUP_FAILED) if s in counter]
    return known + sorted(counter.items()) + tail


def summary(results: Sequence[TaskResult]) -> str:
    """One line, plain enough to be the message's notification text (no outside text in it)."""
    return summary_of(tuple(counts(results)), len(results))


@lru_cache(maxsize=256)
def summary_of(counted: tuple[tuple[str, int], ...], total: int) -> str:
    """`summary` from the `counts` of `total` results, made once per distinct counts."""
    parts = [f"{n} {_word(status)}" for status, n in counted]
    noun = "task" if total == 1 else "tasks"
    return f"{total} {noun}: " + ", ".join(parts) if parts else "No tasks"


def _word(status: str) -> str:
    return escape(clip(one_line(status), 40))
