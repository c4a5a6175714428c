"""Token rotation: a token coming due is refreshed once (per process and across a fleet), the
new refresh token saved before the new access token is used; in the background too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from pytest_aiohttp import AiohttpServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.slack.oauth.rotation import TokenKeeper
from bot.store import OAuthStore, open_store
from bot.store.keyring import Keyring
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.oauth_harness import SECRETS_KEY, install, mention_in, start_oauth
from tests.slack_harness import Harness, start_fakes


@pytest.fixture
async def oauth(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    async with start_oauth(aiohttp_server, tmp_path) as h:
        h.slack.own("T0ONE", "C0ONE")
        h.slack.rotation_seconds = 60  # installed with a token due for refresh
        await install(h, "T0ONE")
        h.slack.rotation_seconds = 43_200
        yield h


def keeper(h: Harness) -> TokenKeeper:
    assert h.bot.oauth is not None
    return h.bot.oauth.tokens


async def stored(h: Harness) -> Kept:
    assert h.bot.oauth is not None
    kept = await StoreInstallations(h.bot.oauth.store, Keyring(SECRETS_KEY)).find("T0ONE")
    assert kept is not None
    return kept


async def test_concurrent_requests_refresh_a_due_token_once(oauth: Harness) -> None:
    [first] = oauth.slack.tokens_of("T0ONE")
    await asyncio.gather(*(mention_in(oauth, "T0ONE", "C0ONE", f"ok-{n}") for n in range(10)))
    posts = await oauth.slack.wait_for(
        lambda: (
            len(oauth.slack.calls_to("chat.postMessage")) >= 10
            and oauth.slack.calls_to("chat.postMessage")
        )
    )
    assert len(oauth.slack.refresh_grants()) == 1
    [_, new] = oauth.slack.tokens_of("T0ONE")
    assert {p.token for p in posts} == {new} != {first}
    saved = await stored(oauth)
    assert saved.bot_token == new
    assert saved.bot_refresh_token in oauth.slack.refresh_tokens  # the unspent one
    assert saved.bot_token_expires_at is not None
    assert saved.bot_token_expires_at > time.time() + 40_000


async def test_the_background_sweep_refreshes_a_quiet_workspace(oauth: Harness) -> None:
    assert await keeper(oauth).sweep() == 1
    assert len(oauth.slack.refresh_grants()) == 1
    saved = await stored(oauth)
    assert saved.bot_refresh_token in oauth.slack.refresh_tokens
    assert await keeper(oauth).sweep() == 0  # nothing due any more
    assert len(oauth.slack.refresh_grants()) == 1


async def test_a_refresh_token_works_once(aiohttp_server: AiohttpServer) -> None:
    slack, _ = await start_fakes(aiohttp_server, FakeTaskApi())
    slack.grant("code", "T0ONE")
    client = AsyncWebClient(base_url=slack.base_url + "api/")
    creds = {"client_id": slack.client_id, "client_secret": slack.client_secret}
    first = await client.oauth_v2_access(code="code", **creds)
    refresh = first["refresh_token"]
    second = await client.oauth_v2_access(
        grant_type="refresh_token", refresh_token=refresh, **creds
    )
    assert second["refresh_token"] != refresh
    assert second["access_token"] != first["access_token"]
    with pytest.raises(SlackApiError, match="invalid_refresh_token"):
        await client.oauth_v2_access(grant_type="refresh_token", refresh_token=refresh, **creds)
    info = await client.auth_test(token=second["access_token"])
    assert info["team_id"] == "T0ONE"


async def test_two_processes_on_one_redis_refresh_once(
    aiohttp_server: AiohttpServer, redis_url: str
) -> None:
    """Two keepers, each with its own connection, as two replicas have: one grant between
    them, and both hand out the token it saved."""
    slack, _ = await start_fakes(aiohttp_server, FakeTaskApi())
    stores = [await open_store(redis_url), await open_store(redis_url)]
    try:
        await _installed_due(slack, stores[0])
        client = AsyncWebClient(base_url=slack.base_url + "api/")
        keepers = [
            TokenKeeper(
                s,
                StoreInstallations(s, Keyring(SECRETS_KEY)),
                client,
                slack.client_id,
                slack.client_secret,
            )
            for s in stores
        ]
        found = await asyncio.gather(*(k.fresh("T0ONE") for k in keepers for _ in range(10)))
        assert len(slack.refresh_grants()) == 1
        tokens = {f.bot_token for f in found if f is not None}
        assert len(found) == 20
        assert tokens == {slack.tokens_of("T0ONE")[-1]}
    finally:
        for s in stores:
            await s.close()


async def _installed_due(slack: FakeSlack, store: OAuthStore) -> None:
    """An installation whose access token has expired, saved as the bot saves one."""
    await store.delete_workspace("T0ONE")
    slack.grant("code", "T0ONE")
    client = AsyncWebClient(base_url=slack.base_url + "api/")
    answer = await client.oauth_v2_access(
        code="code", client_id=slack.client_id, client_secret=slack.client_secret
    )
    slack.expire(answer["access_token"])
    kept = Kept(
        team_id="T0ONE",
        bot_token=answer["access_token"],
        bot_refresh_token=answer["refresh_token"],
        bot_token_expires_at=int(time.time()) - 10,
        bot_user_id="UBOT",
    )
    await StoreInstallations(store, Keyring(SECRETS_KEY)).save(kept)


async def test_a_process_waits_for_anothers_refresh_and_uses_what_it_saved(
    aiohttp_server: AiohttpServer, redis_url: str
) -> None:
    """The test plays the other replica: it holds the lease, then saves a refreshed
    installation; the keeper makes no grant of its own and hands out the saved token."""
    slack, _ = await start_fakes(aiohttp_server, FakeTaskApi())
    store = await open_store(redis_url)
    try:
        await _installed_due(slack, store)
        watched = Reads(store)
        installations = StoreInstallations(store, Keyring(SECRETS_KEY))
        client = AsyncWebClient(base_url=slack.base_url + "api/")
        keeper = TokenKeeper(
            cast(OAuthStore, watched),
            StoreInstallations(cast(OAuthStore, watched), Keyring(SECRETS_KEY)),
            client,
            slack.client_id,
            slack.client_secret,
        )
        assert await store.take_refresh_lease("T0ONE", "the-other-replica", 30)
        waiting = asyncio.ensure_future(keeper.fresh("T0ONE"))
        await watched.reads_past(2)  # it found the token due, met the lease, read it again
        assert slack.refresh_grants() == []
        due = await installations.find("T0ONE")
        assert due is not None
        refreshed = due.model_copy(
            update={"bot_token": "xoxb-saved-by-the-other", "bot_token_expires_at": 2**40}
        )
        await installations.save(refreshed)
        await store.drop_refresh_lease("T0ONE", "the-other-replica")
        got = await waiting
        assert got is not None
        assert got.bot_token == "xoxb-saved-by-the-other"
        assert slack.refresh_grants() == []
    finally:
        await store.close()


class Reads:
    """The store as the keeper sees it, telling the test how often it read the installation."""

    def __init__(self, store: OAuthStore) -> None:
        self._store = store
        self._reads = 0
        self._read = asyncio.Condition()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def find_installation(self, ws: str) -> str | None:
        found = await self._store.find_installation(ws)
        async with self._read:
            self._reads += 1
            self._read.notify_all()
        return found

    async def reads_past(self, count: int) -> None:
        async with self._read:
            await asyncio.wait_for(self._read.wait_for(lambda: self._reads > count), 10)


async def test_a_refused_refresh_is_not_tried_on_every_request(oauth: Harness) -> None:
    oauth.slack.refresh_tokens.clear()  # Slack no longer knows the refresh token
    for n in range(3):
        await mention_in(oauth, "T0ONE", "C0ONE", f"ok-{n}")
    await oauth.slack.wait_for(lambda: len(oauth.slack.calls_to("chat.postMessage")) >= 3)
    [refused] = oauth.slack.refresh_grants()  # one try, then a minute's rest
    assert refused.args["grant_type"] == "refresh_token"
    [token] = oauth.slack.tokens_of("T0ONE")
    assert {c.token for c in oauth.slack.calls_to("chat.postMessage")} == {token}
