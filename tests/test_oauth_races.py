"""Races of a refresh, a reseal and an uninstall with what lands meanwhile: an uninstall, a
reinstall, a connect or a disconnect that happens while `oauth.v2.access` is held open (or
while reseal works) stands; a due token never holds a request up; a half-done uninstall is
finished by the event Slack sends again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from pytest_aiohttp import AiohttpServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.records.account import TaskAccount
from bot.records.follow import Follow
from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.slack.oauth.reseal import reseal_all
from bot.slack.oauth.rotation import URGENT_WAIT, TokenKeeper
from bot.store import OAuthStore, open_store
from bot.store.keyring import Keyring
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import DROPPED, FakeSlack
from tests.oauth_harness import SECRETS_KEY, event_for, install, mention_in, start_oauth
from tests.slack_harness import Harness, start_fakes

WS = "T0ONE"


class Rotating:
    """A workspace installed at the fake Slack, saved as the bot saves it, and a keeper."""

    def __init__(self, slack: FakeSlack, store: OAuthStore, client: AsyncWebClient) -> None:
        self.slack, self.store = slack, store
        self.installations = StoreInstallations(store, Keyring(SECRETS_KEY))
        self.keeper = TokenKeeper(
            store, self.installations, client, slack.client_id, slack.client_secret
        )

    async def install(self, seconds_left: float) -> Kept:
        code = f"code-{time.monotonic_ns()}"
        self.slack.grant(code, WS)
        answer = await AsyncWebClient(base_url=self.slack.base_url + "api/").oauth_v2_access(
            code=code, client_id=self.slack.client_id, client_secret=self.slack.client_secret
        )
        kept = Kept(
            team_id=WS,
            bot_token=answer["access_token"],
            bot_refresh_token=answer["refresh_token"],
            bot_token_expires_at=int(time.time() + seconds_left),
            bot_user_id="UBOT",
        )
        await self.installations.save(kept)
        return kept


@pytest.fixture
async def rotating(aiohttp_server: AiohttpServer, store: OAuthStore) -> Rotating:
    slack, _ = await start_fakes(aiohttp_server, FakeTaskApi())
    return Rotating(slack, store, AsyncWebClient(base_url=slack.base_url + "api/"))


async def held_refresh(r: Rotating) -> asyncio.Event:
    """A due token's refresh started, its `oauth.v2.access` answer held until the event."""
    old = await r.install(seconds_left=3600)  # due (2 h before expiry), good for an hour
    gate = r.slack.stall("oauth.v2.access")
    asking = asyncio.ensure_future(r.keeper.fresh(WS))
    await r.slack.wait_for(r.slack.refresh_grants)
    got = await asyncio.wait_for(asking, 5)  # handed out while the grant is held open
    assert got is not None
    assert got.bot_token == old.bot_token
    return gate


# -- 1. a refresh's save is a compare-and-set: an uninstall or a reinstall meanwhile wins ------


async def test_an_uninstall_during_a_refresh_stays_uninstalled(rotating: Rotating) -> None:
    gate = await held_refresh(rotating)
    await rotating.store.delete_workspace(WS)  # app_uninstalled handled meanwhile
    gate.set()
    await rotating.keeper.settled()
    assert len(rotating.slack.refresh_grants()) == 1
    assert await rotating.store.find_installation(WS) is None
    assert await rotating.store.installed_workspaces() == []
    assert await rotating.store.installations_due(time.time() + 10**6) == []
    assert await rotating.keeper.fresh(WS) is None


async def test_a_reinstall_during_a_refresh_is_not_overwritten(rotating: Rotating) -> None:
    gate = await held_refresh(rotating)
    again = Kept(team_id=WS, bot_token="xoxb-anew", bot_refresh_token="xoxe-1-anew")
    await rotating.installations.save(again)  # installed anew meanwhile
    gate.set()
    await rotating.keeper.settled()
    kept = await rotating.installations.find(WS)
    assert kept is not None
    assert kept.bot_token == again.bot_token
    assert kept.bot_refresh_token == again.bot_refresh_token


async def test_a_refresh_nobody_raced_is_saved(rotating: Rotating) -> None:
    gate = await held_refresh(rotating)
    gate.set()
    await rotating.keeper.settled()
    kept = await rotating.keeper.fresh(WS)
    assert kept is not None
    assert kept.bot_token == rotating.slack.tokens_of(WS)[-1]
    assert await rotating.store.installations_due(time.time() + 7200) == []


