"""The Slack side of live watches: updates, the completion notice, picture uploads."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.ops.logs import bound
from bot.ops.metrics import Metrics
from bot.pictures.fetcher import PictureFetcher
from bot.records.watch import Watch
from bot.render.answer import Message, completion_message
from bot.render.links import TaskLinks
from bot.render.notes import note_message
from bot.render.quiet import failure_message
from bot.slack.delivery.deliver import Delivery, ResponseUrlError, slack_error
from bot.slack.delivery.pacing import (
    PacedWebClient,
    rate_limited,
    sent_once,
    status_of,
    transient,
)
from bot.slack.delivery.response_uses import LIFETIME, USES
from bot.slack.delivery.steps import StepCompleter, StepTokens
from bot.taskapi.models import Found, TaskResult, is_error
from bot.watch.publisher import (
    GONE,
    SENT,
    SKIPPED,
    Build,
    FollowOn,
    NoticePage,
    Outcome,
    SlackTrouble,
)

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
# Refusals that no retry can change: the notice is given up at once.
NEVER_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel", "user_not_found"})
NOTICE_TIMEOUT = 10.0  # seconds; well inside a lease, which is checked just before the post
RESPONSE_URL_USES = USES  # Slack: up to 5 uses within 30 minutes
RESPONSE_URL_LIFETIME = LIFETIME


class SlackPublisher:
    """Implements `bot.watch.publisher.Publisher`.

    `watch_client` has no rate-limit retry handler on purpose: a live update that meets
    `rate_limited` is not waited for; the scheduler sends the latest state once allowed.
    """

    def __init__(
        self,
        delivery: Delivery,
        metrics: Metrics,
        watch_client: PacedWebClient,
        session: aiohttp.ClientSession,
        *,
        pictures: PictureFetcher | None,
        upload_max_files: int,
        links: TaskLinks | None = None,
        step_tokens: StepTokens | None = None,
    ) -> None:
        self._delivery = delivery
        # Edits that must not wait out limits; the same count of response_url uses.
        self._live = Delivery(watch_client, session, uses=delivery.uses)
        # The notice is sent once, with no transport retry: after a connection error the
        # request may have reached Slack, so the next attempt first looks for it instead.
        # It does not wait for scopes Slack holds (`bot.slack.delivery.pacing`) either: a wait there
        # could outlive the lease checked just before the post. A held scope is refused at
        # once as rate limited, and the completion tries again once the hold is over.
        self._once = Delivery(
            sent_once(watch_client, timeout=NOTICE_TIMEOUT), session, uses=delivery.uses
        )
        self._metrics = metrics
        self._client = watch_client
        # Workflow steps: their completion, through the notice's own client.
        self.steps = StepCompleter(self._once.client, step_tokens or StepTokens(None))
        self._pictures = pictures if upload_max_files > 0 else None
        self._max_files = upload_max_files
        self._links = links  # TASK_LINK_URL: the notice links each UID to its page

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        if watch.mode != "all":
            return SKIPPED  # a quiet watch or a step has no message of its own to edit
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
            passing = exc.status == 429 or exc.status >= 500
            if final and passing:  # the final form is tried again, until the URL is used up
                raise SlackTrouble("wait", f"response_url answered {exc.status}") from exc
            return GONE if exc.status == 404 else SKIPPED
        finally:
            watch.response_url_uses = uses.used(url)
        return SENT

    def sort(self, exc: BaseException) -> SlackTrouble:
        return exc if isinstance(exc, SlackTrouble) else trouble(exc)

    async def notify(self, watch: Watch, results: Sequence[TaskResult]) -> FollowOn | None:
        """The notice's main message, once; what follows it is returned, to be sent after the
        notice is recorded as posted: a failure there must never make it count as unsent."""
        with bound(watch_id=watch.id, team=watch.team_id):
            try:
                if watch.mode == "errors":
                    await self._notify_failure(watch, results)
                    return None
                if watch.mode == "step":
                    await self.steps.complete(watch, results)
                    return None
                channel, thread = await self._notice_place(watch)
                metadata = _notice_metadata(watch)
                ts, message = await self._once.post_first(
                    channel,
                    lambda no_preview: completion_message(
                        results, watch.user_id, no_preview, self._links
                    ),
                    thread_ts=thread,
                    metadata=metadata,
                )
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise trouble(exc) from exc
        return functools.partial(self._follow_on, watch, channel, thread or ts, message, results)

    async def _follow_on(
        self,
        watch: Watch,
        channel: str,
        thread_ts: str,
        message: Message,
        results: Sequence[TaskResult],
    ) -> None:
        """The notice's continuation messages, then its pictures: best-effort, through the
        patient client (Slack's limits and bad minutes waited out for SLACK_RETRY_PATIENCE),
        and never the notice itself again."""
        with bound(watch_id=watch.id, team=watch.team_id):
            try:
                await self._delivery.continue_thread(channel, thread_ts, message)
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning(
                    "watch %s: its notice is posted, but not all of its %d follow-on "
                    "message(s) (%s); the notice stands",
                    watch.id,
                    len(message.continuations),
                    _reason(exc),
                )
            if self._pictures is not None:
                await self._upload_pictures(self._pictures, channel, thread_ts, results)

    async def _notify_failure(self, watch: Watch, results: Sequence[TaskResult]) -> None:
        """A quiet watch's notice: the failure message, tagged like any notice (so a takeover
        finds it), in the followed message's thread; nothing at all when no task failed."""
        if not any(is_error(r) for r in results):
            return
        await self._once.post(
            watch.channel_id,
            lambda no_preview: failure_message(
                results, watch.user_id, watch.button_value, no_preview, self._links
            ),
            thread_ts=watch.thread_ts or watch.message_ts,
            metadata=_notice_metadata(watch),
        )

    async def notice_sent(self, watch: Watch, cursor: str | None = None) -> NoticePage:
        """One page of the thread (or of the direct messages) where the notice would be.

        The window is set by Slack's own clock, never this host's: in a thread, only replies
        after the live message's ts; in a direct message (no ts of ours), the newest messages
        first, with no `oldest`, so the recent notice is on the first page.
        """
        try:
            channel, thread = await self._notice_place(watch)
            if thread:
                page = await self._client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                    oldest=watch.message_ts,
                )
            else:
                page = await self._client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=200, cursor=cursor
                )
        except SlackApiError as exc:
            if slack_error(exc) == "thread_not_found":
                return NoticePage(found=False)  # no thread left: no notice in it either
            raise trouble(exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise trouble(exc) from exc
        if any(_is_notice(m, watch.id) for m in page.get("messages") or []):
            return NoticePage(found=True)
        more = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        return NoticePage(found=False, cursor=more or None)

    async def note(self, watch: Watch, text: str) -> None:
        if watch.mode != "all":
            return  # quiet: an expired quiet watch says nothing, a step has no thread
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
            await self._delivery.client.files_upload_v2(
                file_uploads=files, channel=channel, thread_ts=thread_ts
            )
        except Exception as exc:  # any failure leaves the links in the notice: enough
            log.warning(
                "picture upload failed (%s); the notice keeps the links", type(exc).__name__
            )


def trouble(exc: BaseException) -> SlackTrouble:
    """Sort a failed Slack call for the completion path (see `bot.watch.machine.Trouble`)."""
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        # No answer: the request may have arrived.
        return SlackTrouble("wait", type(exc).__name__, maybe_sent=True)
    if not isinstance(exc, SlackApiError):
        return SlackTrouble("fault", type(exc).__name__)
    error = slack_error(exc) or "no error"
    if rate_limited(exc) is not None or transient(exc):  # Slack's passing trouble: waited out
        headers = exc.response.headers if exc.response is not None else {}
        retry_after = _seconds(headers.get("Retry-After") or headers.get("retry-after"))
        # A 5xx may come after Slack did the work; a 429 means it did none.
        maybe_sent = status_of(exc) >= 500
        return SlackTrouble("wait", error, retry_after=retry_after, maybe_sent=maybe_sent)
    if error in NEVER_ERRORS:
        return SlackTrouble("never", error)
    return SlackTrouble("fault", error)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return slack_error(exc) or "no error"
    return type(exc).__name__


def _seconds(value: object) -> float:
    try:
        return max(0.0, float(str(value)))
    except ValueError:
        return 0.0


def _notice_metadata(watch: Watch) -> dict[str, Any]:
    """What tags a message as a watch's notice (see `_is_notice`)."""
    return {"event_type": NOTICE_EVENT, "event_payload": {"watch_id": watch.id}}


def _is_notice(message: dict[str, Any], watch_id: str) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return metadata.get("event_type") == NOTICE_EVENT and payload.get("watch_id") == watch_id
