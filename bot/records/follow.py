"""A followed channel as it is stored: beside the watch record, below the store that keeps it
and the surfaces that change it."""

from __future__ import annotations

from pydantic import BaseModel, model_validator

from bot.records.watch import WatchMode


class Follow(BaseModel):
    """A channel whose new messages naming tasks get live answers, and who turned it on."""

    team_id: str
    channel_id: str
    user_id: str
    since: float
    mode: WatchMode = "all"  # quiet follows: `errors` posts only when a task failed
    # The workspace key (`bot.records.workspace`) it is kept under; an older record (and a
    # single-workspace install) reads as its team's.
    workspace: str = ""

    @model_validator(mode="after")
    def _own_workspace(self) -> Follow:
        if not self.workspace:
            self.workspace = self.team_id
        return self
