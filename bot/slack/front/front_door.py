"""`POST /slack/events`: the signature first, on the raw bytes; then strict decoding; then Bolt.

- Timestamp and signature headers are judged before the body is even read; the body is read
  (within the app's size limit and `BODY_TIMEOUT`) and hashed only when they could be right.
  Failure: 401.
- After a valid signature the body is decoded strictly (`request_body`): failure is a 400.
- Every refusal is one short WARNING (what was wrong and the peer's address, never the body
  or a traceback), within a budget so that a flood writes a few lines, not gigabytes.
- Bolt gets the checked dict, not the text: it would parse it again, loosely (a form body
  starting with ``{`` as JSON, a command mentioning "payload" as empty). Bolt's own signature
  check is off (`bot.slack.bolt.app`): it happened here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.ops.limited_log import LimitedLog
from bot.slack.front.request_body import Malformed, decode, identity_only
from bot.slack.front.signature import header_problem, signature_matches

log = logging.getLogger(__name__)

# Slack sends its (small) body at once and gives up on an answer after 3 s; a body still
# trickling in after that can only hold a connection open (anyone can send headers that
# look signed), so it is cut off.
BODY_TIMEOUT = 3.0


class FrontDoor:
    def __init__(
        self,
        app: AsyncApp,
        signing_secret: str,
        api_base: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._secret = signing_secret.encode()
        self._api_base = api_base
        self._clock = clock
        self._refusals = LimitedLog(log)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        problem = header_problem(timestamp, signature, self._clock())
        if not self._secret:
            problem = "no signing secret is set"
        if problem is None and not identity_only(request.headers.getall("Content-Encoding", [])):
            problem = "compressed body"  # Slack never compresses; it would be inflated unsigned
        if problem is not None:
            return self._refuse(request, 401, problem)
        assert timestamp is not None
        assert signature is not None
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                raw = await request.read()
        except TimeoutError:
            return self._refuse(request, 408, "body still arriving after its deadline")
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(request, 413, "body over the size limit")
        except (HttpProcessingError, RequestPayloadError, aiohttp.ClientError, OSError):
            return self._refuse(request, 400, "body could not be read")
        if not signature_matches(self._secret, timestamp, signature, raw):
            return self._refuse(request, 401, "bad signature")
        try:
            body = decode(raw, request.content_type, request.charset, self._api_base)
        except Malformed as exc:
            return self._refuse(request, 400, str(exc))
        response = await self._app.async_dispatch(bolt_request(request, body))
        return await to_aiohttp_response(response)

    def _refuse(self, request: web.Request, status: int, reason: str) -> web.Response:
        self._refusals.warning(
            "refused a request to %s from %s: %s (%d)", request.path, request.remote, reason, status
        )
        return web.Response(status=status)


def bolt_request(request: web.Request, body: dict[str, Any]) -> AsyncBoltRequest:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return to_bolt(body, headers, "http")


def to_bolt(body: dict[str, Any], headers: dict[str, Any], mode: str) -> AsyncBoltRequest:
    """A Bolt request from a checked body.

    Bolt takes a decoded dict only in its Socket Mode shape; nothing else differs but its own
    signature check (off) and lazy listeners (unused). The logger is given up front: Bolt's
    context building logs when a payload has several `response_urls`, and without one it
    raises before its own error handling starts.
    """
    context = {"logger": bolt_logger}
    bolt = AsyncBoltRequest(body=body, headers=headers, context=context, mode="socket_mode")
    bolt.mode = mode
    return bolt


bolt_logger = logging.getLogger("bot.slack.bolt")
