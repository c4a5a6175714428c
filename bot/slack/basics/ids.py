"""Surface ids Slack sends back to us; `manifest.yaml` and the tests use the same names."""

from __future__ import annotations

from enum import StrEnum

from bot.render.accounts import CONNECT_CALLBACK, CONNECT_OPEN, DISCONNECT
from bot.render.answer import ACTION_REFRESH, ACTION_UNWATCH, ACTION_WATCH
from bot.render.home import HOME_FOLLOW_MODE, HOME_LOOKUP, HOME_UNWATCH
from bot.render.modal import DM_BLOCK, DM_INPUT, MODAL_CALLBACK, UIDS_BLOCK, UIDS_INPUT
from bot.render.step import GET_TASK_STATUS, WAIT_FOR_TASKS
from bot.render.unfurl import ACTION_UNFURL_WATCH

COMMAND = "/taskstatus"


class Callback(StrEnum):
    CHECK = "task_status_check"
    WATCH = "task_status_watch"
    LOOKUP = "task_status_lookup"  # a global shortcut: opens the lookup modal


class Action(StrEnum):
    REFRESH = ACTION_REFRESH
    WATCH = ACTION_WATCH
    UNWATCH = ACTION_UNWATCH
    UNFURL_WATCH = ACTION_UNFURL_WATCH  # the Watch button on a pasted task link's card


class HomeAction(StrEnum):
    LOOKUP = HOME_LOOKUP
    UNWATCH = HOME_UNWATCH
    FOLLOW_MODE = HOME_FOLLOW_MODE  # quiet follows: a followed channel's mode menu


class Modal(StrEnum):
    """The lookup modal: its callback id and the block/action ids of its inputs."""

    CALLBACK = MODAL_CALLBACK
    UIDS_BLOCK = UIDS_BLOCK
    UIDS_INPUT = UIDS_INPUT
    DM_BLOCK = DM_BLOCK
    DM_INPUT = DM_INPUT


class Function(StrEnum):
    """Workflow Builder steps: `manifest.yaml` `functions`, each handled in
    `bot.slack.surfaces.steps`."""

    GET_TASK_STATUS = GET_TASK_STATUS
    WAIT_FOR_TASKS = WAIT_FOR_TASKS


class AccountIds(StrEnum):
    """Task API accounts: the connect modal and the Home buttons (DESIGN.md fixes them)."""

    CONNECT = CONNECT_CALLBACK
    CONNECT_OPEN = CONNECT_OPEN
    DISCONNECT = DISCONNECT


FOLLOW_WORDS = ("follow", "unfollow", "following")  # `/taskstatus follow` and friends

# Events beyond `app_mention`, each handled in `bot.slack.surfaces.follow` or
# `bot.slack.surfaces.home`.
EVENTS = (
    "app_mention",
    "app_home_opened",
    "message.channels",
    "message.groups",
    "member_left_channel",
    "channel_left",
    "group_left",
    # Link unfurls (bot.slack.surfaces.unfurl): pasted task links; Work Objects' flexpane.
    "link_shared",
    "entity_details_requested",
    "function_executed",  # Workflow Builder steps (`bot.slack.surfaces.steps`)
    # OAuth mode: the workspace removed the app, or revoked its token (Bolt's listeners).
    "app_uninstalled",
    "tokens_revoked",
)

# Bot scopes, each for a call the code makes; `manifest.yaml` asks for exactly these.
SCOPES = {
    "commands": "/taskstatus",
    "app_mentions:read": "app_mention events",
    "chat:write": "answers, live updates, notices, ephemeral notes",
    "files:write": "finished pictures uploaded with the completion notice (WATCH_UPLOAD_PICTURES)",
    "im:write": "conversations.open: the notice by direct message where the bot cannot post",
    "channels:history": "message.channels events for followed channels; conversations.replies: "
    "after a restart, was the notice already sent?",
    "groups:history": "the same, in private channels the bot is in (message.groups)",
    "channels:read": "member_left_channel / channel_left: the bot was removed, the follow ends",
    "groups:read": "the same, for private channels (group_left)",
    "mpim:history": "the same, in group DMs the bot is in",
    "im:history": "the same, for notices sent by direct message",
    # Link unfurls (bot.slack.surfaces.unfurl)
    "links:read": "link_shared events for task page links (TASK_LINK_URL)",
    "links:write": "chat.unfurl: the task's card under a pasted link",
    # Task API accounts: is the person connecting one a workspace admin or owner?
    "users:read": "users.info: only admins, owners or the installer connect an account",
}
