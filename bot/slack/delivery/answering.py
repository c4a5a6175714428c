"""What every surface does once it knows the UIDs: look up, render, deliver, or start a watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from slack_sdk.errors import SlackApiError

from bot.records.watch import Watch, message_key
from bot.render.accounts import no_account_message
from bot.render.answer import Message, lookup_message
from bot.render.links import TaskLinks
from bot.render.notes import (
    failure_message,
    invite_message,
    lookup_limit_message,
    restarting_message,
    watch_limit_message,
)
from bot.slack.basics.values import encode_uids
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import (
    NOT_POSTABLE,
    Build,
    ResponseUrlError,
    expected_refusal,
    slack_error,
)
from bot.slack.delivery.latency import answered
from bot.slack.delivery.live import RESPONSE_URL_LIFETIME
from bot.taskapi.client import TaskApiClient
from bot.taskapi.models import TaskResult, all_done
from bot.tenancy.accounts import NoAccount
from bot.watch.scheduler import WatchLimitError

log = logging.getLogger(__name__)

MAX_LOOKUP_UIDS = 200
RESTART_NOTE_TIMEOUT = 0.8  # the note must fit in the second shutdown gives cancelled work


@dataclass(frozen=True)
class Place:
    """Where an answer goes: a channel (and thread), with a `response_url` as the way out."""

    channel: str
    user: str
    team: str
    ws: str  # the workspace key its state is kept under (`request_workspace`)
    thread_ts: str | None = None
    response_url: str | None = None
    response_type: Literal["in_channel", "ephemeral"] = "in_channel"
    post_first: bool = True  # False: answer through response_url (slash commands)


async def lookup(
    deps: Deps, place: Place, uids: list[str], skipped: str = ""
) -> tuple[list[TaskResult], Build]:
    """The tasks (with the asker's workspace's account) and their answer; `skipped` names
    what the command held besides UIDs."""
    results = await (await tasks_for(deps, place)).get_tasks(uids)
    deps.metrics.workspaces.looked_up(place.ws, len(uids))
    value = await encode_uids(place.ws, uids, deps.store)
    checked = time.time()
    links = TaskLinks.of(deps.settings.task_link_url)
    return results, lambda no_preview: lookup_message(
        results, value, checked, no_preview, skipped, links
    )


async def tasks_for(deps: Deps, place: Place) -> TaskApiClient:
    """The client of the asker's workspace; `NoAccount` (answered by `guarded` with the
    how-to note, only to the asker) when it has none: nothing goes upstream then."""
    return await deps.accounts.require(place.ws)


async def within_limit(deps: Deps, place: Place, uids: list[str]) -> bool:
    """The per-person lookup limit (`LOOKUP_UIDS_PER_MINUTE`); over it, a note says when.
    Counted per workspace and person: an Enterprise Grid user id is the same in every
    workspace of the org, and one workspace's lookups never spend another's."""
    wait = deps.lookups.take(f"{place.ws}/{place.user}", len(uids))
    if not wait:
        return True
    deps.metrics.lookups_limited.inc()
    await tell(deps, place, lookup_limit_message(deps.lookups.per_minute, wait))
    return False


async def answer(
    deps: Deps,
    place: Place,
    uids: list[str],
    surface: str,
    *,
    limit_person: bool = True,
    skipped: str = "",
) -> None:
    """A one-off lookup, delivered where it belongs (`limit_person`: see `start_watch`)."""
    await tasks_for(deps, place)  # no account: said before any limit is spent
    if limit_person and not await within_limit(deps, place, uids):
        return
    _, build = await lookup(deps, place, uids, skipped)
    await deliver(deps, place, build, surface)


async def deliver(deps: Deps, place: Place, build: Build, surface: str) -> None:
    """Post in the channel/thread, or through `response_url` where the bot cannot post."""
    if place.post_first and await _post(deps, place, build, surface) is not None:
        return
    assert place.response_url
    if place.post_first:  # the bot cannot post there: say how to invite it, then answer
        await deps.delivery.respond(
            place.response_url, lambda _: invite_message(place.channel), keep=1
        )
        await deps.delivery.respond(place.response_url, build)
    else:
        await deps.delivery.respond(place.response_url, build, response_type=place.response_type)
    _counted(deps, surface, "response_url")


async def _post(deps: Deps, place: Place, build: Build, surface: str) -> str | None:
    """Post in the channel/thread: its ts, or None where the bot cannot post and the
    request's `response_url` can answer instead."""
    try:
        ts = await deps.delivery.post(place.channel, build, thread_ts=place.thread_ts)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_POSTABLE or not place.response_url:
            raise
        log.info("cannot post in %s (%s): answering privately", place.channel, slack_error(exc))
        return None
    _counted(deps, surface, "posted")
    return ts


