"""The vendor's request signature (sorted keys, private key appended, SHA-1): pure, total."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
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
    # UTF-8 byte order is code-point order: without the key, or with any other spelling of
    # UTF-8, the order is the same, so this line's mutants are all equivalent.
    return sorted(fields, key=lambda key: key.encode())  # pragma: no mutate


def sign(fields: Mapping[str, Any], private_key: str) -> str:
    """SHA-1 over every field but `Signature`, in byte order of names, then the private key."""
    payload = "".join(
        f"{key}{flatten(fields[key])}" for key in _sorted_keys(fields) if key != "Signature"
    )
    data = (payload + private_key).encode()
    # Only FIPS builds read `usedforsecurity`: its mutants change nothing elsewhere.
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()  # pragma: no mutate


def sign_list_call(
    action: str, public_key: str, uids: Iterable[str], request_uuid: str, private_key: str
) -> str:
    """`sign` of a task API call's body (`Action`, `PublicKey`, `TaskUIDs`, `request_uuid`),
    written out for the one body the client sends with every call: those names are in byte
    order already and each value flattens to itself, so the sort and the walk are skipped.
    A UID that is not a string takes the general way."""
    uids = list(uids)
    if not all(type(uid) is str for uid in uids):
        body = {
            "Action": action,
            "PublicKey": public_key,
            "TaskUIDs": list(uids),
            "request_uuid": request_uuid,
        }
        return sign(body, private_key)
    data = (
        f"Action{action}PublicKey{public_key}TaskUIDs{''.join(uids)}"
        f"request_uuid{request_uuid}{private_key}"
    ).encode()
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()  # pragma: no mutate
