"""Small pure readers of Slack payloads, testable without Slack.

Handlers read payloads only through these: a field of the wrong type counts as missing
(`text(body, "team", "id")` is "" whether `team` is absent, a list or a string), so no payload
Slack might send, or a signed request might carry, raises in a handler.
"""

from __future__ import annotations

from typing import Any

from bot.slack.basics.ids import Action


def obj(body: Any, *path: str) -> dict[str, Any]:
    """The object at `path`, or {} when anything on the way is missing or not an object."""
    node = body
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def text(body: Any, *path: str) -> str:
    """The string (or number) at `path`, or "" when missing or of another type.

    `obj(body, *path[:-1]).get(path[-1])`, walked here without building the empty objects:
    handlers read a dozen fields per request, nearly all strings, returned as they are.
    """
    node, last = body, path[-1]
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    value = node.get(last) if isinstance(node, dict) else None
    if type(value) is str:
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def requester_team(body: dict[str, Any]) -> str | None:
    """The team of whoever asked: a Slack Connect user's differs from the installing team."""
    for path in _TEAM_PATHS:  # the first that names one: later ones are not read
        team = text(body, *path)
        if team:
            return team
    return None


_TEAM_PATHS = (
    ("user", "team_id"),
    ("event", "user_team"),
    ("event", "source_team"),
    # The author's team in a message event; the only one a legacy bot's or a webhook's post
    # from another organisation may carry (the envelope's `team_id` below is the home team).
    ("event", "team"),
    ("user_team_id",),
    ("team_id",),
    ("team", "id"),
)


def is_external(body: dict[str, Any], home_team: str, allowed: list[str]) -> bool:
    """Slack Connect: the asker belongs to another organisation than the installation.

    `home_team` is the one bot's team in single-workspace mode; in OAuth mode (blank) each
    request's home is the team it was delivered for, whose installation answers it.
    """
    home = home_team or delivered_to(body)
    team = requester_team(body)
    return bool(home) and team is not None and team != home and team not in allowed


def delivered_to(body: dict[str, Any]) -> str:
    """The team a request was delivered for: an event's envelope `team_id` (or its first
    authorization's), a command's `team_id`, an interactive payload's `team.id`."""
    for auth in _list(body.get("authorizations")):
        if text(auth, "team_id"):
            return text(auth, "team_id")
    return text(body, "team_id") or text(body, "team", "id")


def user_id(body: dict[str, Any]) -> str:
    """Of an interactive payload (shortcut, button)."""
    return text(body, "user", "id")


def channel_id(body: dict[str, Any]) -> str:
    """Of an interactive payload (shortcut, button)."""
    return text(body, "channel", "id")


def team_id(body: dict[str, Any]) -> str:
    """Of an interactive payload (shortcut, button)."""
    return text(body, "team", "id")


def message_thread(message: Any) -> str:
    """A reply goes to the thread the message is in, or starts one under it."""
    return text(message, "thread_ts") or text(message, "ts")


def live_watch_id(message: Any) -> str:
    """The watch a live message belongs to, read off its Stop watching button."""
    for block in _list(obj(message).get("blocks")):
        for element in _list(obj(block).get("elements")):
            if obj(element).get("action_id") == Action.UNWATCH:
                return text(element, "value")
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
