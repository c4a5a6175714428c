"""Uninstall: `app_uninstalled` or a revoked bot token deletes everything of that workspace
(installation, follows, watches) and its watches stop; the other workspace is untouched."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpServer

from bot.records.follow import Follow
from bot.store.base import OAuthStore
from tests.oauth_harness import event_for, install, mention_in, start_oauth
from tests.slack_harness import Harness


@pytest.fixture
async def two(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    """Workspaces One and Two installed, each following a channel and watching a task that
    runs forever."""
    async with start_oauth(aiohttp_server, tmp_path) as h:
        for team, channel, uid in (("T0ONE", "C0ONE", "slow-1"), ("T0TWO", "C0TWO", "slow-2")):
            h.slack.own(team, channel)
            await install(h, team)
            await store(h).follow(Follow(team_id=team, channel_id=channel, user_id="U1", since=1))
            await mention_in(h, team, channel, f"watch {uid}")
        await h.slack.wait_for(lambda: len(h.slack.calls_to("chat.postMessage")) >= 2)
        await h.bot.deps.watcher.wait_ticks(2)
        assert {
            w.team_id for ws in ("T0ONE", "T0TWO") for w in await store(h).open_watches(ws)
        } == {"T0ONE", "T0TWO"}
        yield h


def store(h: Harness) -> OAuthStore:
    assert h.bot.oauth is not None
    return h.bot.oauth.store


def polls(h: Harness, uid: str) -> int:
    return sum(uid in call for call in h.api.calls)


async def gone(h: Harness, team: str) -> bool:
    s = store(h)
    watches = await s.open_watches(team)
    return not (await s.find_installation(team) or await s.follows(team) or watches)


async def test_app_uninstalled_deletes_the_workspace_and_stops_its_watches(two: Harness) -> None:
    [one] = await store(two).open_watches("T0ONE")
    response = await event_for(two, "T0ONE", {"type": "app_uninstalled"})
    assert response.status == 200
    assert await gone(two, "T0ONE")
    assert await store(two).get_watch("T0ONE", one.id) is None
    assert not await gone(two, "T0TWO")
    assert [f.channel_id for f in await store(two).follows("T0TWO")] == ["C0TWO"]


async def test_an_uninstalled_workspaces_task_api_client_leaves_memory(two: Harness) -> None:
    """Its keys and its cache of tasks go with it, not when the client would idle out."""
    accounts = two.bot.deps.accounts
    assert accounts.clients == 2
    assert (await event_for(two, "T0ONE", {"type": "app_uninstalled"})).status == 200
    assert accounts.clients == 1

    await two.bot.deps.watcher.wait_ticks(2)  # the watcher has seen it go
    before = polls(two, "slow-1"), polls(two, "slow-2")
    await two.bot.deps.watcher.wait_ticks(3)
    assert polls(two, "slow-1") == before[0]  # One's watch stopped
    assert polls(two, "slow-2") > before[1]  # Two's goes on


async def test_a_revoked_bot_token_deletes_the_workspace(two: Harness) -> None:
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    assert (await event_for(two, "T0TWO", revoked)).status == 200
    assert await gone(two, "T0TWO")
    assert not await gone(two, "T0ONE")


async def test_a_revoked_user_token_deletes_nothing(two: Harness) -> None:
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    assert (await event_for(two, "T0ONE", revoked)).status == 200
    assert not await gone(two, "T0ONE")


async def test_after_an_uninstall_the_workspace_is_not_served(two: Harness) -> None:
    await event_for(two, "T0ONE", {"type": "app_uninstalled"})
    posted = len(two.slack.calls_to("chat.postMessage"))
    looked_up = len(two.api.calls)
    started = time.monotonic()
    await mention_in(two, "T0ONE", "C0ONE", "ok-1")
    await mention_in(two, "T0TWO", "C0TWO", "ok-2")  # answered: the other one is not
    await two.slack.wait_for(lambda: len(two.slack.calls_to("chat.postMessage")) > posted)
    [answer] = two.slack.calls_to("chat.postMessage")[posted:]
    assert answer.args["channel"] == "C0TWO"
    assert not any("ok-1" in call for call in two.api.calls[looked_up:])
    assert time.monotonic() - started < 10


async def test_single_workspace_mode_acknowledges_an_uninstall(harness: Harness) -> None:
    response = await event_for(harness, "T0HOME", {"type": "app_uninstalled"})
    assert response.status == 200


async def test_an_org_wide_uninstall_deletes_the_enterprises_installation(two: Harness) -> None:
    two.slack.enterprises["T0A"] = "E0ORG"
    await install(two, None, enterprise="E0ORG", org_wide=True)
    assert await store(two).find_installation("E0ORG") is not None
    body = {
        "type": "event_callback",
        "team_id": "T0A",
        "enterprise_id": "E0ORG",
        "api_app_id": "A0FAKE",
        "event": {"type": "app_uninstalled"},
        "event_id": "Ev0org",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": None, "enterprise_id": "E0ORG", "is_enterprise_install": True}
        ],
    }
    assert (await two.send(json.dumps(body), "application/json")).status == 200
    assert await store(two).find_installation("E0ORG") is None
    assert not await gone(two, "T0ONE")
    assert not await gone(two, "T0TWO")
