"""Two real bot processes in OAuth mode on one Redis: an access token has expired and 20
commands arrive at once, split between them. Slack sees exactly one refresh grant, every
command is answered, and no token shows in either process's DEBUG log."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import redis.asyncio as aioredis
from pytest_aiohttp import AiohttpServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.installations import Kept, StoreInstallations
from bot.store import open_store
from bot.store.keyring import Keyring
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.fleet import Replica, fleet
from tests.oauth_harness import SECRETS_KEY
from tests.slack_harness import start_fakes

COMMANDS = 20


async def expired_installation(slack: FakeSlack, redis_url: str) -> None:
    """Installed through the fake's code grant, then 12 hours pass: the access token is dead
    at Slack and due in the store."""
    slack.grant("code", "T0ONE")
    client = AsyncWebClient(base_url=slack.base_url + "api/")
    answer = await client.oauth_v2_access(
        code="code", client_id=slack.client_id, client_secret=slack.client_secret
    )
    slack.expire(answer["access_token"])
    store = await open_store(redis_url)
    try:
        kept = Kept(
            team_id="T0ONE",
            bot_token=answer["access_token"],
            bot_refresh_token=answer["refresh_token"],
            bot_token_expires_at=int(time.time()) - 60,
            bot_user_id="UBOT",
        )
        await StoreInstallations(store, Keyring(SECRETS_KEY)).save(kept)
    finally:
        await store.close()


async def command(replica: Replica, slack: FakeSlack, text: str) -> str:
    key = uuid.uuid4().hex
    form = {
        "command": "/taskstatus",
        "text": text,
        "team_id": "T0ONE",
        "channel_id": "C0ONE",
        "user_id": "U1",
        "response_url": slack.response_url(key),
        "trigger_id": "t",
    }
    assert await replica.post(urlencode(form), "application/x-www-form-urlencoded") == 200
    return key


async def test_twenty_commands_after_expiry_make_one_refresh_grant(
    aiohttp_server: AiohttpServer, tmp_path: Path, redis_url: str
) -> None:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi())
    slack.own("T0ONE", "C0ONE")
    async with aioredis.from_url(redis_url) as fresh:
        await fresh.flushdb()
    await expired_installation(slack, redis_url)
    env = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": slack.client_id,
        "SLACK_CLIENT_SECRET": slack.client_secret,
        "SECRETS_KEY": SECRETS_KEY,
        "LOG_LEVEL": "DEBUG",
    }
    async with fleet(tmp_path, slack, api_url, redis_url, **env) as start:
        replicas = [await start(), await start()]
        keys = await asyncio.gather(
            *(command(replicas[n % 2], slack, f"ok-{n}") for n in range(COMMANDS))
        )
        await slack.wait_for(lambda: all(slack.responses.get(k) for k in keys), timeout=30)
        assert len(slack.refresh_grants()) == 1
        for n, key in enumerate(keys):
            assert f"ok-{n}" in str(slack.responses[key][0])
        logs = "\n".join(line for r in replicas for line in r.log)
        assert "oauth.v2.access" in logs  # the SDK's DEBUG lines were written...
        for secret in [*slack.issued, slack.client_secret, SECRETS_KEY]:
            assert secret not in logs  # ...without a token or a key in them
