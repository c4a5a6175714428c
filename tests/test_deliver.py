"""Answers through `response_url`: the body Slack gets, and a 429 waited out."""

from __future__ import annotations

from tests.slack_harness import Harness


async def test_response_url_gets_the_answer_as_json(harness: Harness) -> None:
    _, key = await harness.command("ok-1")
    await harness.answers(key)
    [call] = harness.slack.called("response_url")
    assert list(call) == ["key", "text", "blocks", "response_type", "replace_original"]
    assert call["replace_original"] is False
    assert call["text"] == "1 task: 1 Finished"


async def test_rate_limited_response_url_is_waited_out(harness: Harness) -> None:
    harness.slack.fail("response_url", "rate_limited", status=429, headers={"Retry-After": "0"})
    _, key = await harness.command("ok-1")
    [answer] = await harness.answers(key)
    assert "ok-1" in answer["text"] + str(answer["blocks"])
    assert len(harness.slack.called("response_url")) == 2
