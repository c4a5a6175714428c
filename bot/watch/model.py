"""A watch as it is stored: everything needed to resume it after a restart."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.taskapi.models import Found, NotFound, TaskDetail, TaskResult

WatchState = Literal["active", "notifying", "done"]
EndReason = Literal["", "done", "expired", "stopped", "gone"]


class Watch(BaseModel):
    """One live message and the tasks it follows.

    `state` moves active -> notifying -> done. "notifying" is written *before* the completion
    notice is sent, so a crash in between is seen on restart, which then looks for the notice
    (by its metadata) before sending it: never twice, never lost.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    team_id: str = ""
    user_id: str
    channel_id: str
    uids: list[str]
    button_value: str = ""
    message_ts: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    response_url_uses: int = 0
    response_url_expires_at: float = 0.0
    state: WatchState = "active"
    end_reason: EndReason = ""
    created_at: float
    expires_at: float
    next_poll_at: float = 0.0
    last_change_at: float = 0.0
    last_shown_at: float = 0.0
    last_hash: str = ""
    notice_attempts: int = 0
    snapshot: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def via_response_url(self) -> bool:
        """True where the bot cannot update the message itself (private channel, DM)."""
        return self.message_ts is None

    def remember(self, results: list[TaskResult]) -> None:
        for result in results:
            if isinstance(result, Found):
                self.snapshot[result.uid] = result.task.raw()

    def last_known(self) -> list[TaskResult]:
        """The latest results seen, for a restart or an API outage."""
        return [
            Found(uid, TaskDetail.model_validate(self.snapshot[uid]))
            if uid in self.snapshot
            else NotFound(uid)
            for uid in self.uids
        ]
