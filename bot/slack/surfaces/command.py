"""`/taskstatus UID ...`, `/taskstatus watch UID ...`, `/taskstatus help`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.reading.parse import parse_command
from bot.render.notes import (
    external_refused_message,
    help_message,
    invalid_uids_message,
    skipped_line,
    too_many_uids_message,
)
from bot.slack.basics.ids import COMMAND
from bot.slack.basics.payloads import is_external, text
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import (
    MAX_LOOKUP_UIDS,
    Place,
    ack_payload,
    answer,
    guarded,
    start_watch,
)
from bot.slack.delivery.context import Deps
from bot.slack.surfaces.connect import CONNECT_WORD, open_connect
from bot.slack.surfaces.follow import follow_command, follow_word


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext, client: Any
    ) -> None:
        deps.metrics.requests.labels("command").inc()
        if is_external(command, deps.home_team, deps.settings.allowed_external_teams):
            await ack(**ack_payload(external_refused_message()))
            return
        said = text(command, "text")
        if said.strip().lower() == CONNECT_WORD:
            await open_connect(deps, ack, client, command, context)
            return
        word = follow_word(said)
        if word:
            await ack()
            asker = _asker(command, context)
            deps.tracker.spawn(
                guarded(
                    deps, asker, "follow", lambda: follow_command(deps, asker.ws, command, word)
                ),
                "follow_command",
            )
            return
        parsed = parse_command(said)
        watch = parsed.action == "watch"
        limit = deps.settings.watch_max_uids if watch else MAX_LOOKUP_UIDS
        if parsed.invalid and not parsed.uids:
            await ack(**ack_payload(invalid_uids_message(parsed.invalid)))
        elif parsed.action == "help" or not parsed.uids:
            await ack(**ack_payload(help_message()))
        elif len(parsed.uids) > limit:
            await ack(**ack_payload(too_many_uids_message(len(parsed.uids), limit)))
        else:
            await ack()
            place = _asker(
                command,
                context,
                response_type=deps.settings.slash_response_type,
                post_first=False,
            )
            # Debris beside the UIDs (a stray `_`, a half-pasted word) is named in the answer
            # itself; the UIDs are looked up all the same.
            skipped = skipped_line(parsed.invalid)
            work = start_watch if watch else answer
            deps.tracker.spawn(
                guarded(
                    deps,
                    place,
                    "command",
                    lambda: work(deps, place, parsed.uids, "command", skipped=skipped),
                ),
                "command",
            )


def _asker(command: dict[str, Any], context: AsyncBoltContext, **delivery: Any) -> Place:
    """Who ran the command and where, with its `response_url` as the way back."""
    return Place(
        channel=text(command, "channel_id"),
        user=text(command, "user_id"),
        team=text(command, "team_id"),
        ws=request_workspace(context),
        response_url=text(command, "response_url"),
        **delivery,
    )
