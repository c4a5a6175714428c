"""1,000 installed workspaces (OAuth mode): what authorizing a request costs, and the memory
each workspace takes in a process.

For each store: 1,000 installations sealed and saved; then each workspace's installation is
read as a request's `authorize` reads it, first from the store (read + Fernet open), then
from the process's 30 s cache; then a client is made for each (`client_for`). Memory is
`tracemalloc`'s count of what the cache and the clients hold, per workspace.
Usage: python bench/oauth_installations.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from cryptography.fernet import Fernet
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery.pacing import PacedWebClient
from bot.slack.oauth.clients import Installed
from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.slack.oauth.rotation import TokenKeeper
from bot.store import OAuthStore, open_store
from bot.store.keyring import Keyring
from bot.testing.redis_server import redis_server

WORKSPACES = 1_000


async def run(name: str, store: OAuthStore) -> None:
    keyring = Keyring(Fernet.generate_key().decode())
    installations = StoreInstallations(store, keyring)
    for n in range(WORKSPACES):
        await installations.save(
            Kept(
                team_id=f"T{n:05d}",
                bot_token=f"xoxb-{n}-" + "x" * 40,
                bot_refresh_token=f"xoxe-1-{n}-" + "y" * 60,
                bot_token_expires_at=int(time.time()) + 43_200,
                bot_user_id="UBOT",
            )
        )
    async with aiohttp.ClientSession() as session:
        keeper = TokenKeeper(store, installations, AsyncWebClient(session=session), "id", "secret")
        base = PacedWebClient(session=session, retry_handlers=[])
        clients = Installed(base, keeper)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        cold, warm = [], []
        for n in range(WORKSPACES):
            started = time.perf_counter()
            await keeper.fresh(f"T{n:05d}")
            cold.append(time.perf_counter() - started)
        for n in range(WORKSPACES):
            started = time.perf_counter()
            await keeper.fresh(f"T{n:05d}")
            warm.append(time.perf_counter() - started)
        for n in range(WORKSPACES):
            await clients.client_for(f"T{n:05d}")
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(
        f"{name:6} authorize: from the store {statistics.median(cold) * 1e3:.3f} ms median, "
        f"cached {statistics.median(warm) * 1e6:.1f} us; "
        f"memory {grown / WORKSPACES / 1024:.1f} KiB per workspace (cache + client)"
    )


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite:///{folder}/state.sqlite3")
        await run("sqlite", store)
        await store.close()
    with redis_server() as url:
        store = await open_store(url)
        await run("redis", store)
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
