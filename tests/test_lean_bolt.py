"""The lean Bolt app hands every function the arguments Bolt's own injection would."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_aiohttp import AiohttpServer
from slack_bolt.kwargs_injection.async_utils import build_async_required_kwargs
from slack_bolt.listener.async_listener import AsyncCustomListener
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt.lean_bolt import GETTERS, DirectListener, DirectMatcher, LeanApp
from bot.slack.front.front_door import to_bolt
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


async def test_each_team_keeps_the_client_bolt_would_make_for_it(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    async with start_harness(aiohttp_server, tmp_path) as h:
        app = h.bot.app
        contexts: dict[str, list[Any]] = {}
        for team in ("T0HOME", "T0HOME", "T0OTHER"):
            request = to_bolt({**BODIES["command"], "team_id": team}, {}, "http")
            app._init_context(request)
            contexts.setdefault(team, []).append(request.context)
        home, again = contexts["T0HOME"]
        assert home.client is again.client  # made once for the team
        assert home.client is not contexts["T0OTHER"][0].client
        for team, [context, *_] in contexts.items():
            assert context.client.token == app.client.token
            assert context.client.base_url == app.client.base_url
            assert context.client.session is app.client.session
            assert context.client.default_params.get("team_id") == team  # as Bolt's copy
            assert context.token == app.client.token
            assert context.listener_runner is app.listener_runner
            assert isinstance(context.logger, logging.Logger)


async def test_a_workflow_token_in_a_request_changes_no_client(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Bolt would set it on the request's client, which is kept from request to request."""
    async with start_harness(aiohttp_server, tmp_path) as h:
        body = {
            **BODIES["block_actions"],
            "actions": [{"action_id": "no-such-action", "block_id": "b", "type": "button"}],
            "function_data": {"execution_id": "Fx1"},
            "bot_access_token": "xwfp-function-token",
        }
        response = await h.interactive(body)
        assert response.status == 404
        app = h.bot.app
        request = to_bolt(BODIES["block_actions"], {}, "http")
        app._init_context(request)
        tokens = {app.client.token, h.bot.deps.delivery.client.token, request.context.client.token}
        assert tokens == {"xoxb-test-token"}


async def test_a_listener_client_call_names_the_team_as_bolts_copy_did(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """An org-wide install needs `team_id` on such calls: Bolt's per-request client sent it."""
    async with start_harness(aiohttp_server, tmp_path) as h:
        body = {**BODIES["shortcut"], "callback_id": "task_status_lookup"}
        response = await h.interactive(body)
        assert response.status == 200
        [opened] = await h.slack.wait_for(lambda: h.slack.called("views.open"))
        assert opened["team_id"] == "T0HOME"


async def test_the_ack_latency_covers_the_listener(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Bolt runs listeners after its global middleware: only the whole dispatch times an ack."""
    async with start_harness(aiohttp_server, tmp_path) as h:
        app = h.bot.app

        @app.command("/slow-ack")
        async def slow(ack: Any) -> None:
            await asyncio.sleep(0.2)  # the slow listener being measured
            await ack()

        histogram = h.bot.deps.metrics.ack_latency
        before = _sum(histogram)
        form = {**BODIES["command"], "command": "/slow-ack"}
        response = await h.send(urlencode(form), "application/x-www-form-urlencoded")
        assert response.status == 200
        assert _sum(histogram) - before >= 0.2


def _sum(histogram: Any) -> float:
    [metric] = histogram.collect()
    return float(next(s.value for s in metric.samples if s.name.endswith("_sum")))
