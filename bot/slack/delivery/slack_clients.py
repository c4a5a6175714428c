"""Each workspace's Slack client, for work outside a request (watcher, Home tab, notices).

Inside a request Bolt's `client` is already the right one. Outside, `await
deps.slack_clients.client_for(ws)`: in single-workspace mode the one bot client
(`OneWorkspace`); in OAuth mode one per installation (`bot.slack.oauth.clients.Installed`).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

# OAuth mode: the workspace the running work is for, set per request and per watch call
# (`bot.slack.oauth.clients`); the shared clients take its token, the pacing its limits.
current_workspace: ContextVar[str] = ContextVar("current_workspace", default="")


class SlackClients(Protocol):
    async def client_for(self, ws: str) -> AsyncWebClient | None:
        """The workspace's client; None when the app is not installed there."""
        ...

    async def installer(self, ws: str) -> str | None:
        """Who installed the app in the workspace (OAuth mode); None when unknown."""
        ...


class OneWorkspace:
    """Single-workspace mode: every workspace's client is the one bot client."""

    def __init__(self, client: AsyncWebClient | None) -> None:
        self._client = client

    async def client_for(self, ws: str) -> AsyncWebClient | None:
        return self._client

    async def installer(self, ws: str) -> str | None:
        return None  # installed by hand, with a token pasted into the settings
