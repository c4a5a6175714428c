"""Message shortcuts: "Check task status" and "Watch task status", answered in the thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.reading.parse import message_uids
from bot.render.notes import external_refused_message, no_uids_message, too_many_uids_message
from bot.slack.basics.ids import Callback
from bot.slack.basics.payloads import (
    channel_id,
    is_external,
    message_thread,
    obj,
    team_id,
    text,
    user_id,
)
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import MAX_LOOKUP_UIDS, Place, answer, guarded, start_watch, tell
from bot.slack.delivery.context import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
        await ack()
        deps.metrics.requests.labels("shortcut").inc()
        message = obj(body, "message")
        watch = text(body, "callback_id") == Callback.WATCH
        place = Place(
            channel=channel_id(body),
            user=user_id(body),
            team=team_id(body),
            thread_ts=message_thread(message),
            response_url=text(body, "response_url") or None,
            response_type="ephemeral",
            workspace=request_workspace(context),
        )

        async def work() -> None:
            if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
                await tell(deps, place, external_refused_message())
                return
            uids = message_uids(message, deps.settings.task_uid_pattern)
            limit = deps.settings.watch_max_uids if watch else MAX_LOOKUP_UIDS
            if not uids:
                await tell(deps, place, no_uids_message())
            elif len(uids) > limit:
                await tell(deps, place, too_many_uids_message(len(uids), limit))
            elif watch:
                await start_watch(deps, place, uids, "shortcut")
            else:
                await answer(deps, place, uids, "shortcut")

        deps.tracker.spawn(guarded(deps, place, "shortcut", work), "shortcut")

    app.shortcut(Callback.CHECK.value)(on_shortcut)
    app.shortcut(Callback.WATCH.value)(on_shortcut)
