"""Which pictures of an answer Slack could not download, when it refuses the answer without
saying which (a `response_url` can answer a bare `invalid_blocks`).

Each picture is fetched through the safe fetcher (`bot.pictures.fetcher`: public addresses only, the
same redirect rules), all at once and each within `PROBE_TIMEOUT`: the ones it cannot get
are the broken ones, shown as links, and the others stay pictures. One broken picture no
longer costs every preview; those go only when Slack refuses the answer again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bot.render.answer import Message

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0  # seconds for each picture; Slack's own download gives up about as soon
PROBE_ROUNDS = 3  # a compact answer shows a task's next picture once its first is a link
MAX_PROBES = 50  # an answer has at most 50 blocks, so at most 50 pictures at once


class Probe(Protocol):
    async def probe(self, url: str, timeout: float) -> bool: ...


async def broken_pictures(
    probe: Probe,
    build: Callable[[frozenset[str]], Any],
    message: Any,
    timeout: float = PROBE_TIMEOUT,
) -> frozenset[str]:
    """The picture URLs of `message` (and of the answers `build` makes without them) that
    cannot be downloaded; empty when every one can. A message is a `Message` or its blocks."""
    broken: set[str] = set()
    probed: set[str] = set()
    for _ in range(PROBE_ROUNDS):
        urls = sorted(picture_urls(message) - probed)[: MAX_PROBES - len(probed)]
        if not urls:
            break
        found = await asyncio.gather(*(probe.probe(url, timeout) for url in urls))
        probed.update(urls)
        newly = {url for url, ok in zip(urls, found, strict=True) if not ok}
        if not newly:
            break
        broken |= newly
        message = build(frozenset(broken))
    log.info("checked %d picture(s) Slack refused unnamed: %d broken", len(probed), len(broken))
    return frozenset(broken)


def picture_urls(message: Any) -> set[str]:
    """Every `image_url` in the message's blocks (image blocks and thumbnails alike)."""
    found: set[str] = set()
    stack: list[Any] = [message.as_payload()["blocks"] if isinstance(message, Message) else message]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            url = node.get("image_url")
            if isinstance(url, str):
                found.add(url)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
