"""Pasted task links: `link_shared` -> one `chat.unfurl`; `entity_details_requested` -> one
`entity.presentDetails`; the unfurl's *Watch* button -> a live answer in the message's thread.

Each event is acknowledged before anything else happens (the listener only hands its work to
the tracker), then the tasks are looked up through the batched, cached client, so a message
with five links costs one upstream call at most. A link that does not match `TASK_LINK_URL`
is left alone for Slack or other apps. The same URL in the same channel is unfurled once per
`REPEAT_WINDOW`, for the whole fleet: a claim in the store, keyed by workspace, channel and a
hash of the URL, held `IN_FLIGHT` seconds while the link is unfurled, then the window (a
link pasted into a draft, `source: composer`, has no channel yet: it always
shows, to its writer alone). The claim is taken before the lookup, so two processes given the
link at once never both unfurl it, and given back when the link was not shown with its task's
state (a failed lookup, a refused `chat.unfurl`), so a failure never costs the next paste.
A workspace without a task API account gets no unfurl, no upstream call and no claim.
Slack Connect: these events name the person but not their organisation, which is asked of
Slack when the channel may be shared (`bot.slack.delivery.poster_team`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.reading.parse import EXPLICIT_UID
from bot.render.links import TaskLinks
from bot.render.notes import external_refused_message
from bot.render.unfurl import (
    MAX_UNFURLS,
    entity_details,
    unfurl_entities,
    unfurl_message,
    unfurls_payload,
)
from bot.slack.basics.ids import Action
from bot.slack.basics.payloads import (
    channel_id,
    is_external,
    message_thread,
    obj,
    team_id,
    text,
    user_id,
)
from bot.slack.basics.values import decode_uids, encode_uids
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import Place, guarded, start_watch, tell
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import slack_error
from bot.slack.delivery.latency import answered
from bot.slack.delivery.poster_team import PosterTeams
from bot.taskapi.client import TaskApiClient
from bot.taskapi.models import Failed

log = logging.getLogger(__name__)

REPEAT_WINDOW = 30 * 60.0  # seconds: the same URL in the same channel is not unfurled again
# Seconds a link is held while it is being unfurled: a process that dies meanwhile holds it
# this long, not the whole window (the hold becomes `REPEAT_WINDOW` once Slack shows it).
IN_FLIGHT = 60.0
COMPOSER = "composer"
SOURCES = frozenset({COMPOSER, "conversations_history"})


def register(app: AsyncApp, deps: Deps) -> None:
    teams = PosterTeams(deps.home_team, deps.settings.allowed_external_teams)

    @app.event("link_shared")
    async def on_link_shared(
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        deps.metrics.requests.labels("unfurl").inc()
        ws = request_workspace(context)
        deps.tracker.spawn(unfurl_links(deps, teams, client, ws, body, event), "unfurl")

    @app.event("entity_details_requested")
    async def on_entity_details(
        body: dict[str, Any],
        event: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        deps.metrics.requests.labels("entity_details").inc()
        ws = request_workspace(context)
        deps.tracker.spawn(present_details(deps, teams, client, ws, body, event), "entity_details")

    @app.action(Action.UNFURL_WATCH.value)
    async def on_watch(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        deps.metrics.requests.labels("unfurl_watch").inc()
        place = _thread_of_unfurl(body, request_workspace(context))

        async def work() -> None:
            if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
                await tell(deps, place, external_refused_message())
                return
            uids = await decode_uids(place.ws, text(action, "value"), deps.store)
            if uids:
                await start_watch(deps, place, uids, "unfurl")

        deps.tracker.spawn(guarded(deps, place, "unfurl", work), "unfurl_watch")


async def unfurl_links(
    deps: Deps,
    teams: PosterTeams,
    client: AsyncWebClient,
    ws: str,
    body: dict[str, Any],
    event: dict[str, Any],
) -> None:
    """One `chat.unfurl` for every task link of the message not unfurled there lately."""
    links = TaskLinks.of(deps.settings.task_link_url)
    if links is None or not _unfurl_target(event):
        return
    source = text(event, "source")
    if await teams.outsider(client, ws, body, event):
        log.info("link_shared from another organisation: not unfurled")
        return
    if not await deps.store.claim(ws, f"event:{text(body, 'event_id')}"):
        return  # a retry of an event already taken
    tasks = await deps.accounts.client_for(ws)
    if tasks is None:
        return  # no task API account here: nobody asked, so nobody is told (and nothing held)
    matched = task_links(event, links)
    claimed = source != COMPOSER  # a draft has no channel yet, and only its writer sees it
    if claimed:
        matched = [(url, uid) for url, uid in matched if await _first_lately(deps, ws, event, url)]
    if not matched:
        return
    shown: set[str] = set()
    try:
        shown = await _unfurl(deps, client, ws, event, links, tasks, matched)
    finally:
        # Only a link shown with its task's state keeps its claim, for the whole window
        # (taken again with the long TTL: the store has no way to extend one); a failed
        # lookup or a refused (or interrupted) `chat.unfurl` gives it back at once.
        for url, _ in matched if claimed else []:
            await deps.store.release_claim(ws, repeat_key(event, url))
            if url in shown:
                await deps.store.claim(ws, repeat_key(event, url), ttl=REPEAT_WINDOW)


async def _unfurl(
    deps: Deps,
    client: AsyncWebClient,
    ws: str,
    event: dict[str, Any],
    links: TaskLinks,
    tasks: TaskApiClient,
    matched: list[tuple[str, str]],
) -> set[str]:
    """The lookup and the one `chat.unfurl`; returns the links Slack now shows with their
    task's state (not those whose lookup failed)."""
    found = await tasks.get_tasks([uid for _, uid in matched])  # in order, batched
    results = {url: result for (url, _), result in zip(matched, found, strict=True)}
    values = {
        url: await encode_uids(ws, [result.uid], deps.store) for url, result in results.items()
    }
    metadata = (
        unfurl_entities(results, links, time.time(), values)
        if deps.settings.unfurl_work_objects
        else None
    )
    for picture in (True, False):
        cards = {
            url: unfurl_message(result, links, values[url], picture=picture)
            for url, result in results.items()
        }
        try:
            await client.chat_unfurl(
                **_unfurl_target(event), unfurls=unfurls_payload(cards), metadata=metadata
            )
            break
        except SlackApiError as exc:
            # Slack downloads each picture and refuses the whole unfurl when one fails
            # (an expired or private link): once more without pictures, then give up.
            if not picture or slack_error(exc) != "invalid_blocks":
                log.warning("chat.unfurl refused: %s", slack_error(exc))
                return set()
    deps.metrics.answers.labels("unfurl", "unfurled").inc()
    answered(deps.metrics, "unfurl")
    return {url for url, result in results.items() if not isinstance(result, Failed)}


