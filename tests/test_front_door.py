"""Hostile input through the real server: every kind of bad request, signed and unsigned.

Each request must get its status quickly (never a 5xx, never Bolt's 3 s ack wait), add at
most one short log line without a traceback or the body, and reach neither the task API nor
Slack; the bot must still answer a real command afterwards.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
import re
import time
import zlib
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from multidict import CIMultiDict
from pytest_aiohttp import AiohttpServer

from bot.slack.front.front_door import BODY_TIMEOUT
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from tests.slack_harness import (
    SIGNING_SECRET,
    Harness,
    slash_command,
    socket_mode_bot,
    socket_mode_settings,
    start_fakes,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed_headers(body: bytes, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp if stamp is not None else str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def payload_form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": HOME_TEAM},
        "team": {"id": HOME_TEAM},
        "channel": {"id": "C1"},
        "actions": [{"action_id": "task_refresh", "value": '{"u":["ok-1"]}'}],
    }
    payload.update(overrides)
    return payload


def message_action(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "message_action",
        "callback_id": "task_status_check",
        "user": {"id": "U1", "team_id": HOME_TEAM},
        "channel": {"id": "C1"},
        "message": {"ts": "1.1", "text": "ok-1"},
        "response_url": "https://hooks.slack.com/app/T1/1/x",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def command_form(**overrides: str) -> bytes:
    form = {
        "command": "/taskstatus",
        "text": "ok-1",
        "team_id": HOME_TEAM,
        "channel_id": "C1",
        "user_id": "U1",
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
    }
    form.update(overrides)
    return urlencode({k: v for k, v in form.items() if v != "<drop>"}).encode()


def mention_event(event: Any, **top: Any) -> bytes:
    return json.dumps(
        {"type": "event_callback", "team_id": HOME_TEAM, "event": event, **top}
    ).encode()


def view_submission(**view: Any) -> dict[str, Any]:
    """A lookup modal's submission; `view` fields set to None are left out."""
    fields = {"id": "V1", "type": "modal", "callback_id": "task_lookup_modal", **view}
    return {
        "type": "view_submission",
        "user": {"id": "U1", "team_id": HOME_TEAM},
        "team": {"id": HOME_TEAM},
        "view": {k: v for k, v in fields.items() if v is not None},
    }


CHANNEL_MESSAGE = {
    "type": "message",
    "channel_type": "channel",
    "user": "U2",
    "text": "ok-1",
    "channel": "C1",
    "ts": "1.1",
}
DEEP_JSON = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
APP_MENTION = {"type": "app_mention", "user": "U1", "text": "<@UBOT> ok-1", "channel": "C1"}

