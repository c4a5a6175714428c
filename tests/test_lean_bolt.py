"""The lean Bolt app hands every function the arguments Bolt's own injection would."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer
from slack_bolt.kwargs_injection.async_utils import build_async_required_kwargs
from slack_bolt.listener.async_listener import AsyncCustomListener
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.front_door import to_bolt
from bot.slack.lean_bolt import GETTERS, DirectListener, DirectMatcher, LeanApp
from tests import payloads
from tests.slack_harness import start_harness

TEAM = {"id": "T0HOME", "domain": "home"}
USER = {"id": "U1", "team_id": "T0HOME"}
CHANNEL = {"id": "C1", "name": "general"}
BODIES: dict[str, dict[str, Any]] = {
    "command": {
        "command": "/taskstatus",
        "text": "ok-1",
        "team_id": "T0HOME",
        "channel_id": "C1",
        "user_id": "U1",
        "response_url": "https://hooks.slack.com/commands/T0HOME/1/x",
        "trigger_id": "1.2.3",
    },
    "block_actions": {
        "type": "block_actions",
        "team": TEAM,
        "user": USER,
        "channel": CHANNEL,
        "response_url": "https://hooks.slack.com/actions/T0HOME/1/x",
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "refresh", "block_id": "b", "value": "ok-1", "type": "button"}],
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1"},
        "message": {"ts": "1.2", "text": "hi"},
    },
    "message_action": {
        "type": "message_action",
        "callback_id": "taskstatus_message",
        "team": TEAM,
        "user": USER,
        "channel": CHANNEL,
        "message": {"type": "message", "text": "`ok-1`", "ts": "1.2", "user": "U2"},
        "response_url": "https://hooks.slack.com/app/T0HOME/1/x",
        "trigger_id": "1.2.3",
    },
    "shortcut": {
        "type": "shortcut",
        "callback_id": "taskstatus_lookup",
        "team": TEAM,
        "user": USER,
        "trigger_id": "1.2.3",
    },
    "view_submission": {
        "type": "view_submission",
        "team": TEAM,
        "user": USER,
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "taskstatus_modal",
            "state": {"values": {}},
        },
    },
    "app_mention": {
        "type": "event_callback",
        "team_id": "T0HOME",
        "event_id": "Ev1",
        "event": payloads.mention("<@UBOT> `ok-1`"),
    },
    "message": {
        "type": "event_callback",
        "team_id": "T0HOME",
        "event_id": "Ev2",
        "event": payloads.user_message("`ok-1`"),
    },
    "block_suggestion": {
        "type": "block_suggestion",
        "team": TEAM,
        "user": USER,
        "action_id": "a",
        "block_id": "b",
        "value": "ok",
    },
}


def _request(body: dict[str, Any], client: AsyncWebClient) -> AsyncBoltRequest:
    request = to_bolt(body, {}, "http")
    request.context["client"] = client
    return request


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("name", sorted(GETTERS))
def test_each_argument_is_the_one_bolt_would_pass(kind: str, name: str) -> None:
    request = _request(BODIES[kind], AsyncWebClient(token="xoxb-1"))
    bolts = build_async_required_kwargs(
        logger=logging.getLogger("test"), required_arg_names=[name], request=request, response=None
    )
    mine = GETTERS[name](request)
    assert mine is bolts[name] or (mine == bolts[name] and type(mine) is type(bolts[name]))


async def test_every_listener_and_matcher_of_the_app_takes_the_direct_way(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    async with start_harness(aiohttp_server, tmp_path) as h:
        app = h.bot.app
        assert isinstance(app, LeanApp)
        listeners = app._async_listeners
        assert len(listeners) > 5
        assert all(type(listener) is DirectListener for listener in listeners)
        matchers = [m for listener in listeners for m in listener.matchers]
        assert not any(type(m) is AsyncBuiltinListenerMatcher for m in matchers)
        assert any(isinstance(m, DirectMatcher) for m in matchers)


async def test_a_function_naming_other_arguments_gets_them_from_bolt() -> None:
    client = AsyncWebClient(token="xoxb-1")
    app = LeanApp(
        client=client,
        signing_secret="s",
        request_verification_enabled=False,
        process_before_response=True,
    )
    seen: dict[str, Any] = {}

    @app.command("/taskstatus")
    async def listener(ack: Any, payload: dict[str, Any], logger: logging.Logger) -> None:
        seen.update(payload=payload, logger=logger)
        await ack()

    assert type(app._async_listeners[-1]) is AsyncCustomListener  # Bolt's own injection
    app._async_middleware_list.clear()  # no auth.test against a real Slack
    response = await app.async_dispatch(_request(BODIES["command"], client))
    assert response.status == 200
    assert seen["payload"]["text"] == "ok-1"
    assert isinstance(seen["logger"], logging.Logger)


async def test_every_request_gets_the_app_client_and_bolts_context(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    async with start_harness(aiohttp_server, tmp_path) as h:
        app = h.bot.app
        contexts = []
        for _ in range(2):
            request = to_bolt(BODIES["command"], {}, "http")
            app._init_context(request)
            contexts.append(request.context)
        for context in contexts:
            assert context.client is app.client
            assert context.token == app.client.token
            assert context.listener_runner is app.listener_runner
            assert isinstance(context.logger, logging.Logger)
