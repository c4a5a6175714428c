"""Task API accounts per workspace, through the real app: signed requests, the fake Slack
(`users.info` says who is an admin) and the fake task API (which checks signatures and
serves two key pairs). OAuth mode is on (a client id and `SECRETS_KEY`), and both teams have
installed the app through the OAuth flow, each with its own token."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.slack.basics.values import inline_value
from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTask
from bot.tenancy.accounts import Keys
from bot.testing.fake_slack import HOME_TEAM
from tests.follow_events import send_event, text_of
from tests.oauth_harness import install
from tests.slack_harness import Harness

OTHER_TEAM = "T0OTHER"
ADMIN = "UADMIN"
SECRETS_KEY = Fernet.generate_key().decode()
# OAuth mode with no fallback keys: a workspace has an account only once it connects one.
ACCOUNTS: dict[str, Any] = {
    "slack_client_id": "fake-client-id",  # the fake Slack's own app credentials
    "slack_client_secret": "fake-client-secret",
    "secrets_key": SECRETS_KEY,
    "task_api_public_key": None,
    "task_api_private_key": None,
    "allowed_external_teams": [OTHER_TEAM],
}


@pytest.fixture(autouse=True)
async def installed(harness: Harness) -> None:
    """In OAuth mode, both teams install the app first (non-rotating tokens)."""
    if harness.bot.oauth is not None:
        for team in (HOME_TEAM, OTHER_TEAM):
            assert (await install(harness, team, rotating=False)).status == 200


def files_of(folder: Path, pattern: str) -> bytes:
    """Every byte of the matching files (the SQLite file, its WAL and shared memory)."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob(pattern)))


def admins(harness: Harness) -> None:
    harness.slack.users[ADMIN] = {"is_admin": True}


async def submit_keys(
    harness: Harness, public: str, private: str, *, user: str = ADMIN, team: str = HOME_TEAM
) -> dict[str, Any]:
    """The connect modal submitted; returns the ack's body (Slack reads it within 3 s)."""
    values = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        for block, value in (("public_key", public), ("private_key", private))
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "view": {
            "id": "VCONNECT",
            "type": "modal",
            "callback_id": "task_api_connect",
            "state": {"values": values},
        },
    }
    response = await harness.interactive(payload)
    assert response.status == 200
    return dict(json.loads(await response.text()))


async def home_button(harness: Harness, action_id: str, user: str = ADMIN) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": HOME_TEAM},
        "team": {"id": HOME_TEAM},
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "trigger_id": "trigger-home",
        "actions": [{"action_id": action_id, "value": "x", "type": "button", "block_id": "b"}],
    }
    assert (await harness.interactive(payload)).status == 200


