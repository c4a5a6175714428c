"""The app is Bolt's AsyncApp through its public API: no private method overridden, each
request's client of the app client's kind (its gate and metrics), kept per team and token,
and a workflow function's token kept to its own request."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pytest_aiohttp import AiohttpServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt.lean_bolt import LeanApp
from bot.slack.delivery.pacing import PacedWebClient
from bot.slack.front.front_door import to_bolt
from tests.slack_harness import Harness, start_harness

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
    "shortcut": {
        "type": "shortcut",
        "callback_id": "taskstatus_lookup",
        "team": TEAM,
        "user": USER,
        "trigger_id": "1.2.3",
    },
}


def test_no_private_method_of_bolt_is_overridden() -> None:
    """A Bolt release may change its private methods at will: the app touches none of them."""
    bolts = {name for cls in AsyncApp.__mro__ for name in vars(cls)}
    private = {name for name in vars(LeanApp) if name.startswith("_") and not name.startswith("__")}
    assert not private & bolts


async def authorize(**_: Any) -> AuthorizeResult:
    """The one workspace, known without asking Slack."""
    return AuthorizeResult(enterprise_id=None, team_id="T0HOME", bot_token="xoxb-1")


async def test_a_function_naming_other_arguments_gets_them_from_bolt() -> None:
    app = LeanApp(
        authorize=authorize,
        signing_secret="s",
        request_verification_enabled=False,
        process_before_response=True,
    )
    seen: dict[str, Any] = {}

    @app.command("/taskstatus")
    async def listener(ack: Any, payload: dict[str, Any], logger: logging.Logger) -> None:
        seen.update(payload=payload, logger=logger)
        await ack()

    response = await app.async_dispatch(to_bolt(BODIES["command"], {}, "http"))
    assert response.status == 200
    assert seen["payload"]["text"] == "ok-1"
    assert isinstance(seen["logger"], logging.Logger)


def probe(h: Harness) -> list[tuple[AsyncWebClient, Any]]:
    """A command and an action whose listeners record the client and context Bolt gives them."""
    seen: list[tuple[AsyncWebClient, Any]] = []

    async def record(ack: Any, client: AsyncWebClient, context: Any) -> None:
        seen.append((client, context))
        await ack()

    h.bot.app.command("/probe")(record)
    h.bot.app.action("probe")(record)
    return seen


async def send_probe(h: Harness, team: str) -> None:
    form = {**BODIES["command"], "command": "/probe", "team_id": team}
    response = await h.send(urlencode(form), "application/x-www-form-urlencoded")
    assert response.status == 200


async def test_each_team_keeps_a_client_of_the_app_clients_kind(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Bolt's own per-request client is a plain `AsyncWebClient`: no gate, no metrics."""
    async with start_harness(aiohttp_server, tmp_path) as h:
        seen = probe(h)
        for team in ("T0HOME", "T0HOME", "T0OTHER"):
            await send_probe(h, team)
        (home, _), (again, _), (other, _) = seen
        assert home is again  # made once for the team
        assert home is not other
        app_client = h.bot.app.client
        assert isinstance(app_client, PacedWebClient)
        for client, team in ((home, "T0HOME"), (other, "T0OTHER")):
            assert type(client) is type(app_client)
            assert isinstance(client, PacedWebClient)
            assert client.holds is app_client.holds is not None  # the one gate
            assert client.metrics is app_client.metrics is not None
            assert client.policy == app_client.policy
            assert client.token == app_client.token
            assert client.base_url == app_client.base_url
            assert client.session is app_client.session
            assert client.default_params.get("team_id") == team  # as Bolt's copy


async def test_a_workflow_token_gets_a_client_of_its_own_and_changes_no_other(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """Bolt sets a workflow function's token on the request's client: never a kept one."""
    async with start_harness(aiohttp_server, tmp_path) as h:
        seen = probe(h)
        await send_probe(h, "T0HOME")
        body = {
            **BODIES["block_actions"],
            "actions": [{"action_id": "probe", "block_id": "b", "type": "button"}],
            "function_data": {"execution_id": "Fx1"},
            "bot_access_token": "xwfp-function-token",
        }
        response = await h.interactive(body)
        assert response.status == 200
        await send_probe(h, "T0HOME")
        (kept, _), (function, context), (again, _) = seen
        assert function.token == context.function_bot_access_token == "xwfp-function-token"
        assert isinstance(function, PacedWebClient)
        assert function is not kept
        assert again is kept
        tokens = {h.bot.app.client.token, h.bot.deps.delivery.client.token, kept.token}
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