def _counted(deps: Deps, surface: str, how: str) -> None:
    deps.metrics.answers.labels(surface, how).inc()
    answered(deps.metrics, surface)


async def start_watch(
    deps: Deps,
    place: Place,
    uids: list[str],
    surface: str,
    *,
    limit_person: bool = True,
    skipped: str = "",
) -> None:
    """Post a live answer and hand it to the scheduler, within the person's watch limit.

    `limit_person=False`: an answer in a followed channel, which nobody asked for in person;
    it is bounded per channel (`FOLLOW_MAX_PER_MINUTE`) instead, and takes no person's slot
    nor their lookup allowance (`LOOKUP_UIDS_PER_MINUTE`).
    """
    await tasks_for(deps, place)  # no account: said before a slot is taken
    try:
        deps.watcher.check_size(uids)
        # Before the lookup: races cannot pass.
        token = (
            await deps.watcher.reserve(place.ws, place.user) if limit_person else uuid.uuid4().hex
        )
    except WatchLimitError as exc:
        await tell(deps, place, watch_limit_message(str(exc)))
        return
    started = False
    try:
        if not limit_person or await within_limit(deps, place, uids):
            started = await _start_watch(deps, place, uids, surface, token, skipped)
    finally:
        if not started:
            await deps.watcher.release(place.ws, place.user, token)


async def _start_watch(
    deps: Deps, place: Place, uids: list[str], surface: str, watch_id: str, skipped: str
) -> bool:
    """Save the watch before anything shown says *Live*, so no *Live* message is ever
    without a watch behind it, whatever cancels or kills the work in between.

    In a channel: the plain answer is posted, its watch saved with it, then the answer is
    turned live (a crash before the save leaves a plain answer; after it, the watch redraws
    the message itself). Through `response_url`: the watch is saved first, then the live
    answer sent; a failure ends the watch.
    """
    results, build = await lookup(deps, place, uids, skipped)
    if all_done(results):
        await deliver(deps, place, build, surface)
        return False
    watch = deps.watcher.new_watch(
        id=watch_id,
        team_id=place.team,
        workspace=place.ws,
        user_id=place.user,
        channel_id=place.channel,
        uids=uids,
        button_value=await encode_uids(place.ws, uids, deps.store),
        thread_ts=place.thread_ts,
        skipped=skipped,
    )
    ts = await _post(deps, place, build, surface)
    if ts is None:
        return await _start_through_response_url(deps, place, watch, results, surface)
    watch.message_ts = ts
    watch.thread_ts = place.thread_ts or ts
    watch.message_key = message_key(place.channel, ts)
    started = await deps.watcher.begin(watch, results)
    if started is None:
        return False  # its answer already has a watch (a Watch press in between)
    _touch_home(deps, started)
    outcome = await deps.watcher.publisher.update(
        started, deps.watcher.live_message(started, results), final=False
    )
    if outcome.kind == "gone":
        await deps.watcher.abandon(started.workspace, started.id)
    elif outcome.kind != "sent":  # not shown yet (rate limited): its first poll shows it
        await deps.watcher.amend(
            started.workspace, started.id, lambda w: w.model_copy(update={"last_hash": ""})
        )
    return True


