"""What the bot sent to Slack, as lines a person reads in a terminal. Pure: no I/O.

Blocks become plain text (sections, fields, context, pictures as `[picture: title]`, buttons
as `[Button]`), and each message gets a link that opens its blocks in Slack's Block Kit
Builder, which takes the payload as URL-encoded JSON after the `#`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

BUILDER_URL = "https://app.slack.com/block-kit-builder/#"
INDENT = "    "
NO_NAMES: Mapping[str, str] = MappingProxyType({})

# `<@U1>`, `<#C1>`, `<#C1|name>`, `<!here>`, `<https://x|label>`, `<https://x>`
_ANGLE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def builder_link(blocks: list[dict[str, Any]]) -> str:
    """A Block Kit Builder URL that opens with exactly these blocks, as a message."""
    payload = json.dumps({"blocks": blocks}, separators=(",", ":"), ensure_ascii=False)
    return BUILDER_URL + quote(payload, safe="")


def plain(mrkdwn: str, names: Mapping[str, str] = NO_NAMES) -> str:
    """mrkdwn as it reads on screen: mentions and links by name, entities decoded."""

    def named(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + names.get(target, label or target)
        if sigil == "#":
            return "#" + (label or names.get(target, target))
        if sigil == "!":  # `<!date^...|fallback>` shows its fallback; `<!here>` a mention
            return label if target.startswith("date^") and label else "@" + target
        return label or target

    return html.unescape(_ANGLE.sub(named, mrkdwn))


def blocks_text(blocks: Iterable[dict[str, Any]], names: Mapping[str, str] = NO_NAMES) -> list[str]:
    """Each block as one or more lines of plain text, in order."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block_lines(block, names))
    return lines


def _block_lines(block: dict[str, Any], names: Mapping[str, str]) -> list[str]:
    kind = block.get("type")
    if kind in ("section", "header"):
        lines = _text_lines(block.get("text"), names)
        for field in block.get("fields") or []:
            lines.extend(_text_lines(field, names))
        accessory = block.get("accessory")
        if accessory:
            lines.append(_element(accessory, names))
        return lines
    if kind == "context":
        return [" ".join(_element(e, names) for e in block.get("elements") or [])]
    if kind == "image":
        return [_picture(block)]
    if kind == "actions":
        return [" ".join(_element(e, names) for e in block.get("elements") or [])]
    if kind == "divider":
        return ["---"]
    return [f"[{kind} block]"]


def _text_lines(text: Any, names: Mapping[str, str]) -> list[str]:
    if not isinstance(text, dict) or not text.get("text"):
        return []
    value = str(text["text"])
    shown = plain(value, names) if text.get("type") == "mrkdwn" else value
    return shown.splitlines()


def _element(element: dict[str, Any], names: Mapping[str, str]) -> str:
    kind = element.get("type")
    if kind == "image":
        return _picture(element)
    if kind == "button":
        return f"[{(element.get('text') or {}).get('text', 'Button')}]"
    if kind in ("mrkdwn", "plain_text"):
        return " ".join(_text_lines(element, names))
    return f"[{kind}]"


def _picture(image: dict[str, Any]) -> str:
    title = (image.get("title") or {}).get("text") or image.get("alt_text") or "picture"
    return f"[picture: {title}]"


def message_lines(
    heading: str,
    message: Mapping[str, Any],
    names: Mapping[str, str] = NO_NAMES,
) -> list[str]:
    """One message the bot sent: who and where, its text, and its Builder link."""
    blocks = _blocks(message.get("blocks"))
    body = blocks_text(blocks, names) if blocks else (str(message.get("text") or "").splitlines())
    lines = [heading, *(INDENT + line for line in body)]
    if blocks:
        lines.append(INDENT + "Block Kit Builder: " + builder_link(blocks))
    return lines


def _blocks(raw: Any) -> list[dict[str, Any]]:
    """Blocks as the Web API receives them: a list, or the same list as a JSON string."""
    if isinstance(raw, str):
        raw = json.loads(raw)
    return [b for b in raw or [] if isinstance(b, dict)]
