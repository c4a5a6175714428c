"""Small pure readers of Slack payloads, testable without Slack."""

from __future__ import annotations

from typing import Any

from bot.slack.ids import Action


def requester_team(body: dict[str, Any]) -> str | None:
    """The team of whoever asked: a Slack Connect user's differs from the installing team."""
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    event = body.get("event")
    if isinstance(event, dict):
        for key in ("user_team", "source_team"):
            if event.get(key):
                return str(event[key])
    team = body.get("user_team_id") or body.get("team_id")
    if team:
        return str(team)
    team_obj = body.get("team")
    return str(team_obj["id"]) if isinstance(team_obj, dict) and team_obj.get("id") else None


def is_external(body: dict[str, Any], home_team: str, allowed: list[str]) -> bool:
    team = requester_team(body)
    return bool(home_team) and team is not None and team != home_team and team not in allowed


def user_id(body: dict[str, Any]) -> str:
    """Of an interactive payload (shortcut, button)."""
    return str((body.get("user") or {}).get("id") or "")


def channel_id(body: dict[str, Any]) -> str:
    """Of an interactive payload (shortcut, button)."""
    return str((body.get("channel") or {}).get("id") or "")


def message_thread(message: dict[str, Any]) -> str:
    """A reply goes to the thread the message is in, or starts one under it."""
    return str(message.get("thread_ts") or message.get("ts") or "")


def live_watch_id(message: dict[str, Any]) -> str:
    """The watch a live message belongs to, read off its Stop watching button."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or [] if isinstance(block, dict) else []:
            if isinstance(element, dict) and element.get("action_id") == Action.UNWATCH:
                return str(element.get("value") or "")
    return ""
