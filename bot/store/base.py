"""The store's interface. Each call is one atomic operation, safe between processes.

The store is the single source of truth for a fleet of bot processes: leases say which one
polls a watch, versions fence stale writers, slots hold the per-person watch limit, and
everything expires after `retention` seconds of disuse so months of uptime stay small.

Everything a workspace owns is kept under its key (`ws`, see `bot.records.workspace`): each
such method takes `ws` first (a watch or a follow carries its own in `workspace`), nothing of
one workspace is visible through another's key, and `delete_workspace` removes it all. Only
the fleet's own bookkeeping (leases, owed forms, retention, size) looks across workspaces.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Protocol

from bot.records.account import TaskAccount
from bot.records.follow import Follow
from bot.records.watch import Watch, WatchMode

# How a durable write went: written and safe from a failover or a power cut, written but
# acknowledged by no replica (a failover may still lose it), or refused (version moved).
Durability = Literal["durable", "unconfirmed", "lost"]
CLAIM_TTL = 24 * 3600.0
DEFAULT_RETENTION = 7 * 24 * 3600.0
SLOT_PENDING = 600.0  # a slot reserved for a watch that never got started frees itself


class Store(Protocol):
    retention: float

    async def claim(self, ws: str, key: str, ttl: float = CLAIM_TTL) -> bool:
        """True for the first caller of `key` within `ttl` (at most `retention`); else False."""
        ...

    async def put_uids(self, ws: str, uids: list[str]) -> str:
        """Keep a UID list for buttons too small to carry it; returns its key."""
        ...

    async def get_uids(self, ws: str, key: str) -> list[str] | None:
        """None when unknown or kept longer than `retention` ago."""
        ...

    async def create_watch(self, watch: Watch, slot_seconds: float) -> bool:
        """Record a new watch at version 1, in `watch.workspace`; its slot (reserved under its
        id) is held for
        `slot_seconds`. False, and nothing written, when an open watch has its message."""
        ...

    async def update_watch(self, watch: Watch) -> bool:
        """Compare-and-set: write `watch` if the stored version is still `watch.version`
        (which then goes up by one). A watch written as done leaves the open set, frees its
        message and slot, drops its lease, and is kept `retention` seconds more."""
        ...

    async def get_watch(self, ws: str, watch_id: str) -> Watch | None: ...

    async def open_watches(self, ws: str) -> list[Watch]:
        """A workspace's watches not yet done (active or notifying), whoever holds them."""
        ...

    async def take_leases(self, owner: str, ttl: float) -> list[Watch]:
        """Across workspaces, one atomic step per workspace: renew `owner`'s leases, take every
        open watch whose lease is free or expired, and return the open watches `owner` now
        holds."""
        ...

    async def release_leases(self, owner: str) -> None:
        """Hand back every lease `owner` holds (at shutdown), so others take over at once."""
        ...

    async def reserve(self, ws: str, user_id: str, token: str, limit: int) -> bool:
        """Take one of `user_id`'s `limit` watch slots under `token` (a watch id), or False."""
        ...

    async def release(self, ws: str, user_id: str, token: str) -> None:
        """Give a slot back (a watch that failed to start)."""
        ...

    async def pause_team(self, ws: str, seconds: float) -> None:
        """No live edits in workspace `ws` for `seconds` (Slack said Retry-After)."""
        ...

    async def paused_teams(self, workspaces: list[str]) -> set[str]:
        """Which of `workspaces` have live edits paused."""
        ...

    async def spend(self, ws: str, name: str, limit: int, window: float) -> bool:
        """Take one unit of a workspace's fleet-wide budget of `limit` per `window` seconds
        (windows aligned on the store's clock); False when this window's budget is used up."""
        ...

    async def purge(self) -> int:
        """Delete whatever is past its time; returns how many items went."""
        ...

    async def size(self) -> int:
        """How many items the store holds (rows or keys)."""
        ...

    async def close(self) -> None: ...

    # -- followed channels and per-channel counters (one block: see `Follow`) ----------------

    async def follow(self, follow: Follow) -> bool:
        """Turn following on; True when it was off (the caller announces it), else False."""
        ...

    async def unfollow(self, ws: str, channel_id: str) -> Follow | None:
        """Turn following off; returns what was followed, None when it was not."""
        ...

    async def get_follow(self, ws: str, channel_id: str) -> Follow | None: ...

    async def follows(self, ws: str) -> list[Follow]:
        """Every channel followed in a workspace, oldest first."""
        ...

    async def add(self, ws: str, key: str, ttl: float, amount: int = 1) -> int:
        """Add to a counter living `ttl` seconds from its first use; returns the new value.

        One atomic step, so replicas sharing the store share the count.
        """
        ...

    # -- Slack Retry-After holds, shared by the fleet (see `bot.slack.delivery.pacing`) ---

    async def hold_scope(self, ws: str, scope: str, seconds: float) -> None:
        """No Slack call in `scope` for `seconds` (Slack said Retry-After). Lengthens a hold,
        never shortens it; the hold goes away on its own when it ends."""
        ...

    async def scope_held(self, ws: str, scope: str) -> float:
        """Seconds left of the hold on `scope`; 0.0 when there is none."""
        ...

    # -- the completion notice: a durable write before it is posted (see `Watcher`) ----------

    async def update_watch_durably(self, watch: Watch) -> Durability:
        """`update_watch`, made to survive a failover (Redis: a replica acknowledged it) or a
        power cut (SQLite: synced to disk) before it returns."""
        ...

    # -- ended forms still owed to their messages (see `Watcher.repair`) --------------------

    async def owe_final_form(self, ws: str, watch_id: str, after: float) -> None:
        """A done watch's ended form is not on its message yet: whichever process ticks may
        take it `after` seconds from now (a Retry-After, or the hold of a try under way)."""
        ...

    async def take_owed_forms(self, hold: float, limit: int = 50) -> list[tuple[str, str]]:
        """Claim up to `limit` owed forms (per workspace) whose time has come, as
        (ws, watch id); each is then held `hold` seconds (like a lease), so one process
        redraws it and another only if that one dies."""
        ...

    async def settle_final_form(self, ws: str, watch_id: str) -> None:
        """The ended form landed, or there is no message left to show it on."""
        ...

    # -- quiet follows: a followed channel's mode ---------------------------------------------

    async def set_follow_mode(self, ws: str, channel_id: str, mode: WatchMode) -> Follow | None:
        """Change a followed channel's mode, atomically; returns the follow as it was before
        (its mode says whether anything changed), None when the channel is not followed."""
        ...

    # -- a workspace's whole state (uninstall) -------------------------------------------------

    async def delete_workspace(self, ws: str) -> int:
        """Delete everything kept under `ws` (watches, leases, follows, claims, UID sets,
        slots, counters, budgets, holds, owed forms, and whatever else is stored under its
        key), leaving other workspaces untouched; returns how many items went. Its open
        watches stop: a holder's next compare-and-set fails, and the watcher drops them."""

    # -- task API accounts, one per workspace (see `bot.tenancy`); never expire ---------------

    async def save_account(self, ws: str, account: TaskAccount) -> None:
        """Connect (or replace) workspace `ws`'s task API account."""
        ...

    async def get_account(self, ws: str) -> TaskAccount | None: ...

    async def delete_account(self, ws: str) -> bool:
        """Disconnect it; True when there was one."""
        ...

    # -- link unfurls: a claim given back when what it guarded did not happen ---------------

    async def release_claim(self, ws: str, key: str) -> None:
        """Forget a `claim` of `key` at once, so the next caller's is the first again (an
        unfurl whose lookup or `chat.unfurl` failed must not hold its link for the window)."""
        ...