def connect_views(harness: Harness) -> list[dict[str, Any]]:
    return [
        json.loads(c["view"]) if isinstance(c["view"], str) else c["view"]
        for c in harness.slack.called("views.open")
        if "task_api_connect" in str(c["view"])
    ]


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_connect_modal_opens_from_the_command_and_the_home_button(harness: Harness) -> None:
    admins(harness)
    response, _ = await harness.command("connect", user=ADMIN)
    assert response.status == 200
    await harness.slack.wait_for(lambda: len(connect_views(harness)) == 1)
    await home_button(harness, "task_api_connect_open")
    await harness.slack.wait_for(lambda: len(connect_views(harness)) == 2)
    for view in connect_views(harness):
        assert view["callback_id"] == "task_api_connect"
        inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
        assert set(inputs) == {"public_key", "private_key"}
        assert {e["type"] for e in inputs.values()} == {"plain_text_input"}
        assert {e["action_id"] for e in inputs.values()} == {"value"}
    assert harness.slack.called("users.info")  # the admin's modal stays a form
    assert not harness.slack.called("views.update")


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_a_plain_member_is_refused_and_nothing_is_saved(harness: Harness) -> None:
    admins(harness)
    await harness.command("connect", user="U1")  # U1: a plain member for the fake Slack
    # The form turns into the refusal as soon as Slack says who U1 is.
    await harness.slack.wait_for(lambda: harness.slack.called("views.update"))
    [update] = harness.slack.called("views.update")
    assert "Only a workspace admin or owner" in str(update["view"])

    answer = await submit_keys(harness, FAKE_PUBLIC_KEY, FAKE_PRIVATE_KEY, user="U1")
    assert answer["response_action"] == "update"
    assert "Only a workspace admin or owner" in json.dumps(answer["view"])
    assert await harness.bot.deps.store.get_account(HOME_TEAM) is None
    assert harness.api.received == 0  # a member cannot even try keys upstream


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_rejected_keys_are_a_field_error_and_nothing_is_saved(harness: Harness) -> None:
    admins(harness)
    answer = await submit_keys(harness, FAKE_PUBLIC_KEY, "not-the-private-key")
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"private_key"}
    assert "RetCode 172" in answer["errors"]["private_key"]
    answer = await submit_keys(harness, "unknown-public-key", FAKE_PRIVATE_KEY)
    assert "RetCode 171" in answer["errors"]["private_key"]
    assert harness.api.received == 2  # one lookup per submission, no retry
    assert await harness.bot.deps.store.get_account(HOME_TEAM) is None


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_good_keys_are_saved_sealed_and_serve_the_workspace(
    harness: Harness, tmp_path: Path
) -> None:
    admins(harness)
    private = FAKE_PRIVATE_KEY + "-kept-secret"
    harness.api.private_key = private
    answer = await submit_keys(harness, FAKE_PUBLIC_KEY, private)
    assert answer["response_action"] == "update"
    assert "Connected" in json.dumps(answer["view"])
    account = await harness.bot.deps.store.get_account(HOME_TEAM)
    assert account is not None
    assert account.public_key == FAKE_PUBLIC_KEY
    assert account.connected_by == ADMIN
    assert private not in account.sealed_private_key
    assert Fernet(SECRETS_KEY.encode()).decrypt(account.sealed_private_key.encode()) == (
        private.encode()
    )
    on_disk = await asyncio.to_thread(files_of, tmp_path, "state.sqlite3*")
    assert account.sealed_private_key.encode() in on_disk  # the store did write it
    assert private.encode() not in on_disk  # the WAL included

    _, key = await harness.command("ok-1")
    [reply] = await harness.answers(key)
    assert "Finished" in json.dumps(reply)


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_two_workspaces_each_get_their_own_tasks_and_cache(harness: Harness) -> None:
    api, accounts = harness.api, harness.bot.deps.accounts
    api.accounts = {"pub-a": "priv-a", "pub-b": "priv-b"}
    # Finished (so cached) tasks, each held by one account only.
    api.tasks["ok-a1"] = FakeTask("ok-a1", "Finished", owner="pub-a", first_seen=-1e9)
    api.tasks["ok-b1"] = FakeTask("ok-b1", "Finished", owner="pub-b", first_seen=-1e9)
    await accounts.connect(HOME_TEAM, Keys("pub-a", "priv-a"), ADMIN, 0.0)
    await accounts.connect(OTHER_TEAM, Keys("pub-b", "priv-b"), ADMIN, 0.0)

    _, a_key = await harness.command("ok-a1 ok-b1", team=HOME_TEAM)
    [a_reply] = await harness.answers(a_key)
    _, b_key = await harness.command("ok-a1 ok-b1", team=OTHER_TEAM)
    [b_reply] = await harness.answers(b_key)

    assert api.callers == ["pub-a", "pub-b"]  # B asked upstream with its own keys
    a_text, b_text = json.dumps(a_reply), json.dumps(b_reply)
    assert "Finished" in a_text
    assert "Finished" in b_text
    # A's account knows ok-a1 only; B's ok-b1 only: A's cached ok-a1 never reached B.
    assert "not found" in a_text.lower()
    assert "ok-b1" in a_text
    assert "not found" in b_text.lower()
    assert "ok-a1" in b_text
    client_a = await accounts.client_for(HOME_TEAM)
    client_b = await accounts.client_for(OTHER_TEAM)
    assert client_a is not None
    assert client_b is not None
    assert client_a is not client_b

    # Asked again, A's finished task comes from A's cache: no new call for A.
    _, again = await harness.command("ok-a1", team=HOME_TEAM)
    await harness.answers(again)
    assert api.callers == ["pub-a", "pub-b"]


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_without_an_account_every_surface_says_how_and_nothing_goes_upstream(
    harness: Harness,
) -> None:
    slack = harness.slack
    note = "has not connected a task API account"

    _, key = await harness.command("ok-1")
    [reply] = await harness.answers(key)
    assert note in json.dumps(reply)
    assert reply["response_type"] == "ephemeral"

    _, key = await harness.command("watch ok-1")
    assert note in json.dumps(await harness.answers(key))

    _, key = await harness.shortcut("task_status_check", {"ts": "1.1", "text": "`ok-1`"})
    assert note in json.dumps(await harness.answers(key))

    message = {"ts": "1.2", "bot_id": "BBOT", "text": "answer"}
    _, key = await harness.click("task_refresh", inline_value(["ok-1"]), message)
    assert note in json.dumps(await harness.answers(key))

    await harness.mention("ok-1")
    await slack.wait_for(lambda: note in str(slack.called("chat.postEphemeral")))

    _, key = await harness.command("follow", channel="C5")
    assert note in json.dumps(await harness.answers(key))
    assert await harness.bot.deps.store.get_follow(HOME_TEAM, "C5") is None

    await home_button(harness, "home_lookup", user="U1")  # the lookup modal says it too
    await slack.wait_for(lambda: note in str(slack.called("views.open")))

    await send_event(
        harness, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    )
    await slack.wait_for(lambda: "U1" in slack.homes)
    assert "task_api_connect_open" in text_of({"blocks": slack.homes["U1"]["blocks"]})

    assert harness.api.received == 0
    assert not slack.called("chat.postMessage")  # nothing said in the channel for all to see


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_the_watcher_polls_each_workspace_with_its_own_keys(harness: Harness) -> None:
    api, accounts, slack = harness.api, harness.bot.deps.accounts, harness.slack
    api.accounts = {"pub-a": "priv-a", "pub-b": "priv-b"}
    api.tasks["slow-a"] = FakeTask("slow-a", "Running", owner="pub-a", first_seen=-1e9)
    api.tasks["slow-b"] = FakeTask("slow-b", "Running", owner="pub-b", first_seen=-1e9)
    await accounts.connect(HOME_TEAM, Keys("pub-a", "priv-a"), ADMIN, 0.0)
    await accounts.connect(OTHER_TEAM, Keys("pub-b", "priv-b"), ADMIN, 0.0)
    await harness.command("watch slow-a", team=HOME_TEAM, channel="C1")
    await harness.command("watch slow-b", team=OTHER_TEAM, channel="C2")
    await slack.wait_for(lambda: slack.messages.get("C1") and slack.messages.get("C2"))
    polls = len(api.calls) + 6
    await api.wait_until(lambda: len(api.calls) >= polls)
    owner = {"slow-a": "pub-a", "slow-b": "pub-b"}
    assert {
        owner[uid] for uids, caller in zip(api.calls, api.callers, strict=True) for uid in uids
    } == {"pub-a", "pub-b"}
    for uids, caller in zip(api.calls, api.callers, strict=True):
        assert all(owner[uid] == caller for uid in uids), (uids, caller)
    for channel in ("C1", "C2"):
        assert "not found" not in text_of(slack.messages[channel][0]).lower()


