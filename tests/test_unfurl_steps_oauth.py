"""Link unfurls and Workflow Builder steps in OAuth mode: several installed workspaces, each
with its own installation token and its own task API account (no shared fallback keys).

The fake Slack refuses a token in a channel of another workspace (`FakeSlack.own`) and any
token it did not issue, so a call made with the wrong workspace's token fails the test; the
fake task API serves one account per key pair and says whose keys each call used.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer

from bot.render.step import no_account_error
from bot.taskapi.fake import FakeTask
from bot.tenancy.accounts import Keys
from bot.testing.fake_slack import Call, Tenant
from tests.oauth_harness import envelope, event_for, install, start_oauth
from tests.slack_harness import Harness
from tests.steps_payloads import completions, function_event
from tests.test_unfurl_e2e import TEMPLATE, link_shared, page

A, B = "T0A", "T0B"  # two workspaces, each installed on its own
ORG, ORG_TEAM = "E0ORG", "T0ORGA"  # an enterprise installed org-wide, and one of its teams
KEYS = {A: Keys("pub-a", "priv-a"), B: Keys("pub-b", "priv-b"), ORG: Keys("pub-e", "priv-e")}


class MovableClock:
    """The watcher's wall clock, which a test moves on (Slack's clock, for a step's timeout)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def h(
    aiohttp_server: AiohttpServer, tmp_path: Path, clock: MovableClock
) -> AsyncIterator[Harness]:
    """A and B installed (A in channel C0A, B in C0B); no account connected yet."""
    options: dict[str, Any] = {
        "watch_clock": clock,
        "task_api_public_key": None,  # no shared account: each workspace brings its own
        "task_api_private_key": None,
        "task_link_url": TEMPLATE,
        "unfurl_work_objects": True,
    }
    async with start_oauth(aiohttp_server, tmp_path, **options) as harness:
        harness.api.accounts = {k.public_key: k.private_key for k in KEYS.values()}
        for team in (A, B):
            harness.slack.own(team, f"C0{team[-1]}")
            assert (await install(harness, team, rotating=False)).status == 200
        yield harness


async def connect(h: Harness, ws: str) -> None:
    await h.bot.deps.accounts.connect(ws, KEYS[ws], "UADMIN", 0.0)


def owned(h: Harness, uid: str, ws: str, outcome: str = "Finished", *, done: bool = True) -> None:
    """A task only `ws`'s account knows (done already, or going through its states)."""
    h.api.tasks[uid] = FakeTask(
        uid, outcome, owner=KEYS[ws].public_key, first_seen=-1e9 if done else None
    )


async def share(h: Harness, team: str, event: dict[str, Any], **org: Any) -> None:
    body = envelope(team, event, **org)
    body["is_ext_shared_channel"] = False  # as Slack says of a channel of one organisation
    response = await h.send(json.dumps(body), "application/json")
    assert response.status == 200


async def settled(h: Harness) -> None:
    await h.bot.deps.tracker.idle.wait()


def unfurl_calls(h: Harness) -> list[Call]:
    return h.slack.calls_to("chat.unfurl")


def card_text(call: Call) -> str:
    unfurls = call.args["unfurls"]
    return json.dumps(json.loads(unfurls) if isinstance(unfurls, str) else unfurls)


def execution_token(h: Harness, token: str, ws: str, *, org_wide: bool = False) -> str:
    """A `bot_access_token` Slack issued for one execution in `ws`: the fake accepts it
    there (and refuses any token it never issued)."""
    h.slack.tenants[token] = Tenant(None, ws, True) if org_wide else Tenant(ws)
    return token


async def run_step(
    h: Harness, team: str, callback: str, inputs: dict[str, Any], execution: str, **top: Any
) -> dict[str, Any]:
    token = execution_token(h, f"xwfp-{execution}", team)
    body = function_event(callback, inputs, execution, token, team=team, **top)
    assert (await h.send(body, "application/json")).status == 200
    await h.slack.wait_for(lambda: execution in h.slack.completions)
    (done,) = completions(h.slack, execution)
    assert done["token"] == token
    return done


# -- unfurls ------------------------------------------------------------------------------------


async def test_an_unfurl_uses_its_workspaces_token_and_account(h: Harness) -> None:
    await connect(h, A)
    await connect(h, B)
    owned(h, "ok-a1", A)
    await share(h, A, link_shared([page("ok-a1")], channel="C0A"))
    await h.slack.wait_for(lambda: h.slack.unfurls)
    await share(h, B, link_shared([page("ok-a1")], channel="C0B"))  # B's account lacks it
    await h.slack.wait_for(lambda: len(h.slack.unfurls) == 2)
    await settled(h)
    in_a, in_b = unfurl_calls(h)
    assert (in_a.refused, in_b.refused) == ("", "")
    assert in_a.token in h.slack.tokens_of(A)
    assert in_b.token in h.slack.tokens_of(B)
    assert ":white_check_mark: *Finished*" in card_text(in_a)
    assert "*Not found:*" in card_text(in_b)  # A's cached task never served to B
    assert h.api.callers == ["pub-a", "pub-b"]


