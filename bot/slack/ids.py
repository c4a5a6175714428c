"""Surface ids Slack sends back to us; `manifest.yaml` and the tests use the same names."""

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


# Bot scopes, each for a call the code makes; `manifest.yaml` asks for exactly these.
SCOPES = {
    "commands": "/taskstatus",
    "app_mentions:read": "app_mention events",
    "chat:write": "answers, live updates, notices, ephemeral notes",
    "files:write": "finished pictures uploaded with the completion notice (WATCH_UPLOAD_PICTURES)",
    "im:write": "conversations.open: the notice by direct message where the bot cannot post",
    "channels:history": "conversations.replies: after a restart, was the notice already sent?",
    "groups:history": "the same, in private channels the bot is in",
    "mpim:history": "the same, in group DMs the bot is in",
    "im:history": "the same, for notices sent by direct message",
}
