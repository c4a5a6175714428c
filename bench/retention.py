"""State stays small: 10,000 mentions and 1,000 watches, then one short retention period.

Each mention leaves what the bot stores for it (two dedupe claims and, for a long answer, a
UID set behind its buttons); each watch is created, updated and finished. The store's size is
printed before and after the retention period has passed (SQLite after its purge; Redis by
its own TTLs), for both stores.
Usage: python bench/retention.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.records.watch import Watch
from bot.store import Store, open_store
from bot.testing.redis_server import redis_server

MENTIONS, WATCHES = 10_000, 1_000
RETENTION = 20.0
WS = "T1"


async def mention(store: Store, n: int) -> None:
    await store.claim(WS, f"event:Ev{n}")
    await store.claim(WS, f"message:C1:{n}.000100")
    if n % 10 == 0:
        await store.put_uids(WS, [f"uid-{n}-{k}" for k in range(300)])


async def watch(store: Store, n: int) -> None:
    w = Watch(
        team_id=WS,
        user_id=f"U{n % 50}",
        channel_id="C1",
        uids=[f"ok-{n}"],
        created_at=0,
        expires_at=0,
    )
    w.message_key = f"C1:{n}.000200"
    await store.reserve(WS, w.user_id, w.id, 1_000)
    await store.create_watch(w, 60)
    w.age = 1.0
    await store.update_watch(w)
    w.state, w.end_reason = "done", "done"
    await store.update_watch(w)


async def fill(store: Store) -> float:
    started = time.perf_counter()
    for first in range(0, MENTIONS, 200):
        await asyncio.gather(*(mention(store, n) for n in range(first, first + 200)))
    for first in range(0, WATCHES, 100):
        await asyncio.gather(*(watch(store, n) for n in range(first, first + 100)))
    return time.perf_counter() - started


async def measure(name: str, url: str, path: Path | None) -> None:
    store = await open_store(url, RETENTION)
    took = await fill(store)
    before = await store.size()
    await asyncio.sleep(RETENTION + 1)  # the retention period passing is what is measured
    removed = await store.purge()
    after = await store.size()
    await store.close()
    line = f"{name:7} filled in {took:5.1f} s: {before:6d} items -> {after} after {RETENTION:g} s"
    if path:
        line += f" (the purge removed {removed})"
    print(line)


async def main() -> None:
    print(f"{MENTIONS} mentions, {WATCHES} finished watches, STATE_RETENTION={RETENTION:g} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.sqlite3"
        await measure("SQLite", f"sqlite:///{path}", path)
    with redis_server() as url:
        await measure("Redis", url, None)


if __name__ == "__main__":
    asyncio.run(main())
