"""Redis store: the shared state for several replicas, through redis-py's asyncio client.

Every multi-key change is one Lua script, which Redis runs atomically; leases are keys with a
token and a TTL, renewed and deleted only by their holder (as redis-py's own `Lock` does).
Scripts read keys they build from ids, so this needs one Redis (or a primary with replicas),
not Redis Cluster. Expiry uses Redis's clock and TTLs, so the bot's clocks do not matter.
"""

from __future__ import annotations

import json
import math
import time

import redis.asyncio as aioredis

from bot.records.follow import Follow
from bot.records.watch import Watch, WatchMode
from bot.store.base import CLAIM_TTL, DEFAULT_RETENTION, SLOT_PENDING, Durability, uid_set_key

_PREFIX = "taskstatus:"
_OPEN = _PREFIX + "watches:open"
REPLICA_WAIT_MS = 1000  # how long a durable write waits for one replica's acknowledgement

# KEYS: open set. ARGV: prefix, owner, ttl ms. Returns version, data pairs of owned watches.
TAKE_LEASES = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lease = ARGV[1] .. 'lease:' .. id
  local holder = redis.call('GET', lease)
  if holder == ARGV[2] then
    redis.call('PEXPIRE', lease, ARGV[3])
  elseif not holder then
    redis.call('SET', lease, ARGV[2], 'PX', ARGV[3])
    holder = ARGV[2]
  end
  if holder == ARGV[2] then
    local rec = redis.call('HMGET', ARGV[1] .. 'watch:' .. id, 'v', 'd')
    if rec[2] then
      table.insert(out, rec[1])
      table.insert(out, rec[2])
    else
      redis.call('SREM', KEYS[1], id)  -- no record behind it: keep the open set bounded
      redis.call('DEL', lease)
    end
  end
end
return out
"""

# KEYS: open set. ARGV: prefix, owner.
_RELEASE = """
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lease = ARGV[1] .. 'lease:' .. id
  if redis.call('GET', lease) == ARGV[2] then redis.call('DEL', lease) end
end
return 1
"""

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"
_KEEP_SLOTS = (
    "local top = redis.call('ZRANGE', KEYS[{k}], -1, -1, 'WITHSCORES')\n"
    "if top[2] then redis.call('EXPIREAT', KEYS[{k}], math.ceil(tonumber(top[2])) + 1) end\n"
)

# KEYS: watch, open set, message key, slots. ARGV: id, data, message key?, slot seconds.
_CREATE = (
    _NOW
    + """
if ARGV[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', 1, 'd', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[1]) end
redis.call('ZADD', KEYS[4], 'XX', now + tonumber(ARGV[4]), ARGV[1])
"""
    + _KEEP_SLOTS.format(k=4)
    + "return 1\n"
)

# KEYS: watch, open set, message key, slots, lease. ARGV: version, data, done?, id, retention s.
_UPDATE = """
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', tonumber(v) + 1, 'd', ARGV[2])
if ARGV[3] == '1' then
  redis.call('SREM', KEYS[2], ARGV[4])
  if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
  redis.call('ZREM', KEYS[4], ARGV[4])
  redis.call('DEL', KEYS[5])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
return 1
"""

# KEYS: slots. ARGV: token, limit, seconds.
_RESERVE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
end
"""
    + _KEEP_SLOTS.format(k=1)
    + "return 1\n"
)

# KEYS: none. ARGV: prefix + name, limit, window ms.
_SPEND = (
    "local t = redis.call('TIME')\n"
    "local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local key = ARGV[1] .. ':' .. math.floor(ms / tonumber(ARGV[3]))\n"
    "local used = tonumber(redis.call('GET', key) or '0')\n"
    "if used >= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('INCR', key)\n"
    "redis.call('PEXPIRE', key, 2 * tonumber(ARGV[3]))\n"
    "return 1\n"
)

# KEYS: pause. ARGV: ms. Lengthens a pause, never shortens it (PTTL is -2 when absent).
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""

