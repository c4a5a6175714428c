"""Whatever JSON a signed request carries, the strict decoder either refuses it with
`Malformed` or hands Bolt a body its context building and listener matching survive."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack.basics.ids import Action, Callback, HomeAction, Modal
from bot.slack.front.front_door import to_bolt
from bot.slack.front.request_body import Malformed, decode, socket_envelope
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM, FakeSlack
from tests.slack_harness import (
    Harness,
    envelope,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)

API = "http://127.0.0.1:8000/api/"
KEYS = [
    "type", "text", "subtype", "bot_id", "ts", "ssl_check", "token", "actions", "action_id", "block_id", "event", "view", "callback_id", "team", "user",
    "channel", "enterprise", "message", "previous_message", "item", "container",
    "authorizations", "response_url", "response_urls", "command", "id", "team_id", "user_id",
    "channel_id", "enterprise_id", "challenge", "is_ext_shared_channel", "user_team",
    "assistant_thread", "thread_ts", "function_data", "is_enterprise_install", "value",
]  # fmt: skip
TYPES = [
    "block_actions", "event_callback", "message_action", "shortcut", "view_submission",
    "view_closed", "app_mention", "url_verification", "message", "block_suggestion",
]  # fmt: skip
URLS = ["https://hooks.slack.com/x", "http://127.0.0.1:8000/respond/k", "file:///x"]

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(TYPES + URLS + KEYS + ["/taskstatus", "task_refresh", "T1", "U1", ""]),
)
# Objects that look like Slack's often enough to reach Bolt's matching: a known type, or an
# action id, is merged into many of them.
hints: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"type": st.sampled_from(TYPES)}),
    st.fixed_dictionaries({"action_id": st.sampled_from(["task_refresh", "a"])}),
)


def slack_object(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda fields, hint: {**fields, **hint},
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
        hints,
    )


value = st.recursive(
    leaf, lambda inner: st.one_of(st.lists(inner, max_size=3), slack_object(inner)), max_leaves=25
)
bodies = st.builds(
    lambda fields, kind: {**fields, "type": kind},
    st.dictionaries(st.sampled_from(KEYS), value, max_size=8),
    st.sampled_from(TYPES),
)


def app_with_listeners() -> AsyncApp:
    app = AsyncApp(token="xoxb-x", request_verification_enabled=False)

    async def noop() -> None:
        return None

    app.command("/taskstatus")(noop)
    app.shortcut("task_status_check")(noop)
    app.shortcut({"type": "shortcut", "callback_id": "g"})(noop)
    app.action("task_refresh")(noop)
    app.action({"block_id": "b", "action_id": "a"})(noop)
    app.event("app_mention")(noop)
    app.message("ok")(noop)
    app.view("modal")(noop)
    app.options("opts")(noop)
    return app


APP = app_with_listeners()


async def survives_bolt(body: dict[str, Any]) -> None:
    request = to_bolt(body, {}, "http")  # builds Bolt's context
    response = BoltResponse(status=200)
    for listener in APP._async_listeners:
        await listener.async_matches(req=request, resp=response)


def accepted(raw: bytes, content_type: str) -> dict[str, Any] | None:
    try:
        return decode(raw, content_type, None, API)
    except Malformed:
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
async def test_events_bodies_are_refused_or_safe_for_bolt(body: dict[str, Any]) -> None:
    decoded = accepted(json.dumps(body).encode(), "application/json")
    if decoded is not None:
        await survives_bolt(decoded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
async def test_interactive_payloads_are_refused_or_safe_for_bolt(body: dict[str, Any]) -> None:
    raw = urlencode({"payload": json.dumps(body)}).encode()
    decoded = accepted(raw, "application/x-www-form-urlencoded")
    if decoded is not None:
        await survives_bolt(decoded)


form_fields = st.dictionaries(
    st.sampled_from(KEYS), st.sampled_from(TYPES + URLS + ["/taskstatus", "1", "[]", "{}", ""])
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form_fields)
async def test_forms_are_refused_or_safe_for_bolt(fields: dict[str, str]) -> None:
    decoded = accepted(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    if decoded is not None:
        await survives_bolt(decoded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["slash_commands", "interactive", "events_api"]), bodies)
async def test_socket_envelopes_are_refused_or_safe_for_bolt(
    kind: str, body: dict[str, Any]
) -> None:
    if kind == "slash_commands":
        body = {**body, "command": "/taskstatus", "response_url": URLS[0]}
        body.pop("type")
    envelope = json.dumps({"envelope_id": "e1", "type": kind, "payload": body})
    try:
        checked = socket_envelope(envelope, API)
    except Malformed:
        return
    await survives_bolt(checked["payload"])


# -- the real app: every listener, in both modes ---------------------------------------------

USER = {"id": "U1", "team_id": HOME_TEAM}
TEAM = {"id": HOME_TEAM}
MODAL_STATE = {
    Modal.UIDS_BLOCK.value: {Modal.UIDS_INPUT.value: {"type": "plain_text_input", "value": "ok-1"}},
    Modal.DM_BLOCK.value: {Modal.DM_INPUT.value: {"type": "checkboxes", "selected_options": []}},
}


def templates(response_url: str) -> list[dict[str, Any]]:
    """One well-formed body per listener of the app, as Slack sends it."""
    message = {"ts": "1.1", "text": "ok-1", "blocks": []}
    button = {"type": "button", "block_id": "b", "action_ts": "1"}
    return [
        {
            "type": "block_actions",
            "user": USER,
            "team": TEAM,
            "channel": {"id": "C1"},
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
            "message": message,
            "response_url": response_url,
            "trigger_id": "t",
            "actions": [{**button, "action_id": action, "value": '{"u":["ok-1"]}'}],
        }
        for action in (Action.REFRESH.value, Action.WATCH.value, Action.UNWATCH.value)
    ] + [
        {
            "type": "block_actions",
            "user": USER,
            "team": TEAM,
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home"},
            "trigger_id": "t",
            "actions": [{**button, "action_id": action, "value": "w1"}],
        }
        for action in (
            HomeAction.UNWATCH.value,
            HomeAction.LOOKUP.value,
            HomeAction.FOLLOW_MODE.value,
        )
    ] + [
        {
            "type": "message_action",
            "callback_id": callback,
            "trigger_id": "t",
            "message_ts": "1.1",
            "message": message,
            "response_url": response_url,
            "user": USER,
            "channel": {"id": "C1"},
            "team": TEAM,
        }
        for callback in (Callback.CHECK.value, Callback.WATCH.value)
    ] + [
        {"type": "shortcut", "callback_id": Callback.LOOKUP.value, "trigger_id": "t",
         "user": USER, "team": TEAM},
        {
            "type": "view_submission",
            "user": USER,
            "team": TEAM,
            "view": {"id": "V1", "type": "modal", "callback_id": Modal.CALLBACK.value,
                     "state": {"values": MODAL_STATE}},
        },
        envelope({"type": "message", "channel_type": "channel", "user": "U2", "text": "ok-1",
                  "channel": "C1", "ts": "1.1"}),
        envelope({"type": "message", "channel_type": "channel", "bot_id": "B2", "text": "ok-1",
                  "bot_profile": {"app_id": "A2"}, "channel": "C1", "ts": "1.3"}),
        envelope({"type": "app_mention", "user": "U1", "text": "<@UBOT> ok-1", "channel": "C1",
                  "ts": "1.2"}),
        envelope({"type": "app_home_opened", "user": "U1", "tab": "home"}),
        envelope({"type": "member_left_channel", "user": "UBOT", "channel": "C1"}),
    ]  # fmt: skip


real_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", "x", "ok-1", "U1", "C1", "1.1", "home", "modal", *TYPES]),
)
real_value = st.recursive(
    real_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in `node` a value can be put or taken away."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found += paths(child, (*prefix, key))
    return found


def mutate(body: dict[str, Any], path: tuple[Any, ...], value: Any, drop: bool) -> None:
    *parents, last = path
    node: Any = body
    for key in parents:
        node = node[key]
    if drop and isinstance(node, dict):
        del node[last]
    else:
        node[last] = value


@st.composite
def mutated(draw: st.DrawFn, response_url: str) -> dict[str, Any]:
    """A body Slack sends, with one to three values replaced by others of any type, or gone."""
    body: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(templates(response_url))))
    for _ in range(draw(st.integers(1, 3))):
        spots = paths(body)
        if not spots:
            break
        path = draw(st.sampled_from(spots))
        mutate(body, path, draw(real_value), draw(st.booleans()))
    return body


def as_request(body: dict[str, Any]) -> tuple[str, str]:
    if body.get("type") == "event_callback":
        return json.dumps(body), "application/json"
    return urlencode({"payload": json.dumps(body)}), "application/x-www-form-urlencoded"


@pytest.fixture
async def socket_bot(aiohttp_server: AiohttpServer, tmp_path: Path) -> AsyncIterator[FakeSlack]:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    async with socket_mode_bot(socket_mode_settings(tmp_path, slack, api_url)):
        yield slack


RESPONSE_URL_KEY = "fuzz"


async def test_every_template_is_answered(harness: Harness) -> None:
    """The templates reach their listeners: what the fuzzing below starts from is accepted."""
    for body in templates(harness.slack.response_url(RESPONSE_URL_KEY)):
        response = await harness.send(*as_request(body))
        assert response.status == 200, body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
async def test_signed_bodies_never_get_a_5xx_or_an_error_line(
    harness: Harness, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    """Through the front door and every listener of the real app: a 2xx or a 4xx, without a
    traceback; the work a body starts logs no ERROR either."""
    body = data.draw(mutated(harness.slack.response_url(RESPONSE_URL_KEY)))
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="bot")
    response = await harness.send(*as_request(body))
    assert response.status < 500, body
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], body
    assert all(r.exc_info is None for r in caplog.records), body


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
async def test_socket_mode_acknowledges_every_envelope_without_an_error_line(
    socket_bot: FakeSlack, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    body = data.draw(mutated(socket_bot.response_url(RESPONSE_URL_KEY)))
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="bot")
    kind = "events_api" if body.get("type") == "event_callback" else "interactive"
    envelope_id = "f" + uuid.uuid4().hex
    ack = await socket_bot.socket_send({"envelope_id": envelope_id, "type": kind, "payload": body})
    assert ack["envelope_id"] == envelope_id
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], body
