"""What the bot says about following a channel, exactly: each note's one mrkdwn section."""

from __future__ import annotations

import pytest

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

STAMP = 1700000000.9  # 2023-11-14 22:13:20.9 UTC: the fraction is dropped, not rounded
DATE = "<!date^1700000000^{date_short_pretty}|2023-11-14 22:13 UTC>"


def shown(message: Message) -> str:
    """The one section's text, after checking it is verbatim mrkdwn and the notification."""
    [block] = message.as_payload()["blocks"]
    assert block == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": block["text"]["text"], "verbatim": True},
    }
    text: str = block["text"]["text"]
    assert message.text == text.partition("\n")[0].replace("*", "")[:300]
    return text


@pytest.mark.parametrize(
    ("user", "who"), [("U1", "<@U1>"), ("U<!here>", "someone"), ("", "someone")]
)
def test_followed(user: str, who: str) -> None:
    assert shown(followed_message(user, 7)) == (
        f":satellite_antenna: {who} turned on following in this channel: every new message "
        "that names tasks (from people and from bots) gets a live answer in its thread, at most"
        " 7 a minute. `/taskstatus unfollow` turns it off."
    )


@pytest.mark.parametrize(("user", "who"), [("U1", "<@U1>"), ("U 1", "someone")])
def test_unfollowed(user: str, who: str) -> None:
    assert shown(unfollowed_message(user)) == (
        f":zzz: {who} turned off following in this channel: new messages no longer get answers"
        " of their own. Answers already live keep updating. `/taskstatus follow` turns it back on."
    )


def test_already_followed_dates_the_start_in_the_readers_time_zone(away_from_utc: None) -> None:
    assert shown(already_followed_message("W7", STAMP)) == (
        f":information_source: This channel is already followed (turned on by <@W7> {DATE})."
        " `/taskstatus unfollow` turns it off."
    )
    assert f"turned on by someone {DATE}" in shown(already_followed_message("<!channel>", STAMP))


def test_not_followed() -> None:
    assert shown(not_followed_message()) == (
        ":information_source: This channel is not followed. `/taskstatus follow` turns it on."
    )


def test_follow_needs_channel() -> None:
    assert shown(follow_needs_channel_message()) == (
        ":information_source: Following works in public and private channels: type "
        "`/taskstatus follow` in the channel whose messages I should answer."
    )


@pytest.mark.parametrize(("channel", "where"), [("C9", "<#C9>"), ("C9>", "this channel")])
def test_follow_needs_invite(channel: str, where: str) -> None:
    assert shown(follow_needs_invite_message(channel)) == (
        f":information_source: I am not a member of {where}, so I cannot read or answer its "
        "messages. Invite me first (`/invite @Task Status`), then type `/taskstatus follow` again."
    )


def test_following_none() -> None:
    assert shown(following_message([])) == (
        ":information_source: No channel is followed in this workspace. Type "
        "`/taskstatus follow` in a channel to follow it."
    )


def test_following_one_and_two() -> None:
    assert shown(following_message([("C1", "U1", STAMP)])) == (
        f"*1 channel is followed in this workspace*\n• <#C1>, turned on by <@U1> {DATE}"
    )
    assert shown(following_message([("C1", "U1", STAMP), ("C 2", "U!", 0.0)])) == (
        f"*2 channels are followed in this workspace*\n• <#C1>, turned on by <@U1> {DATE}\n"
        "• this channel, turned on by someone <!date^0^{date_short_pretty}|1970-01-01 00:00 UTC>"
    )


def line(n: int) -> str:
    return f"• <#C{n}>, turned on by <@U1> <!date^0^{{date_short_pretty}}|1970-01-01 00:00 UTC>"


@pytest.mark.parametrize("count", [60, 61, 75])
def test_following_many_is_clipped_then_counted(count: int) -> None:
    channels = [(f"C{n}", "U1", 0.0) for n in range(count)]
    text = shown(following_message(channels))
    whole = f"*{count} channels are followed in this workspace*\n" + "\n".join(
        line(n) for n in range(min(count, 60))
    )
    more = f"\n…and {count - 60} more" if count > 60 else ""
    assert text == whole[:2899] + "…" + more
    assert len(text) == 2900 + len(more)


def test_following_just_under_the_clip_is_whole() -> None:
    channels = [(f"C{n}", "U1", 0.0) for n in range(10)]
    whole = "*10 channels are followed in this workspace*\n" + "\n".join(line(n) for n in range(10))
    assert shown(following_message(channels)) == whole


@pytest.mark.parametrize(
    ("skipped", "noun"),
    [
        (1, "message naming tasks was"),
        (2, "messages naming tasks were"),
        (0, "messages naming tasks were"),
    ],
)
def test_skipped(skipped: int, noun: str) -> None:
    assert shown(skipped_message(skipped, 20)) == (
        f":traffic_light: {skipped} {noun} posted here in the last minute beyond the 20 I answer"
        " live each minute, so I skipped them. To get an answer for one, use *More actions* (⋮)"
        " → *Check task status* or *Watch task status* on it, or `/taskstatus UID`."
    )
