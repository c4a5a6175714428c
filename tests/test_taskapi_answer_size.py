"""The answer size cap holds whether the task API announces a length or streams chunks."""

from __future__ import annotations

import gzip
import json

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from pytest_aiohttp import AiohttpServer

from bot.taskapi.client import ClientConfig, TaskApiClient
from bot.taskapi.errors import ApiUnreadable
from bot.taskapi.models import Failed, Found

CAP = 1000
ANSWER = json.dumps({"RetCode": 0, "TaskDetailList": [{"TaskUid": "a-1", "TaskStatus": "Running"}]})


def task_api(padding: int, *, chunked: bool) -> web.Application:
    """Answers one task, padded with spaces to the size asked for."""
    body = (ANSWER + " " * padding).encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(body=body, content_type="application/json")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 300):
            await response.write(body[start : start + 300])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/", handle)
    return app


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(("padding", "fits"), [(0, True), (CAP - len(ANSWER), True), (CAP, False)])
async def test_answer_size_cap(
    aiohttp_server: AiohttpServer, chunked: bool, padding: int, fits: bool
) -> None:
    server = await aiohttp_server(task_api(padding, chunked=chunked))
    config = ClientConfig(str(server.make_url("/")), "pub", "priv", max_response_bytes=CAP)
    async with aiohttp.ClientSession() as session:
        client = TaskApiClient(session, config)
        [result] = await client.get_tasks(["a-1"])
    if fits:
        assert isinstance(result, Found)
        assert result.task.task_status == "Running"
    else:
        assert isinstance(result, Failed)
        assert isinstance(result.error, ApiUnreadable)
        assert f"larger than {CAP} bytes" in str(result.error)


@pytest.mark.parametrize("encodings", [["gzip"], ["identity", "gzip"]])
async def test_a_compressed_answer_is_capped_once_inflated(
    aiohttp_server: AiohttpServer, encodings: list[str]
) -> None:
    """A small gzip body with a length can inflate far past the cap: it is counted inflated,
    also when an `identity` comes first (aiohttp inflates by the last header)."""
    inflated = (ANSWER + " " * (50 * CAP)).encode()

    async def handle(request: web.Request) -> web.Response:
        body = gzip.compress(inflated)
        assert len(body) < CAP  # the announced length alone would pass
        headers = CIMultiDict([("Content-Type", "application/json")])
        for encoding in encodings:
            headers.add("Content-Encoding", encoding)
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/", handle)
    server = await aiohttp_server(app)
    config = ClientConfig(str(server.make_url("/")), "pub", "priv", max_response_bytes=CAP)
    async with aiohttp.ClientSession() as session:
        [result] = await TaskApiClient(session, config).get_tasks(["a-1"])
    assert isinstance(result, Failed)
    assert f"larger than {CAP} bytes" in str(result.error)