async def test_replacing_writes_only_over_what_was_read(store: OAuthStore) -> None:
    await store.save_installation(WS, "sealed-1", 100.0)
    assert not await store.replace_installation(WS, "sealed-0", "sealed-2", 200.0)
    assert await store.find_installation(WS) == "sealed-1"
    assert await store.replace_installation(WS, "sealed-1", "sealed-2", 200.0)
    assert await store.find_installation(WS) == "sealed-2"
    assert await store.installations_due(150.0) == []  # its expiry moved with it
    assert await store.installations_due(250.0) == [WS]
    await store.delete_workspace(WS)
    assert not await store.replace_installation(WS, "sealed-2", "sealed-3", 300.0)
    assert await store.find_installation(WS) is None
    assert await store.installed_workspaces() == []

    account = TaskAccount(public_key="pk", sealed_private_key="key-1")
    assert not await store.replace_account(WS, "key-1", account)  # none connected
    assert await store.get_account(WS) is None
    await store.save_account(WS, account)
    moved = account.model_copy(update={"sealed_private_key": "key-2"})
    assert not await store.replace_account(WS, "key-0", moved)
    assert await store.replace_account(WS, "key-1", moved)
    assert await store.get_account(WS) == moved


# -- reseal writes over the sealed value it read: a connect or disconnect meanwhile stands -----


class Meanwhile:
    """The store as reseal sees it, with an admin's change landing just after reseal has
    read the workspace's account (the only way to place it there deterministically)."""

    def __init__(self, store: OAuthStore, change: Callable[[], Awaitable[Any]]) -> None:
        self._store = store
        self._change = change

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get_account(self, ws: str) -> TaskAccount | None:
        account = await self._store.get_account(ws)
        await self._change()
        return account


async def resealed_meanwhile(store: OAuthStore, change: Callable[[], Awaitable[Any]]) -> None:
    keyring = Keyring(SECRETS_KEY)
    await StoreInstallations(store, keyring).save(Kept(team_id=WS, bot_token="xoxb-1"))
    old = TaskAccount(public_key="pk-old", sealed_private_key=keyring.seal("sk-old"))
    await store.save_account(WS, old)
    result = await reseal_all(cast(OAuthStore, Meanwhile(store, change)), keyring)
    assert result.busy == [WS]  # said so: run it again
    assert result.done == 1


async def test_reseal_keeps_a_disconnect_that_lands_meanwhile(store: OAuthStore) -> None:
    await resealed_meanwhile(store, lambda: store.delete_account(WS))
    assert await store.get_account(WS) is None


async def test_reseal_keeps_a_connect_that_lands_meanwhile(store: OAuthStore) -> None:
    new = TaskAccount(public_key="pk-new", sealed_private_key=Keyring(SECRETS_KEY).seal("sk-new"))
    await resealed_meanwhile(store, lambda: store.save_account(WS, new))
    assert await store.get_account(WS) == new


# -- 2. a refresh is not in the request path ------------------------------------------------


