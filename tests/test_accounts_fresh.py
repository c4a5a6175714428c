"""A connect or disconnect takes effect at once in its own process, even for a lookup that
read the keys just before it; and a key no `SECRETS_KEY` opens is logged with its workspace."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.records.account import TaskAccount
from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.store import Store, open_store
from bot.store.keyring import Keyring, SealError
from bot.taskapi.fake import FakeTaskApi
from bot.tenancy.accounts import Keys
from tests.conftest import ManualClock
from tests.test_accounts import registry


class HeldReads:
    """A real store whose first `get_account` answers only when the test lets it: the window
    between a lookup reading the keys and keeping them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.read = asyncio.Event()
        self.release = asyncio.Event()
        self._held = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def get_account(self, ws: str) -> TaskAccount | None:
        account = await self._store.get_account(ws)
        if not self._held:
            self._held = True
            self.read.set()
            await self.release.wait()
        return account


@pytest.mark.parametrize("change", ["connect", "disconnect"])
async def test_a_lookup_that_read_before_a_change_does_not_keep_stale_keys(
    change: str,
    session: aiohttp.ClientSession,
    fake_api: FakeTaskApi,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    real = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    keys = Keys(fake_api.public_key, fake_api.private_key)
    url: str = fake_api.url  # type: ignore[attr-defined]
    if change == "disconnect":
        await registry(session, url, real, clock).connect("TA", keys, "U1", 0.0)
    held = HeldReads(real)
    accounts = registry(session, url, held, clock)  # type: ignore[arg-type]
    lookup = asyncio.create_task(accounts.client_for("TA"))
    await held.read.wait()  # the lookup holds what the store said before the change
    if change == "connect":
        await accounts.connect("TA", keys, "U1", 0.0)
    else:
        assert await accounts.disconnect("TA")
    held.release.set()
    await lookup
    connected = change == "connect"
    assert (await accounts.client_for("TA") is not None) is connected  # no 30 s of stale keys
    await real.close()


async def test_a_key_no_secrets_key_opens_is_logged_with_its_workspace(
    session: aiohttp.ClientSession,
    clock: ManualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    await registry(session, "http://127.0.0.1:9/", store, clock).connect(
        "T0LOST", Keys("pub", "priv"), "U1", 0.0
    )
    rotated = registry(
        session, "http://127.0.0.1:9/", store, clock, key=Fernet.generate_key().decode()
    )
    with caplog.at_level(logging.ERROR):
        assert await rotated.client_for("T0LOST") is None
    assert any(
        "T0LOST" in r.getMessage() and "SECRETS_KEY" in r.getMessage() for r in caplog.records
    )
    await store.close()


async def test_an_installation_no_secrets_key_opens_is_logged_with_its_workspace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/s.sqlite3")
    await StoreInstallations(store, Keyring(Fernet.generate_key().decode())).save(
        Kept(team_id="T0LOST", bot_token="xoxb-lost")
    )
    rotated = StoreInstallations(store, Keyring(Fernet.generate_key().decode()))
    with caplog.at_level(logging.ERROR), pytest.raises(SealError):
        await rotated.find("T0LOST")
    assert any(
        "T0LOST" in r.getMessage() and "SECRETS_KEY" in r.getMessage() for r in caplog.records
    )
    await store.close()