# (name, body, content type) - each is a 400 when signed and a 401 when not.
BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("JSON list", b"[1,2,3]", JSON),
    ("JSON true", b"true", JSON),
    ("broken JSON", b'{"type": ', JSON),
    ("JSON nested 10,000 deep", DEEP_JSON, JSON),
    ("NaN", b'{"type": "event_callback", "x": NaN}', JSON),
    ("4,000-digit number", b'{"type": "x", "n": ' + b"1" * 5000 + b"}", JSON),
    ("invalid UTF-8 in JSON", b'{"type": "\xff\xfe"}', JSON),
    ("charset=zlib", b'{"type": "event_callback"}', JSON + "; charset=zlib"),
    ("charset=utf-16", '{"type": "x"}'.encode("utf-16"), JSON + "; charset=utf-16"),
    ("form sent as JSON", command_form(), JSON),
    ("event: null", mention_event(None), JSON),
    ("event: string", mention_event("x"), JSON),
    ("event without type", mention_event({"user": "U1"}), JSON),
    ("event.user a number", mention_event({**APP_MENTION, "user": 5}), JSON),
    ("team as list", mention_event(APP_MENTION, team=["T1"]), JSON),
    ("authorizations a string", mention_event(APP_MENTION, authorizations="x"), JSON),
    ("type a number", b'{"type": 5}', JSON),
    ("an action sent as an event", json.dumps(block_actions()).encode(), JSON),
    ("an unknown payload type", payload_form({"type": "something_new"}), FORM),
    ("an event sent as a payload", payload_form({"type": "event_callback", "event": {}}), FORM),
    ("a command with a type", command_form(type="block_actions", actions="[]"), FORM),
    ("ssl_check with more", b"ssl_check=1&type=block_actions", FORM),
    ("url_verification without challenge", b'{"type": "url_verification"}', JSON),
    ("invalid UTF-8 in a form", b"command=/taskstatus&text=\xff\xfe", FORM),
    ("percent-encoded invalid UTF-8", b"command=%2Ftaskstatus&text=%FF%FE", FORM),
    ("payload not JSON", b"payload=not-json", FORM),
    ("payload a list", payload_form([1, 2]), FORM),
    ("payload nested 10,000 deep", b"payload=" + quote(DEEP_JSON).encode(), FORM),
    ("actions: []", payload_form(block_actions(actions=[])), FORM),
    ("action without action_id", payload_form(block_actions(actions=[{"value": "x"}])), FORM),
    ("actions a dict", payload_form(block_actions(actions={"action_id": "x"})), FORM),
    ("view: x", payload_form({"type": "view_submission", "view": "x"}), FORM),
    ("view without type", payload_form(view_submission(type=None)), FORM),
    ("view without id", payload_form(view_submission(id=None)), FORM),
    ("view state x", payload_form(view_submission(state="x")), FORM),
    ("view state values [1]", payload_form(view_submission(state={"values": [1]})), FORM),
    (
        "view state block a string",
        payload_form(view_submission(state={"values": {"b": "x"}})),
        FORM,
    ),
    ("event bot_profile x", mention_event({**CHANNEL_MESSAGE, "bot_profile": "x"}), JSON),
    ("event subtype a list", mention_event({**CHANNEL_MESSAGE, "subtype": []}), JSON),
    ("team_id an object", mention_event(APP_MENTION, team_id={"id": "T1"}), JSON),
    ("payload team_id a list", payload_form(block_actions(team_id=["T1"])), FORM),
    ("team as list", payload_form(block_actions(team=["T1"])), FORM),
    ("user as string", payload_form(block_actions(user="U1")), FORM),
    ("channel a number", payload_form(block_actions(channel=7)), FORM),
    ("shortcut without callback_id", payload_form(message_action(callback_id=None)), FORM),
    ("shortcut without a channel", payload_form(message_action(channel=None)), FORM),
    ("shortcut message a string", payload_form(message_action(message="x")), FORM),
    ("payload without type", payload_form({"actions": []}), FORM),
    (
        "file: response_url",
        payload_form(block_actions(response_url="file:///etc/passwd")),
        FORM,
    ),
    ("command without response_url", command_form(response_url="<drop>"), FORM),
    ("command response_url file:", command_form(response_url="file:///etc/passwd"), FORM),
    ("command response_url off Slack", command_form(response_url="https://e.example/h"), FORM),
    (
        "command response_url http on a hook host",
        command_form(response_url="http://hooks.slack.com/commands/x"),
        FORM,
    ),
    (
        "command response_url on a loopback port",
        command_form(response_url="http://127.0.0.1:9/x"),
        FORM,
    ),
    ("command not starting with /", command_form(command="taskstatus"), FORM),
    ("empty body", b"", FORM),
    ("repeated field", b"command=/taskstatus&command=/other", FORM),
    ("unknown form", b"foo=bar", FORM),
    ("not url-encoded", b"just text", FORM),
    ("text/plain", b"command=/taskstatus", "text/plain"),
    ("no content type", b"command=/taskstatus", ""),
]

