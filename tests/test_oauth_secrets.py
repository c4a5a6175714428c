"""Secrets at rest: no token, refresh token or client secret in plain text in the SQLite
file (its WAL included) or anywhere in Redis; the stores' OAuth contract on both."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from pytest_aiohttp import AiohttpServer

from bot.__main__ import main
from bot.records.account import TaskAccount
from bot.slack.oauth.installations import Kept, StoreInstallations, StoreStates
from bot.slack.oauth.reseal import reseal_all
from bot.store import OAuthStore, open_store
from bot.store.keyring import Keyring, SealError
from tests.oauth_harness import SECRETS_KEY, install, mention_in, start_oauth

TOKEN = "xoxb-plain-bot-token-1234"
REFRESH = "xoxe-1-plain-refresh-token-5678"


def installation(**fields: object) -> Kept:
    values: dict[str, object] = {
        "team_id": "T0ONE",
        "bot_token": TOKEN,
        "bot_refresh_token": REFRESH,
        "bot_token_expires_at": int(time.time()) + 60,
        "bot_user_id": "UBOT",
        "installer": "U0ADMIN",
    }
    values.update(fields)
    return Kept.model_validate(values)


async def test_installations_round_trip_sealed(store: OAuthStore) -> None:
    installations = StoreInstallations(store, Keyring(SECRETS_KEY))
    await installations.save(installation())
    await installations.save(
        installation(team_id=None, enterprise_id="E0", is_enterprise_install=True)
    )
    found = await installations.find("T0ONE")
    assert found == installation(installed_at=found.installed_at if found else 0)
    assert TOKEN not in (await store.find_installation("T0ONE") or "")
    assert TOKEN not in repr(found)
    assert await installations.find_for("E0", "T0SOME", org_wide=False) is not None  # org-wide
    assert await installations.find_for(None, "T0TWO", org_wide=False) is None
    assert sorted(await store.installations_due(time.time() + 3600)) == ["E0", "T0ONE"]
    assert await store.installations_due(time.time()) == []
    await store.delete_workspace("T0ONE")
    assert await installations.find("T0ONE") is None
    assert await installations.find("E0") is not None


async def test_states_are_one_time_and_expire(store: OAuthStore) -> None:
    states = StoreStates(store)
    state = await states.async_issue()
    assert await states.async_consume(state)
    assert not await states.async_consume(state)
    assert not await states.async_consume("never-issued")
    await store.issue_oauth_state("old", -1.0)
    assert not await store.consume_oauth_state("old")


async def test_the_refresh_lease_has_one_holder(store: OAuthStore) -> None:
    assert await store.take_refresh_lease("T0ONE", "a", 30)
    assert not await store.take_refresh_lease("T0ONE", "b", 30)
    assert await store.take_refresh_lease("T0TWO", "b", 30)  # per workspace
    await store.drop_refresh_lease("T0ONE", "b")  # not its holder: nothing happens
    assert not await store.take_refresh_lease("T0ONE", "b", 30)
    await store.drop_refresh_lease("T0ONE", "a")
    assert await store.take_refresh_lease("T0ONE", "b", 30)


async def test_redis_holds_no_secret_in_plain_text(redis_url: str) -> None:
    async with aioredis.from_url(redis_url, decode_responses=True) as redis:
        await redis.flushdb()
        store = await open_store(redis_url)
        try:
            installations = StoreInstallations(store, Keyring(SECRETS_KEY))
            await installations.save(installation())
            await StoreStates(store).async_issue()
            await store.take_refresh_lease("T0ONE", "holder", 30)
            dump = [key async for key in redis.scan_iter("*")]
            for key in list(dump):
                kind = await redis.type(key)
                if kind == "string":
                    dump.append(await redis.get(key))
                elif kind == "hash":
                    dump.extend((await redis.hgetall(key)).values())
                elif kind == "zset":
                    dump.extend(await redis.zrange(key, 0, -1))
            assert any(str(k).startswith("taskstatus:{T0ONE}:") for k in dump)
            assert any(str(k).startswith("taskstatus:{oauth}:state:") for k in dump)
            text = "\n".join(str(item) for item in dump)
            assert TOKEN not in text
            assert REFRESH not in text
        finally:
            await store.close()


async def test_the_sqlite_file_and_its_wal_hold_no_secret_in_plain_text(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    async with start_oauth(aiohttp_server, tmp_path) as h:
        h.slack.own("T0ONE", "C0ONE")
        h.slack.rotation_seconds = 60  # so that the first request refreshes it
        await install(h, "T0ONE")
        h.slack.rotation_seconds = 43_200
        await mention_in(h, "T0ONE", "C0ONE", "ok-1")
        await h.slack.wait_for(lambda: h.slack.calls_to("chat.postMessage"))
        assert len(h.slack.refresh_grants()) == 1
        names, written = await asyncio.to_thread(_files_of, tmp_path, "state.sqlite3")
        assert "state.sqlite3-wal" in names  # the WAL is read too
        assert len(h.slack.issued) == 4  # a pair at install, a pair at refresh
        for secret in [*h.slack.issued, h.slack.client_secret]:
            assert secret.encode() not in written


def _files_of(folder: Path, prefix: str) -> tuple[list[str], bytes]:
    """The names and bytes of the database's files (the main one, its WAL and index)."""
    files = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    return [p.name for p in files], b"".join(p.read_bytes() for p in files)


