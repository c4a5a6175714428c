"""What quiet follows (`/taskstatus follow errors`) say: the one failure message, and the
notes about a channel's mode. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.records.watch import WatchMode
from bot.render.answer import Controls, Message, answer_message
from bot.render.follow import _who
from bot.render.links import TaskLinks
from bot.render.notes import COMMAND, note_message
from bot.taskapi.models import TaskResult, is_error

MODE_WORDS: dict[WatchMode, str] = {
    "all": "every message naming tasks gets a live answer",
    "errors": "only failures are reported",
}


def failure_message(
    results: Sequence[TaskResult],
    author: str,
    value: str,
    no_preview: frozenset[str] = frozenset(),
    links: TaskLinks | None = None,
) -> Message:
    """The one message a quiet follow posts: the failed tasks (error code and message, escaped
    by the answer's renderer), pinging the message's human author (`author` is empty for a
    bot), with *Refresh* and *Watch* for all of the message's tasks (`value`, encoded)."""
    failed = [r for r in results if is_error(r)]
    mention = f"<@{author}> " if author.isalnum() else ""
    noun = "task" if len(results) == 1 else "tasks"
    headline = f":x: {mention}{len(failed)} of {len(results)} {noun} failed."
    message = answer_message(
        failed,
        controls=Controls(value, "offer"),
        no_preview=no_preview,
        headline=headline,
        links=links,
    )
    return replace(message, text=f"{len(failed)} of {len(results)} {noun} failed: {message.text}")


def mode_changed_message(user_id: str, mode: WatchMode, per_minute: int) -> Message:
    """Said in the channel when someone switches its mode, so everyone there knows."""
    if mode == "errors":
        what = (
            "messages naming tasks are now watched quietly: I post in a message's thread only "
            "when one of its tasks fails"
        )
    else:
        what = (
            "every new message naming tasks now gets a live answer in its thread, at most "
            f"{per_minute} a minute"
        )
    other = "all" if mode == "errors" else "errors"
    return note_message(
        f":satellite_antenna: {_who(user_id)} set following in this channel to mode `{mode}`: "
        f"{what}. `{COMMAND} follow {other}` switches back, `{COMMAND} unfollow` turns it off."
    )


def errors_followed_message(user_id: str) -> Message:
    """Following turned on straight in `errors` mode."""
    return note_message(
        f":satellite_antenna: {_who(user_id)} turned on quiet following in this channel (mode "
        "`errors`): messages naming tasks are watched, and I post in a message's thread only "
        f"when one of its tasks fails. `{COMMAND} follow all` answers every one live, "
        f"`{COMMAND} unfollow` turns it off."
    )


def same_mode_message(mode: WatchMode) -> Message:
    return note_message(
        f":information_source: This channel is already followed in mode `{mode}` "
        f"({MODE_WORDS[mode]}). `{COMMAND} unfollow` turns it off."
    )
