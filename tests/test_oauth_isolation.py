"""Limits that belong to a workspace stay in it, through the real bot in OAuth mode."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_aiohttp import AiohttpServer

from tests.oauth_harness import install, mention_in, start_oauth


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
