"""Whatever JSON a signed request carries, the strict decoder either refuses it with
`Malformed` or hands Bolt a body its context building and listener matching survive."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack.front_door import to_bolt
from bot.slack.request_body import Malformed, decode, socket_envelope

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
