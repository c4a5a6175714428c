"""The Slack side of live watches: updates, the completion notice, picture uploads."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import bound
from bot.metrics import Metrics
from bot.pictures import PictureFetcher
from bot.render.answer import completion_message
from bot.render.notes import note_message
from bot.slack.deliver import Delivery, ResponseUrlError, slack_error
from bot.slack.pacing import sent_once
from bot.slack.response_uses import LIFETIME, USES
from bot.taskapi.models import Found, TaskResult
from bot.watch.model import Watch
from bot.watch.publisher import GONE, SENT, SKIPPED, Build, Outcome

log = logging.getLogger(__name__)

NOTICE_EVENT = "task_watch_done"
GONE_ERRORS = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "is_archived",
        "cant_update_message",
        "not_in_channel",
    }
)
RESPONSE_URL_USES = USES  # Slack: up to 5 uses within 30 minutes
RESPONSE_URL_LIFETIME = LIFETIME
NOTICE_SEARCH_PAGES = 50  # of 200 messages each


class SlackPublisher:
    """Implements `bot.watch.publisher.Publisher`.

    `watch_client` has no rate-limit retry handler on purpose: a live update that meets
    `rate_limited` is not waited for; the scheduler sends the latest state once allowed.
    """

    def __init__(
        self,
        delivery: Delivery,
        metrics: Metrics,
        watch_client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        pictures: PictureFetcher | None,
        upload_max_files: int,
    ) -> None:
        self._delivery = delivery
        # Edits that must not wait out limits; the same count of response_url uses.
        self._live = Delivery(watch_client, session, uses=delivery.uses)
        # The notice is sent once, with no transport retry: after a connection error the
        # request may have reached Slack, so the next attempt first looks for it instead.
        # It still waits for scopes Slack holds (`bot.slack.pacing`).
        self._once = Delivery(sent_once(watch_client), session, uses=delivery.uses)
        self._metrics = metrics
        self._client = watch_client
        self._pictures = pictures if upload_max_files > 0 else None
        self._max_files = upload_max_files

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        with bound(watch_id=watch.id, team=watch.team_id):
            outcome = await self._update(watch, build, final=final)
        self._metrics.watch_updates.labels(outcome.kind).inc()
        return outcome

    async def _update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        if watch.via_response_url:
            return await self._update_via_response_url(watch, build, final=final)
        assert watch.message_ts is not None
        try:
            await self._live.update(watch.channel_id, watch.message_ts, build)
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in {"ratelimited", "rate_limited"}:
                retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
                return Outcome("rate_limited", retry_after)
            if error in GONE_ERRORS:
                return GONE
            raise
        return SENT

    async def _update_via_response_url(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        # Keep the last use for the final form; after 30 minutes the URL is dead anyway.
        url = watch.response_url
        if not url or time.time() >= watch.response_url_expires_at:
            return SKIPPED
        uses = self._delivery.uses
        uses.restore(url, watch.response_url_uses)
        keep = 0 if final else 1
        if uses.left(url) <= keep:
            return SKIPPED
        try:
            await self._delivery.respond(
                url, build, replace_original=True, continuations=0, keep=keep
            )
        except ResponseUrlError as exc:
            log.warning("watch %s: response_url refused the update (%s)", watch.id, exc.status)
            return GONE if exc.status == 404 else SKIPPED
        finally:
            watch.response_url_uses = uses.used(url)
        return SENT

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        with bound(watch_id=watch.id, team=watch.team_id):
            await self._notify(watch, results)

    async def _notify(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        channel, thread = await self._notice_place(watch)
        metadata = {"event_type": NOTICE_EVENT, "event_payload": {"watch_id": watch.id}}
        ts = await self._once.post(
            channel,
            lambda no_preview: completion_message(results, watch.user_id, no_preview),
            thread_ts=thread,
            metadata=metadata,
        )
        if self._pictures is not None:
            await self._upload_pictures(self._pictures, channel, thread or ts, results)

    async def notice_sent(self, watch: Watch) -> bool:
        """Page through the thread (or the direct messages) since the notice fell due."""
        channel, thread = await self._notice_place(watch)
        oldest = f"{watch.notice_due_at - 60:.6f}" if watch.notice_due_at else None
        cursor: str | None = None
        for _ in range(NOTICE_SEARCH_PAGES):
            if thread:
                page = await self._client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                    oldest=oldest,
                )
            else:
                page = await self._client.conversations_history(
                    channel=channel,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                    oldest=oldest,
                )
            if any(_is_notice(m, watch.id) for m in page.get("messages") or []):
                return True
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return False
        raise RuntimeError("too many messages to search for the notice; not sending it blind")

    async def note(self, watch: Watch, text: str) -> None:
        channel, thread = await self._notice_place(watch)
        await self._delivery.post(channel, lambda _: note_message(text), thread_ts=thread)

    async def _notice_place(self, watch: Watch) -> tuple[str, str | None]:
        """The live message's thread, or a direct message where the bot cannot post."""
        if not watch.via_response_url:
            return watch.channel_id, watch.thread_ts or watch.message_ts
        opened = await self._client.conversations_open(users=watch.user_id)
        return str(opened["channel"]["id"]), None

    async def _upload_pictures(
        self,
        pictures: PictureFetcher,
        channel: str,
        thread_ts: str,
        results: Sequence[TaskResult],
    ) -> None:
        urls = [
            (r.uid, n, url)
            for r in results
            if isinstance(r, Found)
            for n, url in enumerate(r.task.final_picture_urls, 1)
            if url.startswith(("http://", "https://"))
        ][: self._max_files]
        files: list[dict[str, Any]] = []
        for uid, n, url in urls:
            picture = await pictures.fetch(url)
            if picture is not None:
                content, ext = picture
                files.append(
                    {"content": content, "filename": f"{uid}-{n}.{ext}", "title": f"{uid} #{n}"}
                )
        if not files:
            return
        try:
            await self._client.files_upload_v2(
                file_uploads=files, channel=channel, thread_ts=thread_ts
            )
        except Exception as exc:  # any failure leaves the links in the notice: enough
            log.warning(
                "picture upload failed (%s); the notice keeps the links", type(exc).__name__
            )


def _is_notice(message: dict[str, Any], watch_id: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == NOTICE_EVENT and payload.get("watch_id") == watch_id
