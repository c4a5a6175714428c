"""OAuth mode end to end: the install page, the redirect, what is saved, and requests of
each workspace answered with that workspace's own token (the fake refuses any other)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from pytest_aiohttp import AiohttpServer

from bot.slack.oauth.installations import StoreInstallations
from bot.slack.oauth.scopes import BOT_SCOPES
from bot.store.base import OAuthStore
from bot.store.keyring import Keyring
from bot.taskapi.fake import FakeTaskApi
from tests.oauth_harness import (
    SECRETS_KEY,
    event_for,
    install,
    install_link,
    mention_in,
    start_oauth,
)
from tests.slack_harness import (
    Harness,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def oauth(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    async with start_oauth(aiohttp_server, tmp_path) as h:
        yield h


def store_of(h: Harness) -> OAuthStore:
    assert h.bot.oauth is not None
    return h.bot.oauth.store


def kept(h: Harness) -> StoreInstallations:
    """The installations as the bot keeps them, opened with the same key."""
    assert h.bot.oauth is not None
    return StoreInstallations(h.bot.oauth.store, Keyring(SECRETS_KEY))


def test_the_install_scopes_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    assert tuple(sorted(manifest["oauth_config"]["scopes"]["bot"])) == BOT_SCOPES
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith("/slack/oauth_redirect")
    assert {"app_uninstalled", "tokens_revoked"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )


async def test_the_install_page_links_to_slack_with_a_one_time_state(oauth: Harness) -> None:
    link, query = await install_link(oauth)
    assert link.startswith("https://slack.com/oauth/v2/authorize?")
    assert query["client_id"] == [oauth.slack.client_id]
    assert query["scope"] == [",".join(BOT_SCOPES)]
    _, again = await install_link(oauth)
    assert again["state"] != query["state"]  # each page its own state
    page = await (await oauth.http.get("/slack/install")).text()
    assert "&amp;scope=" in page  # the link is escaped in the HTML


async def test_the_redirect_saves_the_installation_and_its_workspace_is_served(
    oauth: Harness,
) -> None:
    oauth.slack.own("T0ONE", "C0ONE")
    page = await install(oauth, "T0ONE", team_name="<b>One</b>", installer="U0ADMIN")
    assert page.status == 200
    body = await page.text()
    assert "&lt;b&gt;One&lt;/b&gt;" in body
    assert "<b>One</b>" not in body
    saved = await kept(oauth).find("T0ONE")
    assert saved is not None
    [token] = oauth.slack.tokens_of("T0ONE")
    assert saved.bot_token == token
    assert saved.installer == "U0ADMIN"
    assert saved.bot_refresh_token
    assert saved.bot_token_expires_at

    assert (await mention_in(oauth, "T0ONE", "C0ONE", "ok-1")).status == 200
    [post] = await oauth.slack.wait_for(lambda: oauth.slack.calls_to("chat.postMessage"))
    assert post.token == token
    assert "ok-1" in json.dumps(post.args)


async def test_each_workspace_is_answered_with_its_own_token(oauth: Harness) -> None:
    oauth.slack.own("T0ONE", "C0ONE")
    oauth.slack.own("T0TWO", "C0TWO")
    await install(oauth, "T0ONE")
    await install(oauth, "T0TWO")
    await mention_in(oauth, "T0TWO", "C0TWO", "ok-2")
    await mention_in(oauth, "T0ONE", "C0ONE", "ok-1")
    posts = await oauth.slack.wait_for(
        lambda: len(oauth.slack.calls_to("chat.postMessage")) >= 2 and oauth.slack.calls
    )
    used = {c.args["channel"]: c.token for c in posts if c.method == "chat.postMessage"}
    assert used == {
        "C0ONE": oauth.slack.tokens_of("T0ONE")[0],
        "C0TWO": oauth.slack.tokens_of("T0TWO")[0],
    }
    assert not [c for c in oauth.slack.calls if c.refused]


@pytest.mark.parametrize("state", ["unknown", "used", "expired"])
async def test_a_bad_state_gets_a_4xx_page_and_nothing_is_saved(oauth: Harness, state: str) -> None:
    oauth.slack.grant("good-code", "T0ONE")
    if state == "unknown":
        value = "never-issued"
    elif state == "used":
        _, query = await install_link(oauth)
        value = query["state"][0]
        assert await store_of(oauth).consume_oauth_state(value)  # its one use
    else:
        value = "issued-long-ago"
        await store_of(oauth).issue_oauth_state(value, -1.0)  # ten minutes are over
    page = await oauth.http.get(
        "/slack/oauth_redirect", params={"code": "good-code", "state": value}
    )
    assert 400 <= page.status < 500
    assert "install link has expired" in await page.text()
    assert oauth.slack.calls_to("oauth.v2.access") == []  # the code was never exchanged
    assert await kept(oauth).find("T0ONE") is None


async def test_a_state_works_once(oauth: Harness) -> None:
    oauth.slack.grant("code-1", "T0ONE")
    oauth.slack.grant("code-2", "T0TWO")
    _, query = await install_link(oauth)
    state = query["state"][0]
    first = await oauth.http.get("/slack/oauth_redirect", params={"code": "code-1", "state": state})
    again = await oauth.http.get("/slack/oauth_redirect", params={"code": "code-2", "state": state})
    assert first.status == 200
    assert again.status == 401
    assert await kept(oauth).find("T0ONE") is not None
    assert await kept(oauth).find("T0TWO") is None


async def test_a_cancelled_install_gets_a_friendly_page(oauth: Harness) -> None:
    _, query = await install_link(oauth)
    page = await oauth.http.get(
        "/slack/oauth_redirect", params={"error": "access_denied", "state": query["state"][0]}
    )
    assert page.status == 200
    assert "install was cancelled" in await page.text()
    assert oauth.slack.calls_to("oauth.v2.access") == []


async def test_the_pages_escape_what_the_request_carries(oauth: Harness) -> None:
    page = await oauth.http.get(
        "/slack/oauth_redirect", params={"error": "<script>alert(1)</script>"}
    )
    body = await page.text()
    assert "<script>" not in body
    assert "&lt;script&gt;" in body


async def test_an_org_wide_install_serves_every_workspace_of_the_enterprise(
    oauth: Harness,
) -> None:
    oauth.slack.enterprises.update({"T0A": "E0ORG", "T0B": "E0ORG"})
    oauth.slack.own("T0A", "C0A")
    oauth.slack.own("T0B", "C0B")
    page = await install(oauth, None, enterprise="E0ORG", org_wide=True)
    assert page.status == 200
    saved = await kept(oauth).find("E0ORG")
    assert saved is not None
    assert saved.is_enterprise_install
    assert saved.team_id is None
    assert await kept(oauth).find("T0A") is None  # one installation, for the enterprise
    for team, channel in (("T0A", "C0A"), ("T0B", "C0B")):
        response = await mention_in(oauth, team, channel, "ok-1", enterprise="E0ORG", org_wide=True)
        assert response.status == 200
    posts = await oauth.slack.wait_for(
        lambda: (
            len(oauth.slack.calls_to("chat.postMessage")) >= 2
            and oauth.slack.calls_to("chat.postMessage")
        )
    )
    [token] = oauth.slack.tokens_of("E0ORG")
    assert {c.args["channel"] for c in posts} == {"C0A", "C0B"}
    assert {c.token for c in posts} == {token}


async def test_a_slack_connect_asker_is_refused_per_installation(oauth: Harness) -> None:
    oauth.slack.own("T0ONE", "C0ONE")
    await install(oauth, "T0ONE")
    await mention_in(oauth, "T0ONE", "C0ONE", "ok-1", user="U0GUEST", user_team="T0ELSE")
    [post] = await oauth.slack.wait_for(lambda: oauth.slack.calls_to("chat.postEphemeral"))
    assert "ok-1" not in json.dumps(post.args)
    assert oauth.api.calls == []  # nothing looked up for another organisation's member


async def test_a_request_of_a_workspace_without_installation_is_not_served(
    oauth: Harness,
) -> None:
    oauth.slack.own("T0NONE", "C0NONE")
    await mention_in(oauth, "T0NONE", "C0NONE", "ok-1")
    assert oauth.slack.calls_to("chat.postMessage") == []
    assert oauth.api.calls == []


async def test_a_watch_edits_and_notifies_with_its_workspaces_token(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Outside any request (the watcher), each call still carries the watch's workspace's
    token: the live edits, the completion notice, and the Home tab refresh."""
    async with start_oauth(aiohttp_server, tmp_path, step=0.1) as h:
        h.slack.own("T0ONE", "C0ONE")
        h.slack.own("T0TWO", "C0TWO")
        await install(h, "T0ONE")
        await install(h, "T0TWO")
        await mention_in(h, "T0ONE", "C0ONE", "watch ok-1")
        await mention_in(h, "T0TWO", "C0TWO", "watch ok-2")
        await h.slack.wait_for(
            lambda: (
                len(h.slack.calls_to("chat.update")) >= 2
                and len(h.slack.calls_to("chat.postMessage")) >= 4
            ),  # two answers, two notices
            timeout=15,
        )
        for team, channel in (("T0ONE", "C0ONE"), ("T0TWO", "C0TWO")):
            [token] = h.slack.tokens_of(team)
            made = h.slack.calls_to("chat.update", channel) + h.slack.calls_to(
                "chat.postMessage", channel
            )
            assert made
            assert {c.token for c in made} == {token}
        assert not [c for c in h.slack.calls if c.refused]


