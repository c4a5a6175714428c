"""`python -m bot reseal`: every stored installation sealed again with SECRETS_KEY's first key.

Step two of a key rotation (docs/distribution.md): once it has run, the old key opens nothing
still stored and can be dropped. Each installation is rewritten under its refresh lease, so a
refresh under way elsewhere is never overwritten with the tokens it just replaced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bot.slack.oauth.installations import StoreInstallations
from bot.slack.oauth.rotation import LEASE_TTL
from bot.store.base import OAuthStore
from bot.store.keyring import Keyring


@dataclass
class Resealed:
    done: int = 0
    busy: list[str] | None = None  # workspaces being refreshed meanwhile: run it again


async def reseal_all(store: OAuthStore, keyring: Keyring) -> Resealed:
    installations = StoreInstallations(store, keyring)
    holder = "reseal-" + uuid.uuid4().hex
    result = Resealed(busy=[])
    for ws in await store.installed_workspaces():
        if not await store.take_refresh_lease(ws, holder, LEASE_TTL):
            assert result.busy is not None
            result.busy.append(ws)
            continue
        try:
            kept = await installations.find(ws)  # opened with whichever key sealed it
            if kept is not None:
                await installations.save(kept)  # sealed with the first
                result.done += 1
        finally:
            await store.drop_refresh_lease(ws, holder)
    return result
