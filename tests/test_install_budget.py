"""`GET /slack/install` stores a state per hit and needs no sign-in: a process hands out a
bounded number of links, then a 429 page, until the budget refills."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.slack.oauth.install_budget import INSTALL_LINKS_BURST, InstallBudget
from bot.slack.oauth.routes import add_oauth_routes
from tests.conftest import ManualClock
from tests.slack_harness import Harness
from tests.test_oauth_flow import oauth  # noqa: F401 - the fixture


async def test_a_flood_of_install_hits_gets_a_429_and_stores_no_state(
    oauth: Harness,  # noqa: F811
) -> None:
    burst = int(INSTALL_LINKS_BURST)
    pages = await asyncio.gather(*(oauth.http.get("/slack/install") for _ in range(burst + 5)))
    statuses = sorted(p.status for p in pages)
    assert statuses == [200] * burst + [429] * 5
    refused = [p for p in pages if p.status == 429]
    for page in refused:
        assert int(page.headers["Retry-After"]) >= 1
        text = await page.text()
        assert "again in a minute" in text
        assert "state=" not in text  # no link, so nothing was stored for it


async def test_the_budget_refills_over_the_minute(oauth: Harness) -> None:  # noqa: F811
    assert oauth.bot.oauth is not None
    clock = ManualClock()
    app = web.Application()
    add_oauth_routes(app, oauth.bot.oauth.flow, InstallBudget(per_minute=6, burst=2, clock=clock))
    async with TestClient(TestServer(app)) as http:
        assert [(await http.get("/slack/install")).status for _ in range(3)] == [200, 200, 429]
        clock.advance(10.0)  # one link's worth at six a minute
        assert [(await http.get("/slack/install")).status for _ in range(2)] == [200, 429]
