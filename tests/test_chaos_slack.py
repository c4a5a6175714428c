"""Chaos: Slack answers 429 and 5xx for 40 s while watches finish, through real processes.
After the window, each watch has exactly one notice and its message is in its final form."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pytest_aiohttp import AiohttpServer

from bot.store import Store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from tests.chaos import WAIT, all_closed, in_final_form, live_answers, notices
from tests.fleet import fleet
from tests.slack_harness import start_fakes
from tests.test_fleet import until

WINDOW = 40.0
WATCHES = 3
TROUBLED = ("chat.postMessage", "chat.update", "conversations.replies")


async def test_a_40s_window_of_429_and_5xx_delays_each_notice_once(
    aiohttp_server: AiohttpServer, tmp_path: Path, shared: Store, redis_url: str
) -> None:
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        replicas = [await start(), await start()]
        for n in range(WATCHES):
            await replicas[n % 2].command(slack, f"watch ok-c{n}")
        await slack.wait_for(lambda: len(live_answers(slack)) == WATCHES, WAIT)
        # Each answer turned live (its Stop button shown) before the window opens: a turn
        # still on its way would meet the window as a live edit, not a final one.
        await slack.wait_for(lambda: all(is_live(m) for m in live_answers(slack)), WAIT)
        opened = time.monotonic()
        for method in TROUBLED:  # half the window rate limits, then server errors
            slack.trouble(method, WINDOW / 2, retry_after=2.0)
            slack.trouble(method, WINDOW * 3 / 4, status=500, error="internal_error")
            slack.trouble(method, WINDOW, status=503, error="service_unavailable")
        api.step = 0.0  # every task finishes at its next poll, inside the window

        async def finished() -> bool:
            """Every watch wrote `notifying`: it finished, and its completion is under way.
            (Not read off Slack's refusals: a final edit held back by another's Retry-After
            may reach Slack only after the window's first half.)"""
            watches = await shared.open_watches(HOME_TEAM)
            return len(watches) == WATCHES and all(w.state == "notifying" for w in watches)

        await until(finished, WAIT)
        assert time.monotonic() - opened < WINDOW / 2  # they finished inside the window
        await until(lambda: any(c.refused for c in slack.calls_to("chat.update")), WAIT)
        await slack.wait_for(lambda: len(notices(slack)) == WATCHES, WINDOW + WAIT)
        assert time.monotonic() - opened >= WINDOW  # nothing got through the window

        async def closed() -> bool:
            return await all_closed(shared)

        await until(closed, WAIT)
        assert sorted(notices(slack)) == sorted(set(notices(slack)))
        assert all(in_final_form(m) for m in live_answers(slack))
        refused = {c.refused for c in slack.calls if c.refused}
        assert {"ratelimited", "internal_error"} <= refused
        logs = "\n".join(line for r in replicas for line in r.log)
        assert "completion given up" not in logs


def is_live(message: dict[str, Any]) -> bool:
    return "task_unwatch" in json.dumps(message.get("blocks"))
