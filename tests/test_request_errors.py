"""The guard around Bolt's dispatch: a body the code reading it cannot use is a 400 and one
short line, in both modes; the bot's own faults stay a 500 with their traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck
from slack_bolt.authorization import AuthorizeResult

from bot.slack.bolt import request_errors
from bot.slack.bolt.lean_bolt import LeanApp
from bot.slack.front.front_door import to_bolt

BODY = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1"},
    "actions": [{"action_id": "a"}],
}


async def authorize(**_: Any) -> AuthorizeResult:
    """The one workspace, known without asking Slack."""
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-x", bot_user_id="UB")


def app_with(listener: Any) -> LeanApp:
    app = LeanApp(
        authorize=authorize,
        request_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=True,
    )
    request_errors.install(app)
    app.action("a")(listener)
    return app


async def dispatch(app: LeanApp, body: dict[str, Any]) -> int:
    return (await app.async_dispatch(to_bolt(body, {}, "http"))).status


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.")]


async def test_a_shape_error_before_the_ack_is_a_400_and_one_short_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def reads_a_field(ack: AsyncAck, body: dict[str, Any]) -> None:
        body["view"]["state"].get("values")  # no view in this body: KeyError
        await ack()

    assert await dispatch(app_with(reads_a_field), BODY) == 400
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING
    assert line.exc_info is None
    assert "KeyError at tests.test_request_errors:" in line.getMessage()


async def test_bolt_tripping_on_a_body_before_any_listener_is_a_400(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def never(ack: AsyncAck) -> None:
        raise AssertionError("not reached")

    # The strict decoder refuses this; past it, the app keeps a client per team id (a key).
    assert await dispatch(app_with(never), {**BODY, "team": None, "team_id": {"x": 1}}) == 400
    [line] = lines(caplog)
    assert line.levelno == logging.WARNING
    assert "TypeError" in line.getMessage()


async def test_a_fault_after_the_ack_is_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails_late(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        body["missing"]

    assert await dispatch(app_with(fails_late), BODY) == 500
    [line] = lines(caplog)
    assert line.levelno == logging.ERROR
    assert line.exc_info is not None


async def test_other_failures_before_the_ack_stay_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def store_down(ack: AsyncAck) -> None:
        raise ConnectionError("store unreachable")

    assert await dispatch(app_with(store_down), BODY) == 500
    [line] = lines(caplog)
    assert line.levelno == logging.ERROR
