"""Connecting a workspace's task API account: `/taskstatus connect`, the Home buttons, and
the `task_api_connect` modal, whose keys are checked with one lookup before they are saved.

Who may save: a workspace admin or owner (`users.info`), or whoever installed the app; for an
org-wide install, whose account serves every workspace of the enterprise, an org admin or
owner (`users.info`'s `enterprise_user`), or whoever installed it. The
submission is answered within Slack's 3 seconds: the permission check and the key check
share `CHECK_BUDGET`; a task API that does not answer within what is left is an error under
the private key field, and nothing is saved (the person presses the button again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.render.accounts import (
    KEY_INPUT,
    PRIVATE_KEY_BLOCK,
    PUBLIC_KEY_BLOCK,
    connect_modal,
    connect_note,
    connected_text,
    not_permitted_text,
    refused_error,
    rejected_error,
    single_workspace_message,
    unavailable_error,
)
from bot.slack.basics import payloads
from bot.slack.basics.ids import AccountIds
from bot.slack.basics.payloads import is_external, obj, user_id
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import ack_payload
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import slack_error
from bot.tenancy.accounts import Keys
from bot.tenancy.key_check import check_keys

log = logging.getLogger(__name__)

CONNECT_WORD = "connect"  # `/taskstatus connect`
CHECK_BUDGET = 2.5  # seconds from a submission to its answer: Slack allows 3
PERMISSION_TIMEOUT = 1.0  # seconds for `users.info`
SAVE_MARGIN = 0.3  # seconds kept after the key check for the save and the answer
Answer = dict[str, Any]  # the fields of a view submission's ack


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(AccountIds.CONNECT_OPEN.value)
    async def on_open(
        ack: AsyncAck, body: dict[str, Any], client: Any, context: dict[str, Any]
    ) -> None:
        await open_connect(deps, ack, client, body, context)

    @app.view(AccountIds.CONNECT.value)
    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: Any, context: Any
    ) -> None:
        deps.metrics.requests.labels("connect_submit").inc()
        ws, person = request_workspace(context), user_id(body)
        org_wide = bool(context.get("is_enterprise_install"))
        if is_external(body, deps.home_team, deps.settings.allowed_external_teams):
            await ack(**_update(not_permitted_text()))  # another organisation's member
            return
        try:
            answer = await asyncio.wait_for(
                submit(deps, client, ws, person, view, org_wide=org_wide),
                CHECK_BUDGET + SAVE_MARGIN,
            )
        except TimeoutError:  # a safety net: each step below has its own, shorter bound
            answer = _error(PRIVATE_KEY_BLOCK, unavailable_error(CHECK_BUDGET))
        await ack(**answer)
        if answer.get("response_action") == "update" and deps.home is not None:
            deps.tracker.spawn(deps.home.publish_soon(ws, person), "home")

    @app.action(AccountIds.DISCONNECT.value)
    async def on_disconnect(
        ack: AsyncAck, body: dict[str, Any], client: Any, context: dict[str, Any]
    ) -> None:
        await ack()
        deps.metrics.requests.labels("disconnect").inc()
        org_wide = bool(context.get("is_enterprise_install"))
        deps.tracker.spawn(
            disconnect(deps, client, body, request_workspace(context), org_wide=org_wide),
            "disconnect",
        )


async def open_connect(
    deps: Deps, ack: AsyncAck, client: Any, body: dict[str, Any], context: Mapping[str, Any]
) -> None:
    """The connect modal, opened at once (the trigger lasts 3 s); a person who may not save
    sees it turn into a note as soon as Slack says so."""
    ws, org_wide = request_workspace(context), bool(context.get("is_enterprise_install"))
    deps.metrics.requests.labels("connect").inc()
    if not deps.accounts.per_workspace:
        await ack(**ack_payload(single_workspace_message()))
        return
    await ack()
    status = await deps.accounts.status(ws)
    trigger = payloads.text(body, "trigger_id")
    try:
        opened = await client.views_open(trigger_id=trigger, view=connect_modal(status.public_key))
    except SlackApiError as exc:
        log.warning("connect modal not opened: %s", slack_error(exc))
        return
    view_id = payloads.text(opened.get("view"), "id")
    person = payloads.text(body, "user_id") or user_id(body)
    deps.tracker.spawn(_refuse_early(deps, client, ws, person, view_id, org_wide), "connect")


async def _refuse_early(
    deps: Deps, client: Any, ws: str, person: str, view_id: str, org_wide: bool
) -> None:
    """Spare a plain member typing keys that cannot be saved (the submission checks again)."""
    try:
        allowed = await asyncio.wait_for(
            permitted(deps, client, ws, person, org_wide=org_wide), PERMISSION_TIMEOUT
        )
    except (TimeoutError, SlackApiError, aiohttp.ClientError):
        return  # unknown: the submission decides
    if not allowed:
        try:
            note = connect_note(not_permitted_text(org_wide))
            await client.views_update(view_id=view_id, view=note)
        except SlackApiError as exc:
            log.info("connect modal not turned into a refusal: %s", slack_error(exc))


async def permitted(
    deps: Deps, client: Any, ws: str, person: str, *, org_wide: bool = False
) -> bool:
    """A workspace admin or owner, or the person who installed the app. For an org-wide
    install the account is the enterprise's, so one workspace's admin is not enough: an org
    admin or owner (`enterprise_user`), or the installer."""
    if not person:
        return False
    if person == await deps.slack_clients.installer(ws):
        return True
    info = await client.users_info(user=person)
    user = info.get("user")
    if org_wide and isinstance(user, dict):
        user = user.get("enterprise_user")
    if not isinstance(user, dict):
        return False
    return any(user.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner"))


async def submit(
    deps: Deps, client: Any, ws: str, person: str, view: dict[str, Any], *, org_wide: bool = False
) -> Answer:
    """Check who saves and the keys, then save: the ack's fields (an update or errors)."""
    if not deps.accounts.per_workspace:
        return _update(single_workspace_message().text)
    keys, problems = read_keys(view)
    if problems:
        return {"response_action": "errors", "errors": problems}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CHECK_BUDGET
    try:
        allowed = await asyncio.wait_for(
            permitted(deps, client, ws, person, org_wide=org_wide), PERMISSION_TIMEOUT
        )
    except (TimeoutError, SlackApiError, aiohttp.ClientError):
        return _error(
            PRIVATE_KEY_BLOCK, "Slack did not say whether you may connect an account; try again."
        )
    if not allowed:
        log.info("task API account not connected: %s is not an admin, owner or installer", person)
        return _update(not_permitted_text(org_wide))
    seconds = min(deps.settings.task_api_timeout, deadline - loop.time() - SAVE_MARGIN)
    if seconds <= 0.1:
        return _error(PRIVATE_KEY_BLOCK, unavailable_error(0))
    check = await check_keys(deps.accounts, keys, seconds)
    if check.verdict == "rejected":
        return _error(PRIVATE_KEY_BLOCK, rejected_error(check.detail))
    if check.verdict == "refused":
        return _error(PRIVATE_KEY_BLOCK, refused_error(check.detail))
    if check.verdict == "unavailable":
        return _error(PRIVATE_KEY_BLOCK, unavailable_error(round(seconds, 1)))
    await deps.accounts.connect(ws, keys, person, deps.clock())
    log.info("task API account connected (public key %s…) by %s", keys.public_key[:6], person)
    return _update(connected_text(keys.public_key))


