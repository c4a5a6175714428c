"""Limits that belong to a workspace stay in it, through the real bot in OAuth mode."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_aiohttp import AiohttpServer

from tests.oauth_harness import event_for, install, mention_in, start_oauth


async def test_a_grid_users_lookups_in_one_workspace_leave_another_workspaces_limit_alone(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """An Enterprise Grid user id (W...) is the same in every workspace of the org; two
    workspaces installed apiece must not share that person's lookup limit."""
    async with start_oauth(aiohttp_server, tmp_path, lookup_uids_per_minute=2) as h:
        h.slack.own("T0ONE", "C0ONE")
        h.slack.own("T0TWO", "C0TWO")
        await install(h, "T0ONE")
        await install(h, "T0TWO")
        await mention_in(h, "T0ONE", "C0ONE", "ok-1 ok-2", user="W0GRID", enterprise="E0ORG")
        await h.slack.wait_for(lambda: h.slack.calls_to("chat.postMessage", "C0ONE"))
        await mention_in(h, "T0TWO", "C0TWO", "ok-3 ok-4", user="W0GRID", enterprise="E0ORG")

        def in_two() -> list[object]:
            return [
                *h.slack.calls_to("chat.postMessage", "C0TWO"),
                *h.slack.calls_to("chat.postEphemeral", "C0TWO"),
            ]

        [answer] = await h.slack.wait_for(in_two)
        assert answer.method == "chat.postMessage"  # not the limit's note
        assert "ok-3" in json.dumps(answer.args)


async def test_one_workspaces_home_publishes_leave_anothers_pace_alone(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Slack counts `views.publish` per workspace (Tier 4): when 25 people of one workspace
    open their Home at once, the first 20 go and the rest wait their turn; someone of another
    workspace opening theirs then is not queued behind them."""
    async with start_oauth(aiohttp_server, tmp_path) as h:
        await install(h, "T0ONE")
        await install(h, "T0TWO")
        busy = [f"U0B{n:02d}" for n in range(25)]
        for user in busy:
            opened = {"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"}
            assert (await event_for(h, "T0ONE", opened)).status == 200
        opened = {"type": "app_home_opened", "user": "U0QUIET", "tab": "home", "channel": "D2"}
        assert (await event_for(h, "T0TWO", opened)).status == 200
        await h.slack.wait_for(lambda: len(h.slack.calls_to("views.publish")) >= len(busy) + 1)
        order = [c.args["user_id"] for c in h.slack.calls_to("views.publish")]
        assert order.index("U0QUIET") < order.index(busy[-1])  # not behind the busy ones
