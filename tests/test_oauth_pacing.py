"""OAuth mode: Slack's limits are each workspace's, so a Retry-After met for one workspace
holds that workspace's calls only (single mode: the one bot token's team, as before)."""

from __future__ import annotations

from pathlib import Path

from bot.slack.delivery.pacing import Holds
from bot.slack.delivery.slack_clients import current_workspace
from bot.store import open_store


def scope_in(holds: Holds, ws: str, method: str) -> str:
    token = current_workspace.set(ws)
    try:
        return holds.scope(method, {})
    finally:
        current_workspace.reset(token)


async def test_a_hold_met_in_one_workspace_leaves_another_free(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/state.sqlite3")
    try:
        holds = Holds(store)  # OAuth mode: no one team
        one = scope_in(holds, "T0ONE", "views.publish")
        two = scope_in(holds, "T0TWO", "views.publish")
        assert one != two
        await holds.hold(one, 30.0)
        assert await holds.left(one) > 0
        assert await holds.left(two) == 0
        # Kept in the workspace's own part of the store: deleted with it at uninstall.
        assert await store.scope_held("T0ONE", one) > 0
        await store.delete_workspace("T0ONE")
        assert await holds.left(one) == 0
        single = Holds(store, team="T0HOME")
        assert scope_in(single, "T0TWO", "views.publish") == "T0HOME/method/views.publish"
    finally:
        await store.close()
