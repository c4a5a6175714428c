"""SQLite store (the default): one file, WAL mode, through aiosqlite's own thread.

Right for one process, and for two overlapping on one host (a rolling restart): every change
is one statement or one `BEGIN IMMEDIATE` transaction, which SQLite serialises across
processes; leases and versions are conditional `UPDATE`s. Lease times are wall-clock seconds,
as the processes share no other clock.

Every table of workspace-owned state has a `ws` column, first in its primary key, rather
than keys prefixed with the workspace: the isolation is then in the schema (a query without
`ws` cannot match another workspace's row by a shared prefix), and `delete_workspace` finds
every such table, those added later included, by its column.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosqlite

from bot.records.account import TaskAccount
from bot.records.follow import Follow
from bot.records.watch import Watch, WatchMode
from bot.store.base import CLAIM_TTL, DEFAULT_RETENTION, SLOT_PENDING, Durability, uid_set_key

_TABLES = [
    "CREATE TABLE IF NOT EXISTS claims (ws TEXT NOT NULL, key TEXT NOT NULL,"
    " expires_at REAL NOT NULL, PRIMARY KEY (ws, key))",
    "CREATE TABLE IF NOT EXISTS uid_sets (ws TEXT NOT NULL, key TEXT NOT NULL,"
    " uids TEXT NOT NULL, expires_at REAL, PRIMARY KEY (ws, key))",
    "CREATE TABLE IF NOT EXISTS watches (id TEXT PRIMARY KEY, state TEXT NOT NULL,"
    " data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS slots (ws TEXT NOT NULL, token TEXT NOT NULL,"
    " user_id TEXT NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (ws, token))",
    # Live-edit pauses (scope '') and Slack Retry-After holds (a scope with a '/').
    "CREATE TABLE IF NOT EXISTS holds (ws TEXT NOT NULL, scope TEXT NOT NULL,"
    " until REAL NOT NULL, PRIMARY KEY (ws, scope))",
    "CREATE TABLE IF NOT EXISTS budgets (ws TEXT NOT NULL, name TEXT NOT NULL,"
    " used INTEGER NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (ws, name))",
]
# Columns added since the first release; an older file gets them on open.
_WATCH_COLUMNS = {
    "version": "INTEGER NOT NULL DEFAULT 0",
    "is_open": "INTEGER",  # 1 while open, NULL once done: partial indexes serve both
    "owner": "TEXT NOT NULL DEFAULT ''",
    "lease_until": "REAL NOT NULL DEFAULT 0",
    "message_key": "TEXT NOT NULL DEFAULT ''",
    "updated_at": "REAL NOT NULL DEFAULT 0",
    "ws": "TEXT NOT NULL DEFAULT ''",
}
_INDEXES = [
    "DROP INDEX IF EXISTS watches_state",
    "CREATE INDEX IF NOT EXISTS watches_open ON watches (is_open) WHERE is_open = 1",
    "DROP INDEX IF EXISTS watches_message",
    "CREATE UNIQUE INDEX IF NOT EXISTS watches_ws_message ON watches (ws, message_key)"
    " WHERE is_open = 1 AND message_key != ''",
    "CREATE INDEX IF NOT EXISTS watches_ws ON watches (ws)",
    "CREATE INDEX IF NOT EXISTS watches_ended ON watches (updated_at) WHERE is_open IS NULL",
    "CREATE INDEX IF NOT EXISTS claims_expiry ON claims (expires_at)",
    "CREATE INDEX IF NOT EXISTS uid_sets_expiry ON uid_sets (expires_at)",
    "CREATE INDEX IF NOT EXISTS slots_user ON slots (ws, user_id, expires_at)",
]


class SqliteStore:
    def __init__(
        self,
        db: aiosqlite.Connection,
        retention: float = DEFAULT_RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self.retention = retention
        self._clock = clock
        self._lock = asyncio.Lock()  # one transaction at a time on this connection
        self._ending: set[asyncio.Future[None]] = set()  # rollbacks after a cancellation
        self._durable = asyncio.Lock()  # one `synchronous=FULL` write at a time (the notice)

    @classmethod
    async def open(cls, path: str, retention: float = DEFAULT_RETENTION) -> SqliteStore:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, timeout=10.0, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        store = cls(db, retention)
        async with store._transaction():
            legacy = await store._set_legacy_tables_aside()
            for statement in [
                *_TABLES,
                *_FOLLOW_TABLES,
                *_OWED_TABLES,
                *_ACCOUNT_TABLES,
                *_OAUTH_TABLES,
            ]:
                await db.execute(statement)
            await store._migrate()
            await store._adopt_legacy_rows(legacy)
            for statement in _INDEXES:
                await db.execute(statement)
        await store.purge()
        return store

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA table_info(watches)") as cursor:
            have = {row[1] for row in await cursor.fetchall()}
        for column, declaration in _WATCH_COLUMNS.items():
            if column not in have:
                await self._db.execute(f"ALTER TABLE watches ADD COLUMN {column} {declaration}")
        if "is_open" not in have:
            await self._db.execute("UPDATE watches SET is_open = 1 WHERE state != 'done'")
        if "ws" not in have:  # a record from before workspaces: its team's
            await self._db.execute(
                "UPDATE watches SET ws = coalesce(json_extract(data, '$.team_id'), '')"
            )

    async def _set_legacy_tables_aside(self) -> list[str]:
        """Tables from before workspaces (no `ws` column) are renamed `<name>_legacy`, so
        the new ones can be made; `_adopt_legacy_rows` then copies what is worth keeping."""
        aside = []
        for table in _LEGACY_TABLES:
            async with self._db.execute(f"PRAGMA table_info({table})") as cursor:
                columns = {row[1] for row in await cursor.fetchall()}
            if columns and "ws" not in columns:
                await self._db.execute(f"ALTER TABLE {table} RENAME TO {table}_legacy")
                aside.append(table)
        return aside

    async def _adopt_legacy_rows(self, legacy: list[str]) -> None:
        """Follows keep their team as their workspace; slots and owed forms take their
        watch's. Claims, UID sets and counters (Home's seen marks) carry no team: they go to
        the one workspace the file knows, when it knows one (a single-workspace install), else
        they are dropped. Pauses and budgets last seconds and are dropped."""
        copies = {
            "follows": "INSERT INTO follows SELECT team_id, channel_id, data FROM follows_legacy",
            "slots": "INSERT OR IGNORE INTO slots SELECT w.ws, s.token, s.user_id, s.expires_at"
            " FROM slots_legacy s JOIN watches w ON w.id = s.token",
            "owed_forms": "INSERT OR IGNORE INTO owed_forms SELECT w.ws, o.id, o.due"
            " FROM owed_forms_legacy o JOIN watches w ON w.id = o.id",
        }
        for table in legacy:
            if table in copies:
                await self._db.execute(copies[table])
        rows = await self._db.execute_fetchall(
            "SELECT ws FROM watches WHERE ws != '' UNION SELECT ws FROM follows"
        )
        known = [str(row[0]) for row in rows]
        for table in legacy:
            if len(known) == 1 and table in _TEAMLESS:
                await self._db.execute(
                    f"INSERT OR IGNORE INTO {table} SELECT ?, * FROM {table}_legacy",  # noqa: S608
                    (known[0],),
                )
            await self._db.execute(f"DROP TABLE {table}_legacy")

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """One `BEGIN IMMEDIATE` transaction that ends on every path, cancellation included.

        aiosqlite runs statements in order on its own thread, and a cancelled `await` does not
        stop one already queued: a `BEGIN` cancelled while it waits for another process's
        lock still begins once that lock frees. Unended, that transaction would fail every
        later one, take later writes (a lease release) down with it on close, and keep the
        other process from writing. So the `BEGIN` is inside the guarded block, and on any
        exit but a commit a `ROLLBACK` is queued behind it by a task that keeps this
        connection's lock until it is done: the next transaction waits for it, while the
        canceller does not wait for the other process's lock.
        """
        await self._lock.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            yield
            await self._db.execute("COMMIT")
        except BaseException:
            ending = asyncio.ensure_future(self._roll_back_and_unlock())
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
            raise
        self._lock.release()

    async def _roll_back_and_unlock(self) -> None:
        """No transaction open (a `BEGIN` that gave up on the busy timeout, a `COMMIT` that
        went through before its cancellation) is fine: `ROLLBACK` then fails harmlessly."""
        try:
            with contextlib.suppress(sqlite3.OperationalError, ValueError):
                await self._db.execute("ROLLBACK")
        finally:
            self._lock.release()

    # -- claims and UID sets -------------------------------------------------------------------

    async def claim(self, ws: str, key: str, ttl: float = CLAIM_TTL) -> bool:
        now = self._clock()
        async with self._transaction():
            await self._db.execute(
                "DELETE FROM claims WHERE ws = ? AND key = ? AND expires_at < ?", (ws, key, now)
            )
            cursor = await self._db.execute(
                "INSERT OR IGNORE INTO claims (ws, key, expires_at) VALUES (?, ?, ?)",
                (ws, key, now + min(ttl, self.retention)),
            )
        return cursor.rowcount == 1

    async def put_uids(self, ws: str, uids: list[str]) -> str:
        key = uid_set_key(uids)
        async with self._lock:
            await self._db.execute(
                "INSERT OR REPLACE INTO uid_sets (ws, key, uids, expires_at) VALUES (?, ?, ?, ?)",
                (ws, key, json.dumps(uids), self._clock() + self.retention),
            )
        return key

    async def get_uids(self, ws: str, key: str) -> list[str] | None:
        async with self._db.execute(
            "SELECT uids FROM uid_sets WHERE ws = ? AND key = ? AND expires_at > ?",
            (ws, key, self._clock()),
        ) as cursor:
            row = await cursor.fetchone()
        return list(json.loads(row[0])) if row else None

    # -- watches ---------------------------------------------------------------------------------

    async def create_watch(self, watch: Watch, slot_seconds: float) -> bool:
        now = self._clock()
        stored = watch.model_copy(update={"version": 1})
        try:
            async with self._transaction():
                await self._db.execute(
                    "INSERT INTO watches (id, ws, state, data, version, is_open, message_key,"
                    " updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
                    (
                        watch.id,
                        watch.workspace,
                        watch.state,
                        stored.model_dump_json(),
                        1 if watch.is_open else None,
                        watch.message_key,
                        now,
                    ),
                )
                await self._db.execute(
                    "UPDATE slots SET expires_at = ? WHERE ws = ? AND token = ?",
                    (now + slot_seconds, watch.workspace, watch.id),
                )
        except sqlite3.IntegrityError:
            return False
        watch.version = 1
        return True

    async def update_watch(self, watch: Watch) -> bool:
        now, done = self._clock(), not watch.is_open
        stored = watch.model_copy(update={"version": watch.version + 1})
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE watches SET state = ?, data = ?, version = version + 1, is_open = ?,"
                " updated_at = ?, owner = CASE WHEN ? THEN '' ELSE owner END,"
                " lease_until = CASE WHEN ? THEN 0 ELSE lease_until END"
                " WHERE id = ? AND ws = ? AND version = ?",
                (
                    watch.state,
                    stored.model_dump_json(),
                    None if done else 1,
                    now,
                    done,
                    done,
                    watch.id,
                    watch.workspace,
                    watch.version,
                ),
            )
            if cursor.rowcount == 1 and done:
                await self._db.execute(
                    "DELETE FROM slots WHERE ws = ? AND token = ?", (watch.workspace, watch.id)
                )
        if cursor.rowcount != 1:
            return False
        watch.version += 1
        return True

    async def get_watch(self, ws: str, watch_id: str) -> Watch | None:
        async with self._db.execute(
            "SELECT version, data FROM watches WHERE id = ? AND ws = ?"
            " AND (is_open = 1 OR updated_at > ?)",
            (watch_id, ws, self._clock() - self.retention),
        ) as cursor:
            row = await cursor.fetchone()
        return _watch(row) if row else None

    async def open_watches(self, ws: str) -> list[Watch]:
        async with self._db.execute(
            "SELECT version, data FROM watches WHERE is_open = 1 AND ws = ? ORDER BY id", (ws,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [_watch(row) for row in rows]

    # -- leases ----------------------------------------------------------------------------------

    async def take_leases(self, owner: str, ttl: float) -> list[Watch]:
        now = self._clock()
        async with self._transaction():
            await self._db.execute(
                "UPDATE watches SET owner = ?, lease_until = ?"
                " WHERE is_open = 1 AND (owner = ? OR lease_until < ?)",
                (owner, now + ttl, owner, now),
            )
            async with self._db.execute(
                "SELECT version, data FROM watches WHERE is_open = 1 AND owner = ? ORDER BY id",
                (owner,),
            ) as cursor:
                rows = await cursor.fetchall()
        return [_watch(row) for row in rows]

    async def release_leases(self, owner: str) -> None:
        async with self._lock:
            await self._db.execute(
                "UPDATE watches SET owner = '', lease_until = 0 WHERE is_open = 1 AND owner = ?",
                (owner,),
            )

    # -- slots and pauses ------------------------------------------------------------------------

    async def reserve(self, ws: str, user_id: str, token: str, limit: int) -> bool:
        now = self._clock()
        async with self._transaction():
            await self._db.execute(
                "DELETE FROM slots WHERE ws = ? AND user_id = ? AND expires_at < ?",
                (ws, user_id, now),
            )
            cursor = await self._db.execute(
                "INSERT OR IGNORE INTO slots (ws, token, user_id, expires_at) SELECT ?, ?, ?, ?"
                " WHERE (SELECT COUNT(*) FROM slots WHERE ws = ? AND user_id = ?) < ?",
                (ws, token, user_id, now + SLOT_PENDING, ws, user_id, limit),
            )
        return cursor.rowcount == 1

    async def release(self, ws: str, user_id: str, token: str) -> None:
        async with self._lock:
            await self._db.execute(
                "DELETE FROM slots WHERE ws = ? AND token = ? AND user_id = ?",
                (ws, token, user_id),
            )

    async def pause_team(self, ws: str, seconds: float) -> None:
        await self.hold_scope(ws, "", seconds)

    async def paused_teams(self, workspaces: list[str]) -> set[str]:
        if not workspaces:
            return set()
        marks = ",".join("?" * len(workspaces))
        async with self._db.execute(
            f"SELECT ws FROM holds WHERE scope = '' AND until > ? AND ws IN ({marks})",  # noqa: S608 - marks only
            (self._clock(), *workspaces),
        ) as cursor:
            return {str(row[0]) for row in await cursor.fetchall()}

    async def spend(self, ws: str, name: str, limit: int, window: float) -> bool:
        now = self._clock()
        slot = f"{name}:{int(now // window)}"
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO budgets (ws, name, used, expires_at) VALUES (?, ?, 0, ?)"
                " ON CONFLICT (ws, name) DO NOTHING",
                (ws, slot, now + 2 * window),
            )
            cursor = await self._db.execute(
                "UPDATE budgets SET used = used + 1 WHERE ws = ? AND name = ? AND used < ?",
                (ws, slot, limit),
            )
        return cursor.rowcount == 1

    # -- retention -------------------------------------------------------------------------------

    async def purge(self) -> int:
        now = self._clock()
        removed = 0
        async with self._transaction():
            for statement, args in (
                ("DELETE FROM claims WHERE expires_at < ?", (now,)),
                ("DELETE FROM uid_sets WHERE expires_at < ?", (now,)),
                ("DELETE FROM slots WHERE expires_at < ?", (now,)),
                ("DELETE FROM holds WHERE until < ?", (now,)),
                ("DELETE FROM counters WHERE expires_at < ?", (now,)),  # follow caps
                ("DELETE FROM budgets WHERE expires_at < ?", (now,)),
                (
                    "DELETE FROM watches WHERE is_open IS NULL AND updated_at < ?",
                    (now - self.retention,),
                ),
            ):
                cursor = await self._db.execute(statement, args)
                removed += max(cursor.rowcount, 0)
        return removed

    async def size(self) -> int:
        total = 0
        for table in ("claims", "uid_sets", "watches", "slots", "holds", "budgets", "counters"):
            async with self._db.execute(f"SELECT COUNT(*) FROM {table}") as cursor:  # noqa: S608
                row = await cursor.fetchone()
            total += int(row[0]) if row else 0
        return total

    async def close(self) -> None:
        async with self._lock:  # after any rollback still queued
            await self._db.close()

    # -- followed channels and per-channel counters -------------------------------------------

    async def follow(self, follow: Follow) -> bool:
        async with self._transaction():
            cursor = await self._db.execute(
                "INSERT OR IGNORE INTO follows (ws, channel_id, data) VALUES (?, ?, ?)",
                (follow.workspace, follow.channel_id, follow.model_dump_json()),
            )
        return cursor.rowcount == 1

    async def unfollow(self, ws: str, channel_id: str) -> Follow | None:
        async with self._transaction():
            rows = list(
                await self._db.execute_fetchall(
                    "DELETE FROM follows WHERE ws = ? AND channel_id = ? RETURNING data",
                    (ws, channel_id),
                )
            )
        return Follow.model_validate_json(str(rows[0][0])) if rows else None

    async def get_follow(self, ws: str, channel_id: str) -> Follow | None:
        async with self._lock:
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT data FROM follows WHERE ws = ? AND channel_id = ?",
                    (ws, channel_id),
                )
            )
        return Follow.model_validate_json(str(rows[0][0])) if rows else None

    async def follows(self, ws: str) -> list[Follow]:
        async with self._lock:
            rows = await self._db.execute_fetchall("SELECT data FROM follows WHERE ws = ?", (ws,))
        return sorted((Follow.model_validate_json(str(r[0])) for r in rows), key=lambda f: f.since)

    async def add(self, ws: str, key: str, ttl: float, amount: int = 1) -> int:
        now = self._clock()
        async with self._transaction():
            await self._db.execute(
                "DELETE FROM counters WHERE ws = ? AND key = ? AND expires_at < ?", (ws, key, now)
            )
            rows = list(
                await self._db.execute_fetchall(
                    "INSERT INTO counters (ws, key, value, expires_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (ws, key) DO UPDATE SET value = value + excluded.value"
                    " RETURNING value",
                    (ws, key, amount, now + ttl),
                )
            )
        return int(str(rows[0][0]))

    # -- Slack Retry-After holds (`bot.slack.delivery.pacing`): kept beside the edit pauses,
    # which are holds too (scope ''); ended ones read as none and are purged.

    async def hold_scope(self, ws: str, scope: str, seconds: float) -> None:
        async with self._lock:
            await self._db.execute(
                "INSERT INTO holds (ws, scope, until) VALUES (?, ?, ?) ON CONFLICT (ws, scope)"
                " DO UPDATE SET until = max(until, excluded.until)",
                (ws, scope, self._clock() + seconds),
            )

    async def scope_held(self, ws: str, scope: str) -> float:
        async with self._db.execute(
            "SELECT until FROM holds WHERE ws = ? AND scope = ?", (ws, scope)
        ) as cursor:
            row = await cursor.fetchone()
        return max(0.0, float(row[0]) - self._clock()) if row else 0.0

    # -- the completion notice: a durable write (see `Store.update_watch_durably`) -----------

    async def update_watch_durably(self, watch: Watch) -> Durability:
        """This one write synced to disk (`synchronous=FULL`): in WAL mode with NORMAL, a
        power cut may undo the last commits. SQLite refuses to change the level inside a
        transaction, so it is set and reset under the transaction lock; durable writes take
        turns, and a write committed meanwhile is only made safer by it."""
        async with self._durable:
            await self._synchronous("FULL")
            try:
                written = await self.update_watch(watch)
            finally:
                await self._synchronous("NORMAL")
        return "durable" if written else "lost"

    async def _synchronous(self, level: str) -> None:
        async with self._lock:  # between transactions on this connection
            await self._db.execute(f"PRAGMA synchronous={level}")

    # -- ended forms owed to their messages (see `Store.owe_final_form`) ---------------------

    async def owe_final_form(self, ws: str, watch_id: str, after: float) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO owed_forms (ws, id, due) VALUES (?, ?, ?)"
                " ON CONFLICT (ws, id) DO UPDATE SET due = excluded.due",
                (ws, watch_id, self._clock() + max(0.0, after)),
            )

    async def take_owed_forms(self, hold: float, limit: int = 50) -> list[tuple[str, str]]:
        now = self._clock()
        async with self._transaction():
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT ws, id FROM owed_forms WHERE due <= ? ORDER BY due LIMIT ?",
                    (now, limit),
                )
            )
            taken = [(str(row[0]), str(row[1])) for row in rows]
            await self._db.executemany(
                "UPDATE owed_forms SET due = ? WHERE ws = ? AND id = ?",
                [(now + hold, ws, i) for ws, i in taken],
            )
        return taken

    async def settle_final_form(self, ws: str, watch_id: str) -> None:
        async with self._transaction():
            await self._db.execute("DELETE FROM owed_forms WHERE ws = ? AND id = ?", (ws, watch_id))

    # -- quiet follows: a followed channel's mode ---------------------------------------------

    async def set_follow_mode(self, ws: str, channel_id: str, mode: WatchMode) -> Follow | None:
        async with self._transaction():  # read and write in one transaction: one announcement
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT data FROM follows WHERE ws = ? AND channel_id = ?",
                    (ws, channel_id),
                )
            )
            if not rows:
                return None
            before = Follow.model_validate_json(str(rows[0][0]))
            if before.mode != mode:
                await self._db.execute(
                    "UPDATE follows SET data = ? WHERE ws = ? AND channel_id = ?",
                    (before.model_copy(update={"mode": mode}).model_dump_json(), ws, channel_id),
                )
        return before

    # -- a workspace's whole state (uninstall) -------------------------------------------------

    async def delete_workspace(self, ws: str) -> int:
        """One transaction over every table with a `ws` column, whoever added it."""
        removed = 0
        async with self._transaction():
            for table in await self._workspace_tables():
                cursor = await self._db.execute(
                    f"DELETE FROM {table} WHERE ws = ?",  # noqa: S608 - names from the schema
                    (ws,),
                )
                removed += max(cursor.rowcount, 0)
        return removed

    async def _workspace_tables(self) -> list[str]:
        tables = await self._db.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        found = []
        for (name,) in tables:
            async with self._db.execute(f"PRAGMA table_info({name})") as cursor:
                if any(row[1] == "ws" for row in await cursor.fetchall()):
                    found.append(str(name))
        return found

    # -- task API accounts, one per workspace (see `bot.tenancy`) -----------------------------

    async def save_account(self, ws: str, account: TaskAccount) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO accounts (ws, data) VALUES (?, ?)"
                " ON CONFLICT (ws) DO UPDATE SET data = excluded.data",
                (ws, account.model_dump_json()),
            )

    async def get_account(self, ws: str) -> TaskAccount | None:
        async with self._db.execute("SELECT data FROM accounts WHERE ws = ?", (ws,)) as cursor:
            row = await cursor.fetchone()
        return TaskAccount.model_validate_json(str(row[0])) if row else None

    async def delete_account(self, ws: str) -> bool:
        async with self._transaction():
            cursor = await self._db.execute("DELETE FROM accounts WHERE ws = ?", (ws,))
        return cursor.rowcount == 1

    # == OAuth installations, install states, refresh leases (see `OAuthStore`) =============

    async def save_installation(self, ws: str, sealed: str, expires_at: float | None) -> None:
        async with self._lock:
            await self._db.execute(
                "INSERT INTO installations (ws, sealed, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (ws) DO UPDATE SET sealed = excluded.sealed,"
                " expires_at = excluded.expires_at",
                (ws, sealed, expires_at),
            )

    async def find_installation(self, ws: str) -> str | None:
        async with self._db.execute(
            "SELECT sealed FROM installations WHERE ws = ?", (ws,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def installed_workspaces(self) -> list[str]:
        async with self._db.execute("SELECT ws FROM installations ORDER BY ws") as cursor:
            rows = await cursor.fetchall()
        return [str(row[0]) for row in rows]

    async def installations_due(self, before: float) -> list[str]:
        async with self._db.execute(
            "SELECT ws FROM installations WHERE expires_at < ? ORDER BY expires_at", (before,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [str(row[0]) for row in rows]

    async def issue_oauth_state(self, state: str, ttl: float) -> None:
        now = self._clock()
        async with self._transaction():
            await self._db.execute("DELETE FROM oauth_states WHERE expires_at < ?", (now,))
            await self._db.execute(
                "INSERT OR REPLACE INTO oauth_states (state, expires_at) VALUES (?, ?)",
                (state, now + ttl),
            )

    async def consume_oauth_state(self, state: str) -> bool:
        async with self._lock:  # one DELETE: of two consumers, only one sees the row go
            cursor = await self._db.execute(
                "DELETE FROM oauth_states WHERE state = ? AND expires_at >= ?",
                (state, self._clock()),
            )
        return cursor.rowcount == 1

    async def take_refresh_lease(self, ws: str, holder: str, ttl: float) -> bool:
        now = self._clock()
        async with self._transaction():
            cursor = await self._db.execute(
                "INSERT INTO oauth_leases (ws, holder, until) VALUES (?, ?, ?)"
                " ON CONFLICT (ws) DO UPDATE SET holder = excluded.holder,"
                " until = excluded.until WHERE oauth_leases.until < ?",
                (ws, holder, now + ttl, now),
            )
        return cursor.rowcount == 1

    async def drop_refresh_lease(self, ws: str, holder: str) -> None:
        async with self._lock:
            await self._db.execute(
                "DELETE FROM oauth_leases WHERE ws = ? AND holder = ?", (ws, holder)
            )

    # -- compare-and-set writes of a refresh and a reseal (see `OAuthStore`) -------------------

    async def replace_installation(
        self, ws: str, before: str, sealed: str, expires_at: float | None
    ) -> bool:
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE installations SET sealed = ?, expires_at = ? WHERE ws = ? AND sealed = ?",
                (sealed, expires_at, ws, before),
            )
        return cursor.rowcount == 1

    async def replace_account(self, ws: str, before: str, account: TaskAccount) -> bool:
        async with self._lock:
            cursor = await self._db.execute(
                "UPDATE accounts SET data = ?"
                " WHERE ws = ? AND json_extract(data, '$.sealed_private_key') = ?",
                (account.model_dump_json(), ws, before),
            )
        return cursor.rowcount == 1

    # -- link unfurls: a claim given back (see `Store.release_claim`) ----------------------

    async def release_claim(self, ws: str, key: str) -> None:
        async with self._transaction():
            await self._db.execute("DELETE FROM claims WHERE ws = ? AND key = ?", (ws, key))


def _watch(row: sqlite3.Row | tuple[object, ...]) -> Watch:
    watch = Watch.model_validate_json(str(row[1]))
    watch.version = int(str(row[0]))
    return watch


_FOLLOW_TABLES = [
    "CREATE TABLE IF NOT EXISTS follows (ws TEXT NOT NULL, channel_id TEXT NOT NULL,"
    " data TEXT NOT NULL, PRIMARY KEY (ws, channel_id))",
    "CREATE TABLE IF NOT EXISTS counters (ws TEXT NOT NULL, key TEXT NOT NULL,"
    " value INTEGER NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (ws, key))",
]
# Ended forms not yet shown on their messages (see `Store.owe_final_form`)
_OWED_TABLES = [
    "CREATE TABLE IF NOT EXISTS owed_forms (ws TEXT NOT NULL, id TEXT NOT NULL,"
    " due REAL NOT NULL, PRIMARY KEY (ws, id))"
]
# Task API accounts, one per workspace key; the private key inside `data` is sealed.
_ACCOUNT_TABLES = ["CREATE TABLE IF NOT EXISTS accounts (ws TEXT PRIMARY KEY, data TEXT NOT NULL)"]
# Tables written before workspaces, each without a `ws` column (see `_set_legacy_tables_aside`);
# `pauses` became `holds`. Those whose rows name no team follow `_TEAMLESS`.
_LEGACY_TABLES = (
    "claims",
    "uid_sets",
    "slots",
    "pauses",
    "budgets",
    "follows",
    "counters",
    "owed_forms",
)
_TEAMLESS = frozenset({"claims", "uid_sets", "counters"})

# OAuth installations (sealed), install states and the fleet's refresh leases.
_OAUTH_TABLES = [
    "CREATE TABLE IF NOT EXISTS installations (ws TEXT PRIMARY KEY, sealed TEXT NOT NULL,"
    " expires_at REAL)",
    "CREATE TABLE IF NOT EXISTS oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS oauth_leases (ws TEXT PRIMARY KEY, holder TEXT NOT NULL,"
    " until REAL NOT NULL)",
]
