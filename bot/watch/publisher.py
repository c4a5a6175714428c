"""What the scheduler needs from Slack, as an interface: the watch layer imports no Slack code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.records.watch import Watch
from bot.render.answer import Message
from bot.taskapi.models import TaskResult
from bot.watch.machine import Trouble

Build = Callable[[frozenset[str]], Message]
# What follows a posted notice (continuation messages, pictures): sent once the notice is
# known to be in Slack, best-effort; its failures are logged, never raised.
FollowOn = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """How an update went: sent, skipped (no budget left), the message is gone, or slow down."""

    kind: Literal["sent", "skipped", "gone", "rate_limited"]
    retry_after: float = 0.0


# A token Slack no longer takes (`SlackTrouble.reason` of a step's completion): the
# execution completed already, or its 15 minutes are over.
DEAD_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "token_expired", "token_revoked", "account_inactive"}
)


class SlackTrouble(Exception):
    """A Slack call on the completion path failed, sorted for the state machine: `kind` says
    whether to wait (`retry_after` seconds, or the next tick), give up, or count an attempt;
    `maybe_sent` says whether the call may still have reached Slack (a lost answer)."""

    def __init__(
        self, kind: Trouble, reason: str, *, retry_after: float = 0.0, maybe_sent: bool = False
    ) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason
        self.retry_after, self.maybe_sent = retry_after, maybe_sent


@dataclass(frozen=True)
class NoticePage:
    """One page of the search for a watch's notice: found, or where the next page starts
    (None: searched to the end, it is not there)."""

    found: bool
    cursor: str | None = None


SENT = Outcome("sent")
SKIPPED = Outcome("skipped")
GONE = Outcome("gone")


class Publisher(Protocol):
    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        """Replace the live message with `build`'s message."""
        ...

    def sort(self, exc: BaseException) -> SlackTrouble:
        """What a failed `update` means for a completion (wait, never, or a fault)."""
        ...

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> FollowOn | None:
        """The one completion notice (thread, or a direct message), tagged with the watch id.
        Returns once Slack took its main message, with what is still to follow it (None:
        nothing); raises `SlackTrouble` when Slack did not take it, or may not have."""
        ...

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        """One page of the search for a notice tagged with this watch's id (reads of a
        thread are scarce: the caller pays for each page from a budget)."""
        ...

    async def note(self, watch: Watch, text: str) -> None:
        """A short line in the watch's thread (or DM), for endings that are not completions."""
        ...
