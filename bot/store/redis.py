"""Redis store: the shared state for several replicas, through redis-py's asyncio client.

Every multi-key change is one Lua script, which Redis runs atomically; leases are keys with a
token and a TTL, renewed and deleted only by their holder (as redis-py's own `Lock` does).
Expiry uses Redis's clock and TTLs, so the bot's clocks do not matter.

Key layout: everything a workspace owns is `taskstatus:{<ws>}:<thing>:...` (see `_key`), one
hash tag per workspace, so each script touches one slot and the store runs on Redis Cluster
(`redis+cluster://`) as on one Redis. What the fleet iterates over every workspace (leases,
owed forms) starts from `taskstatus:{index}:workspaces`, the workspaces with open watches or
owed forms; each is then handled by its own script.

New per-workspace state builds its keys with `_key(ws, "<thing>", ...)`: `delete_workspace`
then removes it with the rest. State no workspace owns takes a fixed hash tag of its own
(`taskstatus:{<thing>}:...`).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from bot.records.account import TaskAccount
from bot.records.follow import Follow
from bot.records.watch import Watch, WatchMode
from bot.store.base import CLAIM_TTL, DEFAULT_RETENTION, SLOT_PENDING, Durability, uid_set_key

_PREFIX = "taskstatus:"
INDEX = _PREFIX + "{index}:workspaces"  # workspaces with open watches or owed forms
REPLICA_WAIT_MS = 1000  # how long a durable write waits for one replica's acknowledgement
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
CLUSTER_CONNECTIONS = 512  # per node of a cluster (see `RedisStore.open`)
FAN_OUT = 16  # per-workspace scripts in flight at once when the fleet looks at every one
T = TypeVar("T")


def _key(ws: str, *parts: str) -> str:
    """A key of workspace `ws`: `taskstatus:{ws}:part:part`. The braces are its hash tag (an
    empty one would not be: Redis would hash the whole key, so no workspace reads `-`)."""
    return ":".join((f"{_PREFIX}{{{ws or '-'}}}", *parts))


# KEYS: the workspace's open set. ARGV: its prefix, owner, ttl ms. Returns version, data pairs
# of the watches owned; the prefix is the open set's own hash tag, so one slot.
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

# KEYS: the budget's name (its windows are that name, a colon and the window's number: the
# same hash tag, so the same slot). ARGV: limit, window ms.
_SPEND = (
    "local t = redis.call('TIME')\n"
    "local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local key = KEYS[1] .. ':' .. math.floor(ms / tonumber(ARGV[2]))\n"
    "local used = tonumber(redis.call('GET', key) or '0')\n"
    "if used >= tonumber(ARGV[1]) then return 0 end\n"
    "redis.call('INCR', key)\n"
    "redis.call('PEXPIRE', key, 2 * tonumber(ARGV[2]))\n"
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

# KEYS: follows hash. ARGV: channel. Read and delete together, so two unfollows announce once.
_UNFOLLOW = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then redis.call('HDEL', KEYS[1], ARGV[1]) end
return raw
"""

# KEYS: counter. ARGV: ttl ms, amount. Lives `ttl` from its first use.
_ADD = """
redis.call('SET', KEYS[1], 0, 'NX', 'PX', ARGV[1])
return redis.call('INCRBY', KEYS[1], ARGV[2])
"""


