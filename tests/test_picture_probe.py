"""Finding the pictures Slack refused without naming them: each fetched through the safe
fetcher, all at once, each within a short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.pictures.fetcher import PictureFetcher
from bot.render.answer import SINGLE_PREVIEWS, Message, answer_message
from bot.slack.delivery.picture_probe import broken_pictures, picture_urls
from bot.taskapi.fake import solid_png
from bot.taskapi.models import Found, TaskDetail

PICTURES = SINGLE_PREVIEWS  # shown at once for one task: the first round's probes


async def picture_server(aiohttp_server: AiohttpServer, *, hang: str = "") -> str:
    """Pictures that answer only once all of them were asked for (a sequential prober would
    wait on the first for ever); `/missing.png` is a 404 and `hang` never answers."""
    asked: set[str] = set()
    everyone = asyncio.Event()

    async def picture(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        asked.add(name)
        if len(asked) >= PICTURES:
            everyone.set()
        if name == hang:
            await asyncio.Event().wait()
        await everyone.wait()
        if name == "missing.png":
            raise web.HTTPNotFound()
        return web.Response(body=solid_png(1, 2, 3), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{name}", picture)
    server = await aiohttp_server(app)
    return str(server.make_url("/"))


def answer_with(urls: list[str]) -> Callable[[frozenset[str]], Message]:
    task = TaskDetail.model_validate(
        {"TaskUid": "ok-1", "TaskStatus": "Finished", "FinalPictureUrls": urls}
    )
    results = [Found("ok-1", task)]
    return lambda no_preview: answer_message(results, no_preview=no_preview)


async def test_each_picture_is_probed_at_once_and_the_broken_one_found(
    aiohttp_server: AiohttpServer,
) -> None:
    base = await picture_server(aiohttp_server)
    urls = [f"{base}0.png", f"{base}missing.png", *(f"{base}{n}.png" for n in range(1, 4))]
    build = answer_with(urls)
    assert picture_urls(build(frozenset())) == set(urls[:PICTURES])
    async with PictureFetcher(max_bytes=1_000_000, allow_private=True) as fetcher:
        broken = await broken_pictures(fetcher, build, build(frozenset()), timeout=5.0)
    assert broken == {f"{base}missing.png"}
    # The picture shown in its place was checked too (a second round), and is fine.
    assert picture_urls(build(broken)) == {f"{base}{n}.png" for n in range(PICTURES)}


async def test_a_picture_that_never_answers_is_broken_after_the_timeout(
    aiohttp_server: AiohttpServer,
) -> None:
    base = await picture_server(aiohttp_server, hang="0.png")
    urls = [f"{base}{n}.png" for n in range(PICTURES)]
    build = answer_with(urls)
    started = time.monotonic()
    async with PictureFetcher(max_bytes=1_000_000, allow_private=True) as fetcher:
        broken = await broken_pictures(fetcher, build, build(frozenset()), timeout=0.3)
    assert broken == {f"{base}0.png"}
    assert time.monotonic() - started < 5.0  # the timeout, not the fetcher's own 20 s


async def test_inner_addresses_count_as_broken(aiohttp_server: AiohttpServer) -> None:
    """The safe fetcher's rules hold: Slack could not reach a loopback picture either."""
    base = await picture_server(aiohttp_server)
    urls = [f"{base}{n}.png" for n in range(2)]
    build = answer_with(urls)
    async with PictureFetcher(max_bytes=1_000_000) as fetcher:
        broken = await broken_pictures(fetcher, build, build(frozenset()), timeout=1.0)
    assert broken == set(urls)
