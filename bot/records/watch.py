"""A watch as it is stored: everything needed to resume it after a restart, and no more."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from bot.taskapi.models import Found, NotFound, TaskDetail, TaskResult

WatchState = Literal["active", "notifying", "done"]
EndReason = Literal["", "done", "expired", "stopped", "gone"]
# How a watch speaks: `all` keeps a live message; `errors` (a quiet follow) edits nothing and
# posts only when a task ends in `Error`. Few values on purpose: it labels metrics.
WatchMode = Literal["all", "errors"]
WATCH_MODES: tuple[WatchMode, ...] = ("all", "errors")
# Workflow Builder steps: a `step` watch is a "Wait for tasks" step waiting for its tasks. It
# has no message: it edits nothing and its completion is the function's. Not a follow mode.
WatchKind = WatchMode | Literal["step"]
WATCH_KINDS: tuple[WatchKind, ...] = (*WATCH_MODES, "step")

# The task fields the bot renders; vendor extras are not worth keeping for days.
_KEPT_FIELDS = frozenset(
    f.alias or name for name, f in TaskDetail.model_fields.items() if name != "model_config"
)


class Step(BaseModel):
    """The Workflow Builder execution a `step` watch completes.

    `token` is the execution's `bot_access_token`, sealed with `SECRETS_KEY` when that is set
    (see `bot.slack.delivery.steps`): the one credential for its completion, dropped when the
    watch ends (`bot.watch.machine`), so it is never kept past the execution. Never shown in
    a repr.
    """

    execution_id: str
    token: str = Field("", repr=False)
    timeout: float  # seconds of waiting before the step fails with a timeout error
    timed_out: bool = False  # the completion owed is the timeout error, not the outputs


class Watch(BaseModel):
    """One live message and the tasks it follows.

    `state` moves active -> notifying -> done, each move a compare-and-set on `version` in the
    store (see `bot.watch.machine`). "notifying" is written *before* the completion notice is
    sent, so a crash in between is seen by whichever process takes the watch over, which then
    looks for the notice (by its metadata) before sending it: never twice, never lost.

    Times that steer polling are ages in seconds of watching (`age`, summed from a monotonic
    clock by whichever process polls), so a step of the wall clock changes nothing.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    version: int = 0  # kept by the store; a write with an older version is refused
    team_id: str = ""
    # The workspace key (`bot.records.workspace`) its store keys live under; a record written
    # before there was one reads as its team's.
    workspace: str = ""
    user_id: str
    channel_id: str
    uids: list[str]
    button_value: str = ""
    message_key: str = ""  # "channel:ts" of the live message: one open watch per message
    message_ts: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    response_url_uses: int = 0
    response_url_expires_at: float = 0.0
    state: WatchState = "active"
    end_reason: EndReason = ""
    stopped_by: str = ""
    created_at: float
    expires_at: float  # wall-clock hint for the store's bookkeeping; `age` decides expiry
    age: float = 0.0
    last_change_age: float = 0.0
    last_shown_age: float = 0.0
    notice_due_at: float = 0.0  # wall time it finished, for the record (searches use Slack ts)
    last_hash: str = ""
    notice_attempts: int = 0
    # The completion's two halves, each retried on its own until it lands (see
    # `bot.watch.machine`): a message that cannot be edited still gets its notice.
    final_shown: bool = False  # the final form is on the message (or there is none to edit)
    notice_posted: bool = False  # the completion notice is in Slack
    notifying_for: float = 0.0  # monotonic seconds spent completing; capped like `age`
    missing: dict[str, int] = Field(default_factory=dict)  # polls in a row a task was absent
    snapshot: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The command's "not UIDs" line (`notes.skipped_line`, bounded), kept so redraws show it.
    skipped: str = ""
    # Quiet follows: an `errors` watch has no live message of its own; `message_ts` is then
    # the followed message, whose thread gets the one failure message (if any task failed).
    mode: WatchKind = "all"
    step: Step | None = None  # set on a `step` watch only

    @model_validator(mode="after")
    def _own_workspace(self) -> Watch:
        if not self.workspace:
            self.workspace = self.team_id
        return self

    @property
    def via_response_url(self) -> bool:
        """True where the bot cannot update the message itself (private channel, DM)."""
        return self.message_ts is None

    @property
    def is_open(self) -> bool:
        return self.state != "done"

    def remember(self, results: list[TaskResult]) -> None:
        for result in results:
            if isinstance(result, Found):
                raw = result.task.raw()
                self.snapshot[result.uid] = {k: v for k, v in raw.items() if k in _KEPT_FIELDS}

    def last_known(self) -> list[TaskResult]:
        """The latest results seen, for a restart or an API outage."""
        return [
            Found(uid, TaskDetail.model_validate(self.snapshot[uid]))
            if uid in self.snapshot
            else NotFound(uid)
            for uid in self.uids
        ]


def message_key(channel: str, ts: str | None) -> str:
    return f"{channel}:{ts}" if ts else ""
