"""What a button remembers: the UIDs it is about, inline when they fit, else by store key."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from bot.reading.parse import EXPLICIT_UID
from bot.store import Store

MAX_VALUE = 2000  # Slack's limit for a button's value


class UidRef(BaseModel):
    u: list[str] | None = None
    k: str | None = None


async def encode_uids(ws: str, uids: list[str], store: Store) -> str:
    """A list too long for a button is kept in the store, in the workspace that shows it."""
    inline = inline_value(uids)
    if len(inline) <= MAX_VALUE:
        return inline
    return UidRef(k=await store.put_uids(ws, uids)).model_dump_json(exclude_none=True)


def inline_value(uids: list[str]) -> str:
    """`UidRef(u=uids).model_dump_json(exclude_none=True)`, the same text, written directly:
    every answer has a button, and building a model to write one list was a cost per answer."""
    return _compact({"u": uids})


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


async def decode_uids(ws: str, value: str, store: Store) -> list[str]:
    """The UIDs a button stands for; [] when the value is unreadable or expired (or kept by
    another workspace)."""
    try:
        ref = UidRef.model_validate_json(value)
    except ValidationError:
        return []
    uids = ref.u if ref.u is not None else (await store.get_uids(ws, ref.k) if ref.k else None)
    return [u for u in uids or [] if EXPLICIT_UID.fullmatch(u)]