@pytest.mark.parametrize("harness", [{}], indirect=True)
async def test_single_workspace_mode_has_nothing_to_connect(harness: Harness) -> None:
    response, _ = await harness.command("connect")
    assert "TASK_API_PUBLIC_KEY" in await response.text()
    assert not harness.slack.called("views.open")


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_only_an_admin_disconnects_and_lookups_then_stop(harness: Harness) -> None:
    admins(harness)
    store, slack = harness.bot.deps.store, harness.slack
    await harness.bot.deps.accounts.connect(
        HOME_TEAM, Keys(FAKE_PUBLIC_KEY, FAKE_PRIVATE_KEY), ADMIN, 0.0
    )
    await home_button(harness, "task_api_disconnect", user="U1")
    await slack.wait_for(lambda: "Only a workspace admin" in str(slack.called("views.open")))
    assert await store.get_account(HOME_TEAM) is not None

    await home_button(harness, "task_api_disconnect", user=ADMIN)
    await slack.wait_for(lambda: ADMIN in slack.homes)  # the Home shows it at once
    assert await store.get_account(HOME_TEAM) is None
    assert "task_api_connect_open" in json.dumps(slack.homes[ADMIN])
    _, key = await harness.command("ok-1")
    assert "has not connected" in json.dumps(await harness.answers(key))
    assert harness.api.received == 0


@pytest.mark.parametrize("harness", [ACCOUNTS], indirect=True)
async def test_a_silent_task_api_is_a_field_error_within_three_seconds(harness: Harness) -> None:
    admins(harness)
    harness.api.faults.latency = 3.0  # longer than the check may wait
    started = time.monotonic()
    answer = await submit_keys(harness, FAKE_PUBLIC_KEY, FAKE_PRIVATE_KEY)
    assert time.monotonic() - started < 3.0  # Slack's limit for a view submission
    assert answer["response_action"] == "errors"
    assert "did not answer" in answer["errors"]["private_key"]
    assert await harness.bot.deps.store.get_account(HOME_TEAM) is None
    assert harness.api.received == 1  # one try, no retry
