"""The per-workspace registry of task API clients, and where accounts are kept: both stores,
the fake task API (which checks each account's signatures), a clock moved by hand."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from cryptography.fernet import Fernet

from bot.records.account import TaskAccount
from bot.store import Store, open_store
from bot.store.keyring import Keyring
from bot.taskapi.client import ClientConfig
from bot.taskapi.fake import FakeTaskApi
from bot.tenancy.accounts import Accounts, Keys
from tests.conftest import ManualClock

KEY = Fernet.generate_key().decode()


def registry(
    session: aiohttp.ClientSession,
    url: str,
    store: Store | None,
    clock: ManualClock,
    *,
    default: Keys | None = None,
    per_workspace: bool = True,
    key: str = KEY,
) -> Accounts:
    return Accounts(
        session,
        ClientConfig(url, "", "", timeout=2.0),
        default_keys=default,
        per_workspace=per_workspace,
        store=store,
        keyring=Keyring(key),
        recheck=30.0,
        idle=600.0,
        clock=clock,
    )


async def test_the_store_keeps_one_account_per_workspace(store: Store) -> None:
    account = TaskAccount(public_key="pub", sealed_private_key="sealed", connected_by="U1")
    await store.save_account("T1", account)
    assert await store.get_account("T1") == account
    assert await store.get_account("T2") is None
    replaced = account.model_copy(update={"public_key": "pub2"})
    await store.save_account("T1", replaced)
    assert await store.get_account("T1") == replaced
    assert await store.delete_account("T1") is True
    assert await store.delete_account("T1") is False
    assert await store.get_account("T1") is None


async def test_redis_keeps_an_account_under_its_workspace_hash_tag(redis_url: str) -> None:
    async with aioredis.from_url(redis_url) as fresh:
        await fresh.flushdb()
    store = await open_store(redis_url)
    try:
        await store.save_account("E1", TaskAccount(public_key="p", sealed_private_key="s"))
        async with aioredis.from_url(redis_url) as raw:
            assert [k async for k in raw.scan_iter("taskstatus:*")] == [b"taskstatus:{E1}:account"]
    finally:
        await store.close()


async def test_each_workspace_gets_its_own_client_with_its_own_keys(
    session: aiohttp.ClientSession, fake_api: FakeTaskApi, clock: ManualClock, tmp_path: Path
) -> None:
    fake_api.accounts = {"pub-a": "priv-a"}
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    shared = Keys(fake_api.public_key, fake_api.private_key)
    accounts = registry(session, fake_api.url, store, clock, default=shared)  # type: ignore[attr-defined]
    await accounts.connect("TA", Keys("pub-a", "priv-a"), "U1", 0.0)
    a, b, c = [await accounts.client_for(ws) for ws in ("TA", "TB", "TC")]
    assert a is not None
    assert b is not None
    assert c is not None
    assert len({id(a), id(b), id(c)}) == 3  # B and C share keys, not a cache
    assert await accounts.client_for("TA") is a
    await a.get_tasks(["ok-1"])
    await b.get_tasks(["ok-1"])
    assert fake_api.callers == ["pub-a", fake_api.public_key]
    assert accounts.clients == 3
    await accounts.aclose()
    await store.close()


async def test_without_fallback_keys_a_workspace_without_an_account_has_no_client(
    session: aiohttp.ClientSession, clock: ManualClock, tmp_path: Path
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    accounts = registry(session, "http://127.0.0.1:9/", store, clock)
    assert await accounts.client_for("TA") is None
    await store.close()


async def test_single_workspace_mode_serves_every_workspace_with_one_client(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    accounts = registry(
        session, "http://127.0.0.1:9/", None, clock, default=Keys("p", "k"), per_workspace=False
    )
    first = await accounts.client_for("T1")
    assert first is not None
    assert await accounts.client_for("T2") is first


async def test_idle_clients_are_dropped_so_memory_stays_bounded(
    session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    accounts = registry(session, "http://127.0.0.1:9/", None, clock, default=Keys("p", "k"))
    for n in range(50):
        await accounts.client_for(f"T{n}")
    assert accounts.clients == 50
    clock.advance(601.0)
    await accounts.client_for("T-busy")
    assert accounts.clients == 1


async def test_an_account_connected_by_another_process_is_used_within_the_recheck(
    session: aiohttp.ClientSession, fake_api: FakeTaskApi, clock: ManualClock, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    first, second = await open_store(url), await open_store(url)
    here = registry(session, fake_api.url, first, clock)  # type: ignore[attr-defined]
    there = registry(session, fake_api.url, second, clock)  # type: ignore[attr-defined]
    assert await there.client_for("TA") is None
    await here.connect("TA", Keys(fake_api.public_key, fake_api.private_key), "U1", 0.0)
    assert await here.client_for("TA") is not None  # at once where it was connected
    assert await there.client_for("TA") is None  # elsewhere, kept until the recheck
    clock.advance(31.0)
    assert await there.client_for("TA") is not None
    await here.disconnect("TA")
    assert await here.client_for("TA") is None
    for store in (first, second):
        await store.close()


async def test_a_key_no_secrets_key_opens_serves_nothing_not_the_fallback(
    session: aiohttp.ClientSession, clock: ManualClock, tmp_path: Path
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    old = registry(session, "http://127.0.0.1:9/", store, clock)
    await old.connect("TA", Keys("pub", "priv"), "U1", 0.0)
    rotated_badly = registry(
        session,
        "http://127.0.0.1:9/",
        store,
        clock,
        default=Keys("shared", "shared-priv"),
        key=Fernet.generate_key().decode(),
    )
    assert await rotated_badly.client_for("TA") is None
    assert await rotated_badly.client_for("TB") is not None  # no account: the fallback
    await store.close()


def test_keys_never_show_the_private_key() -> None:
    assert "priv-secret" not in repr(Keys("pub", "priv-secret"))
    assert "sealed-x" not in repr(TaskAccount(public_key="pub", sealed_private_key="sealed-x"))