class RedisStore:
    def __init__(
        self, client: aioredis.Redis | RedisCluster, retention: float = DEFAULT_RETENTION
    ) -> None:
        self._redis = client
        self.retention = retention
        self._fan_out = asyncio.Semaphore(FAN_OUT)
        self._take = client.register_script(TAKE_LEASES)
        self._release = client.register_script(_RELEASE)
        self._create = client.register_script(_CREATE)
        self._update = client.register_script(_UPDATE)
        self._reserve = client.register_script(_RESERVE)
        self._spend = client.register_script(_SPEND)
        self._pause = client.register_script(_PAUSE)
        self._unfollow = client.register_script(_UNFOLLOW)
        self._add = client.register_script(_ADD)
        self._take_owed = client.register_script(_TAKE_OWED)  # ended forms owed
        self._set_follow = client.register_script(_SET_FOLLOW)  # quiet follows

    @property
    def clustered(self) -> bool:
        return isinstance(self._redis, RedisCluster)

    @classmethod
    async def open(cls, url: str, retention: float = DEFAULT_RETENTION) -> RedisStore:
        client: aioredis.Redis | RedisCluster
        if url.startswith(CLUSTER_SCHEMES):
            # Any node's address; the client learns the others (and each slot's) from it. Its
            # pools cannot wait for a free connection (past the limit a call fails), so the
            # limit per node is far above the one Redis's 64 that bursts queue for.
            plain = url.replace("+cluster://", "://", 1)
            client = RedisCluster.from_url(
                plain, decode_responses=True, max_connections=CLUSTER_CONNECTIONS
            )
            await client.initialize()
        else:
            # A bounded pool that waits for a free connection, rather than failing a burst of
            # requests with "Too many connections" (the default pool's behaviour at 100).
            pool = aioredis.BlockingConnectionPool.from_url(
                url, decode_responses=True, max_connections=64, timeout=10
            )
            client = aioredis.Redis.from_pool(pool)
        await client.ping()
        store = cls(client, retention)
        if not store.clustered:  # an earlier release's keys could only be on one Redis
            await store._migrate()
        return store

    def _seconds(self, value: float) -> int:
        return max(1, math.ceil(value))

    async def _each_workspace(self, work: Callable[[str], Awaitable[T]]) -> list[T]:
        """`work` for every workspace in the index, a few at a time, in a stable order."""

        async def one(ws: str) -> T:
            async with self._fan_out:
                return await work(ws)

        return list(await asyncio.gather(*(one(ws) for ws in await self._workspaces())))

    async def _workspaces(self) -> list[str]:
        return sorted(str(ws) for ws in await self._redis.smembers(INDEX))

    async def _each_workspace_script(
        self, script: AsyncScript, call: Callable[[str], tuple[list[str], list[Any]]]
    ) -> list[Any]:
        """`script` once per workspace in the index, in one pipeline: one round trip on one
        Redis, one per node on a cluster (each call still touches its own slot only)."""
        calls = [call(ws) for ws in await self._workspaces()]
        if not calls:
            return []
        try:
            return await self._pipelined(script, calls)
        except NoScriptError:  # a node that has not seen it (new, or restarted): once more
            await self._redis.script_load(script.script)
            return await self._pipelined(script, calls)

    async def _pipelined(
        self, script: AsyncScript, calls: list[tuple[list[str], list[Any]]]
    ) -> list[Any]:
        # EVALSHA by name: redis-py refuses its `evalsha` helper in a cluster pipeline, while
        # the command itself is routed by its keys like any other.
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return list(await pipe.execute())

    async def _index(self, ws: str) -> None:
        """After the workspace's own write (see `_prune`): the fleet now looks at it."""
        await self._redis.sadd(INDEX, ws)

    # -- claims and UID sets -------------------------------------------------------------------

    async def claim(self, ws: str, key: str, ttl: float = CLAIM_TTL) -> bool:
        expiry = self._seconds(min(ttl, self.retention))
        return bool(await self._redis.set(_key(ws, "claim", key), "1", nx=True, ex=expiry))

    async def put_uids(self, ws: str, uids: list[str]) -> str:
        key = uid_set_key(uids)
        await self._redis.set(
            _key(ws, "uids", key), json.dumps(uids), ex=self._seconds(self.retention)
        )
        return key

    async def get_uids(self, ws: str, key: str) -> list[str] | None:
        raw = await self._redis.get(_key(ws, "uids", key))
        return list(json.loads(raw)) if raw else None

    # -- watches -------------------------------------------------------------------------------

    def _keys(self, watch: Watch) -> list[str]:
        ws = watch.workspace
        return [
            _key(ws, "watch", watch.id),
            _key(ws, "open"),
            _key(ws, "msg", watch.message_key),
            _key(ws, "slots", watch.user_id),
            _key(ws, "lease", watch.id),
        ]

    async def create_watch(self, watch: Watch, slot_seconds: float) -> bool:
        data = watch.model_copy(update={"version": 1}).model_dump_json()
        args: list[str | float] = [watch.id, data, watch.message_key, slot_seconds]
        if not await self._create(keys=self._keys(watch)[:4], args=args):
            return False
        watch.version = 1
        await self._index(watch.workspace)
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

    async def get_watch(self, ws: str, watch_id: str) -> Watch | None:
        version, raw = await self._redis.hmget(_key(ws, "watch", watch_id), ["v", "d"])
        return _watch(version, raw) if raw else None

    async def open_watches(self, ws: str) -> list[Watch]:
        ids = sorted(str(i) for i in await self._redis.smembers(_key(ws, "open")))
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for watch_id in ids:
                pipe.hmget(_key(ws, "watch", watch_id), ["v", "d"])
            rows = await pipe.execute()
        return [_watch(v, raw) for v, raw in rows if raw]

    async def take_leases(self, owner: str, ttl: float) -> list[Watch]:
        ms = max(1, int(ttl * 1000))
        replies = await self._each_workspace_script(
            self._take, lambda ws: ([_key(ws, "open")], [_key(ws, ""), owner, ms])
        )
        flat = [item for taken in replies for item in taken]
        return sorted(
            (_watch(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)), key=lambda w: w.id
        )

    async def release_leases(self, owner: str) -> None:
        await self._each_workspace_script(
            self._release, lambda ws: ([_key(ws, "open")], [_key(ws, ""), owner])
        )

    # -- slots, pauses, budgets ----------------------------------------------------------------

    async def reserve(self, ws: str, user_id: str, token: str, limit: int) -> bool:
        keys = [_key(ws, "slots", user_id)]
        return bool(await self._reserve(keys=keys, args=[token, limit, SLOT_PENDING]))

    async def release(self, ws: str, user_id: str, token: str) -> None:
        await self._redis.zrem(_key(ws, "slots", user_id), token)

    async def pause_team(self, ws: str, seconds: float) -> None:
        await self._pause(keys=[_key(ws, "pause")], args=[max(1, int(seconds * 1000))])

    async def paused_teams(self, workspaces: list[str]) -> set[str]:
        if not workspaces:
            return set()
        # One key per workspace, each in its own slot: a pipeline, not a multi-key MGET.
        async with self._redis.pipeline(transaction=False) as pipe:
            for ws in workspaces:
                pipe.exists(_key(ws, "pause"))
            marks = await pipe.execute()
        return {ws for ws, mark in zip(workspaces, marks, strict=True) if mark}

    async def spend(self, ws: str, name: str, limit: int, window: float) -> bool:
        args = [limit, max(1, int(window * 1000))]
        return bool(await self._spend(keys=[_key(ws, "budget", name)], args=args))

    # -- retention -----------------------------------------------------------------------------

    async def purge(self) -> int:
        """Every key carries its own TTL, or leaves with its watch; what is left to do is the
        index: a workspace with no open watch and no owed form leaves it."""
        await self._each_workspace(self._prune)
        return 0

    async def _prune(self, ws: str) -> None:
        """Out of the index first, then back in if it still has work: a watch or an owed form
        created meanwhile is written before its `_index`, so it is never left out."""
        await self._redis.srem(INDEX, ws)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.scard(_key(ws, "open"))
            pipe.zcard(_key(ws, "owed"))
            counts = await pipe.execute()
        if any(counts):
            await self._index(ws)

    async def size(self) -> int:
        count = 0
        async for _ in self._redis.scan_iter(match=_PREFIX + "*", count=1000):
            count += 1
        return count

    async def close(self) -> None:
        await self._redis.aclose()

    # -- followed channels (one hash per workspace) and per-channel counters ------------------

    async def follow(self, follow: Follow) -> bool:
        key = _key(follow.workspace, "follows")
        return bool(await self._redis.hsetnx(key, follow.channel_id, follow.model_dump_json()))

    async def unfollow(self, ws: str, channel_id: str) -> Follow | None:
        raw = await self._unfollow(keys=[_key(ws, "follows")], args=[channel_id])
        return Follow.model_validate_json(raw) if raw else None

    async def get_follow(self, ws: str, channel_id: str) -> Follow | None:
        raw = await self._redis.hget(_key(ws, "follows"), channel_id)
        return Follow.model_validate_json(raw) if raw else None

    async def follows(self, ws: str) -> list[Follow]:
        raws = await self._redis.hvals(_key(ws, "follows"))
        return sorted((Follow.model_validate_json(r) for r in raws), key=lambda f: f.since)

    async def add(self, ws: str, key: str, ttl: float, amount: int = 1) -> int:
        args = [max(int(ttl * 1000), 1), amount]
        return int(await self._add(keys=[_key(ws, "count", key)], args=args))

    # -- Slack Retry-After holds (`bot.slack.delivery.pacing`): one key per scope, expiring

    async def hold_scope(self, ws: str, scope: str, seconds: float) -> None:
        await self._pause(keys=[_key(ws, "hold", scope)], args=[max(1, math.ceil(seconds * 1000))])

    async def scope_held(self, ws: str, scope: str) -> float:
        left = int(await self._redis.pttl(_key(ws, "hold", scope)))
        return left / 1000 if left > 0 else 0.0

    # -- the completion notice: a durable write (see `Store.update_watch_durably`) -----------

    async def update_watch_durably(self, watch: Watch) -> Durability:
        """The write and `WAIT 1` on one connection (a pipeline), so the wait is for this
        write; on a cluster both go to the node that holds the watch's slot, and the wait is
        for that node's replica. With no replica connected, WAIT would block its whole
        timeout for nothing (Redis 6.2 measured): the write is then plain, reported as
        unconfirmed."""
        keys = self._keys(watch)
        target: dict[str, Any] = {}
        if isinstance(self._redis, RedisCluster):
            target["target_nodes"] = self._redis.get_node_from_key(keys[0])
        info = await self._redis.info("replication", **target)
        if int(info.get("connected_slaves", 0) or 0) < 1:
            return "unconfirmed" if await self.update_watch(watch) else "lost"
        try:
            written, acknowledged = await self._write_and_wait(keys, watch, target)
        except NoScriptError:  # a node that lost its scripts (restarted): loaded, then again
            await self._redis.script_load(_UPDATE)
            written, acknowledged = await self._write_and_wait(keys, watch, target)
        if not written:
            return "lost"
        watch.version += 1
        return "durable" if int(acknowledged) >= 1 else "unconfirmed"

    async def _write_and_wait(
        self, keys: list[str], watch: Watch, target: dict[str, Any]
    ) -> tuple[Any, Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            if isinstance(self._redis, RedisCluster):
                # redis-py refuses `evalsha` in a cluster pipeline by name; the command itself
                # is routed by its keys like any other.
                args = self._update_args(watch)
                pipe.execute_command("EVALSHA", self._update.sha, len(keys), *keys, *args)
            else:
                # A plain pipeline loads the script before it runs (redis-py's own handling).
                queued: Any = pipe
                await self._update(keys=keys, args=self._update_args(watch), client=queued)
            pipe.execute_command("WAIT", 1, REPLICA_WAIT_MS, **target)
            written, acknowledged = await pipe.execute()
        return written, acknowledged

    # -- ended forms owed to their messages: one sorted set per workspace, scored by when each
    # may be taken

    async def owe_final_form(self, ws: str, watch_id: str, after: float) -> None:
        await self._take_owed(keys=[_key(ws, "owed")], args=["owe", max(0.0, after), 0, watch_id])
        await self._index(ws)

    async def take_owed_forms(self, hold: float, limit: int = 50) -> list[tuple[str, str]]:
        """One pipeline finds the workspaces that owe any (most owe none), then each of those,
        in turn, until `limit` are taken."""
        members = await self._workspaces()
        if not members:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for ws in members:
                pipe.zcard(_key(ws, "owed"))
            counts = await pipe.execute()
        taken: list[tuple[str, str]] = []
        for ws in (ws for ws, count in zip(members, counts, strict=True) if count):
            if len(taken) >= limit:
                break
            args: list[str | float] = ["take", max(0.0, hold), limit - len(taken)]
            ids = await self._take_owed(keys=[_key(ws, "owed")], args=args)
            taken += [(ws, str(i)) for i in ids]
        return taken

    async def settle_final_form(self, ws: str, watch_id: str) -> None:
        await self._redis.zrem(_key(ws, "owed"), watch_id)

    # -- quiet follows: a followed channel's mode ---------------------------------------------

    async def set_follow_mode(self, ws: str, channel_id: str, mode: WatchMode) -> Follow | None:
        key = _key(ws, "follows")
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

    # -- a workspace's whole state (uninstall) -------------------------------------------------

    async def delete_workspace(self, ws: str) -> int:
        """Out of the index, then every key under its hash tag, whoever wrote it (one slot:
        on a cluster only its node is scanned). A lease holder's next compare-and-set finds
        no record and fails."""
        await self._redis.srem(INDEX, ws)
        target: dict[str, Any] = {}
        if isinstance(self._redis, RedisCluster):
            target["target_nodes"] = self._redis.get_node_from_key(_key(ws, ""))
        removed = 0
        batch: list[str] = []
        match = _glob_escape(_key(ws, "")) + "*"
        last = _installation(ws)
        async for key in self._redis.scan_iter(match=match, count=1000, **target):
            if str(key) != last:
                batch.append(str(key))
            if len(batch) >= 500:
                removed += int(await self._redis.delete(*batch))
                batch = []
        if batch:
            removed += int(await self._redis.delete(*batch))
        # The installation goes last, then its place in the sweep: an uninstall that dies
        # half-way leaves the installation, so the retried event finds it and finishes.
        removed += int(await self._redis.delete(last))
        await self._redis.zrem(_OAUTH_DUE, ws)
        return removed

    # -- keys of the release before workspaces -------------------------------------------------

    async def _migrate(self) -> None:
        """Keys of earlier releases become this one's: string watch records become versioned
        hashes, then watches, follows and owed forms move under their team's hash tag. Run at
        open, before this process serves; an earlier release's processes must be stopped first
        (they know only the old keys)."""
        script = self._redis.register_script(_MIGRATE)
        old_watches = [
            str(k) async for k in self._redis.scan_iter(match=_PREFIX + "watch:*", count=1000)
        ]
        for key in old_watches:
            await script(keys=[key], args=[self._seconds(self.retention)])
        open_ids = {str(i) for i in await self._redis.smembers(_PREFIX + "watches:open")}
        scored: Any = await self._redis.zrange(_PREFIX + "owed-forms", 0, -1, withscores=True)
        owed = {str(member): float(score) for member, score in scored}
        known: set[str] = set()
        for key in old_watches:
            known |= await self._move_watch(key, open_ids, owed)
        async for key in self._redis.scan_iter(match=_PREFIX + "follows:*", count=1000):
            team = str(key).removeprefix(_PREFIX + "follows:")
            await self._redis.rename(key, _key(team, "follows"))
            known.add(team)
        await self._redis.delete(_PREFIX + "watches:open", _PREFIX + "owed-forms")
        if len(known) == 1:  # one workspace's install: its team-less keys are its own
            ws = known.pop()
            for thing in ("uids", "count", "claim"):
                async for key in self._redis.scan_iter(match=f"{_PREFIX}{thing}:*", count=1000):
                    rest = str(key).removeprefix(f"{_PREFIX}{thing}:")
                    await self._redis.rename(key, _key(ws, thing, rest))

    async def _move_watch(self, key: str, open_ids: set[str], owed: dict[str, float]) -> set[str]:
        version, raw = await self._redis.hmget(key, ["v", "d"])
        if not raw:
            return set()
        watch = _watch(version, raw)
        ws, ttl = watch.workspace, int(await self._redis.ttl(key))
        await self._redis.rename(key, _key(ws, "watch", watch.id))
        if ttl > 0:
            await self._redis.expire(_key(ws, "watch", watch.id), ttl)
        if watch.id in open_ids:
            await self._redis.sadd(_key(ws, "open"), watch.id)
            if watch.message_key:
                await self._redis.set(_key(ws, "msg", watch.message_key), watch.id)
                await self._redis.delete(_PREFIX + "msg:" + watch.message_key)
        if watch.id in owed:
            await self._redis.zadd(_key(ws, "owed"), {watch.id: owed[watch.id]})
        if watch.id in open_ids or watch.id in owed:
            await self._index(ws)
        return {ws} if ws else set()

    # -- task API accounts, one per workspace (see `bot.tenancy`): one key under the
    # workspace's hash tag, no TTL

    async def save_account(self, ws: str, account: TaskAccount) -> None:
        await self._redis.set(account_key(ws), account.model_dump_json())

    async def get_account(self, ws: str) -> TaskAccount | None:
        raw = await self._redis.get(account_key(ws))
        return TaskAccount.model_validate_json(raw) if raw else None

    async def delete_account(self, ws: str) -> bool:
        return bool(await self._redis.delete(account_key(ws)))

    # == OAuth installations, install states, refresh leases (see `OAuthStore`) =============
    # A workspace's keys share its hash tag; the index of expiries and the states, which
    # belong to no workspace, share the fixed tag `{oauth}`. No script touches two tags.

    async def save_installation(self, ws: str, sealed: str, expires_at: float | None) -> None:
        # Every installation is in the index; one whose token never expires is never due. The
        # index is written first (its tag is another slot: no one script does both), so a
        # crash between the two leaves an entry with no installation (harmless: nothing to
        # find), never an installation the sweep and `reseal` cannot see.
        await self._redis.zadd(_OAUTH_DUE, {ws: math.inf if expires_at is None else expires_at})
        await self._redis.hset(_installation(ws), mapping={"s": sealed, "e": expires_at or 0})

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

    # -- compare-and-set writes of a refresh and a reseal (see `OAuthStore`) -------------------

    async def replace_installation(
        self, ws: str, before: str, sealed: str, expires_at: float | None
    ) -> bool:
        args = [before, sealed, expires_at or 0]
        if not await self._redis.eval(_REPLACE_INSTALLATION, 1, _installation(ws), *args):
            return False
        # Its place in the sweep moves only if it still has one (XX): an uninstall between
        # the two steps took it out, and it stays out.
        score = math.inf if expires_at is None else expires_at
        await self._redis.zadd(_OAUTH_DUE, {ws: score}, xx=True)
        return True

    async def replace_account(self, ws: str, before: str, account: TaskAccount) -> bool:
        after = account.model_dump_json()
        return bool(await self._redis.eval(_REPLACE_ACCOUNT, 1, account_key(ws), before, after))

    # -- link unfurls: a claim given back (see `Store.release_claim`) ----------------------

    async def release_claim(self, ws: str, key: str) -> None:
        await self._redis.delete(_key(ws, "claim", key))  # the workspace's hash tag: one slot


def _watch(version: object, raw: object) -> Watch:
    watch = Watch.model_validate_json(str(raw))
    watch.version = int(str(version))
    return watch


def _glob_escape(text: str) -> str:
    """`text` matched literally by SCAN's MATCH (its glob knows `*?[]` and `\\`)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


CAS_PATIENCE = 2.0  # seconds a follow's mode change keeps trying against concurrent ones
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


def account_key(ws: str) -> str:
    """A workspace's task API account: `taskstatus:{<ws>}:account` (its own hash tag)."""
    return f"{_PREFIX}{{{ws}}}:account"


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


# KEYS: installation. ARGV: the sealed value read, the new one, its expiry. One slot.
_REPLACE_INSTALLATION = """
if redis.call('HGET', KEYS[1], 's') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'e', ARGV[3])
return 1
"""
# KEYS: account. ARGV: the sealed private key read, the new account's JSON. One slot.
_REPLACE_ACCOUNT = """
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).sealed_private_key ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
