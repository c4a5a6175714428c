"""Surface ids fixed by DESIGN.md; `manifest.yaml` and the tests use the same names."""

from __future__ import annotations

from enum import StrEnum

from bot.render.answer import ACTION_REFRESH, ACTION_UNWATCH, ACTION_WATCH

COMMAND = "/taskstatus"


class Callback(StrEnum):
    CHECK = "task_status_check"
    WATCH = "task_status_watch"


class Action(StrEnum):
    REFRESH = ACTION_REFRESH
    WATCH = ACTION_WATCH
    UNWATCH = ACTION_UNWATCH
