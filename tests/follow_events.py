"""Slack-shaped payloads for following, the Home tab and the modal (shared by their tests)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.slack_harness import Harness, envelope


def message(
    text: str,
    *,
    user: str = "U2",
    channel: str = "C1",
    ts: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts or f"{time.time():.6f}",
        "channel": channel,
        **fields,
    }


def bot_message(text: str, *, channel: str = "C1", ts: str | None = None) -> dict[str, Any]:
    event = message(text, channel=channel, ts=ts, subtype="bot_message", bot_id="BPIPE")
    del event["user"]
    event["username"] = "pipeline"
    return event


async def send_event(
    harness: Harness, event: dict[str, Any], event_id: str | None = None, **headers: str
) -> Any:
    response = await harness.send(
        json.dumps(envelope(event, event_id)), "application/json", **headers
    )
    assert response.status == 200
    return response


def thread_replies(harness: Harness, channel: str, ts: str) -> list[dict[str, Any]]:
    return harness.slack.thread(channel, ts)


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks")) + str(message.get("text"))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """For state that changes in the store with nothing to await: Bolt runs event listeners
    after the HTTP answer, and a follow ended by a `*_left` event shows only in the store."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
