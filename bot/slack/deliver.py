"""Sending messages to Slack, with the fallbacks users should never have to think about.

- A picture Slack cannot download makes it refuse the whole message (`invalid_blocks`,
  "downloading image failed"): send it again with those pictures as links, then with no
  previews at all. Never more than three tries.
- `rate_limited` is waited out by slack_sdk's retry handler (it honours `Retry-After`);
  through a `response_url`, by our own loop, because each try there spends one of its 5 uses
  (`ResponseUrlUses`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.metrics import Metrics
from bot.render.answer import NO_PREVIEWS_AT_ALL, Message
from bot.slack.response_url import GuardedWebhook
from bot.slack.response_url import ResponseUrlError as ResponseUrlError  # its old home
from bot.slack.response_uses import ResponseUrlUses

log = logging.getLogger(__name__)

Build = Callable[[frozenset[str]], Message]
T = TypeVar("T")
ALL = frozenset({NO_PREVIEWS_AT_ALL})
_POINTER = re.compile(r"downloading image failed.*?json-pointer:(/blocks/[\w/]+)")
NOT_POSTABLE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "access_denied"}
)


RESPONSE_URL_TRIES = 3  # a 429 is tried again after Retry-After (capped), each try a use
RETRY_AFTER_CAP = 30.0


class ResponseUrlSpent(ResponseUrlError):
    """No use of this `response_url` is left (beyond those kept for a later, final form)."""

    def __init__(self) -> None:
        super().__init__(0, "no use left")


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


class Delivery:
    def __init__(
        self,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        uses: ResponseUrlUses | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self._session = session
        self.uses = uses or ResponseUrlUses()
        self._metrics = metrics

    async def post(
        self,
        channel: str,
        build: Build,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post, then any continuation messages in the same thread; returns the main ts."""

        async def send(message: Message) -> str:
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=message.text,
                blocks=message.as_payload()["blocks"],
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
            return str(response["ts"])

        ts, message = await self._with_image_fallback(send, build)
        for more in message.continuations:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts or ts,
                text=more.text,
                blocks=more.as_payload()["blocks"],
                unfurl_links=False,
            )
        return ts

    async def update(self, channel: str, ts: str, build: Build) -> None:
        async def send(message: Message) -> None:
            await self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.as_payload()["blocks"]
            )

        await self._with_image_fallback(send, build)

    async def ephemeral(
        self, channel: str, user: str, message: Message, thread_ts: str | None = None
    ) -> None:
        await self.client.chat_postEphemeral(
            channel=channel,
            user=user,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.as_payload()["blocks"],
        )

    async def respond(
        self,
        response_url: str,
        build: Build,
        *,
        response_type: Literal["in_channel", "ephemeral"] = "ephemeral",
        replace_original: bool = False,
        continuations: int = 2,
        keep: int = 0,
    ) -> None:
        """Answer through a request's `response_url` (works where the bot is not a member).

        `keep` uses are left untouched for later (a live answer keeps one for its final form):
        continuation messages are sent only while uses beyond those remain, and when even the
        message itself cannot be sent, `ResponseUrlSpent` says so.
        """
        # No SDK retry handler: its retries would spend uses this count could not see.
        webhook = GuardedWebhook(
            response_url,
            self.client.base_url,  # a response_url off Slack is refused without a request
            session=self._session,
        )
        no_preview: frozenset[str] = frozenset()
        while True:  # as _with_image_fallback: the named pictures as links, then none
            message = build(no_preview)
            response = await self._send(
                webhook,
                keep,
                text=message.text,
                blocks=message.as_payload()["blocks"],
                response_type=response_type,
                replace_original=replace_original,
            )
            if response.status_code == 200:
                break
            if "invalid_blocks" not in (response.body or "") or no_preview == ALL:
                raise ResponseUrlError(response.status_code, response.body or "")
            failing = failed_image_urls(_webhook_error(response.body or ""), message)
            log.warning("Slack could not download %d picture(s); sending links", len(failing))
            no_preview = ALL if no_preview or not failing else frozenset(failing)
        for more in message.continuations[:continuations]:
            if self.uses.left(response_url) <= keep:
                log.info("response_url: %d continuation(s) left unsent", continuations)
                break
            await self._send(
                webhook,
                keep,
                text=more.text,
                blocks=more.as_payload()["blocks"],
                response_type=response_type,
            )

    async def _send(self, webhook: GuardedWebhook, keep: int, **fields: Any) -> WebhookResponse:
        """One message, each try counted as a use; a 429 waits `Retry-After` (capped)."""
        url = webhook.url
        for attempt in range(1, RESPONSE_URL_TRIES + 1):
            if self.uses.left(url) <= keep:
                raise ResponseUrlSpent()
            self.uses.spend(url)
            response = await webhook.send(**fields)
            if response.status_code != 200 and self._metrics is not None:
                self._metrics.slack_errors.labels("response_url", str(response.status_code)).inc()
            if response.status_code != 429 or attempt == RESPONSE_URL_TRIES:
                return response
            await asyncio.sleep(min(_retry_after(response), RETRY_AFTER_CAP))
        raise AssertionError("unreachable")

    async def _with_image_fallback(
        self, send: Callable[[Message], Awaitable[T]], build: Build
    ) -> tuple[T, Message]:
        no_preview: frozenset[str] = frozenset()
        while True:
            message = build(no_preview)
            try:
                return await send(message), message
            except SlackApiError as exc:
                if slack_error(exc) != "invalid_blocks" or no_preview == ALL:
                    raise
                failing = failed_image_urls(exc.response.data, message)
                if not failing:
                    raise
                log.warning("Slack could not download %d picture(s); sending links", len(failing))
                no_preview = ALL if no_preview else frozenset(failing)


def _retry_after(response: WebhookResponse) -> float:
    headers = {str(k).lower(): v for k, v in (response.headers or {}).items()}
    value = headers.get("retry-after", 1)
    try:
        return max(0.0, float(value[0] if isinstance(value, list) else value))
    except (TypeError, ValueError):
        return 1.0


def failed_image_urls(error: Any, message: Message) -> set[str]:
    """The picture URLs Slack names in an `invalid_blocks` answer, found by json-pointer."""
    notes: list[str] = []
    if isinstance(error, dict):
        notes += [str(n) for n in error.get("errors") or []]
        meta = error.get("response_metadata") or {}
        notes += [str(n) for n in meta.get("messages") or []]
    payload = message.as_payload()
    urls = set()
    for note in notes:
        match = _POINTER.search(note)
        if match:
            value = _resolve(payload, match.group(1))
            if isinstance(value, str):
                urls.add(value)
    return urls


def _webhook_error(body: str) -> Any:
    """A `response_url` error: JSON like the Web API's, or the bare text of its error."""
    try:
        return json.loads(body)
    except ValueError:
        return {"errors": [body]}


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.strip("/").split("/"):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node
