"""The real bot in OAuth mode against the fake Slack, and the steps of an install."""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from pytest_aiohttp import AiohttpServer

from bot.config import Settings
from bot.slack.front.server import http_app, running_bot
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.slack_harness import Harness, bot_settings, start_fakes

SECRETS_KEY = Fernet.generate_key().decode()


def oauth_settings(tmp_path: Path, slack: FakeSlack, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_client_id": slack.client_id,
        "slack_client_secret": slack.client_secret,
        "secrets_key": SECRETS_KEY,
        **overrides,
    }
    return bot_settings(tmp_path, slack, api_url, **values)


@contextlib.asynccontextmanager
async def start_oauth(
    aiohttp_server: AiohttpServer, tmp_path: Path, **options: Any
) -> AsyncIterator[Harness]:
    api = FakeTaskApi(step=options.pop("step", 0.0))
    watch_clock = options.pop("watch_clock", time.time)  # the watcher's wall clock
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = oauth_settings(tmp_path, slack, api_url, **options)
    running = running_bot(settings, watch_clock=watch_clock)
    async with running as bot, TestClient(TestServer(http_app(bot))) as http:
        yield Harness(bot, slack, api, http)


async def install_link(h: Harness) -> tuple[str, dict[str, list[str]]]:
    """The *Add to Slack* link of a fresh install page, and its query."""
    page = await h.http.get("/slack/install")
    assert page.status == 200
    found = re.search(r'href="([^"]+)"', await page.text())
    assert found is not None
    link = html.unescape(found.group(1))
    return link, parse_qs(urlsplit(link).query)


async def install(h: Harness, team: str | None = "T0ONE", **grant: Any) -> Any:
    """The whole flow for `team` (or org-wide): returns the redirect page's response."""
    code = "code-" + uuid.uuid4().hex[:8]
    h.slack.grant(code, team, **grant)
    _, query = await install_link(h)
    return await h.http.get(
        "/slack/oauth_redirect", params={"code": code, "state": query["state"][0]}
    )


async def mention_in(
    h: Harness,
    team: str,
    channel: str,
    text: str,
    *,
    enterprise: str | None = None,
    org_wide: bool = False,
    user: str = "U1",
    user_team: str | None = None,
) -> Any:
    """An `app_mention` as Slack delivers it for the installation serving `team`."""
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if user_team:
        event["user_team"] = user_team
    body = envelope(team, event, enterprise=enterprise, org_wide=org_wide)
    return await h.send(json.dumps(body), "application/json")


def envelope(
    team: str, event: dict[str, Any], *, enterprise: str | None = None, org_wide: bool = False
) -> dict[str, Any]:
    """An Events API body for `team` (of `enterprise`, installed org-wide or not)."""
    return {
        "type": "event_callback",
        "team_id": team,
        "enterprise_id": enterprise,
        "is_enterprise_install": org_wide,
        "api_app_id": "A0FAKE",
        "event": event,
        "event_id": "Ev" + uuid.uuid4().hex[:10],
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": None if org_wide else team,
                "enterprise_id": enterprise,
                "is_enterprise_install": org_wide,
                "user_id": "UBOT",
                "is_bot": True,
            }
        ],
    }


async def event_for(h: Harness, team: str, event: dict[str, Any]) -> Any:
    body = {
        "type": "event_callback",
        "team_id": team,
        "api_app_id": "A0FAKE",
        "event": event,
        "event_id": "Ev" + uuid.uuid4().hex[:10],
        "event_time": int(time.time()),
    }
    return await h.send(json.dumps(body), "application/json")
