"""Following a channel end to end: signed commands and message events into the real app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.slack.delivery.live import NOTICE_EVENT
from tests.conftest import ManualClock
from tests.follow_events import (
    bot_message,
    eventually,
    message,
    send_event,
    text_of,
    thread_replies,
)
from tests.slack_harness import Harness

FAST = {"step": 0.15, "watch_poll_interval": 0.05}


async def follow(harness: Harness, channel: str = "C1", user: str = "U1") -> None:
    response, _ = await harness.command("follow", channel=channel, user=user)
    assert response.status == 200
    await harness.slack.wait_for(
        lambda: any(
            "turned on following" in text_of(m) for m in harness.slack.messages.get(channel, [])
        )
    )


def notices(harness: Harness, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in harness.slack.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


async def test_follow_unfollow_following_are_announced(harness: Harness) -> None:
    slack = harness.slack
    await follow(harness, "C1", "U1")
    [announcement] = slack.messages["C1"]
    assert "<@U1>" in text_of(announcement)
    assert announcement.get("thread_ts") is None  # in the channel itself

    _, key = await harness.command("follow", channel="C1", user="U3")
    [again] = await harness.answers(key)
    assert "already followed" in text_of(again)
    assert "<@U1>" in text_of(again)
    assert len(slack.messages["C1"]) == 1  # no second announcement

    _, key = await harness.command("following", channel="C9")
    [listing] = await harness.answers(key)
    assert "<#C1>" in text_of(listing)
    assert listing.get("response_type") == "ephemeral"

    await harness.command("unfollow", channel="C1", user="U2")
    await slack.wait_for(lambda: any("turned off" in text_of(m) for m in slack.messages["C1"]))
    assert "<@U2>" in text_of(slack.messages["C1"][-1])
    _, key = await harness.command("following", channel="C9")
    [listing] = await harness.answers(key)
    assert "No channel is followed" in text_of(listing)
    assert await harness.bot.deps.store.follows("T0HOME") == []


async def test_follow_in_a_channel_the_bot_is_not_in_says_how_to_invite(harness: Harness) -> None:
    harness.slack.not_in_channel.add("C7")
    _, key = await harness.command("follow", channel="C7")
    [answer] = await harness.answers(key)
    assert "Invite me first" in text_of(answer)
    assert await harness.bot.deps.store.get_follow("T0HOME", "C7") is None
    _, key = await harness.command("follow", channel="D123")
    [answer] = await harness.answers(key)
    assert "public and private channels" in text_of(answer)


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_persons_message_gets_one_live_answer_and_a_notice_that_pings_them(
    harness: Harness,
) -> None:
    await follow(harness)
    await send_event(harness, message("rendering done? TaskUid: ok-71 and `err-72`", ts="100.1"))
    slack = harness.slack
    await slack.wait_for(lambda: notices(harness, "C1"))
    replies = thread_replies(harness, "C1", "100.1")
    live, notice = replies[0], notices(harness, "C1")[0]
    assert "ok-71" in text_of(live)
    assert "err-72" in text_of(live)
    assert "Every task is done" in text_of(live)  # the live answer took its final form
    assert notice["thread_ts"] == "100.1"
    assert "<@U2>" in text_of(notice)
    assert slack.called("chat.update")  # it was live, then updated
    assert len([r for r in replies if "ok-71" in text_of(r)]) == 2  # the answer and the notice


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_bots_message_is_answered_and_its_notice_pings_nobody(harness: Harness) -> None:
    await follow(harness)
    await send_event(harness, bot_message("Submitted. TaskUid: ok-81", ts="200.1"))
    await harness.slack.wait_for(lambda: notices(harness, "C1"))
    [notice] = notices(harness, "C1")
    assert notice["thread_ts"] == "200.1"
    assert "<@" not in text_of(notice)
    assert "ok-81" in text_of(notice)


async def test_own_messages_edits_deletions_and_unfollowed_channels_get_nothing(
    harness: Harness,
) -> None:
    await follow(harness)
    slack = harness.slack
    ignored = [
        message("task: ok-1", user="UBOT", ts="300.1"),  # the bot's own
        message("task: ok-2", ts="300.2", bot_id="BBOT", app_id="A1", user="UBOT"),
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "channel_type": "channel",
            "ts": "300.3",
            "message": {"user": "U2", "text": "task: ok-3", "ts": "300.0"},
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C1",
            "channel_type": "channel",
            "ts": "300.4",
            "deleted_ts": "300.0",
            "previous_message": {"user": "U2", "text": "task: ok-4"},
        },
        message("task: ok-5", channel="C2", ts="300.5"),  # not followed
        message("task: ok-6", channel="D9", ts="300.6", channel_type="im"),
        message("no task named here", ts="300.7"),
        {**bot_message("task: ok-8", ts="300.8"), "thread_ts": "300.0"},  # a bot in a thread
    ]
    for event in ignored:
        await send_event(harness, event)
    await send_event(harness, message("task: ok-9", ts="300.9"))
    await slack.wait_for(lambda: thread_replies(harness, "C1", "300.9"))
    await harness.bot.deps.tracker.idle.wait()
    posts = slack.called("chat.postMessage")
    assert [p.get("thread_ts") for p in posts] == [None, "300.9"]  # announcement, one answer
    assert len(harness.api.calls) == 1


async def test_retries_duplicates_and_a_mention_of_the_same_message_get_one_answer(
    harness: Harness,
) -> None:
    await follow(harness)
    event = message("TaskUid: ok-11", ts="400.1")
    await asyncio.gather(
        send_event(harness, event, "EvSame"),
        send_event(harness, event, "EvSame", **{"X-Slack-Retry-Num": "1"}),
        send_event(harness, event, "EvOther"),  # Slack's duplicate with a new event id
    )
    mention = message("<@UBOT> ok-12", ts="400.2")
    await send_event(harness, mention)  # the `message` copy of a mention: left to app_mention
    await harness.mention("ok-12", ts="400.2")
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "400.2"))
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", "400.1"))
    await harness.bot.deps.tracker.idle.wait()
    assert len(thread_replies(harness, "C1", "400.1")) == 1
    [reply] = thread_replies(harness, "C1", "400.2")
    assert "ok-12" in text_of(reply)


async def test_a_channel_the_bot_left_is_no_longer_followed(harness: Harness) -> None:
    store = harness.bot.deps.store
    await follow(harness, "C1")
    await follow(harness, "C2")
    await follow(harness, "G3")
    await send_event(
        harness,
        {"type": "member_left_channel", "user": "UBOT", "channel": "C1", "channel_type": "C"},
    )
    await send_event(harness, {"type": "member_left_channel", "user": "U5", "channel": "C2"})
    await send_event(harness, {"type": "group_left", "channel": "G3"})
    await eventually(lambda: _no_follow(store, "G3"))
    await eventually(lambda: _no_follow(store, "C1"))
    assert [f.channel_id for f in await store.follows("T0HOME")] == ["C2"]  # someone else left C2
    # Removed without an event reaching us: the first answer that cannot be posted ends it.
    harness.slack.not_in_channel.add("C2")
    await send_event(harness, message("task: ok-1", channel="C2", ts="500.1"))
    await harness.slack.wait_for(
        lambda: any(
            c.method == "chat.postMessage"
            and c.args.get("channel") == "C2"
            and c.args.get("thread_ts")
            for c in harness.slack.calls
        )
    )
    await harness.bot.deps.tracker.idle.wait()
    assert await store.follows("T0HOME") == []
    await send_event(harness, message("task: ok-2", channel="C1", ts="500.2"))
    await harness.bot.deps.tracker.idle.wait()
    assert not thread_replies(harness, "C1", "500.2")


WINDOW_END = ManualClock()
WINDOW_END.now = 60 * 1000 - 0.5  # half a second before a minute window ends


@pytest.mark.parametrize(
    "harness", [{"follow_max_per_minute": 3, "clock": WINDOW_END}], indirect=True
)
async def test_a_burst_over_the_cap_gets_the_cap_and_one_note(harness: Harness) -> None:
    await follow(harness)
    slack = harness.slack
    await asyncio.gather(
        *(send_event(harness, message(f"task: ok-b{n}", ts=f"600.{n}")) for n in range(1, 9))
    )
    await slack.wait_for(lambda: any("skipped" in text_of(m) for m in slack.messages["C1"]))
    await harness.bot.deps.tracker.idle.wait()
    answered = [n for n in range(1, 9) if thread_replies(harness, "C1", f"600.{n}")]
    assert len(answered) == 3
    [note] = [m for m in slack.messages["C1"] if "skipped" in text_of(m)]
    assert note.get("thread_ts") is None
    assert "5 messages naming tasks" in text_of(note)
    assert "Check task status" in text_of(note)
    assert len(harness.api.calls) <= 3  # skipped messages cost no lookups


async def _no_follow(store: Any, channel: str) -> bool:
    return await store.get_follow("T0HOME", channel) is None
