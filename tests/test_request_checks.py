"""The pure checks behind the front door: signature headers, strict decoding, response_url
policy, tolerant payload readers, and the log budget."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.ops.limited_log import LimitedLog
from bot.slack.basics.payloads import live_watch_id, message_thread, obj, requester_team, text
from bot.slack.delivery.response_url import GuardedWebhook, ResponseUrlError, response_url_allowed
from bot.slack.front.request_body import Malformed, decode, socket_envelope
from bot.slack.front.signature import header_problem, signature_matches

API = "http://127.0.0.1:8000/api/"
NOW = 1_700_000_000.0
GOOD_SIG = "v0=" + "a" * 64


@pytest.mark.parametrize(
    ("timestamp", "signature", "problem"),
    [
        ("1700000000", GOOD_SIG, None),
        ("1700000299", GOOD_SIG, None),
        (None, GOOD_SIG, "no timestamp"),
        ("1700000000", None, "no signature"),
        ("abc", GOOD_SIG, "timestamp is not a plain integer"),
        ("1e10", GOOD_SIG, "timestamp is not a plain integer"),
        ("9" * 4000, GOOD_SIG, "timestamp is not a plain integer"),
        ("+1700000000", GOOD_SIG, "timestamp is not a plain integer"),
        ("١٧٠٠٠٠٠٠٠٠", GOOD_SIG, "timestamp is not a plain integer"),  # int() takes these
        ("1_700_000_000", GOOD_SIG, "timestamp is not a plain integer"),
        ("1699999000", GOOD_SIG, "timestamp is more than five minutes off"),
        ("1700000301", GOOD_SIG, "timestamp is more than five minutes off"),
        ("1700000000", "v0=xyz", "signature is not of the form v0=<hex>"),
        ("1700000000", "v1=" + "a" * 64, "signature is not of the form v0=<hex>"),
    ],
)
def test_header_problem(timestamp: str | None, signature: str | None, problem: str | None) -> None:
    assert header_problem(timestamp, signature, NOW) == problem


def test_signature_is_over_the_raw_bytes() -> None:
    body = b"text=\xff\xfe not UTF-8"
    digest = hmac.new(b"secret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert signature_matches(b"secret", "1700000000", "v0=" + digest, body)
    assert not signature_matches(b"secret", "1700000000", "v0=" + digest, body + b" ")
    assert not signature_matches(b"other", "1700000000", "v0=" + digest, body)


def form_payload(payload: Any) -> bytes:
    return b"payload=" + json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("raw", "content_type", "charset", "reason"),
    [
        (b"[1]", "application/json", None, "body is JSON but not an object"),
        (b'{"a": Infinity}', "application/json", None, "body is not JSON"),
        (b"{}", "application/json", "latin-1", "charset other than UTF-8"),
        (b'{"type": "event_callback"}', "application/json", None, "event_callback without"),
        (b'{"type": "event_callback", "event": []}', "application/json", None, "body: event:"),
        (b'{"type": "x", "team": 5}', "application/json", None, "body: team: has the wrong type"),
        (b"a=1&a=2", "application/x-www-form-urlencoded", None, "form repeats a field"),
        (b"a", "application/x-www-form-urlencoded", None, "form is not url-encoded fields"),
        (
            form_payload({"type": "block_actions", "actions": [{"value": "v"}]}),
            "application/x-www-form-urlencoded",
            None,
            "payload: actions.0.action_id: Field required",
        ),
        (
            form_payload({"type": "view_submission", "view": {"id": "V", "type": "modal"}}),
            "application/x-www-form-urlencoded",
            None,
            "view_submission without a view id and callback_id",
        ),
        (
            form_payload({"type": "view_submission", "view": {"id": "V", "callback_id": "c"}}),
            "application/x-www-form-urlencoded",
            None,
            "payload: view.type: Field required",
        ),
        (
            form_payload(
                {"type": "view_submission", "view": {"id": "V", "type": "modal", "state": "x"}}
            ),
            "application/x-www-form-urlencoded",
            None,
            "payload: view.state: Input should be",
        ),
        (
            b'{"type": "event_callback", "event": {"type": "message", "bot_profile": "x"}}',
            "application/json",
            None,
            "body: event.bot_profile: Input should be",
        ),
        (b"x", "multipart/form-data", None, "content type is neither a form nor JSON"),
    ],
)
def test_decode_names_what_was_wrong(
    raw: bytes, content_type: str, charset: str | None, reason: str
) -> None:
    with pytest.raises(Malformed) as caught:
        decode(raw, content_type, charset, API)
    assert reason in str(caught.value)


def test_decode_passes_what_slack_sends() -> None:
    command = b"command=%2Ftaskstatus&text=ok-1&response_url=https%3A%2F%2Fhooks.slack.com%2Fc%2F1"
    assert decode(command, "application/x-www-form-urlencoded", "UTF-8", API)["text"] == "ok-1"
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "enterprise": None,
        "actions": [{"action_id": "task_refresh", "block_id": "b"}],
        "response_url": "http://127.0.0.1:8000/respond/x",
        "message": {"ts": "1.2", "blocks": [{"type": "section"}]},
    }
    form = "payload=" + json.dumps(payload)
    assert decode(form.encode(), "application/x-www-form-urlencoded", None, API) == payload
    event = {"type": "event_callback", "event": {"type": "app_mention", "channel": "C1"}}
    assert decode(json.dumps(event).encode(), "application/json", "utf-8", API) == event
    assert decode(b"ssl_check=1&token=x", "application/x-www-form-urlencoded", None, API)


def test_socket_envelopes_keep_their_id_when_refused() -> None:
    with pytest.raises(Malformed) as caught:
        socket_envelope('{"envelope_id": "e1", "type": "interactive", "payload": []}', API)
    assert caught.value.envelope_id == "e1"
    with pytest.raises(Malformed) as caught:
        socket_envelope('{"envelope_id": 5, "type": "interactive"}', API)
    assert caught.value.envelope_id is None
    hello = socket_envelope('{"type": "hello", "num_connections": 1}', API)
    assert hello["type"] == "hello"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/2/x", True),
        ("https://hooks.slack-gov.com/actions/T1/2/x", True),
        ("https://hooks.slack.com:443/commands/x", True),
        ("http://127.0.0.1:8000/respond/k", True),  # SLACK_API_URL's scheme, host and port
        ("http://hooks.slack.com/commands/x", False),
        ("https://hooks.slack.com:8443/commands/x", False),
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://user:pw@hooks.slack.com/x", False),
        ("https://127.0.0.1:8000/respond/k", False),
        ("http://127.0.0.1:8001/respond/k", False),
        ("http://localhost:8000/respond/k", False),
        ("file:///etc/passwd", False),
        ("/respond/k", False),
        ("", False),
        (None, False),
        (["https://hooks.slack.com/x"], False),
    ],
)
def test_response_url_policy(url: Any, allowed: bool) -> None:
    assert response_url_allowed(url, API) is allowed


async def test_a_refused_response_url_makes_no_request(aiohttp_server: AiohttpServer) -> None:
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        allowed = GuardedWebhook(
            str(server.make_url("/ok")), str(server.make_url("/api/")), session=session
        )
        assert (await allowed.send(text="hi")).status_code == 200
        refused = GuardedWebhook(str(server.make_url("/no")), API, session=session)
        with pytest.raises(ResponseUrlError) as caught:
            await refused.send(text="hi")
    assert caught.value.status == 0
    assert hits == ["/ok"]


def test_payload_readers_treat_wrong_types_as_missing() -> None:
    body = {"team": ["T1"], "user": "U1", "channel": {"id": 5}, "message": "x"}
    assert text(body, "team", "id") == ""
    assert text(body, "user", "id") == ""
    assert text(body, "channel", "id") == "5"
    assert obj(body, "message") == {}
    assert message_thread("not a message") == ""
    assert message_thread({"ts": "1.2", "thread_ts": ["x"]}) == "1.2"
    assert live_watch_id({"blocks": "x"}) == ""
    assert live_watch_id({"blocks": [5, {"elements": 7}, {"elements": [None]}]}) == ""
    assert requester_team({"user": "U1", "event": None, "team": ["T"]}) is None
    assert requester_team({"user": {"team_id": "T2"}, "team_id": "T1"}) == "T2"
    # A message event's `team` is its author's, before the envelope's (the home team)...
    assert requester_team({"event": {"team": "T2"}, "team_id": "T1"}) == "T2"
    # ...and after the more exact `user_team` and `source_team`.
    assert requester_team({"event": {"team": "T2", "source_team": "T3"}}) == "T3"
    assert requester_team({"event": {"team": "T2", "user_team": "T4"}, "team_id": "T1"}) == "T4"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limited_log_spends_a_budget_then_says_how_many_it_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limited = LimitedLog(logging.getLogger("test.limited"), per_minute=6, burst=2, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.limited"):
        for _ in range(100):
            limited.warning("refused %s", "x")
        assert [r.getMessage() for r in caplog.records] == ["refused x", "refused x"]
        clock.now += 10  # one line's worth of budget back
        limited.warning("refused %s", "y")
    assert caplog.records[-1].getMessage() == "refused y (98 similar lines left out)"
    assert len(caplog.records) == 3
