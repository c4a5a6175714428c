"""Slack Connect in a followed channel: people and bots of another organisation get nothing,
unless `ALLOWED_EXTERNAL_TEAMS` names their team, as on every other surface."""

from __future__ import annotations

from typing import Any

import pytest

from bot.testing.fake_slack import HOME_TEAM
from tests.follow_events import bot_message, message, send_event, text_of, thread_replies
from tests.slack_harness import Harness
from tests.test_follow_e2e import follow

OTHER_TEAM = "T0OTHER"


def external(text: str, ts: str) -> dict[str, Any]:
    """A member of the other organisation, as Slack sends it in a shared channel."""
    return message(text, ts=ts, user="W9", user_team=OTHER_TEAM, source_team=OTHER_TEAM)


def external_bot(text: str, ts: str) -> dict[str, Any]:
    event = bot_message(text, ts=ts)
    event["bot_profile"] = {"id": "B9", "app_id": "A9", "team_id": OTHER_TEAM}
    return event


async def answered_after(harness: Harness, ts: str) -> None:
    """A message of the home team sent after the others: once it is answered, and nothing
    is left running, every earlier message has been dealt with."""
    await send_event(harness, message("TaskUid: ok-1", ts=ts))
    await harness.slack.wait_for(lambda: thread_replies(harness, "C1", ts))
    await harness.bot.deps.tracker.idle.wait()


async def test_people_and_bots_of_another_organisation_get_nothing(harness: Harness) -> None:
    await follow(harness)
    await send_event(harness, external("TaskUid: ok-2", "700.1"))
    await send_event(harness, external_bot("TaskUid: ok-3", "700.2"))
    await answered_after(harness, "700.3")
    assert thread_replies(harness, "C1", "700.1") == []
    assert thread_replies(harness, "C1", "700.2") == []
    assert harness.api.calls == [["ok-1"]]  # nothing looked up for them


async def test_a_post_naming_another_organisation_only_in_its_team_gets_nothing(
    harness: Harness,
) -> None:
    """A legacy bot's or a webhook's post (no `bot_profile`, no `user_team`) and a person's
    message whose author's team is only the event's `team`."""
    await follow(harness)
    await send_event(harness, {**bot_message("TaskUid: ok-3", ts="701.1"), "team": OTHER_TEAM})
    await send_event(harness, message("TaskUid: ok-2", ts="701.2", user="W9", team=OTHER_TEAM))
    await send_event(harness, message("TaskUid: ok-4", ts="701.3", team=HOME_TEAM))
    await answered_after(harness, "701.4")
    assert thread_replies(harness, "C1", "701.1") == []
    assert thread_replies(harness, "C1", "701.2") == []
    assert "ok-4" in text_of(thread_replies(harness, "C1", "701.3")[0])
    assert sorted(harness.api.calls) == [["ok-1"], ["ok-4"]]


@pytest.mark.parametrize("harness", [{"allowed_external_teams": [OTHER_TEAM]}], indirect=True)
async def test_an_allowed_organisation_is_answered(harness: Harness) -> None:
    await follow(harness)
    await send_event(harness, external("TaskUid: ok-2", "700.4"))
    await send_event(harness, external_bot("TaskUid: ok-3", "700.5"))
    await harness.slack.wait_for(
        lambda: thread_replies(harness, "C1", "700.4") and thread_replies(harness, "C1", "700.5")
    )
    assert "ok-2" in text_of(thread_replies(harness, "C1", "700.4")[0])
    assert "ok-3" in text_of(thread_replies(harness, "C1", "700.5")[0])