# A watch saved by an earlier release as a plain JSON string becomes a versioned hash.
# KEYS: watch. ARGV: retention s.
_MIGRATE = """
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local raw = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', 1, 'd', raw)
if cjson.decode(raw).state == 'done' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""


class RedisStore:
    def __init__(self, client: aioredis.Redis, retention: float = DEFAULT_RETENTION) -> None:
        self._redis = client
        self.retention = retention
        self._take = client.register_script(TAKE_LEASES)
        self._release = client.register_script(_RELEASE)
        self._create = client.register_script(_CREATE)
        self._update = client.register_script(_UPDATE)
        self._reserve = client.register_script(_RESERVE)
        self._spend = client.register_script(_SPEND)
        self._pause = client.register_script(_PAUSE)
        self._take_owed = client.register_script(_TAKE_OWED)  # ended forms owed
        self._set_follow = client.register_script(_SET_FOLLOW)  # quiet follows

    @classmethod
    async def open(cls, url: str, retention: float = DEFAULT_RETENTION) -> RedisStore:
        # A bounded pool that waits for a free connection, rather than failing a burst of
        # requests with "Too many connections" (the default pool's behaviour at 100).
        pool = aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=64, timeout=10
        )
        client = aioredis.Redis.from_pool(pool)
        await client.ping()
        store = cls(client, retention)
        await store._migrate()
        return store

    async def _migrate(self) -> None:
        script = self._redis.register_script(_MIGRATE)
        async for key in self._redis.scan_iter(
            match=_PREFIX + "watch:*", count=1000, _type="string"
        ):
            await script(keys=[key], args=[self._seconds(self.retention)])

    def _seconds(self, value: float) -> int:
        return max(1, math.ceil(value))

    async def claim(self, key: str, ttl: float = CLAIM_TTL) -> bool:
        expiry = self._seconds(min(ttl, self.retention))
        return bool(await self._redis.set(_PREFIX + "claim:" + key, "1", nx=True, ex=expiry))

    async def put_uids(self, uids: list[str]) -> str:
        key = uid_set_key(uids)
        await self._redis.set(
            _PREFIX + "uids:" + key, json.dumps(uids), ex=self._seconds(self.retention)
        )
        return key

    async def get_uids(self, key: str) -> list[str] | None:
        raw = await self._redis.get(_PREFIX + "uids:" + key)
        return list(json.loads(raw)) if raw else None

    def _keys(self, watch: Watch) -> list[str]:
        return [
            _PREFIX + "watch:" + watch.id,
            _OPEN,
            _PREFIX + "msg:" + watch.message_key,
            _PREFIX + "slots:" + watch.user_id,
            _PREFIX + "lease:" + watch.id,
        ]

    async def create_watch(self, watch: Watch, slot_seconds: float) -> bool:
        data = watch.model_copy(update={"version": 1}).model_dump_json()
        args: list[str | float] = [watch.id, data, watch.message_key, slot_seconds]
        if not await self._create(keys=self._keys(watch)[:4], args=args):
            return False
        watch.version = 1
        return True

    def _update_args(self, watch: Watch) -> list[str | int]:
        """The compare-and-set script's arguments: the version expected, then the new record."""
        data = watch.model_copy(update={"version": watch.version + 1}).model_dump_json()
        done = "0" if watch.is_open else "1"
        return [watch.version, data, done, watch.id, self._seconds(self.retention)]

    async def update_watch(self, watch: Watch) -> bool:
        if not await self._update(keys=self._keys(watch), args=self._update_args(watch)):
            return False
        watch.version += 1
        return True

    async def get_watch(self, watch_id: str) -> Watch | None:
        version, raw = await self._redis.hmget(_PREFIX + "watch:" + watch_id, ["v", "d"])
        return _watch(version, raw) if raw else None

    async def open_watches(self) -> list[Watch]:
        ids = sorted(str(i) for i in await self._redis.smembers(_OPEN))
        async with self._redis.pipeline(transaction=False) as pipe:
            for watch_id in ids:
                pipe.hmget(_PREFIX + "watch:" + watch_id, ["v", "d"])
            rows = await pipe.execute()
        return [_watch(v, raw) for v, raw in rows if raw]

    async def take_leases(self, owner: str, ttl: float) -> list[Watch]:
        flat = await self._take(keys=[_OPEN], args=[_PREFIX, owner, max(1, int(ttl * 1000))])
        return sorted(
            (_watch(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)), key=lambda w: w.id
        )

    async def release_leases(self, owner: str) -> None:
        await self._release(keys=[_OPEN], args=[_PREFIX, owner])

    async def reserve(self, user_id: str, token: str, limit: int) -> bool:
        keys = [_PREFIX + "slots:" + user_id]
        return bool(await self._reserve(keys=keys, args=[token, limit, SLOT_PENDING]))

    async def release(self, user_id: str, token: str) -> None:
        await self._redis.zrem(_PREFIX + "slots:" + user_id, token)

    async def pause_team(self, team_id: str, seconds: float) -> None:
        key = _PREFIX + "pause:" + team_id
        await self._pause(keys=[key], args=[max(1, int(seconds * 1000))])

    async def paused_teams(self, team_ids: list[str]) -> set[str]:
        if not team_ids:
            return set()
        marks = await self._redis.mget([_PREFIX + "pause:" + t for t in team_ids])
        return {team for team, mark in zip(team_ids, marks, strict=True) if mark}

    async def spend(self, name: str, limit: int, window: float) -> bool:
        args: list[str | int] = [_PREFIX + "budget:" + name, limit, max(1, int(window * 1000))]
        return bool(await self._spend(keys=[], args=args))

    async def purge(self) -> int:
        """Nothing to do: every key carries its own TTL, or leaves with its watch."""
        return 0

    async def size(self) -> int:
        count = 0
        async for _ in self._redis.scan_iter(match=_PREFIX + "*", count=1000):
            count += 1
        return count

    async def close(self) -> None:
        await self._redis.aclose()

    # -- followed channels (one hash per workspace) and per-channel counters ------------------

    async def follow(self, follow: Follow) -> bool:
        key = _FOLLOWS + follow.team_id
        return bool(await self._redis.hsetnx(key, follow.channel_id, follow.model_dump_json()))

    async def unfollow(self, team_id: str, channel_id: str) -> Follow | None:
        # One MULTI/EXEC: read and delete together, so two unfollows announce once.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(_FOLLOWS + team_id, channel_id)
            pipe.hdel(_FOLLOWS + team_id, channel_id)
            raw, deleted = await pipe.execute()
        return Follow.model_validate_json(raw) if raw and deleted else None

    async def get_follow(self, team_id: str, channel_id: str) -> Follow | None:
        raw = await self._redis.hget(_FOLLOWS + team_id, channel_id)
        return Follow.model_validate_json(raw) if raw else None

    async def follows(self, team_id: str) -> list[Follow]:
        raws = await self._redis.hvals(_FOLLOWS + team_id)
        return sorted((Follow.model_validate_json(r) for r in raws), key=lambda f: f.since)

    async def add(self, key: str, ttl: float, amount: int = 1) -> int:
        full = _PREFIX + "count:" + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(full, 0, nx=True, px=max(int(ttl * 1000), 1))
            pipe.incrby(full, amount)
            _, value = await pipe.execute()
        return int(value)

    # -- Slack Retry-After holds (`bot.slack.delivery.pacing`): one key per scope, expiring

    async def hold_scope(self, scope: str, seconds: float) -> None:
        await self._pause(keys=[_HOLDS + scope], args=[max(1, math.ceil(seconds * 1000))])

    async def scope_held(self, scope: str) -> float:
        left = int(await self._redis.pttl(_HOLDS + scope))
        return left / 1000 if left > 0 else 0.0

    # -- the completion notice: a durable write (see `Store.update_watch_durably`) -----------

    async def update_watch_durably(self, watch: Watch) -> Durability:
        """The write and `WAIT 1` on one connection (a pipeline), so the wait is for this
        write. With no replica connected, WAIT would block its whole timeout for nothing
        (Redis 6.2 measured): the write is then plain, reported as unconfirmed."""
        info = await self._redis.info("replication")
        if int(info.get("connected_slaves", 0) or 0) < 1:
            return "unconfirmed" if await self.update_watch(watch) else "lost"
        async with self._redis.pipeline(transaction=False) as pipe:
            await self._update(keys=self._keys(watch), args=self._update_args(watch), client=pipe)
            pipe.execute_command("WAIT", 1, REPLICA_WAIT_MS)
            written, acknowledged = await pipe.execute()
        if not written:
            return "lost"
        watch.version += 1
        return "durable" if int(acknowledged) >= 1 else "unconfirmed"

    # -- ended forms owed to their messages: one sorted set, scored by when each may be taken

    async def owe_final_form(self, watch_id: str, after: float) -> None:
        await self._take_owed(keys=[_OWED], args=["owe", max(0.0, after), 0, watch_id])

    async def take_owed_forms(self, hold: float, limit: int = 50) -> list[str]:
        taken = await self._take_owed(keys=[_OWED], args=["take", max(0.0, hold), limit])
        return [str(i) for i in taken]

    async def settle_final_form(self, watch_id: str) -> None:
        await self._redis.zrem(_OWED, watch_id)

    # -- quiet follows: a followed channel's mode ---------------------------------------------

    async def set_follow_mode(
        self, team_id: str, channel_id: str, mode: WatchMode
    ) -> Follow | None:
        key = _FOLLOWS + team_id
        # A compare-and-set on the stored JSON (one announcement per change), tried again while
        # others change the same follow, for a while.
        deadline = time.monotonic() + CAS_PATIENCE
        while time.monotonic() < deadline:
            raw = await self._redis.hget(key, channel_id)
            if not raw:
                return None
            before = Follow.model_validate_json(raw)
            if before.mode == mode:
                return before
            after = before.model_copy(update={"mode": mode}).model_dump_json()
            if await self._set_follow(keys=[key], args=[channel_id, raw, after]):
                return before
        raise RuntimeError(f"follow mode: changed concurrently for {CAS_PATIENCE:g} s")

    # == OAuth installations, install states, refresh leases (see `OAuthStore`) =============
    # A workspace's keys share its hash tag; the index of expiries and the states, which
    # belong to no workspace, share the fixed tag `{oauth}`. No script touches two tags.

    async def save_installation(self, ws: str, sealed: str, expires_at: float | None) -> None:
        await self._redis.hset(_installation(ws), mapping={"s": sealed, "e": expires_at or 0})
        # Every installation is in the index; one whose token never expires is never due.
        await self._redis.zadd(_OAUTH_DUE, {ws: math.inf if expires_at is None else expires_at})

    async def installed_workspaces(self) -> list[str]:
        return sorted(str(ws) for ws in await self._redis.zrange(_OAUTH_DUE, 0, -1))

    async def find_installation(self, ws: str) -> str | None:
        sealed = await self._redis.hget(_installation(ws), "s")
        return str(sealed) if sealed else None

    async def installations_due(self, before: float) -> list[str]:
        due = await self._redis.zrangebyscore(_OAUTH_DUE, "-inf", f"({before}")
        return [str(ws) for ws in due]

    async def issue_oauth_state(self, state: str, ttl: float) -> None:
        if ttl > 0:  # one already out of time is as good as never issued
            await self._redis.set(_OAUTH_STATE + state, "1", px=max(1, int(ttl * 1000)))

    async def consume_oauth_state(self, state: str) -> bool:
        return bool(await self._redis.delete(_OAUTH_STATE + state))  # one caller deletes it

    async def take_refresh_lease(self, ws: str, holder: str, ttl: float) -> bool:
        key = _refresh_lease(ws)
        return bool(await self._redis.set(key, holder, nx=True, px=max(1, int(ttl * 1000))))

    async def drop_refresh_lease(self, ws: str, holder: str) -> None:
        await self._redis.eval(_DROP_IF_HELD, 1, _refresh_lease(ws), holder)

    async def delete_workspace(self, ws: str) -> None:
        """What this block owns, plus the follows and open watches the store keys by team
        id today (an org-wide install's watches carry their workspace's team, not `ws`)."""
        for watch in await self.open_watches():
            if watch.team_id == ws:
                ended = watch.model_copy(update={"state": "done", "end_reason": "gone"})
                if await self.update_watch(ended):
                    await self._redis.delete(_PREFIX + "watch:" + watch.id)
        for key in (_FOLLOWS + ws, _installation(ws), _refresh_lease(ws)):
            await self._redis.delete(key)  # one key a call: they may live in different slots
        await self._redis.zrem(_OAUTH_DUE, ws)