NOW = str(int(time.time()))
# (name, headers) over a well-formed command: each is a 401.
BAD_HEADERS: list[tuple[str, dict[str, str]]] = [
    ("no headers", {}),
    ("no timestamp", {"X-Slack-Signature": "v0=" + "0" * 64}),
    ("no signature", {"X-Slack-Request-Timestamp": NOW}),
    ("timestamp abc", signed_headers(command_form(), "abc")),
    ("empty timestamp", signed_headers(command_form(), "")),
    ("timestamp 1e10", signed_headers(command_form(), "1e10")),
    ("4,000-digit timestamp", signed_headers(command_form(), "9" * 4000)),
    ("negative timestamp", signed_headers(command_form(), "-5")),
    ("timestamp with spaces", signed_headers(command_form(), f" {NOW} ")),
    ("stale timestamp", signed_headers(command_form(), str(int(time.time()) - 600))),
    ("future timestamp", signed_headers(command_form(), str(int(time.time()) + 600))),
    ("signature not hex", {**signed_headers(command_form()), "X-Slack-Signature": "v0=zz"}),
    ("signature v1", {**signed_headers(command_form()), "X-Slack-Signature": "v1=" + "0" * 64}),
    ("wrong signature", {**signed_headers(command_form()), "X-Slack-Signature": "v0=" + "0" * 64}),
    ("signed for another body", signed_headers(b"command=/other")),
    ("compressed body", {**signed_headers(command_form()), "Content-Encoding": "gzip"}),
]


