"""A live answer through `response_url` (a channel the bot cannot post in) never needs a 6th
use: the invite note, the answer and its continuation messages are counted, and the last use
is kept for the final form."""

from __future__ import annotations

import json
import time

import pytest

from bot.taskapi.fake import FakeTask
from tests.slack_harness import Harness

PICTURED = [f"ok9-{n}" for n in range(40)]  # 360 picture links: two continuation messages


@pytest.mark.parametrize("harness", [{"step": 0.3, "watch_poll_interval": 0.05}], indirect=True)
async def test_live_answer_with_continuations_keeps_a_use_for_its_final_form(
    harness: Harness,
) -> None:
    slack, api = harness.slack, harness.api
    for uid in PICTURED:  # finished long ago; only ok-late is still on its way
        api.tasks[uid] = FakeTask(uid, "Finished", pictures=9, first_seen=time.monotonic() - 1e6)
    slack.not_in_channel.add("GPRIV")
    _, key = await harness.command("watch " + " ".join([*PICTURED, "ok-late"]), channel="GPRIV")
    await slack.wait_for(lambda: slack.messages.get("DU1"))  # the completion notice, by DM
    sent = slack.responses[key]
    assert len(sent) == 5, [s.get("text") for s in sent]
    invite, live, *continuations, final = sent
    assert "/invite" in json.dumps(invite)
    assert "Live" in json.dumps(live)
    assert continuations
    assert all(not c.get("replace_original") for c in continuations)
    assert all("/pictures/ok9-" in json.dumps(c) for c in continuations)
    assert final["replace_original"]
    assert "Every task is done" in json.dumps(final)


@pytest.mark.parametrize("harness", [{"step": 0.0}], indirect=True)
async def test_rate_limited_response_url_tries_count_as_uses(harness: Harness) -> None:
    delivery = harness.bot.deps.delivery
    harness.slack.respond_faults.extend([429, 429])
    _, key = await harness.command("ok-1")
    *_, answer = await harness.answers(key, count=3)
    url = harness.slack.response_url(key)
    assert "ok-1" in json.dumps(answer)
    assert delivery.uses.used(url) == 3  # two refused tries and the answer
