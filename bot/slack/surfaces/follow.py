"""Following a channel: `/taskstatus follow|unfollow|following`, and a live answer in the
thread of every new message there that names tasks, from people and from bots.

Each message is answered once however often it arrives (Slack retries, replicas, and a
mention that comes both as `app_mention` and as `message`): the same store claim on
channel + ts as mentions use. At most `FOLLOW_MAX_PER_MINUTE` answers per channel per
minute, counted in the store so replicas share the count; the rest are skipped, with one
note per minute in the channel saying how many and how to ask for them.

The bot receives every message of every channel it is in. Reading one's text is the costly
step, so it comes last: a message in a channel not followed, one written by a person (or bot)
of another organisation that `ALLOWED_EXTERNAL_TEAMS` does not name, and a retry of an event
already taken are all left unread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bot.reading.parse import message_uids
from bot.records.follow import Follow
from bot.records.watch import WatchMode
from bot.render.accounts import no_account_message
from bot.render.answer import Message
from bot.render.follow import (
    already_followed_message,
    follow_needs_channel_message,
    follow_needs_invite_message,
    followed_message,
    following_message,
    not_followed_message,
    skipped_message,
    unfollowed_message,
)
from bot.render.quiet import errors_followed_message
from bot.slack.basics.ids import FOLLOW_WORDS
from bot.slack.basics.payloads import is_external, message_thread, obj, text
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import MAX_LOOKUP_UIDS, Place, answer, post_note, start_watch
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import NOT_POSTABLE, slack_error
from bot.slack.surfaces.mention import first_delivery
from bot.slack.surfaces.quiet import Tell, follow_mode, switch_mode, watch_quietly

log = logging.getLogger(__name__)

WINDOW = 60.0  # seconds: FOLLOW_MAX_PER_MINUTE counts answers per channel in such windows
COUNTER_TTL = 2 * WINDOW
# Messages people and bots post; edits, deletions, joins and the like have other subtypes.
ANSWERED_SUBTYPES = frozenset({"", "bot_message", "file_share", "thread_broadcast", "me_message"})
FOLLOWABLE_CHANNELS = ("C", "G")  # public and private channels; not DMs
# How many times Slack has sent an event before: the HTTP header of its retries, and in
# Socket Mode Bolt's copy of the envelope's `retry_attempt`, which is 0 on a first delivery.
RETRY_HEADER = "x-slack-retry-num"


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def on_message(
        body: dict[str, Any],
        event: dict[str, Any],
        request: AsyncBoltRequest,
        context: AsyncBoltContext,
    ) -> None:
        if not is_answerable(event, deps.bot_user_id, str(body.get("api_app_id") or "")):
            return
        retried = is_retry(request.headers)
        ws = request_workspace(context)
        deps.tracker.spawn(follow_message(deps, ws, body, event, retried=retried), "follow")

    @app.event("member_left_channel")
    async def on_member_left(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("user") == deps.bot_user_id:
            await end_follow(deps, request_workspace(context), str(event.get("channel")), "left")

    async def on_bot_left(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await end_follow(deps, request_workspace(context), str(event.get("channel")), "left")

    app.event("channel_left")(on_bot_left)
    app.event("group_left")(on_bot_left)


# -- reading message events (pure) ---------------------------------------------------------


def is_answerable(event: dict[str, Any], bot_user_id: str, app_id: str) -> bool:
    """A new message by someone else, in a channel; people's mentions of the bot are left to
    `app_mention` (which answers them as commands), bots' are not (mentions ignore bots)."""
    if str(event.get("subtype") or "") not in ANSWERED_SUBTYPES:
        return False
    if event.get("channel_type") not in ("channel", "group"):
        return False
    own = event.get("user") == bot_user_id or (
        bool(app_id) and app_id in (event.get("app_id"), obj(event, "bot_profile").get("app_id"))
    )
    if own:
        return False
    if is_bot_message(event):
        # Bots' top-level posts only: a bot replying in threads to what names tasks (as this
        # one does) could otherwise answer back and forth with it for ever.
        return str(event.get("thread_ts") or event.get("ts")) == str(event.get("ts"))
    mentions_bot = bool(bot_user_id) and f"<@{bot_user_id}" in str(event.get("text") or "")
    return not mentions_bot