async def test_socket_mode_serves_the_install_pages(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi())
    settings = socket_mode_settings(
        tmp_path,
        slack,
        api_url,
        slack_bot_token=None,
        slack_client_id=slack.client_id,
        slack_client_secret=slack.client_secret,
        secrets_key=SECRETS_KEY,
    )
    slack.grant("code", "T0ONE")
    async with socket_mode_bot(settings), aiohttp.ClientSession() as http:
        await slack.connected()
        base = f"http://127.0.0.1:{settings.port}"
        async with http.get(base + "/slack/install") as page:
            assert page.status == 200
            found = re.search(r"state=([\w-]+)", await page.text())
        assert found is not None
        params = {"code": "code", "state": found.group(1)}
        async with http.get(base + "/slack/oauth_redirect", params=params) as done:
            assert done.status == 200
        command = {**slash_command(slack, "ok-1"), "team_id": "T0ONE"}
        envelope = {"envelope_id": "e1", "type": "slash_commands", "payload": command}
        await slack.socket_send(envelope)
        await slack.wait_for(lambda: slack.responses.get("sock"))
        assert "ok-1" in json.dumps(slack.responses["sock"][0])


async def test_client_for_gives_each_workspace_its_own_client(oauth: Harness) -> None:
    await install(oauth, "T0ONE")
    clients = oauth.bot.deps.slack_clients
    one = await clients.client_for("T0ONE")
    assert one is not None
    assert one.token == oauth.slack.tokens_of("T0ONE")[0]
    assert await clients.client_for("T0ONE") is one  # kept, not made per call
    assert await clients.client_for("T0NONE") is None  # not installed there
    assert await clients.installer("T0ONE") == "U0INSTALLER"
    assert await clients.installer("T0NONE") is None
    info = await one.auth_test()
    assert info["team_id"] == "T0ONE"


