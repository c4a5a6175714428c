"""Buttons on answers: refresh in place, start a watch, stop one."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.records.watch import Watch, message_key
from bot.render.notes import (
    already_live_message,
    external_refused_message,
    note_message,
    too_old_message,
)
from bot.slack.basics.ids import Action
from bot.slack.basics.payloads import (
    channel_id,
    is_external,
    live_watch_id,
    message_thread,
    obj,
    team_id,
    text,
    user_id,
)
from bot.slack.basics.values import decode_uids
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import Place, guarded, lookup, tasks_for, tell, within_limit
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import Build
from bot.slack.delivery.latency import answered
from bot.slack.delivery.live import RESPONSE_URL_LIFETIME
from bot.taskapi.models import TaskResult, all_done
from bot.watch.publisher import Outcome
from bot.watch.scheduler import WatchLimitError, WayOut


def register(app: AsyncApp, deps: Deps) -> None:
    def place_of(body: dict[str, Any], context: AsyncBoltContext) -> Place:
        return Place(
            channel=channel_id(body),
            user=user_id(body),
            team=team_id(body),
            ws=request_workspace(context),
            thread_ts=message_thread(obj(body, "message")) or None,
            response_url=text(body, "response_url") or None,
            response_type="ephemeral",
        )

    def handler(name: str, work: Any) -> Any:
        async def on_action(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
        ) -> None:
            await ack()
            deps.metrics.requests.labels(name).inc()
            place = place_of(body, context)

            async def run() -> None:
                if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
                    await tell(deps, place, external_refused_message())
                    return
                await work(deps, body, action, place)

            deps.tracker.spawn(guarded(deps, place, name, run), name)

        return on_action

    app.action(Action.REFRESH.value)(handler("refresh", refresh))
    app.action(Action.WATCH.value)(handler("watch_button", watch_button))
    app.action(Action.UNWATCH.value)(handler("unwatch_button", unwatch_button))


async def refresh(deps: Deps, body: dict[str, Any], action: dict[str, Any], place: Place) -> None:
    uids = await decode_uids(place.ws, text(action, "value"), deps.store)
    if not uids:
        await tell(deps, place, too_old_message("refresh"))
        return
    client = await tasks_for(deps, place)  # no account: the how-to note, nothing upstream
    if not await within_limit(deps, place, uids):
        return
    watch_id = live_watch_id(obj(body, "message"))
    watch = await deps.store.get_watch(place.ws, watch_id) if watch_id else None
    if watch is not None and watch.state == "active":
        results = await client.get_tasks(uids)
        deps.metrics.workspaces.looked_up(place.ws, len(uids))
        build = deps.watcher.live_message(watch, results)
    else:
        _, build = await lookup(deps, place, uids)
    await _replace(deps, body, place, build)
    if watch is not None and watch.state == "active":
        # A Stop or an end during the lookup stays final.
        await deps.watcher.repair(place.ws, watch.id, way_out=_way_out(place), patient=True)
    answered(deps.metrics, "refresh")


async def watch_button(
    deps: Deps, body: dict[str, Any], action: dict[str, Any], place: Place
) -> None:
    uids = await decode_uids(place.ws, text(action, "value"), deps.store)
    if not uids:
        await tell(deps, place, too_old_message("watch"))
        return
    await tasks_for(deps, place)  # no account: said before a slot is taken
    try:
        deps.watcher.check_size(uids)
        # Before the lookup: races cannot pass.
        token = await deps.watcher.reserve(place.ws, place.user)
    except WatchLimitError as exc:
        await tell(deps, place, note_message(f":warning: {exc}"))
        return
    started = False
    try:
        started = await _watch_answer(deps, body, action, place, uids, token)
    finally:
        if not started:
            await deps.watcher.release(place.ws, place.user, token)


async def _watch_answer(
    deps: Deps,
    body: dict[str, Any],
    action: dict[str, Any],
    place: Place,
    uids: list[str],
    watch_id: str,
) -> bool:
    """Save the watch first (one per message), then make the answer live; undo on failure."""
    if not await within_limit(deps, place, uids):
        return False
    results, build = await lookup(deps, place, uids)
    if all_done(results):
        await _replace(deps, body, place, build)
        return False
    container = obj(body, "container")
    container_ts = text(container, "message_ts") or None
    ephemeral = container.get("is_ephemeral") is True
    watch = deps.watcher.new_watch(
        id=watch_id,
        team_id=place.team,
        workspace=place.ws,
        user_id=place.user,
        channel_id=place.channel,
        uids=uids,
        button_value=text(action, "value"),
        message_key=message_key(place.channel, container_ts),
        message_ts=None if ephemeral else container_ts,
        thread_ts=place.thread_ts,
        response_url=place.response_url,
        response_url_expires_at=time.time() + RESPONSE_URL_LIFETIME,
    )
    started = await deps.watcher.begin(watch, results)
    if started is None:
        await tell(deps, place, already_live_message())
        return False
    try:
        outcome = await _make_live(deps, started, results, place)
    except Exception:
        # The person is told it failed: end the watch too (freeing its message and slot),
        # rather than leave it running outside their watch limit.
        await deps.watcher.abandon(place.ws, started.id)
        raise
    if outcome.kind != "sent":
        await deps.watcher.abandon(place.ws, started.id)  # frees the message and the slot
        await tell(
            deps, place, note_message(":warning: I could not turn this answer into a live one.")
        )
    return True


async def _make_live(
    deps: Deps, started: Watch, results: list[TaskResult], place: Place
) -> Outcome:
    """Edit the answer into its live form, through response_url where the bot cannot edit."""
    live = deps.watcher.live_message(started, results)
    publisher = deps.watcher.publisher
    outcome = await publisher.update(started, live, final=False)
    if outcome.kind == "gone" and place.response_url:
        # The bot cannot edit this message (not in the channel): keep it live via response_url.
        started.message_ts = None
        outcome = await publisher.update(started, live, final=False)
        uses = started.response_url_uses
        await deps.watcher.amend(
            place.ws,
            started.id,
            lambda w: w.model_copy(update={"message_ts": None, "response_url_uses": uses}),
        )
    return outcome


async def unwatch_button(
    deps: Deps, body: dict[str, Any], action: dict[str, Any], place: Place
) -> None:
    await deps.watcher.stop(place.ws, text(action, "value"), place.user, way_out=_way_out(place))


async def _replace(deps: Deps, body: dict[str, Any], place: Place, build: Build) -> None:
    """Refresh where the answer is: chat.update for a bot message, else its response_url."""
    container = obj(body, "container")
    ts = text(container, "message_ts")
    if ts and container.get("is_ephemeral") is not True and text(body, "message", "bot_id"):
        try:
            await deps.delivery.update(place.channel, str(ts), build)
            return
        except SlackApiError:  # fall through to response_url, which works everywhere
            if not place.response_url:
                raise
    if place.response_url:
        await deps.delivery.respond(
            place.response_url, build, replace_original=True, continuations=0
        )


def _way_out(place: Place) -> WayOut:
    """The action's own `response_url`: fresh for 30 minutes more, unlike the answer's."""
    if not place.response_url:
        return None
    return place.response_url, time.time() + RESPONSE_URL_LIFETIME
