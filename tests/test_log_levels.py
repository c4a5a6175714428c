"""ERROR lines are for the bot's own faults: an alert on them must not page anyone for Slack's
ordinary refusals (a channel it doesn't know, a message deleted meanwhile), which are one
WARNING naming the refusal and what the bot did instead."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from bot.testing.fake_slack import DROPPED
from tests.follow_events import send_event
from tests.slack_harness import Harness

# Refusals that can never succeed; transient ones (`fatal_error`, 5xx) are waited out by the
# client's gate instead (tests/test_pacing.py).
REFUSALS = ["channel_not_found", "not_in_channel", "is_archived", "user_not_found"]


async def settled(harness: Harness) -> None:
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)


@pytest.mark.parametrize("refusal", REFUSALS)
async def test_a_mention_slack_refuses_is_a_warning_not_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    caplog.set_level(logging.INFO)
    harness.slack.fail("chat.postMessage", refusal)
    harness.slack.fail("chat.postEphemeral", refusal)  # as Slack would for the same channel
    response = await harness.mention("ok-1", channel="C404")
    assert response.status == 200
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    await settled(harness)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    [warning] = [r for r in caplog.records if refusal in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert warning.exc_info is None
    assert "mention" in warning.getMessage()
    assert "could not be told" in warning.getMessage()  # what the bot did instead


async def test_when_the_asker_can_be_told_the_warning_says_so(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    harness.slack.fail("chat.postMessage", "channel_not_found")
    await harness.mention("ok-1", channel="C404")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    await settled(harness)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    [warning] = [r for r in caplog.records if "channel_not_found" in r.getMessage()]
    assert "told the asker instead" in warning.getMessage()


async def test_the_bots_own_faults_stay_errors(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refusing what the bot built (`invalid_arguments`) is the bot's fault: ERROR."""
    caplog.set_level(logging.INFO)
    harness.slack.fail("chat.postMessage", "invalid_arguments")
    await harness.mention("ok-1")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    await settled(harness)
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "invalid_arguments" in error.getMessage()


@pytest.mark.parametrize("harness", [{"slack_retry_patience": 2.0}], indirect=True)
async def test_slack_answering_5xx_after_the_retries_is_a_warning(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    harness.slack.fail("chat.postMessage", "", times=50, status=503)
    await harness.mention("ok-1", channel="C503")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postEphemeral"))
    await settled(harness)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    [warning] = [r for r in caplog.records if "HTTP 503" in r.getMessage()]
    assert warning.levelno == logging.WARNING


class Seen(logging.Handler):
    """The first record of `logger` at WARNING or above, as an event a test can wait for."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.event.set()


@pytest.mark.parametrize("harness", [{"slack_retry_patience": 1.0, "step": 60.0}], indirect=True)
async def test_a_home_refresh_slack_cannot_reach_is_a_warning_and_tried_again(
    harness: Harness,
) -> None:
    slack = harness.slack
    await send_event(
        harness, {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    )
    await slack.wait_for(lambda: slack.homes.get("U1"))
    slack.fail("views.publish", DROPPED, times=1000)  # every connection drops unanswered
    seen = Seen()
    logging.getLogger("bot.slack.delivery.home_tab").addHandler(seen)
    try:
        await harness.command("watch slow-1")  # the person's Home owes a refresh now
        await asyncio.wait_for(seen.event.wait(), 15)  # past the client's patience
        slack.faults["views.publish"].clear()  # Slack is back
        back = time.monotonic()
        await slack.wait_for(lambda: [c for c in slack.calls_to("views.publish") if c.at > back])
    finally:
        logging.getLogger("bot.slack.delivery.home_tab").removeHandler(seen)
    for record in seen.records:
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert "could not be reached" in record.getMessage()
    assert "slow-1" in json.dumps(slack.homes["U1"])
