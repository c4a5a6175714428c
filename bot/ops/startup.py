"""Start-up checks that fail fast: a bad setting stops the bot with one message on what to do.

A bot that starts "healthy" with a wrong token, or retries a rejected token forever, hides the
mistake from whoever deploys it. So every dependency is tried once at start, within a few
seconds, and a fault becomes a `StartupError` (exit status 2, no traceback) that names the
setting. Once running, lost connections are retried instead: only the start is strict.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, SettingsError

log = logging.getLogger(__name__)

T = TypeVar("T")

STEP_TIMEOUT = 5.0  # seconds for each start-up step (store, Slack); a healthy one takes < 1 s

REJECTED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}


class StartupError(SettingsError):
    """A setting that cannot work; the message names it and what to do, never its value."""


async def step(what: str, work: Awaitable[T], hint: str, timeout: float = STEP_TIMEOUT) -> T:
    """Run one start-up step within `timeout`; any failure becomes a `StartupError`."""
    log.debug("start-up: %s", what)
    try:
        return await asyncio.wait_for(work, timeout)
    except StartupError:
        raise
    except TimeoutError:
        log.debug("start-up step %r timed out", what, exc_info=True)
        raise StartupError(f"{what}: no answer within {timeout:g}s. {hint}") from None
    except SlackApiError as exc:
        log.debug("start-up step %r failed", what, exc_info=True)
        raise StartupError(f"{what}: Slack answered {_slack_error(exc)}. {hint}") from None
    except Exception as exc:
        log.debug("start-up step %r failed", what, exc_info=True)
        raise StartupError(f"{what}: {_describe(exc)}. {hint}") from None


async def verify_bot_token(settings: Settings, session: aiohttp.ClientSession) -> dict[str, Any]:
    """`auth.test` once, without the running bot's retries: a rejected token is fatal here."""
    assert settings.slack_bot_token is not None
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[],
    )
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error in REJECTED:
            raise StartupError(
                f"SLACK_BOT_TOKEN was rejected by Slack ({error}): copy the Bot User OAuth "
                "Token (xoxb-) from the app's OAuth & Permissions page, reinstalling the app "
                "if it was revoked."
            ) from None
        raise
    return dict(response.data) if isinstance(response.data, dict) else {}


async def verify_app_token(settings: Settings, session: aiohttp.ClientSession) -> None:
    """`apps.connections.open` once with the app token, so a bad one stops start-up."""
    assert settings.slack_app_token is not None
    client = AsyncWebClient(base_url=settings.slack_api_url, session=session, retry_handlers=[])
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error in REJECTED:
            raise StartupError(
                f"SLACK_APP_TOKEN was rejected by Slack ({error}): create an app-level token "
                "(xapp-) with connections:write under Basic Information, or unset it and set "
                "BOT_MODE=http with SLACK_SIGNING_SECRET for HTTP mode."
            ) from None
        raise


def _slack_error(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {getattr(response, 'status_code', '?')}"


def _describe(exc: BaseException) -> str:
    """The kind of failure and its short text, which for these errors carries no secret."""
    text = " ".join(str(exc).split())[:200].rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


SLACK_HINT = "Check SLACK_API_URL and that this host can reach Slack (proxy, firewall, DNS)."
STORE_HINT = (
    "Check STATE_URL: for sqlite:///PATH the directory must be writable by this user; "
    "for redis://HOST:PORT/DB the server must be running and reachable."
)