async def _start_through_response_url(
    deps: Deps, place: Place, watch: Watch, results: list[TaskResult], surface: str
) -> bool:
    """Where the bot cannot post: its URL is known before anything is shown, so the watch
    is saved first; a live answer that could not be sent (or was cut off) ends it."""
    url = place.response_url
    assert url
    # Two uses stay after the note: the live answer (with what continuations fit), its end.
    await deps.delivery.respond(url, lambda _: invite_message(place.channel), keep=2)
    watch.response_url = url
    watch.response_url_uses = deps.delivery.uses.used(url)
    watch.response_url_expires_at = time.time() + RESPONSE_URL_LIFETIME
    started = await deps.watcher.begin(watch, results)
    if started is None:
        return False
    try:
        await deps.delivery.respond(url, deps.watcher.live_message(started, results), keep=1)
    except BaseException:
        await asyncio.shield(deps.watcher.abandon(started.workspace, started.id))
        raise
    uses = deps.delivery.uses.used(url)
    await deps.watcher.amend(
        started.workspace, started.id, lambda w: w.model_copy(update={"response_url_uses": uses})
    )
    _counted(deps, surface, "response_url")
    _touch_home(deps, started)
    return True


def _touch_home(deps: Deps, watch: Watch) -> None:
    if deps.home is not None:
        deps.home.touch(watch.workspace, watch.user_id)  # the new watch shows on the person's Home


async def post_note(deps: Deps, channel: str, message: Message) -> str:
    """Post a note in `channel`: "" when posted, else Slack's reason when the bot cannot post
    there (`NOT_POSTABLE`), for the caller to say or act on. Any other failure raises."""
    try:
        await deps.delivery.post(channel, lambda _: message)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_POSTABLE:
            raise
        return slack_error(exc)
    return ""


async def tell(deps: Deps, place: Place, message: Message) -> None:
    """A note only the asker sees."""
    if place.response_url:
        await deps.delivery.respond(place.response_url, lambda _: message)
    else:
        await deps.delivery.ephemeral(place.channel, place.user, message, place.thread_ts)


def guarded(
    deps: Deps, place: Place, surface: str, work: Callable[[], Awaitable[None]]
) -> Coroutine[Any, Any, None]:
    """Run `work`; any failure becomes a plain note to the asker with a reference for admins."""

    async def run() -> None:
        try:
            await work()
        except asyncio.CancelledError:
            # Cut off by shutdown: a short note beats silence, and Slack is still reachable.
            if not deps.tracker.accepting:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        tell(deps, place, restarting_message()), RESTART_NOTE_TIMEOUT
                    )
                deps.metrics.answers.labels(surface, "restarting").inc()
            raise
        except NoAccount:
            # Expected, not a failure: the workspace has not connected an account yet.
            deps.metrics.answers.labels(surface, "no_account").inc()
            await tell(deps, place, no_account_message())
        except ResponseUrlError as exc:
            # The note would take the same way out and fail the same way: one line, no retry.
            reason = f"answered {exc.status}" if exc.status else exc.body
            log.warning("%s: answer not delivered through response_url: %s", surface, reason)
            deps.metrics.answers.labels(surface, "failed").inc()
        except Exception as exc:
            deps.metrics.answers.labels(surface, "failed").inc()
            reference = uuid.uuid4().hex[:12]
            refusal = expected_refusal(exc)
            if refusal is None:
                detail = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
                # Slack's error code says it all; a traceback is for failures nobody foresaw.
                trace = not isinstance(exc, SlackApiError)
                log.error("%s failed: %s [ref=%s]", surface, detail, reference, exc_info=trace)
            told = await _tell_failure(deps, place, reference)
            if refusal is not None:
                log.warning(
                    "%s not answered: Slack refused (%s); %s [ref=%s]",
                    surface,
                    refusal,
                    "told the asker instead" if told else "the asker could not be told either",
                    reference,
                )
            elif not told:
                log.warning("could not tell the user about failure %s", reference)

    return run()


async def _tell_failure(deps: Deps, place: Place, reference: str) -> bool:
    try:
        await tell(deps, place, failure_message(reference))
    except (SlackApiError, ResponseUrlError, OSError):
        return False
    return True


def ack_payload(message: Message) -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "text": message.text,
        "blocks": message.as_payload()["blocks"],
    }
