"""What the scheduler needs from Slack, as an interface: the watch layer imports no Slack code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.render.answer import Message
from bot.taskapi.models import TaskResult
from bot.watch.model import Watch

Build = Callable[[frozenset[str]], Message]


@dataclass(frozen=True)
class Outcome:
    """How an update went: sent, skipped (no budget left), the message is gone, or slow down."""

    kind: Literal["sent", "skipped", "gone", "rate_limited"]
    retry_after: float = 0.0


SENT = Outcome("sent")
SKIPPED = Outcome("skipped")
GONE = Outcome("gone")


class Publisher(Protocol):
    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        """Replace the live message with `build`'s message."""
        ...

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """The one completion notice (thread, or a direct message), tagged with the watch id."""
        ...

    async def notice_sent(self, watch: Watch) -> bool:
        """Whether a notice tagged with this watch's id is already in Slack."""
        ...

    async def note(self, watch: Watch, text: str) -> None:
        """A short line in the watch's thread (or DM), for endings that are not completions."""
        ...
