"""What the chaos tests share: the fakes, a clean Redis, and the end every run must reach."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.delivery.live import NOTICE_EVENT
from bot.store import Store
from bot.testing.fake_slack import HOME_TEAM, FakeSlack

WAIT = 60.0  # generous: real processes on a loaded two-core machine


def notices(slack: FakeSlack, channel: str = "C1") -> list[str]:
    """Watch ids of the completion notices in the channel, in order."""
    return [
        m["metadata"]["event_payload"]["watch_id"]
        for m in slack.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def live_answers(slack: FakeSlack, channel: str = "C1") -> list[dict[str, Any]]:
    """The live messages (top-level bot answers), whatever form they are in now."""
    return [
        m
        for m in slack.messages.get(channel, [])
        if not m.get("thread_ts") and not m.get("metadata") and m.get("bot_id")
    ]


def in_final_form(message: dict[str, Any]) -> bool:
    shown = json.dumps(message.get("blocks"))
    return "Every task is done" in shown and "task_unwatch" not in shown


async def all_closed(store: Store) -> bool:
    return await store.open_watches(HOME_TEAM) == []
