"""One task API client per workspace, all on one aiohttp session, idle ones dropped.

Each workspace gets a `TaskApiClient` of its own: its own cache (a task looked up with A's
keys is never served to B), its own batching and lanes (A's flood queues behind A's slots,
never B's). Keys: the workspace's own account when it connected one, else the
`TASK_API_PUBLIC_KEY`/`TASK_API_PRIVATE_KEY` fallback when set, else none (the surfaces then
say how an admin connects one, and nothing is sent upstream).

In single-workspace mode every workspace gets the one client with the settings' keys, as
before accounts existed.

Which keys a workspace has is read from the store at most once per `recheck` seconds per
process; a connect or disconnect on this process takes effect at once, one on another
process within `recheck`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Settings
from bot.records.account import TaskAccount
from bot.store import Store
from bot.store.keyring import Keyring, SealError
from bot.taskapi.client import CallObserver, ClientConfig, TaskApiClient

log = logging.getLogger(__name__)

RECHECK = 30.0  # seconds a workspace's keys are trusted before the store is read again
IDLE = 600.0  # seconds without a lookup after which a workspace's client is dropped


class NoAccount(Exception):
    """The workspace has no task API account (and no fallback keys): nothing is looked up."""


@dataclass(frozen=True)
class Keys:
    public_key: str
    private_key: str = dataclasses.field(repr=False)


@dataclass(frozen=True)
class AccountStatus:
    """What the App Home says about a workspace's account."""

    connected: bool  # the workspace's own account
    fallback: bool  # the settings' keys serve it (OAuth mode, no account of its own)
    public_key: str = ""
    connected_by: str = ""
    connected_at: float = 0.0


@dataclass
class _Entry:
    keys: Keys | None
    client: TaskApiClient | None
    checked: float  # when the keys were read from the store (monotonic)
    used: float  # the last `client_for` (monotonic)