def read_keys(view: dict[str, Any]) -> tuple[Keys, dict[str, str]]:
    """The two keys off the submitted view, and an error per empty field."""
    values = obj(view, "state", "values")
    public = payloads.text(values, PUBLIC_KEY_BLOCK, KEY_INPUT, "value").strip()
    private = payloads.text(values, PRIVATE_KEY_BLOCK, KEY_INPUT, "value").strip()
    problems = {
        block: "Type the key (from the vendor's User Center)."
        for block, value in ((PUBLIC_KEY_BLOCK, public), (PRIVATE_KEY_BLOCK, private))
        if not value
    }
    return Keys(public, private), problems


async def disconnect(
    deps: Deps, client: Any, body: dict[str, Any], ws: str, *, org_wide: bool = False
) -> None:
    """The Home's *Disconnect*: the same people as connecting; lookups stop at once here."""
    person = user_id(body)
    try:
        allowed = await asyncio.wait_for(
            permitted(deps, client, ws, person, org_wide=org_wide), PERMISSION_TIMEOUT
        )
    except (TimeoutError, SlackApiError, aiohttp.ClientError):
        allowed = False
    if not allowed:
        trigger = payloads.text(body, "trigger_id")
        try:
            note = connect_note(not_permitted_text(org_wide))
            await client.views_open(trigger_id=trigger, view=note)
        except SlackApiError as exc:
            log.info("refusal not shown: %s", slack_error(exc))
        return
    if await deps.accounts.disconnect(ws):
        log.info("task API account disconnected by %s", person)
    if deps.home is not None:
        await deps.home.publish_soon(ws, person)


def _error(block: str, text: str) -> Answer:
    return {"response_action": "errors", "errors": {block: text}}


def _update(text: str) -> Answer:
    return {"response_action": "update", "view": connect_note(text)}
