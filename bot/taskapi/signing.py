"""The vendor's request signature (sorted keys, private key appended, SHA-1): pure, total."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def flatten(value: Any) -> str:
    """The vendor's flattening of one JSON value, with no separators anywhere."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "".join(f"{key}{flatten(value[key])}" for key in _sorted_keys(value))
    if isinstance(value, list | tuple):
        return "".join(flatten(item) for item in value)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _sorted_keys(fields: Mapping[str, Any]) -> list[str]:
    return sorted(fields, key=lambda key: key.encode("utf-8"))


def sign(fields: Mapping[str, Any], private_key: str) -> str:
    """SHA-1 over every field but `Signature`, in byte order of names, then the private key."""
    payload = "".join(
        f"{key}{flatten(fields[key])}" for key in _sorted_keys(fields) if key != "Signature"
    )
    return hashlib.sha1((payload + private_key).encode("utf-8"), usedforsecurity=False).hexdigest()
