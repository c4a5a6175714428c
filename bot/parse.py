"""Task UIDs from what people type or post. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_UID_LENGTH = 128
EXPLICIT_UID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_UID_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s,;]+")
_WRAPPERS = "`*_~'\"“”‘’()[]{}"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")

# Free text: UUIDs, `code` spans, and tokens after a task/uid/TaskUid label.
DEFAULT_FREE_TEXT_PATTERN = (
    r"(?<![0-9A-Fa-f-])"
    r"([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
    r"(?![0-9A-Fa-f-])"
    r"|`([A-Za-z0-9_-]{1,128})`"
    r"|\b(?:task[ _-]?uid|taskuid|uid|task)s?\b\s*(?:[:=#]|is)?\s*`?"
    r"([A-Za-z0-9_-]*[0-9_-][A-Za-z0-9_-]*)"
)
_TEXT_KEYS = frozenset({"text", "fallback", "pretext", "title", "value", "footer"})


@dataclass(frozen=True)
class Command:
    """What a slash command or a mention asked for."""

    action: Literal["help", "lookup", "watch"]
    uids: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse_command(text: str) -> Command:
    """`help`, `watch UID...` or `UID...`; UIDs separated by spaces, commas or new lines."""
    tokens = [t for t in (_strip(raw) for raw in _SEPARATORS.split(_MENTION.sub(" ", text))) if t]
    if not tokens or tokens[0].lower() in {"help", "?", "-h", "--help"}:
        return Command("help")
    action: Literal["lookup", "watch"] = "lookup"
    if tokens[0].lower() == "watch":
        action, tokens = "watch", tokens[1:]
    uids, invalid = split_valid(tokens)
    return Command(action, uids, invalid)


def split_valid(tokens: Iterable[str]) -> tuple[list[str], list[str]]:
    """Valid UIDs (deduplicated, order kept) and the tokens that are not UIDs."""
    uids: dict[str, None] = {}
    invalid: dict[str, None] = {}
    for token in tokens:
        if EXPLICIT_UID.fullmatch(token):
            uids[token] = None
        else:
            invalid[token] = None
    return list(uids), list(invalid)


def _strip(token: str) -> str:
    return token.strip(_WRAPPERS)


def find_uids(texts: Iterable[str], pattern: str | None = None) -> list[str]:
    """UIDs named in free text, deduplicated in order of appearance."""
    regex = re.compile(pattern or DEFAULT_FREE_TEXT_PATTERN, re.IGNORECASE)
    found: dict[str, None] = {}
    for text in texts:
        for match in regex.finditer(text):
            uid = next((g for g in match.groups() if g), None) if regex.groups else match.group(0)
            if uid and len(uid) <= MAX_UID_LENGTH:
                found[uid] = None
    return list(found)


def message_texts(message: dict[str, Any]) -> list[str]:
    """Every piece of text in a Slack message: its text, blocks and attachments.

    Code-formatted rich text elements come back wrapped in backticks, so the `code` rule of
    the free-text pattern sees them as the author marked them.
    """
    return list(_walk(message))


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        style = node.get("style")
        is_code = isinstance(style, dict) and style.get("code") is True
        for key, value in node.items():
            if key in _TEXT_KEYS and isinstance(value, str):
                yield f"`{value}`" if is_code else value
            else:
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