async def test_a_workspace_without_an_account_gets_no_unfurl_and_no_lookup(h: Harness) -> None:
    await share(h, B, link_shared([page("ok-1")], channel="C0B"))
    await share(h, B, link_shared([page("ok-2")], source="composer"))
    await settled(h)
    assert unfurl_calls(h) == []
    assert h.api.calls == []
    # Nothing held the link meanwhile: once an account is connected, its next paste unfurls.
    await connect(h, B)
    await share(h, B, link_shared([page("ok-1")], channel="C0B"))
    await h.slack.wait_for(lambda: h.slack.unfurls)
    (call,) = unfurl_calls(h)
    assert call.token in h.slack.tokens_of(B)
    assert h.api.callers == ["pub-b"]


async def test_the_flexpane_without_an_account_says_so_with_no_lookup(h: Harness) -> None:
    event = {
        "type": "entity_details_requested",
        "user": "U1",
        "external_ref": {"id": "ok-1"},
        "app_unfurl_url": page("ok-1"),
        "trigger_id": "1.2.flexpane",
        "channel": "C0B",
        "event_ts": f"{time.time():.6f}",
    }
    await share(h, B, event)
    await h.slack.wait_for(lambda: h.slack.calls_to("entity.presentDetails"))
    await settled(h)
    (call,) = h.slack.calls_to("entity.presentDetails")
    assert call.refused == ""
    assert call.token in h.slack.tokens_of(B)
    error = call.args["error"]
    error = json.loads(error) if isinstance(error, str) else error
    assert error["custom_title"] == "No task API account"
    assert "/taskstatus connect" in error["custom_message"]
    assert h.api.calls == []


# -- steps --------------------------------------------------------------------------------------


@pytest.mark.parametrize("callback", ["get_task_status", "wait_for_tasks"])
async def test_a_step_in_a_workspace_without_an_account_fails_readably(
    h: Harness, callback: str
) -> None:
    await connect(h, A)  # another workspace's account serves nobody else
    done = await run_step(h, B, callback, {"task_uids": "ok-1"}, "FxNoAcct")
    assert done["method"] == "functions.completeError"
    assert done["error"] == no_account_error()
    assert h.api.calls == []
    assert await h.bot.deps.store.open_watches(B) == []


async def test_the_execution_token_completes_the_step_and_nothing_else(h: Harness) -> None:
    """The step's own token makes its completion; the workspace's next request (an unfurl)
    goes out with its installation's token, never the execution's."""
    await connect(h, A)
    before = len(h.slack.calls)  # the installs' own calls are done
    done = await run_step(h, A, "get_task_status", {"task_uids": "ok-1"}, "FxTokA")
    assert done["method"] == "functions.completeSuccess"
    await share(h, A, link_shared([page("ok-2")], channel="C0A"))
    await h.slack.wait_for(lambda: h.slack.unfurls)
    await settled(h)
    calls = h.slack.calls[before:]
    assert [c.method for c in calls] == ["functions.completeSuccess", "chat.unfurl"]
    assert calls[0].token == "xwfp-FxTokA"
    assert calls[1].token in h.slack.tokens_of(A)


async def test_wait_for_tasks_polls_through_its_workspaces_account(h: Harness) -> None:
    await connect(h, A)
    await connect(h, B)
    h.api.step = 0.1
    owned(h, "ok-a7", A, done=False)  # Queuing, Running, then Finished
    inputs = {"task_uids": "ok-a7", "timeout_minutes": 2}
    done = await run_step(h, A, "wait_for_tasks", inputs, "FxPollA")
    assert done["method"] == "functions.completeSuccess"
    assert done["outputs"]["statuses"] == "ok-a7: Finished"
    assert len(h.api.calls) >= 2  # polled until done
    assert set(h.api.callers) == {"pub-a"}