class Accounts:
    """The registry every lookup goes through: `await accounts.client_for(ws)`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        template: ClientConfig,
        *,
        default_keys: Keys | None,
        per_workspace: bool,
        store: Store | None = None,
        keyring: Keyring | None = None,
        on_call: Callable[[str], None] | None = None,
        observer: CallObserver | None = None,
        recheck: float = RECHECK,
        idle: float = IDLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._template = template
        self._default = default_keys
        self.per_workspace = per_workspace
        self._store = store
        self._keyring = keyring
        self._on_call = on_call
        self._observer = observer
        self._recheck = recheck
        self._idle = idle
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        # Bumped by `forget`: keys read under an older generation may predate a connect or a
        # disconnect, so they answer the lookup that read them but are not kept.
        self._generation: dict[str, int] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._swept = clock()
        # Single-workspace mode: the one client, with the settings' keys, for every request.
        self._shared = None if per_workspace or default_keys is None else self.build(default_keys)

    def build(self, keys: Keys, **overrides: Any) -> TaskApiClient:
        """A client on the shared session with these keys (and the settings' limits)."""
        config = dataclasses.replace(
            self._template, public_key=keys.public_key, private_key=keys.private_key, **overrides
        )
        return TaskApiClient(self._session, config, on_call=self._on_call, observer=self._observer)

    @property
    def clients(self) -> int:
        """Clients alive now (a figure for benchmarks and logs, not a metric label)."""
        if not self.per_workspace:
            return int(self._shared is not None)
        return sum(1 for e in self._entries.values() if e.client is not None)

    async def client_for(self, ws: str) -> TaskApiClient | None:
        """The client serving workspace `ws`, or None when it has no account to use."""
        if not self.per_workspace:
            return self._shared
        now = self._clock()
        self._sweep(now)
        entry = self._entries.get(ws)
        if entry is not None and now - entry.checked < self._recheck:
            entry.used = now
            return entry.client
        generation = self._generation.get(ws, 0)
        keys = await self._keys_for(ws)
        if self._generation.get(ws, 0) != generation:  # connected or disconnected meanwhile
            return await self.client_for(ws)
        entry = self._entries.get(ws)  # another lookup may have read them meanwhile
        if entry is not None and entry.keys == keys:
            entry.checked = entry.used = now
            return entry.client
        if entry is not None and entry.client is not None:
            self._retire(entry.client)
        client = self.build(keys) if keys is not None else None
        self._entries[ws] = _Entry(keys, client, now, now)
        return client

    async def require(self, ws: str) -> TaskApiClient:
        """`client_for`, raising `NoAccount` (which the surfaces turn into the how-to note)."""
        client = await self.client_for(ws)
        if client is None:
            raise NoAccount(ws)
        return client

    async def _keys_for(self, ws: str) -> Keys | None:
        account = await self._store.get_account(ws) if self._store is not None else None
        if account is None:
            return self._default
        if self._keyring is None:
            log.error("a task API account is stored but SECRETS_KEY is not set")
            return None
        try:
            return Keys(account.public_key, self._keyring.open(account.sealed_private_key))
        except SealError:
            # Never the fallback keys instead: the workspace chose its own account.
            log.error("workspace %s: its task API key opens with none of SECRETS_KEY's keys", ws)
            return None

    # -- connecting and disconnecting -----------------------------------------------------

    async def connect(self, ws: str, keys: Keys, user: str, now: float) -> None:
        """Save the workspace's account, its private key sealed; used from the next lookup."""
        if self._store is None or self._keyring is None:
            raise RuntimeError("accounts are kept only in OAuth mode (SECRETS_KEY set)")
        account = TaskAccount(
            public_key=keys.public_key,
            sealed_private_key=self._keyring.seal(keys.private_key),
            connected_by=user,
            connected_at=now,
        )
        await self._store.save_account(ws, account)
        self.forget(ws)

    async def disconnect(self, ws: str) -> bool:
        if self._store is None:
            return False
        removed = await self._store.delete_account(ws)
        self.forget(ws)
        return removed

    async def status(self, ws: str) -> AccountStatus:
        account = await self._store.get_account(ws) if self._store is not None else None
        fallback = self._default is not None
        if account is None:
            return AccountStatus(connected=False, fallback=fallback)
        return AccountStatus(
            connected=True,
            fallback=fallback,
            public_key=account.public_key,
            connected_by=account.connected_by,
            connected_at=account.connected_at,
        )

    def forget(self, ws: str) -> None:
        """Read the workspace's keys again at its next lookup (they changed)."""
        self._generation[ws] = self._generation.get(ws, 0) + 1
        entry = self._entries.pop(ws, None)
        if entry is not None and entry.client is not None:
            self._retire(entry.client)

    # -- bounded memory ------------------------------------------------------------------------

    def _sweep(self, now: float) -> None:
        """Drop clients unused for `idle` seconds (with nothing in flight), a few times per
        `idle`: a thousand quiet workspaces cost a dict walk now and then, no timer."""
        if now - self._swept < self._idle / 4:
            return
        self._swept = now
        for ws, entry in list(self._entries.items()):
            if now - entry.used > self._idle and (entry.client is None or entry.client.idle):
                del self._entries[ws]

    def _retire(self, client: TaskApiClient) -> None:
        """A replaced client finishes the batches it sent; nobody new asks it anything."""
        if client.idle:
            return
        task = asyncio.ensure_future(client.aclose())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        """At shutdown: every client lets the batches it sent finish (see `TaskApiClient`)."""
        clients = [e.client for e in self._entries.values() if e.client is not None]
        if self._shared is not None:
            clients.append(self._shared)
        closing = [asyncio.ensure_future(c.aclose()) for c in clients] + list(self._retiring)
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)


class OneClient:
    """The registry's shape around one client: tests, benchmarks, `python -m bot check`."""

    def __init__(self, client: TaskApiClient) -> None:
        self.client = client

    async def client_for(self, ws: str) -> TaskApiClient | None:
        return self.client


def accounts_from_settings(
    settings: Settings,
    session: aiohttp.ClientSession,
    store: Store | None,
    *,
    on_call: Callable[[str], None] | None = None,
    observer: CallObserver | None = None,
) -> Accounts:
    """Per workspace in OAuth mode (accounts sealed with `SECRETS_KEY`); else the one client."""
    assert settings.task_api_url
    public, private = settings.task_api_public_key, settings.task_api_private_key
    default = (
        Keys(public.get_secret_value(), private.get_secret_value())
        if public is not None and private is not None
        else None
    )
    template = ClientConfig(
        url=settings.task_api_url,
        public_key="",
        private_key="",
        timeout=settings.task_api_timeout,
        batch_size=settings.task_api_batch_size,
        concurrency=settings.task_api_concurrency,
        retries=settings.task_api_retries,
        max_response_bytes=settings.task_api_max_response_bytes,
        cache_size=settings.task_cache_size,
        cache_ttl=settings.task_cache_ttl,
    )
    keyring = Keyring(settings.secrets_key.get_secret_value()) if settings.secrets_key else None
    return Accounts(
        session,
        template,
        default_keys=default,
        per_workspace=settings.oauth,
        store=store if settings.oauth else None,
        keyring=keyring,
        on_call=on_call,
        observer=observer,
    )
