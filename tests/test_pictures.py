"""Picture downloads reach only public addresses unless `PICTURE_ALLOW_PRIVATE` says so: the
URL's scheme and address, every address a name resolves to, and every redirect hop."""

from __future__ import annotations

import asyncio
import ipaddress
import json

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.pictures.fetcher import IPAddress, PictureFetcher, is_public
from bot.taskapi.fake import solid_png
from bot.testing.fake_slack import HOME_TEAM
from tests.slack_harness import Harness

PRETEND_PUBLIC = ipaddress.ip_address("127.0.0.2")


def pretend(address: IPAddress) -> bool:
    """Nothing truly public may be reached from a test: 127.0.0.2 stands in for the internet."""
    return address == PRETEND_PUBLIC or is_public(address)


async def picture_server(aiohttp_server: AiohttpServer) -> tuple[str, list[str]]:
    hits: list[str] = []

    async def picture(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=solid_png(1, 2, 3), content_type="image/png")

    app = web.Application()
    app.router.add_get("/p.png", picture)
    server = await aiohttp_server(app)
    return str(server.make_url("/p.png")), hits


async def redirector(aiohttp_server: AiohttpServer, target: str) -> str:
    async def hop(_: web.Request) -> web.Response:
        raise web.HTTPFound(target)

    app = web.Application()
    app.router.add_get("/go", hop)
    server = await aiohttp_server(app, host=str(PRETEND_PUBLIC))
    return str(server.make_url("/go"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "100.64.0.1",
    ],
)
def test_inner_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 (DNS64 on an IPv6-only cluster) to the metadata address
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b:1::5db8:d822",  # local-use NAT64: refused whatever it embeds
        "2002:a9fe:a9fe::1",  # 6to4 from 169.254.169.254
        "2002:7f00:1::",
        "::ffff:0:a9fe:a9fe",  # SIIT
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::169.254.169.254",  # IPv4-compatible
        "::a00:1",
        "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, client 169.254.169.254
        "2001:0:a00:1:8000:63bf:a2d9:a2d9",  # Teredo via server 10.0.0.1, client public
    ],
)
def test_ipv6_embedding_an_inner_ipv4_is_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::5db8:d822",  # NAT64 to 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 from 93.184.216.34
        "::ffff:93.184.216.34",
    ],
)
def test_ipv6_embedding_a_public_ipv4_is_judged_by_it(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


async def test_a_nat64_literal_of_the_metadata_address_is_refused_unfetched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with PictureFetcher(max_bytes=1_000_000) as fetcher:
        assert await fetcher.fetch("http://[64:ff9b::a9fe:a9fe]/latest/meta-data") is None
        assert not await fetcher.probe("http://[2002:a9fe:a9fe::1]/p.png", 1.0)
    assert "may not come from" in caplog.text


@pytest.mark.parametrize(
    "address",
    [
        "fec0::1",  # site-local, deprecated
        "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",  # its last address
        "3fff::1",  # documentation (RFC 9637)
        "3fff:fff:ffff::1",
        "5f00::1",  # SRv6 SIDs
        "5f00:ffff:ffff::1",
    ],
)
def test_ipv6_ranges_python_calls_global_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


async def test_a_site_local_literal_is_refused_unfetched(caplog: pytest.LogCaptureFixture) -> None:
    async with PictureFetcher(max_bytes=1_000_000) as fetcher:
        assert await fetcher.fetch("http://[fec0::1]/p.png") is None
    assert "may not come from" in caplog.text


@pytest.mark.parametrize("address", ["3fff:1000::1", "5f01::1", "5eff:ffff::1"])
def test_ipv6_just_outside_those_ranges_is_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_public_addresses_are() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


async def test_loopback_urls_and_names_are_refused(aiohttp_server: AiohttpServer) -> None:
    url, hits = await picture_server(aiohttp_server)
    port = url.split(":")[2].split("/")[0]
    async with PictureFetcher(max_bytes=1_000_000) as fetcher:
        assert await fetcher.fetch(url) is None  # 127.0.0.1
        assert await fetcher.fetch(f"http://localhost:{port}/p.png") is None  # resolves there
        assert await fetcher.fetch(f"http://2130706433:{port}/p.png") is None  # 127.0.0.1 too
        assert await fetcher.fetch(f"http://[::ffff:127.0.0.1]:{port}/p.png") is None
        assert await fetcher.fetch("file:///etc/passwd") is None
        assert await fetcher.fetch("ftp://127.0.0.1/p.png") is None
    assert hits == []
    async with PictureFetcher(max_bytes=1_000_000, allow_private=True) as fetcher:
        picture = await fetcher.fetch(f"http://localhost:{port}/p.png")
    assert picture is not None
    assert picture[1] == "png"


async def test_a_redirect_to_loopback_is_refused(aiohttp_server: AiohttpServer) -> None:
    target, hits = await picture_server(aiohttp_server)
    start = await redirector(aiohttp_server, target)
    async with PictureFetcher(max_bytes=1_000_000, allowed=pretend) as fetcher:
        assert await fetcher.fetch(start) is None
    assert hits == []  # the inner server was never asked
    everything = lambda _: True  # noqa: E731 - the same hop, allowed: the redirect works
    async with PictureFetcher(max_bytes=1_000_000, allowed=everything) as fetcher:
        assert await fetcher.fetch(start) is not None
    assert hits == ["/p.png"]


async def test_the_size_cap_still_holds(aiohttp_server: AiohttpServer) -> None:
    url, _ = await picture_server(aiohttp_server)
    async with PictureFetcher(max_bytes=10, allow_private=True) as fetcher:
        assert await fetcher.fetch(url) is None


@pytest.mark.parametrize(
    "harness",
    [
        {
            "step": 0.15,
            "watch_poll_interval": 0.05,
            "watch_upload_pictures": True,
            "picture_allow_private": False,
        }
    ],
    indirect=True,
)
async def test_pictures_on_loopback_are_not_uploaded(harness: Harness) -> None:
    slack = harness.slack
    await harness.command("watch ok3-1")
    await slack.wait_for(
        lambda: any("/pictures/ok3-1/" in json.dumps(m) for m in slack.messages.get("C1", [])[1:])
    )
    await asyncio.wait_for(harness.bot.deps.watcher.wait_ticks(2), 10)
    assert await harness.bot.deps.store.open_watches(HOME_TEAM) == []
    assert slack.called("files.getUploadURLExternal") == []
    assert slack.uploads == {}
