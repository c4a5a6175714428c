"""Redis store, for deployments that already run Redis or want state off the bot's disk."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.store.base import CLAIM_TTL, UID_SET_TTL, uid_set_key
from bot.watch.model import Watch

_PREFIX = "taskstatus:"
_OPEN = _PREFIX + "watches:open"


class RedisStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        client = aioredis.from_url(url, decode_responses=True)
        await client.ping()
        return cls(client)

    async def claim(self, key: str, ttl: float = CLAIM_TTL) -> bool:
        return bool(await self._redis.set(_PREFIX + "claim:" + key, "1", nx=True, ex=int(ttl) or 1))

    async def put_uids(self, uids: list[str]) -> str:
        key = uid_set_key(uids)
        await self._redis.set(_PREFIX + "uids:" + key, json.dumps(uids), ex=int(UID_SET_TTL))
        return key

    async def get_uids(self, key: str) -> list[str] | None:
        raw = await self._redis.get(_PREFIX + "uids:" + key)
        return list(json.loads(raw)) if raw else None

    async def save_watch(self, watch: Watch) -> None:
        # One MULTI/EXEC: the record and its membership in the open set change together.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(_PREFIX + "watch:" + watch.id, watch.model_dump_json())
            if watch.state == "done":
                pipe.srem(_OPEN, watch.id)
            else:
                pipe.sadd(_OPEN, watch.id)
            await pipe.execute()

    async def get_watch(self, watch_id: str) -> Watch | None:
        raw = await self._redis.get(_PREFIX + "watch:" + watch_id)
        return Watch.model_validate_json(raw) if raw else None

    async def open_watches(self) -> list[Watch]:
        ids = sorted(str(i) for i in await self._redis.smembers(_OPEN))
        if not ids:
            return []
        raws = await self._redis.mget([f"{_PREFIX}watch:{i}" for i in ids])
        return [Watch.model_validate_json(raw) for raw in raws if raw]

    async def size(self) -> int:
        count = 0
        async for key in self._redis.scan_iter(match=_PREFIX + "*", count=1000):
            count += key != _OPEN  # the open-watches index is not an item of its own
        return count

    async def close(self) -> None:
        await self._redis.aclose()