async def test_single_workspace_mode_has_the_one_client(harness: Harness) -> None:
    client = await harness.bot.deps.slack_clients.client_for("T0HOME")
    assert client is not None
    assert client.token == "xoxb-test-token"
    assert await harness.bot.deps.slack_clients.installer("T0HOME") is None


async def test_an_org_wide_watch_notifies_with_the_enterprises_token(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    async with start_oauth(aiohttp_server, tmp_path, step=0.1) as h:
        h.slack.enterprises["T0A"] = "E0ORG"
        h.slack.own("T0A", "C0A")
        await install(h, None, enterprise="E0ORG", org_wide=True)
        await mention_in(h, "T0A", "C0A", "watch ok-1", enterprise="E0ORG", org_wide=True)
        posts = await h.slack.wait_for(
            lambda: (
                len(h.slack.calls_to("chat.postMessage")) >= 2  # the answer, the notice
                and h.slack.calls_to("chat.postMessage")
            ),
            timeout=15,
        )
        [token] = h.slack.tokens_of("E0ORG")
        assert {c.token for c in posts} == {token}


async def test_the_home_tab_is_published_with_the_workspaces_token(oauth: Harness) -> None:
    oauth.slack.add_user("U0ONE", "T0ONE")
    oauth.slack.add_user("U0TWO", "T0TWO")
    await install(oauth, "T0ONE")
    await install(oauth, "T0TWO")
    for team, user in (("T0ONE", "U0ONE"), ("T0TWO", "U0TWO")):
        opened = {"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"}
        assert (await event_for(oauth, team, opened)).status == 200
    published = await oauth.slack.wait_for(
        lambda: (
            len(oauth.slack.calls_to("views.publish")) >= 2
            and oauth.slack.calls_to("views.publish")
        )
    )
    used = {c.args["user_id"]: c.token for c in published}
    assert used == {
        "U0ONE": oauth.slack.tokens_of("T0ONE")[0],
        "U0TWO": oauth.slack.tokens_of("T0TWO")[0],
    }
