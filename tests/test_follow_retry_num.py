"""A retry of an event in a followed channel is one Slack numbers above 0.

Socket Mode numbers every first delivery 0 (`retry_attempt: 0`, which Bolt passes on as the
`x-slack-retry-num` header), so a header that is merely present must not make it a retry:
a retry claims its event before the message is read, a store write for every message of a
followed channel, most of which name no task.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpServer

from bot.slack.surfaces.follow import RETRY_HEADER, is_retry
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from tests.follow_events import message
from tests.slack_harness import (
    envelope,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)


@pytest.mark.parametrize(
    ("values", "retried"),
    [
        (None, False),
        ([], False),
        (["0"], False),
        (["1"], True),
        (["2", "0"], True),  # the first value counts, as Bolt and HTTP send one
        (["12"], True),
        ([""], False),
        (["x"], False),
        (["-1"], False),
    ],
)
def test_a_retry_is_numbered_above_zero(values: list[str] | None, retried: bool) -> None:
    headers = {} if values is None else {RETRY_HEADER: values}
    assert is_retry(headers) is retried


async def test_a_socket_mode_first_delivery_numbered_zero_claims_nothing_before_reading(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    async with socket_mode_bot(socket_mode_settings(tmp_path, slack, api_url)) as bot:
        command = slash_command(slack, "follow")
        await slack.socket_send({"envelope_id": "e1", "type": "slash_commands", "payload": command})
        await slack.wait_for(lambda: slack.messages.get("C1"))
        chat = envelope(message("no task named here", ts="41.1"), "EvZero")
        first = {"retry_attempt": 0, "retry_reason": ""}
        await slack.socket_send(
            {"envelope_id": "e2", "type": "events_api", "payload": chat, **first}
        )
        named = envelope(message("TaskUid: ok-8", ts="41.2"), "EvNamed")
        await slack.socket_send(
            {"envelope_id": "e3", "type": "events_api", "payload": named, **first}
        )
        await slack.wait_for(lambda: slack.thread("C1", "41.2"))
        await bot.deps.tracker.idle.wait()
        assert await bot.deps.store.claim(
            HOME_TEAM, "event:EvZero"
        )  # a first delivery claimed nothing
        assert not await bot.deps.store.claim(
            HOME_TEAM, "event:EvNamed"
        )  # the answered one is claimed
        assert slack.thread("C1", "41.1") == []