def _unfurl_target(event: dict[str, Any]) -> dict[str, Any]:
    """`unfurl_id` + `source` when the event has them (the composer has nothing else), plus
    the message's `channel` + `ts` when it was posted; an event without the first two (an
    older shape) is unfurled by `channel` + `ts` alone. Empty: nothing says where."""
    source, unfurl_id = text(event, "source"), text(event, "unfurl_id")
    target: dict[str, Any] = {}
    if unfurl_id and source in SOURCES:
        target.update(unfurl_id=unfurl_id, source=source)
    channel, ts = text(event, "channel"), text(event, "message_ts")
    if source != COMPOSER and channel and ts:
        target.update(channel=channel, ts=ts)
    return target


def task_links(event: dict[str, Any], links: TaskLinks) -> list[tuple[str, str]]:
    """The event's task page links, each URL once, in order, at most `MAX_UNFURLS`."""
    matched: dict[str, str] = {}
    shared = event.get("links")
    for link in shared if isinstance(shared, list) else []:
        url = text(link, "url")
        uid = links.uid_in(url) if url else None
        if uid is not None and url not in matched:
            matched[url] = uid
            if len(matched) == MAX_UNFURLS:
                break
    return list(matched.items())


async def _first_lately(deps: Deps, ws: str, event: dict[str, Any], url: str) -> bool:
    """True when `url` was not unfurled in this channel within `REPEAT_WINDOW` (fleet-wide).
    Claimed before the lookup for `IN_FLIGHT` seconds, so two processes given the link at
    once never both unfurl it, and a crash meanwhile holds it a minute, not the window;
    given back when the unfurl fails (`Store.release_claim`)."""
    return await deps.store.claim(ws, repeat_key(event, url), ttl=IN_FLIGHT)


def repeat_key(event: dict[str, Any], url: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    return f"unfurl:{text(event, 'channel')}:{digest}"


async def present_details(
    deps: Deps,
    teams: PosterTeams,
    client: AsyncWebClient,
    ws: str,
    body: dict[str, Any],
    event: dict[str, Any],
) -> None:
    """The flexpane of a task entity: one `entity.presentDetails` with everything known."""
    links = TaskLinks.of(deps.settings.task_link_url)
    trigger = text(event, "trigger_id")
    if links is None or not deps.settings.unfurl_work_objects or not trigger:
        return
    if await teams.outsider(client, ws, body, event):
        log.info("entity_details_requested from another organisation: not answered")
        return
    shared = text(event, "app_unfurl_url") or text(event, "link", "url")
    uid = text(event, "external_ref", "id")
    if not EXPLICIT_UID.fullmatch(uid):
        uid = links.uid_in(shared) or ""
    if not uid:
        log.info("entity_details_requested for no task of ours: not answered")
        return
    tasks = await deps.accounts.client_for(ws)
    if tasks is None:
        await _present(client, trigger, error={"status": "custom", **_NO_ACCOUNT})
        return
    (result,) = await tasks.get_tasks([uid])
    if isinstance(result, Failed):
        await _present(client, trigger, error={"status": "custom", **_LOOKUP_FAILED})
        return
    entity = entity_details(result, links, shared or links.url_for(uid), time.time())
    await _present(client, trigger, metadata=entity)


_NO_ACCOUNT = {
    "custom_title": "No task API account",
    "custom_message": "This workspace has not connected a task API account. "
    "A workspace admin connects one with /taskstatus connect.",
}
_LOOKUP_FAILED = {
    "custom_title": "Task API not answering",
    "custom_message": "The task could not be looked up just now. Try again in a moment.",
}


async def _present(client: AsyncWebClient, trigger: str, **what: Any) -> None:
    try:
        await client.entity_presentDetails(trigger_id=trigger, **what)
    except SlackApiError as exc:
        log.warning("entity.presentDetails refused: %s", slack_error(exc))


def _thread_of_unfurl(body: dict[str, Any], ws: str) -> Place:
    """The *Watch* press on an unfurl: its live answer goes in the shared message's thread."""
    container = obj(body, "container")
    message = obj(body, "message")
    thread = message_thread(message) or text(container, "thread_ts")
    return Place(
        channel=channel_id(body) or text(container, "channel_id"),
        user=user_id(body),
        team=team_id(body),
        ws=ws,
        thread_ts=thread or text(container, "message_ts") or None,
        response_url=text(body, "response_url") or None,
        response_type="ephemeral",
    )
