"""Which message events the bot leaves alone, and why. Pure, testable without Slack.

People's messages come with many subtypes (`thread_broadcast` for "Also send to channel",
`file_share`, `me_message`, ...) and all of them are answered; an `edited` field alone is
no edit event either (a broadcast reply that was edited keeps it). Only edits, deletions and
messages written by bots, this one included (two bots must never answer each other), are
ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_IGNORED_SUBTYPES = {
    "message_changed": "an edit",
    "message_deleted": "a deletion",
    "bot_message": "a bot's message",
}


def ignore_reason(event: Mapping[str, Any], own_user_id: str = "") -> str | None:
    """Why this message event gets no answer, or None when it should be answered."""
    subtype = event.get("subtype")
    if isinstance(subtype, str) and subtype in _IGNORED_SUBTYPES:
        return _IGNORED_SUBTYPES[subtype]
    if event.get("bot_id") or event.get("bot_profile"):
        return "a bot's message"
    if own_user_id and event.get("user") == own_user_id:
        return "the bot's own message"
    return None
