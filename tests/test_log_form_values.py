"""A task API private key typed into the connect modal never reaches the log, even at
LOG_LEVEL=DEBUG, where slack_sdk's Socket Mode client logs every frame it receives and Bolt
may print bodies: an account is connected through the real app, in both modes, and the
captured log is searched for the key."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from bot.ops.logs import FORM_VALUE, RedactSecrets, configure
from bot.taskapi.fake import FAKE_PUBLIC_KEY, FakeTaskApi
from tests.oauth_harness import SECRETS_KEY, install, start_oauth
from tests.slack_harness import socket_mode_bot, socket_mode_settings, start_fakes

PRIVATE = "priv-typed-into-the-modal-7Qz"
INSTALLER = "U0INSTALLER"  # the fake Slack's installer: allowed to connect an account


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The bot's own log set-up at DEBUG (filters and format), writing to a buffer."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure("DEBUG", "text")
    logged = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(logged)
    try:
        yield logged
    finally:
        root.handlers[:], root.level = handlers, level


def connect_submission(team: str) -> dict[str, Any]:
    values = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        for block, value in (("public_key", FAKE_PUBLIC_KEY), ("private_key", PRIVATE))
    }
    return {
        "type": "view_submission",
        "team": {"id": team},
        "user": {"id": INSTALLER, "team_id": team},
        "view": {
            "id": "VCONNECT",
            "type": "modal",
            "callback_id": "task_api_connect",
            "state": {"values": values},
        },
    }


async def test_socket_mode_at_debug_logs_no_typed_key(
    aiohttp_server: AiohttpServer, tmp_path: Path, debug_log: io.StringIO
) -> None:
    api = FakeTaskApi()
    api.private_key = PRIVATE
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = socket_mode_settings(
        tmp_path,
        slack,
        api_url,
        slack_bot_token=None,
        slack_client_id=slack.client_id,
        slack_client_secret=slack.client_secret,
        secrets_key=SECRETS_KEY,
    )
    slack.grant("code", "T0ONE")
    async with socket_mode_bot(settings) as bot:
        await slack.connected()
        assert bot.oauth is not None
        await install_over_http(settings.port)  # the HTTP listener still serves the pages
        envelope = {
            "envelope_id": "e1",
            "type": "interactive",
            "payload": connect_submission("T0ONE"),
        }
        ack = await slack.socket_send(envelope)
        assert "Connected" in json.dumps(ack)  # the key was read, checked and saved
        assert await bot.deps.store.get_account("T0ONE") is not None
    logged = debug_log.getvalue()
    assert "Received message" in logged  # the client did log the frame, at DEBUG
    assert PRIVATE not in logged


async def install_over_http(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/slack/install") as page:
            found = re.search(r"state=([\w-]+)", await page.text())
        assert found is not None
        params = {"code": "code", "state": found.group(1)}
        async with http.get(base + "/slack/oauth_redirect", params=params) as done:
            assert done.status == 200


async def test_http_mode_at_debug_logs_no_typed_key(
    aiohttp_server: AiohttpServer, tmp_path: Path, debug_log: io.StringIO
) -> None:
    async with start_oauth(aiohttp_server, tmp_path) as h:
        h.api.private_key = PRIVATE
        assert (await install(h, "T0ONE")).status == 200
        response = await h.interactive(connect_submission("T0ONE"))
        assert "Connected" in await response.text()
    logged = debug_log.getvalue()
    assert "DEBUG" in logged
    assert PRIVATE not in logged


@pytest.mark.parametrize(
    "shown",
    [
        json.dumps,
        repr,
        lambda p: repr(json.dumps(p)),  # a frame's data, as the Socket Mode client logs it
        lambda p: json.dumps(json.dumps(p)),
        lambda p: urlencode({"payload": json.dumps(p)}),  # an HTTP body as it arrived
    ],
)
def test_every_form_value_is_blanked_however_it_is_quoted(shown: Any) -> None:
    payload = connect_submission("T0ONE")
    payload["view"]["state"]["values"]["private_key"]["value"]["value"] = 'k"ey-' + PRIVATE
    record = logging.LogRecord("slack", logging.DEBUG, "", 0, "got %s", (shown(payload),), None)
    RedactSecrets([]).filter(record)
    assert PRIVATE not in record.getMessage()
    assert "plain_text_input" in record.getMessage()  # the rest of the line stays readable


@pytest.mark.parametrize(
    "hostile",
    [
        '"value":"' + "\\" * 40_000,
        "\\" * 40_000,
        '"value":"a' * 4_000,
        '"value":"' + "a" * 40_000,
        "%22value%22%3A%22" + "%5C" * 13_000,
    ],
)
def test_blanking_form_values_stays_linear_on_hostile_text(hostile: str) -> None:
    started = time.perf_counter()
    FORM_VALUE.sub("", hostile)
    assert time.perf_counter() - started < 0.5  # a backtracking pattern took seconds to minutes