def uid_set_key(uids: list[str]) -> str:
    """Content-addressed, so the same list saved twice is one row."""
    return hashlib.sha256(json.dumps(uids).encode()).hexdigest()[:24]


# == OAuth installations (many workspaces, docs/distribution.md) ================================
# Each method takes the workspace key ("ws", `bot.records.workspace`) first. What is stored for
# an installation is one value sealed by `bot.store.keyring.Keyring` before it gets here: the
# store never sees a token in plain text. Only the access token's expiry is kept beside it,
# in the clear, so the background refresh can find the installations that are due.


class OAuthStore(Store, Protocol):
    """The store with what OAuth mode adds; both stores are one."""

    async def save_installation(self, ws: str, sealed: str, expires_at: float | None) -> None:
        """Keep (or replace) a workspace's installation; `expires_at` (wall seconds) is when
        its access token expires, None for a token that does not."""
        ...

    async def find_installation(self, ws: str) -> str | None:
        """The sealed installation of `ws`, or None when it has none."""
        ...

    async def installed_workspaces(self) -> list[str]:
        """Every workspace with an installation (key rotation rewrites each)."""
        ...

    async def installations_due(self, before: float) -> list[str]:
        """The workspaces whose access token expires before `before` (wall seconds)."""
        ...

    async def issue_oauth_state(self, state: str, ttl: float) -> None:
        """Remember an install link's `state` for `ttl` seconds."""
        ...

    async def consume_oauth_state(self, state: str) -> bool:
        """True once for a state issued less than its ttl ago; False if unknown, used or old."""
        ...

    async def take_refresh_lease(self, ws: str, holder: str, ttl: float) -> bool:
        """The fleet's one right to refresh `ws`'s token, for `ttl` seconds (or until dropped)."""
        ...

    async def drop_refresh_lease(self, ws: str, holder: str) -> None:
        """Give the right back; only its holder can."""
        ...

    # -- compare-and-set writes: a refresh or a reseal never undoes an uninstall, a
    # reinstall, a connect or a disconnect that landed while it worked -----------------------

    async def replace_installation(
        self, ws: str, before: str, sealed: str, expires_at: float | None
    ) -> bool:
        """`save_installation`, only if the stored sealed value is still `before` (what the
        caller read); False, and nothing written, when it is gone or was replaced."""
        ...

    async def replace_account(self, ws: str, before: str, account: TaskAccount) -> bool:
        """`save_account`, only if the stored account's `sealed_private_key` is still
        `before`; False, and nothing written, when it was disconnected or replaced."""
        ...
