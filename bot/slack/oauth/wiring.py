"""OAuth mode's pieces, built once at start from the settings, and what they add to Bolt."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.oauth.authorize import InstallationAuthorize
from bot.slack.oauth.clients import Installed, WorkspaceScope
from bot.slack.oauth.installations import StoreInstallations, StoreStates
from bot.slack.oauth.rotation import TokenKeeper
from bot.slack.oauth.routes import oauth_flow
from bot.store.base import OAuthStore
from bot.store.keyring import Keyring

log = logging.getLogger(__name__)

OAUTH_TIMEOUT = 10  # seconds for oauth.v2.access (the refresh lease lasts 30)


@dataclass
class OAuth:
    store: OAuthStore
    installations: StoreInstallations
    tokens: TokenKeeper
    clients: Installed
    flow: AsyncOAuthFlow
    # What else keeps a workspace in memory (its task API client and cache): told at uninstall.
    on_forget: list[Callable[[str], None]] = field(default_factory=list)

    def bolt_options(self) -> dict[str, Any]:
        """What the AsyncApp is built with: the flow given explicitly also keeps Bolt from
        building a default one (with a file store) from SLACK_CLIENT_ID in the environment."""
        return {
            "authorize": InstallationAuthorize(self.tokens),
            "installation_store": self.installations,
            "oauth_flow": self.flow,
        }

    def attach(self, app: AsyncApp) -> None:
        """`app_uninstalled` and `tokens_revoked` through Bolt's own listeners (which call the
        installation store's deletes, hence `forget`), and each request's workspace named."""
        app.enable_token_revocation_listeners()
        app.use(WorkspaceScope(self.clients))

    async def forget(self, ws: str) -> None:
        """The workspace uninstalled the app or revoked its token: everything of it goes, and
        its open watches stop (the watcher finds them gone at its next tick)."""
        await self.store.delete_workspace(ws)
        self.tokens.forget(ws)
        self.clients.forget(ws)
        for forget in self.on_forget:
            forget(ws)
        log.info("workspace %s removed the app: its installation and data are deleted", ws)


def acknowledge_revocations(app: AsyncApp) -> None:
    """Single-workspace mode gets `app_uninstalled` and `tokens_revoked` too (one manifest
    for both modes): nothing is kept per installation, so they are only noted."""

    async def noted(event: dict[str, Any]) -> None:
        log.warning("Slack says %s: the bot token no longer works", event.get("type"))

    app.event("app_uninstalled")(noted)
    app.event("tokens_revoked")(noted)


def build_oauth(
    settings: Settings, store: OAuthStore, session: aiohttp.ClientSession, base: AsyncWebClient
) -> OAuth:
    """`base`: the paced client the per-workspace clients are copies of."""
    assert settings.slack_client_id
    assert settings.slack_client_secret
    assert settings.secrets_key
    secret = settings.slack_client_secret.get_secret_value()
    installations = StoreInstallations(store, Keyring(settings.secrets_key.get_secret_value()))
    # oauth.v2.access takes the client's id and secret, no token, and is not paced.
    # Its timeout is well inside the refresh lease: a grant still unanswered when the lease
    # ends would let another process spend the same refresh token.
    # No retry after a dropped connection (slack_sdk's default): the code and the refresh
    # token are single-use, so a second try of a grant Slack did serve spends it for nothing.
    oauth_client = AsyncWebClient(
        base_url=settings.slack_api_url,
        session=session,
        timeout=OAUTH_TIMEOUT,
        retry_handlers=[],
    )
    tokens = TokenKeeper(store, installations, oauth_client, settings.slack_client_id, secret)
    flow = oauth_flow(
        oauth_client, settings.slack_client_id, secret, installations, StoreStates(store)
    )
    oauth = OAuth(store, installations, tokens, Installed(base, tokens), flow)
    installations.on_deleted = oauth.forget
    return oauth