def is_retry(headers: Mapping[str, Sequence[str]]) -> bool:
    """A delivery Slack made before: its retry number is above 0. Socket Mode numbers its first
    delivery 0, so the header's presence says nothing. A value that is no number counts as a
    first delivery: the message is then read, and `first_delivery` still answers it once."""
    values = headers.get(RETRY_HEADER) or []
    number = values[0] if values else ""
    return number.isdecimal() and int(number) > 0


def is_bot_message(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def author(event: dict[str, Any]) -> str:
    """Whom the completion notice pings: the person who wrote the message, nobody for a bot."""
    return "" if is_bot_message(event) else str(event.get("user") or "")


def is_external_author(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """Slack Connect: a member (or an app) of another organisation in a shared channel.

    A person's team is read as for mentions (the event's `user_team`, `source_team`, else its
    `team`); a bot names its own in `bot_profile.team_id`, a legacy bot or webhook post
    perhaps only in the event's `team`.
    """
    allowed = deps.settings.allowed_external_teams
    if is_external(body, deps.home_team, allowed):
        return True
    bot_team = text(event, "bot_profile", "team_id")
    return bool(bot_team) and is_external({"team_id": bot_team}, deps.home_team, allowed)


def uids_in(deps: Deps, event: dict[str, Any]) -> list[str]:
    """The one place follows read UIDs off a message: the message shortcut's own reader."""
    return message_uids(event, deps.settings.task_uid_pattern)


def follow_word(text: str) -> str | None:
    """`follow`, `unfollow` or `following` when that is what the command text says; `follow`
    may name a mode after it (`follow errors`), returned whole for `follow_command`. Anything
    else after `follow` is read as UIDs, as before modes existed."""
    said = " ".join(text.strip().lower().split())
    word, _, rest = said.partition(" ")
    if word in FOLLOW_WORDS and (not rest or (word == "follow" and follow_mode(rest))):
        return said
    return None


# -- answering -------------------------------------------------------------------------------


async def follow_message(
    deps: Deps, ws: str, body: dict[str, Any], event: dict[str, Any], *, retried: bool
) -> None:
    """A new message in some channel: the checks that need no reading of it come first."""
    follow = await deps.store.get_follow(ws, str(event.get("channel") or ""))
    if follow is None:
        return
    if await deps.accounts.client_for(ws) is None:
        # Its account was disconnected: nobody asked, so nobody is told; nothing upstream.
        log.debug("message %s not answered: no task API account", event.get("ts"))
        return
    if is_external_author(deps, body, event):
        log.debug("message %s not answered: written in another organisation", event.get("ts"))
        return
    # The first delivery claims the event when it answers (`first_delivery`); a retry claims
    # it here, so that one already taken is dropped unread.
    if retried and not await deps.store.claim(ws, f"event:{text(body, 'event_id')}"):
        return
    uids = uids_in(deps, event)
    if not uids:
        return
    deps.metrics.requests.labels("follow").inc()
    await answer_followed(deps, ws, body, event, uids, follow.mode)


async def answer_followed(
    deps: Deps,
    ws: str,
    body: dict[str, Any],
    event: dict[str, Any],
    uids: list[str],
    mode: WatchMode = "all",
) -> None:
    """Answer a message of a followed channel (`follow_message` checked the follow); in
    `errors` mode, watch it silently. Either way it counts toward `FOLLOW_MAX_PER_MINUTE`."""
    team, channel = str(body.get("team_id") or ""), str(event.get("channel") or "")
    if not await first_delivery(deps, ws, body, event):
        return
    window = int(deps.clock() // WINDOW)
    used = await deps.store.add(ws, f"follow-count:{team}:{channel}:{window}", COUNTER_TTL)
    if used > deps.settings.follow_max_per_minute:
        deps.metrics.answers.labels("follow", "skipped").inc()
        await _skipped(deps, ws, team, channel, window)
        return
    place = Place(
        channel=channel, user=author(event), team=team, ws=ws, thread_ts=message_thread(event)
    )
    try:
        if mode == "errors":
            await watch_quietly(deps, place, text(event, "ts"), uids)
        elif len(uids) > deps.settings.watch_max_uids:  # too many for a watch: a one-off answer
            await answer(deps, place, uids[:MAX_LOOKUP_UIDS], "follow", limit_person=False)
        else:
            await start_watch(deps, place, uids, "follow", limit_person=False)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_POSTABLE:
            raise
        await end_follow(deps, ws, channel, slack_error(exc))


async def _skipped(deps: Deps, ws: str, team: str, channel: str, window: int) -> None:
    """Count the skip; the first skip of a window posts the note when the window is over."""
    key = f"follow-skipped:{team}:{channel}:{window}"
    await deps.store.add(ws, key, COUNTER_TTL)
    if not await deps.store.claim(ws, f"follow-note:{team}:{channel}:{window}", COUNTER_TTL):
        return
    left = (window + 1) * WINDOW - deps.clock()
    with contextlib.suppress(TimeoutError):  # shutdown: post what was counted so far
        await asyncio.wait_for(deps.tracker.stopping.wait(), max(left, 0.0))
    skipped = await deps.store.add(ws, key, COUNTER_TTL, 0)
    said = skipped_message(skipped, deps.settings.follow_max_per_minute)
    if refused := await post_note(deps, channel, said):
        await end_follow(deps, ws, channel, refused)


async def end_follow(deps: Deps, ws: str, channel: str, reason: str) -> None:
    """The bot cannot read or post there any more: following ends, quietly (nowhere to say)."""
    if await deps.store.unfollow(ws, channel) is not None:
        log.info("following ended in %s (%s)", channel, reason)


# -- the commands -----------------------------------------------------------------------------


async def follow_command(deps: Deps, ws: str, command: dict[str, Any], word: str) -> None:
    """Work after the ack of `/taskstatus follow|unfollow|following`."""
    team = str(command.get("team_id") or "")
    channel = str(command.get("channel_id") or "")
    user = str(command.get("user_id") or "")
    response_url = str(command.get("response_url") or "")

    async def tell(message: Message) -> None:
        await deps.delivery.respond(response_url, lambda _: message)

    word, _, named = word.partition(" ")
    mode = follow_mode(named)
    if word == "following":
        follows = await deps.store.follows(ws)
        await tell(
            following_message(
                [(f.channel_id, f.user_id, f.since) for f in follows],
                modes=[f.mode for f in follows],
            )
        )
    elif not channel.startswith(FOLLOWABLE_CHANNELS):
        await tell(follow_needs_channel_message())
    elif word == "follow" and await deps.accounts.client_for(ws) is None:
        await tell(no_account_message())  # it could answer nothing: not turned on
    elif word == "follow":
        assert mode is not None  # `follow_word` lets `follow` through only with a mode
        follow = Follow(
            team_id=team,
            workspace=ws,
            channel_id=channel,
            user_id=user,
            since=deps.clock(),
            mode=mode,
        )
        await _follow(deps, follow, tell)
    else:
        await _unfollow(deps, ws, channel, user, tell)


async def _follow(deps: Deps, follow: Follow, tell: Tell) -> None:
    if not await deps.store.follow(follow):
        existing = await deps.store.get_follow(follow.workspace, follow.channel_id)
        if existing is not None and existing.mode != follow.mode:  # quiet follows: a switch
            await switch_mode(
                deps, follow.workspace, follow.channel_id, follow.user_id, follow.mode, tell
            )
            return
        await tell(
            already_followed_message(existing.user_id, existing.since)
            if existing
            else not_followed_message()
        )
        return
    said = (
        errors_followed_message(follow.user_id)
        if follow.mode == "errors"
        else followed_message(follow.user_id, deps.settings.follow_max_per_minute)
    )
    if await post_note(deps, follow.channel_id, said):
        await deps.store.unfollow(follow.workspace, follow.channel_id)
        await tell(follow_needs_invite_message(follow.channel_id))


async def _unfollow(deps: Deps, ws: str, channel: str, user: str, tell: Tell) -> None:
    if await deps.store.unfollow(ws, channel) is None:
        await tell(not_followed_message())
        return
    if await post_note(deps, channel, unfollowed_message(user)):
        await tell(unfollowed_message(user))  # the bot left meanwhile: say it to the asker
