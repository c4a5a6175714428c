"""`python -m bot reseal`: every stored secret sealed again with SECRETS_KEY's first key.

Step two of a key rotation (docs/distribution.md): once it has run, the old key opens nothing
still stored and can be dropped. Two kinds of secret are kept per workspace: the installation
(bot token, refresh token) and the task API account's private key. Each workspace is rewritten
under its refresh lease, so a refresh under way elsewhere is never overwritten with the tokens
it just replaced, and every write is a compare-and-set on the sealed value read: a reinstall,
an uninstall, a connect or a disconnect that lands meanwhile stands, and the workspace is
listed as busy (run it again).

A "Wait for tasks" step's token is not resealed: it dies with its execution (at most 15
minutes, `bot.render.step.TIMEOUT_MINUTES`), so the walk-through waits that long instead of
rewriting watches other processes are polling.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bot.slack.oauth.installations import StoreInstallations
from bot.slack.oauth.rotation import LEASE_TTL
from bot.store.base import OAuthStore
from bot.store.keyring import Keyring


@dataclass
class Resealed:
    done: int = 0  # installations
    accounts: int = 0  # task API accounts (private keys)
    busy: list[str] = field(default_factory=list)  # refreshed or changed meanwhile: run again


async def reseal_all(store: OAuthStore, keyring: Keyring) -> Resealed:
    installations = StoreInstallations(store, keyring)
    holder = "reseal-" + uuid.uuid4().hex
    result = Resealed()
    for ws in await store.installed_workspaces():
        if not await store.take_refresh_lease(ws, holder, LEASE_TTL):
            result.busy.append(ws)
            continue
        try:
            read = await installations.read(ws)  # opened with whichever key sealed it
            if read is not None:
                if await installations.replace(read, read.kept):  # sealed with the first
                    result.done += 1
                else:
                    result.busy.append(ws)
            resealed = await _reseal_account(store, keyring, ws)
            if resealed:
                result.accounts += 1
            elif resealed is None and ws not in result.busy:
                result.busy.append(ws)
        finally:
            await store.drop_refresh_lease(ws, holder)
    return result


async def _reseal_account(store: OAuthStore, keyring: Keyring, ws: str) -> bool | None:
    """The workspace's task API private key sealed with the first key; False if it has none,
    None if it was connected anew or disconnected meanwhile (that change stands). An account
    lives only beside an installation (uninstall deletes both), so walking the installations
    finds every one."""
    account = await store.get_account(ws)
    if account is None:
        return False
    before = account.sealed_private_key
    resealed = account.model_copy(update={"sealed_private_key": keyring.reseal(before)})
    return True if await store.replace_account(ws, before, resealed) else None
