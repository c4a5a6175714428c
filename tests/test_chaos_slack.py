"""Chaos: Slack answers 429 and 5xx for 40 s while watches finish, through real processes.
After the window, each watch has exactly one notice and its message is in its final form."""

from __future__ import annotations

import time
from pathlib import Path

from pytest_aiohttp import AiohttpServer

from bot.store import Store
from bot.taskapi.fake import FakeTaskApi
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
        opened = time.monotonic()
        for method in TROUBLED:  # half the window rate limits, then server errors
            slack.trouble(method, WINDOW / 2, retry_after=2.0)
            slack.trouble(method, WINDOW * 3 / 4, status=500, error="internal_error")
            slack.trouble(method, WINDOW, status=503, error="service_unavailable")
        api.step = 0.0  # every task finishes at its next poll, inside the window

        shown = {m["ts"] for m in live_answers(slack)}

        def refused_final_edits() -> set[str]:
            """Live messages whose edit was refused: with no live edit due before the tasks
            finish, these are the final forms, so their watches finished in the window."""
            return {str(c.args.get("ts")) for c in slack.calls_to("chat.update") if c.refused}

        await until(lambda: refused_final_edits() >= shown, WAIT)
        assert time.monotonic() - opened < WINDOW / 2  # they finished inside the window
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
