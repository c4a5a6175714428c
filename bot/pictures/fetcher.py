"""Downloading pictures named by the task API, which is not ours to trust.

A picture URL may name any host; fetched blindly it could reach the bot's own network
(loopback, private ranges, link-local, the cloud metadata service). So:

- only `http` and `https`;
- only public addresses (`bot.pictures.public_address`: IPv6 addresses embedding an IPv4 one are
  judged by the one they embed);
- every address is checked where the connection is made: a host name through the connector's
  resolver (each address it resolves to, so DNS cannot swap in an inner address between a
  check and the connect), an IP literal before the request;
- redirects are followed by hand, at most `max_redirects`, each hop checked the same way;
- the size cap and the picture types stay as they were.

Its own `ClientSession`, because its resolver must not apply to the Slack and task API calls,
which may legitimately sit on an inner network. `allow_private` (`PICTURE_ALLOW_PRIVATE`)
lifts the address rule for a vendor inside the same network, and for tests on loopback.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.pictures.public_address import IPAddress, is_public

log = logging.getLogger(__name__)

PICTURE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
REDIRECTS = {301, 302, 303, 307, 308}
T = TypeVar("T")


__all__ = ["IPAddress", "PictureFetcher", "Refused", "is_public"]


class Refused(Exception):
    """The URL or an address it leads to is not allowed."""


def any_address(_: IPAddress) -> bool:
    return True


class _CheckedResolver(AbstractResolver):
    """Resolves as usual, then refuses the host if any of its addresses is not allowed."""

    def __init__(self, allowed: Callable[[IPAddress], bool]) -> None:
        self._inner = DefaultResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            if not self._allowed(ipaddress.ip_address(result["host"])):
                raise Refused(f"{host} resolves to an address pictures may not come from")
        return results

    async def close(self) -> None:
        await self._inner.close()


class PictureFetcher:
    """Opened once per process (`async with`), shared by every upload."""

    def __init__(
        self,
        *,
        max_bytes: int,
        allow_private: bool = False,
        timeout: float = 20.0,
        max_redirects: int = 3,
        allowed: Callable[[IPAddress], bool] | None = None,
    ) -> None:
        # `allowed` replaces the address rule (tests give one that treats a second loopback
        # address as public, since nothing truly public may be reached from here).
        self._allowed = allowed or (any_address if allow_private else is_public)
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_redirects = max_redirects
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PictureFetcher:
        connector = aiohttp.TCPConnector(resolver=_CheckedResolver(self._allowed))
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str) -> tuple[bytes, str] | None:
        """The picture's bytes and file extension, or None (refused, failed, too big, not a
        picture); why is logged, never raised: a missing upload leaves the link."""
        try:
            return await self._fetch(url)
        except Refused as exc:
            log.warning("picture not downloaded: %s", exc)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.info("picture not downloaded (%s)", type(exc).__name__)
        return None

    async def probe(self, url: str, timeout: float) -> bool:
        """Whether the picture can be downloaded (the same address rules, redirects, a
        picture type, within `timeout` seconds), without reading it: a check of what Slack
        would get when it refuses pictures without saying which."""
        try:
            return await self._get(url, _is_picture, aiohttp.ClientTimeout(total=timeout))
        except (Refused, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.info("picture probe failed (%s)", type(exc).__name__)
            return False

    async def _fetch(self, url: str) -> tuple[bytes, str] | None:
        return await self._get(url, self._read, self._timeout)

    async def _get(
        self,
        url: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        timeout: aiohttp.ClientTimeout,
    ) -> T:
        assert self._session is not None, "use `async with PictureFetcher(...)`"
        for _ in range(self._max_redirects + 1):
            self._check(url)
            async with self._session.get(url, timeout=timeout, allow_redirects=False) as resp:
                if resp.status in REDIRECTS and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    continue
                return await read(resp)
        raise Refused(f"more than {self._max_redirects} redirects")

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"not an http(s) URL ({parts.scheme or 'no scheme'})")
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return  # a name: its addresses are checked by the resolver, at connect time
        if not self._allowed(literal):
            raise Refused("an address pictures may not come from")

    async def _read(self, resp: aiohttp.ClientResponse) -> tuple[bytes, str] | None:
        ext = PICTURE_TYPES.get(resp.content_type)
        if resp.status != 200 or ext is None:
            return None
        if (resp.content_length or 0) > self._max_bytes:
            return None
        content = bytearray()
        async for chunk in resp.content.iter_chunked(65_536):
            content += chunk
            if len(content) > self._max_bytes:
                return None
        return bytes(content), ext


async def _is_picture(resp: aiohttp.ClientResponse) -> bool:
    return resp.status == 200 and resp.content_type in PICTURE_TYPES
