"""The 30-minute repeat rule holds for the fleet: two real bot processes on one Redis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpServer

from bot.store import Store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.fleet import fleet
from tests.slack_harness import envelope, start_fakes
from tests.test_fleet import WAIT
from tests.test_unfurl_e2e import TEMPLATE, link_shared, page


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, str]:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=3600.0))
    return slack, api_url


async def test_a_url_unfurled_by_one_process_is_not_unfurled_by_another(
    tmp_path: Path, fakes: tuple[FakeSlack, str], shared: Store, redis_url: str
) -> None:
    slack, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url, TASK_LINK_URL=TEMPLATE) as start:
        first, second = await start(), await start()
        body = json.dumps(envelope(link_shared([page("ok-1")])))
        assert await first.post(body, "application/json") == 200
        await slack.wait_for(lambda: len(slack.called("chat.unfurl")) == 1, WAIT)

        # Another message in the same channel, to the other process: only the new link shows.
        body = json.dumps(envelope(link_shared([page("ok-1"), page("ok-2")])))
        assert await second.post(body, "application/json") == 200
        await slack.wait_for(lambda: len(slack.called("chat.unfurl")) == 2, WAIT)
        one, two = slack.called("chat.unfurl")
        assert list(one["unfurls"]) == [page("ok-1")]
        assert list(two["unfurls"]) == [page("ok-2")]
