"""Quiet follows (`/taskstatus follow errors`): the silent watch of a followed message, and
changing a followed channel's mode (from the command or the App Home menu).

A silent watch is an ordinary `Watch` with `mode="errors"`: the scheduler leases and polls
it with every other watch and completes it exactly once, at its first failed task or when
all its tasks are done. It has no message of its own (`message_ts` is the followed message),
so nothing is posted when it starts; its completion notice is the failure message, or
nothing when no task failed (see `bot.slack.delivery.live`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.records.watch import WATCH_MODES, WatchMode, message_key
from bot.render.answer import Message
from bot.render.follow import not_followed_message
from bot.render.quiet import mode_changed_message, same_mode_message
from bot.slack.basics.values import encode_uids
from bot.slack.delivery.answering import Place, post_note
from bot.slack.delivery.context import Deps

log = logging.getLogger(__name__)

Tell = Callable[[Message], Awaitable[None]]


async def watch_quietly(deps: Deps, place: Place, message_ts: str, uids: list[str]) -> bool:
    """Start the silent watch of a followed message; False when it already has one.

    No lookup here: the watch's first poll, batched with every other watch's, is the first
    look at its tasks. Past `WATCH_MAX_UIDS` only the first ones are watched (a live answer
    would show no more either)."""
    watched = uids[: deps.settings.watch_max_uids]
    watch = deps.watcher.new_watch(
        team_id=place.team,
        workspace=place.ws,
        user_id=place.user,  # the human author (pinged on failure); empty for a bot
        channel_id=place.channel,
        uids=watched,
        button_value=await encode_uids(place.ws, watched, deps.store),
        message_ts=message_ts,
        thread_ts=place.thread_ts or message_ts,
        message_key=message_key(place.channel, message_ts),
        final_shown=True,  # there is no message of ours to turn final
        mode="errors",
    )
    started = await deps.watcher.begin(watch, [])
    deps.metrics.answers.labels("follow", "quiet" if started else "duplicate").inc()
    return started is not None


def follow_mode(said: str) -> WatchMode | None:
    """The mode named after `follow` (`all` when none), None when it names no mode."""
    word = said.strip().lower() or "all"
    return next((mode for mode in WATCH_MODES if mode == word), None)


async def switch_mode(
    deps: Deps, ws: str, channel: str, user: str, mode: WatchMode, tell: Tell
) -> bool:
    """Change a followed channel's mode and say so in the channel, naming who did it.
    `tell` reaches only the asker: the same mode again, or the channel not followed."""
    before = await deps.store.set_follow_mode(ws, channel, mode)
    if before is None:
        await tell(not_followed_message())
        return False
    if before.mode == mode:
        await tell(same_mode_message(mode))
        return False
    log.info("following in %s: mode %s -> %s", channel, before.mode, mode)
    said = mode_changed_message(user, mode, deps.settings.follow_max_per_minute)
    if await post_note(deps, channel, said):
        await tell(said)  # the bot left meanwhile: at least the asker hears it
    return True


def mode_choice(action: dict[str, Any]) -> tuple[WatchMode, str] | None:
    """The App Home menu's choice: (mode, channel) from the option's `mode:channel` value."""
    value = str((action.get("selected_option") or {}).get("value") or "")
    word, _, channel = value.partition(":")
    mode = follow_mode(word) if word else None
    if mode is None or not channel.isalnum():
        return None
    return mode, channel
