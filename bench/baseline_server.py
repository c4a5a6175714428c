"""The bare minimum one slash-command answer costs: verify, ack, post a fixed answer.

The yardstick for `bench/answer_cost.py`. It does what any HTTP-mode Slack app must do for
`/taskstatus UID` and nothing more: check the request's signature on its raw bytes, answer
200 at once, then post one fixed, pre-encoded Block Kit answer to the command's
`response_url` with one shared client session. No task API, no rendering, no framework.

`--lookup` adds the one thing the bot cannot skip: a signed call to the task API
(`TASK_API_URL`) for the command's UID, its JSON read, before the fixed answer. That is the
floor under any implementation of the bot, Bolt or not.
Usage: SLACK_SIGNING_SECRET=... python bench/baseline_server.py PORT [--uvloop] [--lookup]
(`--uvloop`: on the event loop the bot runs on, to see what the loop alone is worth)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.taskapi.client import ACTION
from bot.taskapi.signing import sign

ANSWER = json.dumps(
    {
        "response_type": "in_channel",
        "text": "1 task: 1 Finished",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*1 task*  :white_check_mark: 1 Finished"},
            },
            {"type": "divider"},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":white_check_mark: *Finished*  `ok-1`  ·  TaskGeneratePicture",
                },
            },
        ],
    }
).encode()


def baseline_app(
    secret: str, session: aiohttp.ClientSession, api: dict[str, str] | None = None
) -> web.Application:
    """`api` (url, public_key, private_key): look the UID up first (`--lookup`)."""
    verifier = SignatureVerifier(secret)
    pending: set[asyncio.Task[None]] = set()

    async def lookup(uid: str) -> None:
        assert api is not None
        body = {
            "Action": ACTION,
            "PublicKey": api["public_key"],
            "TaskUIDs": [uid],
            "request_uuid": str(uuid.uuid4()),
        }
        body["Signature"] = sign(body, api["private_key"])
        async with session.post(api["url"], json=body) as resp:
            assert resp.status == 200, resp.status
            json.loads(await resp.read())

    async def post(url: str, uid: str) -> None:
        if api is not None:
            await lookup(uid)
        headers = {"Content-Type": "application/json"}
        async with session.post(url, data=ANSWER, headers=headers) as resp:
            await resp.read()

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        if not verifier.is_valid(
            body=body,
            timestamp=headers.get("X-Slack-Request-Timestamp"),
            signature=headers.get("X-Slack-Signature"),
        ):
            return web.Response(status=401)
        form = parse_qs(body.decode())
        url, uid = form.get("response_url", [""])[0], form.get("text", [""])[0]
        task = asyncio.create_task(post(url, uid))
        pending.add(task)
        task.add_done_callback(pending.discard)
        return web.Response()

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


async def main(port: int, secret: str, api: dict[str, str] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        runner = web.AppRunner(baseline_app(secret, session, api), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await stop.wait()
        await runner.cleanup()


if __name__ == "__main__":
    api = {
        "url": os.environ["TASK_API_URL"],
        "public_key": os.environ["TASK_API_PUBLIC_KEY"],
        "private_key": os.environ["TASK_API_PRIVATE_KEY"],
    }
    lookups = "--lookup" in sys.argv[2:]
    serving = main(int(sys.argv[1]), os.environ["SLACK_SIGNING_SECRET"], api if lookups else None)
    if "--uvloop" in sys.argv[2:]:
        import uvloop

        uvloop.run(serving)
    else:
        asyncio.run(serving)
