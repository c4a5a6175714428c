"""Bolt's installation and state stores over the bot's own store, for SQLite and Redis alike.

slack_sdk's File, SQLite3 and S3 stores do blocking I/O inside their `async_*` methods and
there is no Redis one, so these two implement Bolt's `AsyncInstallationStore` and
`AsyncOAuthStateStore` over `OAuthStore`. An installation is kept per workspace key ("ws":
the enterprise for an org-wide install, else the team) as one JSON document sealed whole with
`Keyring`, so neither a token nor a refresh token reaches the store in plain text. Only the
bot's half of an installation is kept: the app asks for no user scopes.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.records.workspace import workspace_key
from bot.slack.oauth.scopes import STATE_TTL
from bot.store.base import OAuthStore
from bot.store.keyring import Keyring, SealError

log = logging.getLogger(__name__)


class Kept(BaseModel):
    """One workspace's installation as it is sealed: the bot's token, its refresh token and
    expiry, the ids it belongs to and who installed it. Tokens stay out of reprs."""

    app_id: str | None = None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    team_id: str | None = None
    team_name: str | None = None
    is_enterprise_install: bool = False
    bot_token: str = Field(repr=False)
    bot_id: str | None = None
    bot_user_id: str | None = None
    bot_scopes: str = ""
    bot_refresh_token: str | None = Field(default=None, repr=False)
    bot_token_expires_at: int | None = None  # wall seconds; None: the token does not expire
    installer: str = ""  # the user who installed the app
    installed_at: float = Field(default_factory=time.time)

    @property
    def ws(self) -> str:
        return workspace_key(self.team_id, self.enterprise_id, self.is_enterprise_install)

    def to_bot(self) -> Bot:
        return Bot(**self._shared(), bot_id=self.bot_id or "", bot_user_id=self.bot_user_id or "")

    def to_installation(self) -> Installation:
        return Installation(
            **self._shared(),
            bot_id=self.bot_id,
            bot_user_id=self.bot_user_id,
            user_id=self.installer,
        )

    def _shared(self) -> dict[str, Any]:
        """The fields slack_sdk's `Bot` and `Installation` both take as they are kept."""
        return self.model_dump(include=set(_SHARED_FIELDS))

    @classmethod
    def of(cls, source: Installation | Bot) -> Kept:
        scopes = source.bot_scopes
        return cls(
            app_id=source.app_id,
            enterprise_id=source.enterprise_id,
            enterprise_name=source.enterprise_name,
            team_id=source.team_id,
            team_name=source.team_name,
            is_enterprise_install=bool(source.is_enterprise_install),
            bot_token=source.bot_token or "",
            bot_id=source.bot_id,
            bot_user_id=source.bot_user_id,
            bot_scopes=",".join(scopes) if isinstance(scopes, list | tuple) else str(scopes or ""),
            bot_refresh_token=source.bot_refresh_token,
            bot_token_expires_at=source.bot_token_expires_at,
            installer=getattr(source, "user_id", "") or "",
            installed_at=source.installed_at,
        )


_SHARED_FIELDS = frozenset(
    {
        "app_id",
        "enterprise_id",
        "enterprise_name",
        "team_id",
        "team_name",
        "bot_token",
        "bot_scopes",
        "bot_refresh_token",
        "bot_token_expires_at",
        "is_enterprise_install",
        "installed_at",
    }
)
Deleted = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Read:
    """An installation as read, with the sealed value it came from: what a compare-and-set
    write (`StoreInstallations.replace`) checks is still stored."""

    kept: Kept
    sealed: str = field(repr=False)


class StoreInstallations(AsyncInstallationStore):
    """Installations, sealed, in the bot's store. `on_deleted(ws)` runs when Bolt's
    revocation listeners delete a bot (`app_uninstalled`, `tokens_revoked`): the whole
    workspace goes then, not only its token."""

    def __init__(self, store: OAuthStore, keyring: Keyring) -> None:
        self._store = store
        self._keyring = keyring
        self.on_deleted: Deleted | None = None

    @property
    def logger(self) -> logging.Logger:
        return log

    async def save(self, kept: Kept) -> None:
        if not kept.bot_token:
            raise ValueError("an installation without a bot token cannot be kept")
        sealed = self._keyring.seal(kept.model_dump_json())
        expires = float(kept.bot_token_expires_at) if kept.bot_token_expires_at else None
        await self._store.save_installation(kept.ws, sealed, expires)

    async def find(self, ws: str) -> Kept | None:
        found = await self.read(ws)
        return found.kept if found is not None else None

    async def read(self, ws: str) -> Read | None:
        """The installation and the sealed value it was read from, for `replace`."""
        if not ws:
            return None
        sealed = await self._store.find_installation(ws)
        if not sealed:
            return None
        try:
            return Read(Kept.model_validate_json(self._keyring.open(sealed)), sealed)
        except SealError:  # the operator must know which workspace a dropped key lost
            log.error("workspace %s: its installation opens with none of SECRETS_KEY's keys", ws)
            raise

    async def replace(self, read: Read, kept: Kept) -> bool:
        """Save `kept` in place of what `read` found, unless that changed meanwhile: an
        uninstall (gone) or a reinstall (another value) wins over a refresh or a reseal."""
        if not kept.bot_token:
            raise ValueError("an installation without a bot token cannot be kept")
        sealed = self._keyring.seal(kept.model_dump_json())
        expires = float(kept.bot_token_expires_at) if kept.bot_token_expires_at else None
        return await self._store.replace_installation(kept.ws, read.sealed, sealed, expires)

    async def find_for(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool
    ) -> Kept | None:
        """The installation serving a request: its own workspace's, else its enterprise's
        when that one was installed org-wide (a request need not say it is)."""
        kept = await self.find(workspace_key(team_id, enterprise_id, org_wide))
        if kept is None and enterprise_id and not org_wide:
            org = await self.find(enterprise_id)
            kept = org if org is not None and org.is_enterprise_install else None
        return kept

    async def async_save(self, installation: Installation) -> None:
        await self.save(Kept.of(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await self.save(Kept.of(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        kept = await self.find_for(enterprise_id, team_id, bool(is_enterprise_install))
        return kept.to_bot() if kept else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        kept = await self.find_for(enterprise_id, team_id, bool(is_enterprise_install))
        return kept.to_installation() if kept else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # a user's token revoked: no user token is kept, nothing goes
            await self._delete(enterprise_id, team_id)

    async def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        """The workspace of the event: the team's own installation, else the enterprise's.
        With neither installed, both keys are deleted all the same: an uninstall that died
        half-way (Slack then sends the event again) may have taken the installation and
        left the rest, and deleting a workspace is idempotent. An enterprise's key holds
        state only for an org-wide install, so without one there is nothing else to lose."""
        keys = [ws for ws in (team_id, enterprise_id) if ws]
        found = [ws for ws in keys if await self._store.find_installation(ws) is not None]
        for ws in found[:1] or keys:
            if self.on_deleted is not None:
                await self.on_deleted(ws)
            else:
                await self._store.delete_workspace(ws)


class StoreStates(AsyncOAuthStateStore):
    """Install link states: random, one use, `STATE_TTL` seconds, shared by the fleet."""

    def __init__(self, store: OAuthStore, ttl: float = STATE_TTL) -> None:
        self._store = store
        self._ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self._store.issue_oauth_state(state, self._ttl)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(state) and await self._store.consume_oauth_state(state)
