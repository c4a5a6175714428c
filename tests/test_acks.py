"""Every surface is acknowledged before its work: a slow task API never delays an ack."""

from __future__ import annotations

import time

from tests.slack_harness import Harness


async def test_acks_do_not_wait_for_a_slow_task_api(harness: Harness) -> None:
    harness.api.faults.latency = 2.0
    started = time.monotonic()
    response, command_key = await harness.command("ok-1")
    assert response.status == 200
    response, _ = await harness.shortcut(
        "task_status_check", {"ts": "1.000001", "text": "task: ok-2"}
    )
    assert response.status == 200
    response = await harness.mention("ok-3", ts="2.000001")
    assert response.status == 200
    assert time.monotonic() - started < 1.5  # three acks, none waiting for the 2 s lookups
    await harness.answers(command_key)
    # the shortcut and the mention answer in their threads
    await harness.slack.wait_for(lambda: len(harness.slack.called("chat.postMessage")) >= 2)
    assert time.monotonic() - started >= 2.0