async def test_an_org_wide_install_serves_unfurls_and_steps_with_the_enterprise(
    h: Harness,
) -> None:
    h.slack.enterprises[ORG_TEAM] = ORG
    h.slack.own(ORG_TEAM, "C0ORG")
    assert (await install(h, None, enterprise=ORG, org_wide=True, rotating=False)).status == 200
    await connect(h, ORG)  # one account for the enterprise, kept under its key
    owned(h, "ok-e1", ORG)
    org: dict[str, Any] = {"enterprise": ORG, "org_wide": True}
    await share(h, ORG_TEAM, link_shared([page("ok-e1")], channel="C0ORG"), **org)
    await h.slack.wait_for(lambda: h.slack.unfurls)
    (call,) = unfurl_calls(h)
    assert call.refused == ""
    assert call.token in h.slack.tokens_of(ORG)
    assert ":white_check_mark: *Finished*" in card_text(call)

    token = execution_token(h, "xwfp-org", ORG, org_wide=True)
    body = function_event(
        "wait_for_tasks",
        {"task_uids": "ok-e1"},
        "FxOrg",
        token,
        team=ORG_TEAM,
        enterprise_id=ORG,
        is_enterprise_install=True,
        authorizations=envelope(ORG_TEAM, {}, **org)["authorizations"],
    )
    assert (await h.send(body, "application/json")).status == 200
    await h.slack.wait_for(lambda: "FxOrg" in h.slack.completions)
    (done,) = completions(h.slack, "FxOrg")
    assert (done["method"], done["token"]) == ("functions.completeSuccess", token)
    assert done["outputs"]["statuses"] == "ok-e1: Finished"
    watch = await h.bot.deps.store.get_watch(ORG, f"step-{ORG}-FxOrg")
    assert watch is not None
    assert (watch.team_id, watch.workspace) == (ORG, ORG)
    assert set(h.api.callers) == {"pub-e"}


async def test_a_wait_whose_account_was_disconnected_still_times_out(
    h: Harness, clock: MovableClock
) -> None:
    """A disconnects its account while a step waits: no more lookups, and the step still
    fails with its timeout error when its time is up, not never."""
    await connect(h, A)
    owned(h, "slow-a3", A, "Running", done=False)
    token = execution_token(h, "xwfp-a3", A)
    inputs = {"task_uids": "slow-a3", "timeout_minutes": 1}
    body = function_event("wait_for_tasks", inputs, "FxDisc", token, team=A)
    assert (await h.send(body, "application/json")).status == 200
    await h.api.wait_until(lambda: h.api.calls)
    assert await h.bot.deps.accounts.disconnect(A)
    await h.bot.deps.watcher.wait_ticks(2)
    polled = len(h.api.calls)
    clock.ahead = 61.0  # the minute is over on Slack's clock
    await h.slack.wait_for(lambda: "FxDisc" in h.slack.completions)
    (done,) = completions(h.slack, "FxDisc")
    assert (done["method"], done["token"]) == ("functions.completeError", token)
    assert done["error"].startswith("Timed out after 1 minute(s) (timeout_minutes): 1 of 1")
    assert len(h.api.calls) == polled  # no lookup without an account


# -- uninstall ----------------------------------------------------------------------------------


async def test_an_uninstall_ends_its_waiting_steps_and_unfurl_claims(h: Harness) -> None:
    """B waits on a task and has unfurled a link; B uninstalls. The wait is gone from the
    store, is polled no more and never completes, even once its task is done; the link's
    claim went too: installed again, the same link in the same channel unfurls at once."""
    await connect(h, B)
    owned(h, "ok-b1", B)
    owned(h, "slow-b2", B, "Finished", done=False)
    h.api.step = 3600.0  # slow-b2 stays queued while B waits on it
    await share(h, B, link_shared([page("ok-b1")], channel="C0B"))
    await h.slack.wait_for(lambda: h.slack.unfurls)
    token = execution_token(h, "xwfp-gone", B)
    body = function_event("wait_for_tasks", {"task_uids": "slow-b2"}, "FxGone", token, team=B)
    assert (await h.send(body, "application/json")).status == 200
    await h.api.wait_until(lambda: any("slow-b2" in c for c in h.api.calls))

    assert (await event_for(h, B, {"type": "app_uninstalled"})).status == 200
    assert await h.bot.deps.store.get_watch(B, f"step-{B}-FxGone") is None
    await h.bot.deps.watcher.wait_ticks(2)  # the watcher has seen it go
    h.api.tasks["slow-b2"].first_seen = -1e9  # done now: nothing is left to notice it
    polled = len(h.api.calls)
    await h.bot.deps.watcher.wait_ticks(3)
    assert len(h.api.calls) == polled
    assert completions(h.slack, "FxGone") == []
    assert await h.bot.deps.store.open_watches(B) == []

    assert (await install(h, B, rotating=False)).status == 200
    await connect(h, B)  # its account went with it too
    await share(h, B, link_shared([page("ok-b1")], channel="C0B"))
    await h.slack.wait_for(lambda: len(h.slack.unfurls) == 2)
    assert unfurl_calls(h)[-1].token in h.slack.tokens_of(B)