@pytest.fixture
async def due_in_an_hour(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    async with start_oauth(aiohttp_server, tmp_path) as h:
        h.slack.own(WS, "C0ONE")
        h.slack.rotation_seconds = 3600  # due for refresh, good for an hour
        await install(h, WS)
        h.slack.rotation_seconds = 43_200
        yield h


async def test_a_request_is_answered_while_its_due_tokens_refresh_is_held_open(
    due_in_an_hour: Harness,
) -> None:
    h = due_in_an_hour
    gate = h.slack.stall("oauth.v2.access")
    [old] = h.slack.tokens_of(WS)
    asked = asyncio.ensure_future(mention_in(h, WS, "C0ONE", "ok-1"))
    [post] = await h.slack.wait_for(lambda: h.slack.calls_to("chat.postMessage"))
    assert post.token == old
    assert len(h.slack.refresh_grants()) == 1  # still held open
    assert not gate.is_set()
    assert (await asked).status == 200
    gate.set()
    assert h.bot.oauth is not None
    await h.bot.oauth.tokens.settled()
    await mention_in(h, WS, "C0ONE", "ok-2")
    posts = await h.slack.wait_for(
        lambda: (
            len(h.slack.calls_to("chat.postMessage")) >= 2 and h.slack.calls_to("chat.postMessage")
        )
    )
    assert posts[-1].token == h.slack.tokens_of(WS)[-1] != old


async def test_a_dead_lease_holder_does_not_hold_up_a_good_token(rotating: Rotating) -> None:
    """The lease of a replica SIGKILLed mid-refresh lasts 30 s: the token, good for an hour,
    is handed out at once all the same; the refresh waits for the lease in the background."""
    old = await rotating.install(seconds_left=3600)
    assert await rotating.store.take_refresh_lease(WS, "a-replica-that-died", 30)
    for _ in range(2):
        kept = await asyncio.wait_for(rotating.keeper.fresh(WS), 5)
        assert kept is not None
        assert kept.bot_token == old.bot_token
    assert rotating.slack.refresh_grants() == []
    await rotating.store.drop_refresh_lease(WS, "a-replica-that-died")  # its lease ran out
    await rotating.keeper.settled()
    assert len(rotating.slack.refresh_grants()) == 1


async def test_a_token_about_to_expire_waits_for_its_refresh_within_the_ack(
    rotating: Rotating,
) -> None:
    old = await rotating.install(seconds_left=60)
    assert await rotating.store.take_refresh_lease(WS, "a-replica-that-died", 30)
    started = time.monotonic()
    kept = await rotating.keeper.fresh(WS)
    waited = time.monotonic() - started
    assert kept is not None
    assert kept.bot_token == old.bot_token  # the refresh did not end: what it has
    assert URGENT_WAIT <= waited < 10  # bounded (the lease alone would have been 20-30 s)
    await rotating.store.drop_refresh_lease(WS, "a-replica-that-died")
    await rotating.keeper.settled()


async def test_a_refresh_slack_cannot_be_reached_for_is_held_off(rotating: Rotating) -> None:
    """A connection refused is a refusal: the request gets the token it has, no error, and
    the next request does not try again at once."""
    old = await rotating.install(seconds_left=60)
    unreachable = AsyncWebClient(base_url="http://127.0.0.1:9/api/", retry_handlers=[])
    keeper = TokenKeeper(rotating.store, rotating.installations, unreachable, "cid", "secret")
    for _ in range(2):
        kept = await keeper.fresh(WS)
        assert kept is not None
        assert kept.bot_token == old.bot_token
    assert keeper.refreshes == 0


async def test_a_grant_whose_answer_is_lost_is_sent_once_and_answers_the_request(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Slack served the grant (the refresh token is spent) but the answer never came: not
    sent again with the same token by the client, and the request is answered anyway."""
    async with start_oauth(aiohttp_server, tmp_path) as h:
        h.slack.own(WS, "C0ONE")
        h.slack.rotation_seconds = 60  # about to expire: the request waits for the refresh
        await install(h, WS)
        [old] = h.slack.tokens_of(WS)
        h.slack.fail("oauth.v2.access", DROPPED)
        for n in range(2):
            assert (await mention_in(h, WS, "C0ONE", f"ok-{n}")).status == 200
        posts = await h.slack.wait_for(
            lambda: (
                len(h.slack.calls_to("chat.postMessage")) >= 2
                and h.slack.calls_to("chat.postMessage")
            )
        )
        assert {p.token for p in posts} == {old}
        assert len(h.slack.refresh_grants()) == 1


# -- 3. and 4. an uninstall that dies half-way is finished; Redis's order of writes ----------


async def test_a_retried_uninstall_finishes_what_a_crash_left(
    aiohttp_server: AiohttpServer, tmp_path: Path, redis_url: str
) -> None:
    """The crash took the installation and left the rest (the order the old scan could
    delete in): the event Slack sends again deletes the account and the follows too."""
    async with aioredis.from_url(redis_url) as raw:
        await raw.flushdb()
    async with start_oauth(aiohttp_server, tmp_path, state_url=redis_url) as h:
        h.slack.own(WS, "C0ONE")
        await install(h, WS)
        assert h.bot.oauth is not None
        store = h.bot.oauth.store
        await store.follow(Follow(team_id=WS, channel_id="C0ONE", user_id="U1", since=1))
        await store.save_account(WS, TaskAccount(public_key="pk", sealed_private_key="sealed"))
        async with aioredis.from_url(redis_url) as raw:
            assert await raw.delete(f"taskstatus:{{{WS}}}:installation") == 1
        assert (await event_for(h, WS, {"type": "app_uninstalled"})).status == 200
        assert await store.get_account(WS) is None
        assert await store.follows(WS) == []
        assert await store.installed_workspaces() == []


async def test_redis_indexes_an_installation_first_and_deletes_it_last(redis_url: str) -> None:
    """Seen with MONITOR: the sweep's index is written before the installation, and an
    uninstall deletes the installation after everything else, then its index entry; a crash
    between any two steps leaves no installation the sweep, reseal or a retry cannot see."""
    async with aioredis.from_url(redis_url) as raw:
        await raw.flushdb()
    store = await open_store(redis_url)
    watcher = aioredis.from_url(redis_url, decode_responses=True)
    try:
        async with watcher.monitor() as monitor:
            await store.save_installation(WS, "sealed", 100.0)
            await store.save_account(WS, TaskAccount(public_key="pk", sealed_private_key="s"))
            for n in range(600):  # more than one batch of deletes
                await store.claim(WS, f"k{n}")
            await store.delete_workspace(WS)
            await store.claim("T0END", "end")  # the last command to look for
            seen: list[list[str]] = []
            while not any("T0END" in " ".join(c) for c in seen):
                command = await asyncio.wait_for(monitor.next_command(), 10)
                seen.append(str(command["command"]).split())
    finally:
        await watcher.aclose()
        await store.close()
    names = [c[0].upper() for c in seen]
    installation = f"taskstatus:{{{WS}}}:installation"
    assert names.index("ZADD") < names.index("HSET")
    deletes = [n for n, c in enumerate(seen) if c[0].upper() == "DEL"]
    last = [n for n in deletes if installation in seen[n]]
    assert len(deletes) >= 2
    assert last == [deletes[-1]]
    assert seen[deletes[-1]][1:] == [installation]
    assert names.index("ZREM") > deletes[-1]