def _watch(version: object, raw: object) -> Watch:
    watch = Watch.model_validate_json(str(raw))
    watch.version = int(str(version))
    return watch


_FOLLOWS = _PREFIX + "follows:"
CAS_PATIENCE = 2.0  # seconds a follow's mode change keeps trying against concurrent ones
_HOLDS = _PREFIX + "hold:"  # Slack Retry-After holds
_OWED = _PREFIX + "owed-forms"  # ended forms not yet shown (see `Store.owe_final_form`)
# KEYS: owed set. ARGV: "owe" or "take", seconds, limit, id. Times on Redis's clock.
_TAKE_OWED = (
    _NOW
    + """
if ARGV[1] == 'owe' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
  return {}
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id) end
return ids
"""
)


# Quiet follows: replace a follow's JSON only if it is still what was read.
_SET_FOLLOW = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


# OAuth: installations and refresh leases under each workspace's hash tag; states and the
# index of expiries under `{oauth}`.
_OAUTH_DUE = _PREFIX + "{oauth}:due"
_OAUTH_STATE = _PREFIX + "{oauth}:state:"
_DROP_IF_HELD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _installation(ws: str) -> str:
    return f"{_PREFIX}{{{ws}}}:installation"


def _refresh_lease(ws: str) -> str:
    return f"{_PREFIX}{{{ws}}}:oauth:refresh"