class LogWatch:
    """What one request added to the log."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog
        caplog.set_level(logging.INFO)
        caplog.set_level(logging.WARNING, logger="aiohttp.access")  # as bot.ops.logs configures it
        self._seen = 0

    def new(self) -> list[logging.LogRecord]:
        records = self._caplog.records[self._seen :]
        self._seen = len(self._caplog.records)
        return records

    def assert_at_most_one_short_line(self, what: str, body: bytes = b"") -> None:
        records = self.new()
        assert len(records) <= 1, (what, [r.getMessage() for r in records])
        for record in records:
            message = record.getMessage()
            assert record.levelno <= logging.WARNING, (what, message)
            assert record.exc_info is None, (what, message)
            assert len(message) < 200, (what, message)
            assert "\n" not in message, (what, message)
            if len(body) > 20:
                assert body.decode(errors="replace")[:40] not in message, (what, message)


async def post(harness: Harness, body: bytes, content_type: str, headers: dict[str, str]) -> int:
    started = time.monotonic()
    response = await harness.http.post(
        "/slack/events",
        data=body,
        headers={
            **({"Content-Type": content_type} if content_type else {}),
            "Connection": "close",  # the server may close it anyway; never reuse it
            **headers,
        },
    )
    await response.read()
    assert time.monotonic() - started < 2.5, "waited like Bolt's 3 s ack timeout"
    return response.status


async def answers_a_real_command(harness: Harness) -> None:
    response, key = await harness.command("ok-1")
    assert response.status == 200
    [answer] = await harness.answers(key)
    assert "ok-1" in json.dumps(answer)


async def test_hostile_bodies_signed_and_unsigned(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await answers_a_real_command(harness)  # Bolt's first-request set-up is done
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)
    api_calls, slack_calls = len(harness.api.calls), len(harness.slack.calls)
    logs = LogWatch(caplog)
    logs.new()
    for name, body, content_type in BAD_BODIES:
        assert await post(harness, body, content_type, {}) == 401, name
        logs.assert_at_most_one_short_line("unsigned " + name, body)
        assert await post(harness, body, content_type, signed_headers(body)) == 400, name
        logs.assert_at_most_one_short_line("signed " + name, body)
    for name, headers in BAD_HEADERS:
        assert await post(harness, command_form(), FORM, headers) == 401, name
        logs.assert_at_most_one_short_line(name)
    assert len(harness.api.calls) == api_calls
    assert len(harness.slack.calls) == slack_calls
    await answers_a_real_command(harness)


@pytest.mark.parametrize(
    "encodings",
    [
        ["identity", "gzip"],  # read by the first, inflated by the last
        ["gzip", "identity"],
        ["identity, gzip"],
        ["identity", "identity,deflate"],
        ["IDENTITY", " x-gzip "],
    ],
)
async def test_any_compressed_coding_in_any_header_is_refused_unread(
    harness: Harness, caplog: pytest.LogCaptureFixture, encodings: list[str]
) -> None:
    """The signature is over the bytes aiohttp hands over, inflated or not: a body that would
    be inflated is refused before it is read, whichever header or list item names it."""
    logs = LogWatch(caplog)
    body = command_form()
    compressed = gzip.compress(body) if "deflate" not in encodings[-1] else zlib.compress(body)
    headers = CIMultiDict({"Content-Type": FORM, **signed_headers(body)})
    for value in encodings:
        headers.add("Content-Encoding", value)
    response = await harness.http.post("/slack/events", data=compressed, headers=headers)
    assert response.status == 401
    logs.assert_at_most_one_short_line(f"Content-Encoding {encodings}")
    assert harness.api.calls == []


async def test_identity_content_encoding_headers_are_accepted(harness: Harness) -> None:
    body = command_form()
    headers = CIMultiDict({"Content-Type": FORM, **signed_headers(body)})
    headers.add("Content-Encoding", "identity")
    headers.add("Content-Encoding", "Identity")
    response = await harness.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 200


async def test_a_body_over_the_limit_is_refused_unread_or_with_a_413(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    body = b"command=/taskstatus&text=" + b"x" * 1_100_000
    assert await post(harness, body, FORM, {}) == 401
    logs.assert_at_most_one_short_line("unsigned, too big", body)
    assert await post(harness, body, FORM, signed_headers(body)) == 413
    logs.assert_at_most_one_short_line("signed, too big", body)
    await answers_a_real_command(harness)


async def test_signed_requests_nobody_handles_are_one_short_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    unknown = [
        payload_form(block_actions(actions=[{"action_id": "nope"}])),
        payload_form(message_action(callback_id="nope")),
        command_form(command="/other"),
    ]
    for body in unknown:
        status = await post(harness, body, FORM, signed_headers(body))
        assert status == 404
        logs.assert_at_most_one_short_line(body.decode()[:60], body)
    event = mention_event({"type": "reaction_added", "user": "U1"})
    assert await post(harness, event, JSON, signed_headers(event)) == 404
    logs.assert_at_most_one_short_line("unsubscribed event", event)
    assert harness.api.calls == []
    await answers_a_real_command(harness)


async def test_url_verification_and_ssl_check_still_work(harness: Harness) -> None:
    challenge = b'{"type": "url_verification", "challenge": "c-123", "token": "t"}'
    response = await harness.http.post(
        "/slack/events",
        data=challenge,
        headers={"Content-Type": JSON, **signed_headers(challenge)},
    )
    assert response.status == 200
    assert (await response.json())["challenge"] == "c-123"
    ssl_check = b"ssl_check=1&token=t"
    response = await harness.http.post(
        "/slack/events", data=ssl_check, headers={"Content-Type": FORM, **signed_headers(ssl_check)}
    )
    assert response.status == 200


async def test_wrong_methods_and_paths_are_not_errors(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    for method, path in [("GET", "/slack/events"), ("PUT", "/slack/events"), ("POST", "/x")]:
        response = await harness.http.request(method, path, data=b"x" * 1000)
        assert response.status in {404, 405}
        logs.assert_at_most_one_short_line(f"{method} {path}")


async def test_a_flood_of_unsigned_requests_writes_a_few_lines(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    body = b"x" * 100_000
    statuses = await asyncio.gather(*(post(harness, body, FORM, {}) for _ in range(200)))
    assert set(statuses) == {401}
    records = logs.new()
    assert 1 <= len(records) <= 12  # the burst, not one line per request
    assert sum(len(r.getMessage()) for r in records) < 2_000


async def test_a_response_url_that_fails_is_one_warning_and_no_second_try(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    key = "expired"
    harness.slack.expired_responses.add(key)
    form = command_form(response_url=harness.slack.response_url(key))
    assert await post(harness, form, FORM, signed_headers(form)) == 200
    await harness.slack.wait_for(lambda: harness.slack.responses.get(key))
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)
    assert len(harness.slack.responses[key]) == 1  # the failure note did not follow it there
    warnings = [r for r in logs.new() if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "response_url" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    await answers_a_real_command(harness)


RAW_REQUESTS = [
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
]


async def test_malformed_http_is_a_400_and_a_short_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    logs = LogWatch(caplog)
    server = harness.http.server
    for raw in RAW_REQUESTS:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert answer == b"" or re.match(rb"HTTP/1\.[01] 4\d\d ", answer), (raw[:40], answer[:60])
        logs.assert_at_most_one_short_line(repr(raw[:40]), raw)
    health = await harness.http.get("/healthz")
    assert health.status == 200
    await answers_a_real_command(harness)


async def test_a_body_that_trickles_in_is_cut_off(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Headers that look signed (anyone can forge the form), then a body that never ends:
    the connection is answered and let go, not held for as long as the sender likes."""
    logs = LogWatch(caplog)
    server = harness.http.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    headers = {
        "Content-Type": FORM,
        "Content-Length": "1000",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"POST /slack/events HTTP/1.1\r\nHost: x\r\n{head}\r\ncommand=".encode())
    await writer.drain()
    started = time.monotonic()
    status_line = await asyncio.wait_for(reader.readline(), BODY_TIMEOUT + 5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408 "), status_line
    assert time.monotonic() - started < BODY_TIMEOUT + 2
    logs.assert_at_most_one_short_line("trickled body")
    await answers_a_real_command(harness)


def bot_mention(n: int) -> dict[str, Any]:
    """An envelope the bot acks and then ignores (a bot's own mention)."""
    event = {**APP_MENTION, "bot_id": "B9", "ts": f"{n}.1"}
    payload = {"type": "event_callback", "team_id": HOME_TEAM, "event_id": f"Ev{n}", "event": event}
    return {"envelope_id": f"seq{n}", "type": "events_api", "payload": payload}


async def test_socket_mode_refuses_malformed_envelopes(
    aiohttp_server: AiohttpServer, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = socket_mode_settings(tmp_path, slack, api_url)
    logs = LogWatch(caplog)
    command = slash_command(slack, "ok-1")
    async with socket_mode_bot(settings):
        raw_frames = ["not json", "[1,2]", "{", DEEP_JSON.decode(), '{"type": 5}']
        acked_envelopes: list[dict[str, Any]] = [
            {"envelope_id": "b1", "type": "slash_commands", "payload": "x"},
            {"envelope_id": "b2", "type": "slash_commands", "payload": [1]},
            {"envelope_id": "b3", "type": "interactive", "payload": block_actions(actions=[])},
            {"envelope_id": "b4", "type": "interactive", "payload": block_actions(user="U1")},
            {"envelope_id": "b5", "type": "events_api", "payload": {"type": "event_callback"}},
            {
                "envelope_id": "b6",
                "type": "events_api",
                "payload": {"type": "event_callback", "event": None},
            },
            {
                "envelope_id": "b7",
                "type": "slash_commands",
                "payload": {**command, "response_url": "http://127.0.0.1:9/x"},
            },
            {"envelope_id": "b8", "type": "slash_commands"},
            {"envelope_id": "b9", "type": "interactive", "payload": view_submission(type=None)},
            {"envelope_id": "b10", "type": "interactive", "payload": view_submission(state="x")},
            {
                "envelope_id": "b11",
                "type": "interactive",
                "payload": view_submission(state={"values": [1]}),
            },
            {
                "envelope_id": "b12",
                "type": "events_api",
                "payload": json.loads(mention_event({**CHANNEL_MESSAGE, "bot_profile": "x"})),
            },
        ]
        for n, frame in enumerate(raw_frames):
            await slack.socket_send_raw(frame)
            await slack.socket_send(bot_mention(n))  # handled after the frame: awaitable
            logs.assert_at_most_one_short_line(frame[:40], frame.encode())
        for envelope in acked_envelopes:
            ack = await slack.socket_send(envelope)
            assert ack == {"envelope_id": envelope["envelope_id"]}
            logs.assert_at_most_one_short_line(str(envelope)[:60])
        # Refused past the envelope check (no listener takes it): acknowledged all the same,
        # or Slack would send it again.
        unknown = block_actions(actions=[{"action_id": "nope"}])
        ack = await slack.socket_send(
            {"envelope_id": "u1", "type": "interactive", "payload": unknown}
        )
        assert ack == {"envelope_id": "u1"}
        logs.assert_at_most_one_short_line("unknown action")
        assert api.calls == []
        assert not slack.called("chat.postMessage")
        assert not slack.responses
        await slack.socket_send({"envelope_id": "e1", "type": "slash_commands", "payload": command})
        await slack.wait_for(lambda: slack.responses.get("sock"))
        assert "ok-1" in json.dumps(slack.responses["sock"][0])