async def test_reseal_moves_every_task_api_account_to_the_first_key(store: OAuthStore) -> None:
    old, new = SECRETS_KEY, Fernet.generate_key().decode()
    await StoreInstallations(store, Keyring(old)).save(installation())
    account = TaskAccount(
        public_key="pk-one", sealed_private_key=Keyring(old).seal("sk-one"), connected_by="U0A"
    )
    await store.save_account("T0ONE", account)
    result = await reseal_all(store, Keyring(f"{new},{old}"))
    assert (result.done, result.accounts) == (1, 1)
    kept = await store.get_account("T0ONE")
    assert kept is not None
    assert (kept.public_key, kept.connected_by) == ("pk-one", "U0A")
    assert Keyring(new).open(kept.sealed_private_key) == "sk-one"  # the old key is droppable
    with pytest.raises(SealError):
        Keyring(old).open(kept.sealed_private_key)


async def test_reseal_moves_every_installation_to_the_first_key(store: OAuthStore) -> None:
    old, new = SECRETS_KEY, Fernet.generate_key().decode()
    await StoreInstallations(store, Keyring(old)).save(installation())
    await StoreInstallations(store, Keyring(old)).save(installation(team_id="T0TWO"))
    await store.take_refresh_lease("T0TWO", "a-refresh-under-way", 30)
    result = await reseal_all(store, Keyring(f"{new},{old}"))
    assert (result.done, result.busy) == (1, ["T0TWO"])  # never written under a refresh
    assert await StoreInstallations(store, Keyring(new)).find("T0ONE") is not None
    with pytest.raises(SealError):
        await StoreInstallations(store, Keyring(old)).find("T0ONE")
    await store.drop_refresh_lease("T0TWO", "a-refresh-under-way")
    assert (await reseal_all(store, Keyring(f"{new},{old}"))).done == 2
    assert await StoreInstallations(store, Keyring(new)).find("T0TWO") is not None


def test_the_reseal_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = SECRETS_KEY, Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path}/state.sqlite3"

    async def seal_with_old() -> None:
        opened = await open_store(url)
        await StoreInstallations(opened, Keyring(old)).save(installation())
        await opened.close()

    asyncio.run(seal_with_old())
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("STATE_URL", url)
    monkeypatch.setenv("SECRETS_KEY", f"{new},{old}")
    assert main(["reseal"]) == 0

    async def open_with_new() -> Kept | None:
        opened = await open_store(url)
        try:
            return await StoreInstallations(opened, Keyring(new)).find("T0ONE")
        finally:
            await opened.close()

    found = asyncio.run(open_with_new())
    assert found is not None
    assert found.bot_token == TOKEN
