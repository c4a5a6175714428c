"""`@bot UID ...`, `@bot watch UID ...`, `@bot help`, answered in the thread.

A mention written as a sentence is read like a message under the shortcut; one that names
no task gets a short how-to only its writer sees.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.reading.parse import parse_mention
from bot.render.notes import (
    external_refused_message,
    help_message,
    invalid_uids_message,
    mention_howto_message,
    skipped_line,
    too_many_uids_message,
)
from bot.slack.basics.event_filter import ignore_reason
from bot.slack.basics.payloads import is_external, message_thread, text
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import MAX_LOOKUP_UIDS, Place, answer, guarded, start_watch, tell
from bot.slack.delivery.context import Deps

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
    ) -> None:
        deps.metrics.requests.labels("mention").inc()
        reason = ignore_reason(event, deps.bot_user_id)
        if reason:
            log.debug("mention %s not answered: %s", event.get("ts"), reason)
            return
        place = Place(
            channel=text(event, "channel"),
            user=text(event, "user"),
            team=text(body, "team_id"),
            thread_ts=message_thread(event),
            workspace=request_workspace(context),
        )

        async def work() -> None:
            if not await first_delivery(deps, body, event):
                return
            if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
                await tell(deps, place, external_refused_message())
                return
            parsed = parse_mention(text(event, "text"), event, deps.settings.task_uid_pattern)
            limit = deps.settings.watch_max_uids if parsed.action == "watch" else MAX_LOOKUP_UIDS
            skipped = skipped_line(parsed.invalid)  # named in the answer, beside the UIDs
            if parsed.invalid and not parsed.uids:
                await tell(deps, place, invalid_uids_message(parsed.invalid))
            elif parsed.action != "help" and not parsed.uids:
                await tell(deps, place, mention_howto_message())
            elif parsed.action == "help":
                await deps.delivery.post(
                    place.channel, lambda _: help_message(), thread_ts=place.thread_ts
                )
            elif len(parsed.uids) > limit:
                await tell(deps, place, too_many_uids_message(len(parsed.uids), limit))
            elif parsed.action == "watch":
                await start_watch(deps, place, parsed.uids, "mention", skipped=skipped)
            else:
                await answer(deps, place, parsed.uids, "mention", skipped=skipped)

        deps.tracker.spawn(guarded(deps, place, "mention", work), "mention")


async def first_delivery(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """Slack retries events and has sent duplicates with new event ids: answer each once.

    Both keys are claimed (no short-circuit), so a retry of a duplicate is known too. One key
    decides: with two, replicas racing on one event could each win one and both stay silent.
    """
    by_event = await deps.store.claim(f"event:{text(body, 'event_id')}")
    if not text(event, "ts"):
        return by_event
    return await deps.store.claim(f"message:{text(event, 'channel')}:{text(event, 'ts')}")
