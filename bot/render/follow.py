"""What the bot says about following a channel, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.render.answer import Message
from bot.render.notes import COMMAND, note_message
from bot.render.text import clip


def _who(user_id: str) -> str:
    return f"<@{user_id}>" if user_id.isalnum() else "someone"


def _channel(channel_id: str) -> str:
    return f"<#{channel_id}>" if channel_id.isalnum() else "this channel"


def _date(stamp: float) -> str:
    seconds = int(stamp)
    fallback = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{seconds}^{{date_short_pretty}}|{fallback}>"


def followed_message(user_id: str, per_minute: int) -> Message:
    return note_message(
        f":satellite_antenna: {_who(user_id)} turned on following in this channel: every new "
        "message that names tasks (from people and from bots) gets a live answer in its thread, "
        f"at most {per_minute} a minute. `{COMMAND} unfollow` turns it off."
    )


def unfollowed_message(user_id: str) -> Message:
    return note_message(
        f":zzz: {_who(user_id)} turned off following in this channel: new messages no longer get "
        f"answers of their own. Answers already live keep updating. `{COMMAND} follow` turns it "
        "back on."
    )


def already_followed_message(user_id: str, since: float) -> Message:
    return note_message(
        f":information_source: This channel is already followed (turned on by {_who(user_id)} "
        f"{_date(since)}). `{COMMAND} unfollow` turns it off."
    )


def not_followed_message() -> Message:
    return note_message(
        f":information_source: This channel is not followed. `{COMMAND} follow` turns it on."
    )


def follow_needs_channel_message() -> Message:
    return note_message(
        ":information_source: Following works in public and private channels: type "
        f"`{COMMAND} follow` in the channel whose messages I should answer."
    )


def follow_needs_invite_message(channel_id: str) -> Message:
    return note_message(
        f":information_source: I am not a member of {_channel(channel_id)}, so I cannot read or "
        "answer its messages. Invite me first (`/invite @Task Status`), then type "
        f"`{COMMAND} follow` again."
    )


def following_message(
    channels: Sequence[tuple[str, str, float]], modes: Sequence[str] = ()
) -> Message:
    """`/taskstatus following`: (channel, who turned it on, since) for the whole workspace;
    `modes`, in the same order, each channel's mode (quiet follows)."""
    if not channels:
        return note_message(
            ":information_source: No channel is followed in this workspace. Type "
            f"`{COMMAND} follow` in a channel to follow it."
        )
    lines = [
        f"• {_channel(channel)}, turned on by {_who(user)} {_date(since)}{_mode(modes, n)}"
        for n, (channel, user, since) in enumerate(channels[:60])  # pragma: no mutate (clip)
    ]
    more = f"\n…and {len(channels) - 60} more" if len(channels) > 60 else ""
    noun = "channel is" if len(channels) == 1 else "channels are"
    return note_message(
        clip(f"*{len(channels)} {noun} followed in this workspace*\n" + "\n".join(lines), 2900)
        + more
    )


def _mode(modes: Sequence[str], n: int) -> str:
    mode = modes[n] if n < len(modes) else ""
    return f" · mode `{mode}`" if mode.isalnum() else ""


def skipped_message(skipped: int, per_minute: int) -> Message:
    noun = "message naming tasks was" if skipped == 1 else "messages naming tasks were"
    return note_message(
        f":traffic_light: {skipped} {noun} posted here in the last minute beyond the "
        f"{per_minute} I answer live each minute, so I skipped them. To get an answer for one, "
        "use *More actions* (⋮) → *Check task status* or *Watch task status* on it, or "
        f"`{COMMAND} UID`."
    )
