"""Sending messages to Slack, with the fallbacks users should never have to think about.

- A picture Slack cannot download makes it refuse the whole message (`invalid_blocks`,
  "downloading image failed"): send it again with those pictures as links, then with no
  previews at all. Never more than three tries. When the refusal names no picture, the
  broken ones are found by fetching each (`picture_probe`).
- `rate_limited` is waited out by the client's gate (`bot.slack.delivery.pacing`:
  `Retry-After` holds its scope for the whole fleet); through a `response_url`, by our own
  loop, because each try there spends one of its 5 uses (`ResponseUrlUses`).
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
from slack_sdk.web.internal_utils import get_user_agent

from bot.ops.metrics import Metrics
from bot.render.answer import NO_PREVIEWS_AT_ALL, Message
from bot.slack.delivery.pacing import retry_after_seconds
from bot.slack.delivery.picture_probe import Probe, broken_pictures, picture_urls
from bot.slack.delivery.response_url import TIMEOUT, response_url_allowed
from bot.slack.delivery.response_url import ResponseUrlError as ResponseUrlError  # its old home
from bot.slack.delivery.response_uses import ResponseUrlUses

log = logging.getLogger(__name__)

Build = Callable[[frozenset[str]], Message]
T = TypeVar("T")
ALL = frozenset({NO_PREVIEWS_AT_ALL})
_POINTER = re.compile(r"downloading image failed.*?json-pointer:(/blocks/[\w/]+)")
NOT_POSTABLE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "access_denied"}
)

# Slack's answers for what the bot cannot change: a channel or message gone, the bot not in
# the channel, a person gone, a modal closed before its answer (`not_found` of views.update).
# Logged as a WARNING with what the bot did instead: an ERROR is for the bot's own faults,
# and an alert on ERROR lines must not page anyone for these.
EXPECTED_REFUSALS = NOT_POSTABLE | {"message_not_found", "user_not_found", "not_found"}
# Slack's own bad minutes, still there after the client's retries: not the bot's fault either.
SLACK_TROUBLE = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable"}
)


def expected_refusal(exc: BaseException) -> str | None:
    """Slack's error code when `exc` is one of its expected refusals or its own trouble (an
    HTTP 5xx included), else None."""
    if not isinstance(exc, SlackApiError):
        return None
    error = slack_error(exc)
    if error in EXPECTED_REFUSALS or error in SLACK_TROUBLE:
        return error
    status = exc.response.status_code if exc.response is not None else 0
    return f"HTTP {status}" if status >= 500 else None


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
        pictures: Probe | None = None,
    ) -> None:
        self.client = client
        self._pictures = pictures  # to find the broken pictures Slack does not name
        self._session = session
        self._json_headers = {
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": get_user_agent(),
        }
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
        ts, message = await self.post_first(channel, build, thread_ts=thread_ts, metadata=metadata)
        await self.continue_thread(channel, thread_ts or ts, message)
        return ts

    async def post_first(
        self,
        channel: str,
        build: Build,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[str, Message]:
        """The main message alone: its ts, and the message as sent (pictures Slack could not
        download made links), whose continuations are still owed. For what must be known
        to be sent before anything follows it (the completion notice)."""

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

        return await self._with_image_fallback(send, build)

    async def continue_thread(self, channel: str, thread_ts: str, message: Message) -> None:
        """`message`'s continuation messages, in order, in the thread `thread_ts`."""
        for more in message.continuations:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=more.text,
                blocks=more.as_payload()["blocks"],
                unfurl_links=False,
            )

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
        no_preview: frozenset[str] = frozenset()
        while True:  # as _with_image_fallback: the named pictures as links, then none
            message = build(no_preview)
            status, body = await self._send_response(
                response_url,
                message.as_json(response_type=response_type, replace_original=replace_original),
                keep,
            )
            if status == 200:
                break
            if "invalid_blocks" not in body or no_preview == ALL:
                raise ResponseUrlError(status, body)
            failing = failed_image_urls(_webhook_error(body), message)
            if not failing and not no_preview:
                failing = set(await self.broken_pictures(build, message))
            log.warning("Slack could not download %d picture(s); sending links", len(failing))
            no_preview = ALL if no_preview or not failing else frozenset(failing)
        for more in message.continuations[:continuations]:
            if self.uses.left(response_url) <= keep:
                log.info("response_url: %d continuation(s) left unsent", continuations)
                break
            await self._send_response(response_url, more.as_json(response_type=response_type), keep)

    async def _send_response(self, url: str, data: bytes, keep: int) -> tuple[int, str]:
        """POST one JSON answer to a `response_url`, each try counted as one of its uses; a
        429 waits `Retry-After` (capped) and tries again, at most RESPONSE_URL_TRIES in all.

        What slack_sdk's `AsyncWebhookClient.send` does (same body and headers), on the shared
        session, with `GuardedWebhook`'s rules: a URL off Slack is refused without a request, a
        failure to reach it (or TIMEOUT) is a `ResponseUrlError`. That client is bound to one
        URL, so one had to be built per answer, and building it (user agent, proxy settings
        read from the environment) with its generic request path was a twentieth of a busy
        bot's CPU; its own 429 retries would also spend uses this count could not see.
        """
        if not response_url_allowed(url, self.client.base_url):
            raise ResponseUrlError(0, "refused: not a Slack response_url")
        for attempt in range(1, RESPONSE_URL_TRIES + 1):
            if not self.uses.take(url, keep):
                raise ResponseUrlSpent()
            try:
                async with asyncio.timeout(TIMEOUT):  # the shared session has no short timeout
                    status, body, retry_after = await self._post_json(url, data)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise ResponseUrlError(0, f"unreachable ({type(exc).__name__})") from None
            if status != 200 and self._metrics is not None:
                self._metrics.slack_errors.labels("response_url", str(status)).inc()
            if status != 429 or attempt == RESPONSE_URL_TRIES:
                return status, body
            await asyncio.sleep(min(retry_after, RETRY_AFTER_CAP))
        raise AssertionError("unreachable")

    async def _post_json(self, url: str, data: bytes) -> tuple[int, str, float]:
        async with self._session.post(url, data=data, headers=self._json_headers) as resp:
            return (
                resp.status,
                await resp.text(),
                retry_after_seconds(resp.headers.get("Retry-After")),
            )

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
                if not failing and not no_preview:
                    failing = set(await self.broken_pictures(build, message))
                if not failing:
                    raise
                log.warning("Slack could not download %d picture(s); sending links", len(failing))
                no_preview = ALL if no_preview else frozenset(failing)

    async def broken_pictures(
        self, build: Callable[[frozenset[str]], Any], message: Any
    ) -> frozenset[str]:
        """Slack refused pictures without naming them: the ones our own fetcher cannot get
        (`picture_probe`), or none when there is no fetcher or each one downloads."""
        if self._pictures is None or not picture_urls(message):
            return frozenset()
        return await broken_pictures(self._pictures, build, message)


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
