"""Where the bot may send a request's `response_url` answers, and how a refusal looks.

A signed request can name any `response_url`; the bot would POST to whatever it names. Only
Slack's hook hosts (https) are accepted, or the scheme, host and port of `SLACK_API_URL` (so a
local fake Slack keeps working). Everything else is refused before any request is made.
"""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache
from typing import Any

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse
from yarl import URL

SLACK_HOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
TIMEOUT = 10.0  # seconds for one answer; slack_sdk's default is 30


class ResponseUrlError(Exception):
    """The answer did not get through: refused here (status 0), unreachable (0), or a non-200."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"response_url answered {status}: {body[:200]}")
        self.status = status
        self.body = body


def response_url_allowed(url: object, api_base: str) -> bool:
    if not isinstance(url, str) or not url or len(url) > 2000:
        return False
    for prefix in _prefixes(api_base):
        # A URL that is an allowed origin and a plain path: allowed, with no parse (each
        # command brings a new one). The origin alone decides, so it is checked as a URL.
        if (
            url.startswith(prefix)
            and _PLAIN_PATH.fullmatch(url, len(prefix))
            and _allowed(prefix, api_base)
        ):
            return True
    return _allowed(url, api_base)


_HOOK_PREFIXES = tuple(f"https://{host}/" for host in sorted(SLACK_HOOK_HOSTS))
# Characters that cannot end the authority nor start a query or a fragment.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/_.~-]*")


@lru_cache(maxsize=16)
def _prefixes(api_base: str) -> tuple[str, ...]:
    """Slack's hook origins, and `scheme://authority/` of `SLACK_API_URL` as written."""
    scheme, colon_slashes, rest = api_base.partition("://")
    authority, slash, _ = rest.partition("/")
    if not colon_slashes or not slash or any(c in authority for c in "?#\\"):
        return _HOOK_PREFIXES
    return (f"{scheme}://{authority}/", *_HOOK_PREFIXES)


@lru_cache(maxsize=1024)
def _allowed(url: str, api_base: str) -> bool:
    """Cached: each answer's URL is checked when its request arrives and again when the
    answer leaves, and parsing it (and `api_base`, the same every time) was most of the cost.
    """
    try:
        target, api = URL(url), URL(api_base)
    except (ValueError, TypeError, IndexError):  # yarl raises IndexError on "https://[]@"
        return False
    if not target.is_absolute() or target.user or target.password:
        return False
    if target.scheme == "https" and target.host in SLACK_HOOK_HOSTS and target.port == 443:
        return True
    return (target.scheme, target.host, target.port) == (api.scheme, api.host, api.port)


class GuardedWebhook(AsyncWebhookClient):
    """slack_sdk's webhook client that refuses URLs off Slack and turns a connection failure
    into `ResponseUrlError`, so one failing answer is one clear error, not a traceback."""

    def __init__(self, url: str, api_base: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._allowed = response_url_allowed(url, api_base)

    async def send_dict(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> WebhookResponse:
        if not self._allowed:
            raise ResponseUrlError(0, "refused: not a Slack response_url")
        try:
            async with asyncio.timeout(TIMEOUT):  # the shared session has no short timeout
                return await super().send_dict(body, headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ResponseUrlError(0, f"unreachable ({type(exc).__name__})") from None
