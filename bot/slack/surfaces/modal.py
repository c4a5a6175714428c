"""The lookup modal: the *Look up tasks* shortcut and Home button open it; submitting answers
in the modal itself, or as a live answer by direct message when the person asks for that."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.reading.parse import parse_command
from bot.render.accounts import no_account_text
from bot.render.answer import NO_PREVIEWS_AT_ALL
from bot.render.links import TaskLinks
from bot.render.modal import answer_blocks, lookup_modal, note_modal
from bot.render.text import clip
from bot.slack.basics import payloads
from bot.slack.basics.ids import Callback, HomeAction, Modal
from bot.slack.basics.payloads import is_external, obj, team_id, user_id
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import MAX_LOOKUP_UIDS, Place, guarded, start_watch, tasks_for
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import slack_error
from bot.tenancy.accounts import NoAccount

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    async def open_modal(
        ack: AsyncAck, body: dict[str, Any], client: Any, context: dict[str, Any]
    ) -> None:
        await ack()
        deps.metrics.requests.labels("lookup_modal").inc()
        # No account: the modal says so instead of offering a lookup that cannot happen (one
        # store read at most, kept by the registry: well within the trigger's 3 s).
        has_account = await deps.accounts.client_for(request_workspace(context)) is not None
        view = lookup_modal() if has_account else note_modal(no_account_text())
        # The trigger expires 3 s after the click: open now, not in background work. Slack
        # refusing (an expired trigger) must not turn the acknowledged click into a 500.
        try:
            await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:
            log.warning("lookup modal not opened: %s", slack_error(exc))

    app.shortcut(Callback.LOOKUP.value)(open_modal)
    app.action(HomeAction.LOOKUP.value)(open_modal)

    @app.view(Modal.CALLBACK.value)
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        deps.metrics.requests.labels("lookup_submit").inc()
        text, as_dm = submitted(view)
        problem, uids = check_input(deps, body, text, as_dm)
        if problem:
            await ack(response_action="errors", errors={Modal.UIDS_BLOCK.value: problem})
            return
        person = user_id(body)
        view_id = payloads.text(view, "id")
        place = Place(channel="", user=person, team=team_id(body), ws=request_workspace(context))
        noun = "task" if len(uids) == 1 else "tasks"
        if as_dm:
            await ack(
                response_action="update",
                view=note_modal(
                    f":envelope: A live answer about {len(uids)} {noun} is on its way to you "
                    "by direct message (this app's *Messages* tab)."
                ),
            )
            deps.tracker.spawn(
                guarded(deps, place, "modal", lambda: live_dm(deps, place, uids, view_id)),
                "modal",
            )
            return
        await ack(
            response_action="update",
            view=note_modal(f":hourglass_flowing_sand: Looking up {len(uids)} {noun}…"),
        )
        deps.tracker.spawn(
            guarded(
                deps, place, "modal", lambda: answer_in_modal(deps, place, view_id, uids, text)
            ),
            "modal",
        )


def submitted(view: dict[str, Any]) -> tuple[str, bool]:
    """The UID text and the DM choice, read off the submitted view's state."""
    values = obj(view, "state", "values")
    text = payloads.text(values, Modal.UIDS_BLOCK, Modal.UIDS_INPUT, "value")
    choice = obj(values, Modal.DM_BLOCK, Modal.DM_INPUT)
    return text, bool(choice.get("selected_options"))


def check_input(deps: Deps, body: dict[str, Any], text: str, as_dm: bool) -> tuple[str, list[str]]:
    """An error for the UID field (plain text, as Slack shows it under the field), or the UIDs."""
    if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
        return "Sorry, this app only answers people of the workspace that installed it.", []
    parsed = parse_command(text)
    limit = deps.settings.watch_max_uids if as_dm else MAX_LOOKUP_UIDS
    if parsed.invalid:
        shown = ", ".join(clip(t, 40) for t in parsed.invalid[:5])
        more = f" and {len(parsed.invalid) - 5} more" if len(parsed.invalid) > 5 else ""
        return (
            f"Not task UIDs: {shown}{more}. A UID is letters, digits, - and _, "
            "up to 128 characters.",
            [],
        )
    if not parsed.uids:
        return "Type at least one task UID.", []
    if len(parsed.uids) > limit:
        return f"That is {len(parsed.uids)} UIDs; at most {limit} at a time.", []
    if wait := deps.lookups.take(user_id(body), len(parsed.uids)):
        deps.metrics.lookups_limited.inc()
        return (
            f"You have looked up a lot of tasks in the last minute (at most "
            f"{deps.lookups.per_minute} a minute per person). Try again in "
            f"{max(1, round(wait))} s.",
            [],
        )
    return "", parsed.uids


async def answer_in_modal(
    deps: Deps, place: Place, view_id: str, uids: list[str], text: str
) -> None:
    """The same answer as in a channel, in the modal. Slack names no picture when it refuses
    one in a view: the broken ones are found by fetching each, and become links; when Slack
    refuses that too, every picture does."""
    try:
        tasks = await tasks_for(deps, place)
    except NoAccount:  # disconnected since the modal opened: the modal says so
        await _say_no_account(deps, view_id)
        return
    results = await tasks.get_tasks(uids)
    deps.metrics.workspaces.looked_up(place.ws, len(uids))
    checked = time.time()
    client = deps.delivery.client

    links = TaskLinks.of(deps.settings.task_link_url)

    def blocks(no_preview: frozenset[str]) -> list[Block]:
        return answer_blocks(results, checked, no_preview, links)

    def as_json(no_preview: frozenset[str]) -> list[dict[str, Any]]:
        return [block.to_dict() for block in blocks(no_preview)]

    no_preview: frozenset[str] = frozenset()
    while True:
        try:
            await client.views_update(view_id=view_id, view=lookup_modal(text, blocks(no_preview)))
        except SlackApiError as exc:
            if slack_error(exc) != "invalid_blocks" or NO_PREVIEWS_AT_ALL in no_preview:
                raise
            broken = (
                frozenset()
                if no_preview
                else await deps.delivery.broken_pictures(as_json, as_json(no_preview))
            )
            log.warning("Slack refused a picture in the modal; showing %d as links", len(broken))
            no_preview = broken or frozenset({NO_PREVIEWS_AT_ALL})
            continue
        deps.metrics.answers.labels("modal", "view").inc()
        return


async def _say_no_account(deps: Deps, view_id: str) -> None:
    deps.metrics.answers.labels("modal", "no_account").inc()
    await deps.delivery.client.views_update(view_id=view_id, view=note_modal(no_account_text()))


async def live_dm(deps: Deps, place: Place, uids: list[str], view_id: str = "") -> None:
    """A live answer in the person's DM with the app, like `/taskstatus watch` there."""
    try:
        await tasks_for(deps, place)
    except NoAccount:  # the modal said the answer was on its way: it now says why not
        await _say_no_account(deps, view_id)
        return
    opened = await deps.delivery.client.conversations_open(users=place.user)
    channel = str(opened["channel"]["id"])
    dm = Place(channel=channel, user=place.user, team=place.team, ws=place.ws)
    await start_watch(deps, dm, uids, "modal")
