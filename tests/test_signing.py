from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.taskapi.signing import flatten, sign

VECTORS = [
    ({"foo": "bar"}, "my_private_key", "634edc1bb957c0d65e5ab5494cf3b7784fbc87af"),
    (
        {"foo": "bar", "PublicKey": "my_public_key"},
        "my_private_key",
        "d4411ab30953fb0bbcb1e7313081f05e4e91a394",
    ),
    (
        {
            "Action": "ListGenerateTaskDetail",
            "PublicKey": "ALLak9M4cNdHXKOJAJJ4k8Hh1hZS2EgJF1D0FlPwfl",
            "TaskUIDs": ["taskuid1", "taskuid2"],
        },
        "example-private-key",
        "615f69c554190696bb19d73870c5811650509f4a",
    ),
    (
        {
            "Action": "ListGenerateTaskDetail",
            "PublicKey": "ALLak9M4cNdHXKOJAJJ4k8Hh1hZS2EgJF1D0FlPwfl",
            "TaskUIDs": ["taskuid1", "taskuid2"],
            "request_uuid": "9b2f4c1e-8d3a-4f5b-a6c7-1e2d3f4a5b6c",
        },
        "example-private-key",
        "ef6df3aa214f2b4895fb240dd4a7726890aa8b4c",
    ),
    (
        {
            "Action": "ListGenerateTaskDetail",
            "PublicKey": "pub",
            "TaskUIDs": ["ü-任务-1"],
            "request_uuid": "u",
        },
        "priv",
        "e06544cdc62b87c854c5c2b67c4d92180fa9c3f6",
    ),
]


@pytest.mark.parametrize(("fields", "key", "expected"), VECTORS)
def test_vendor_vectors(fields: dict[str, Any], key: str, expected: str) -> None:
    assert sign(fields, key) == expected


@pytest.mark.parametrize(
    ("value", "flat"),
    [
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (3.0, "3"),
        (2.5, "2.5"),
        (None, ""),
        (["a", 1, [True]], "a1true"),
        ({"b": 1, "a": {"z": "y", "B": 2}}, "aB2zyb1"),
    ],
)
def test_flatten(value: Any, flat: str) -> None:
    assert flatten(value) == flat


def test_names_sort_by_bytes_upper_case_first() -> None:
    # Byte order, not case-insensitive ("a" < "B"), locale ("é" < "z") or UTF-16 order
    # (U+1F600 < U+FFFD): B < a < z < é < U+FFFD < U+1F600.
    fields = {"\U0001f600": "6", "a": "2", "\ufffd": "5", "é": "4", "z": "3", "B": "1"}
    import hashlib

    expected = "B1a2z3é4\ufffd5\U0001f6006k".encode()
    assert sign(fields, "k") == hashlib.sha1(expected, usedforsecurity=False).hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
fields_strategy = st.dictionaries(st.text(min_size=1), json_values, max_size=6)


@given(fields_strategy, st.text())
def test_field_order_does_not_matter(fields: dict[str, Any], key: str) -> None:
    reordered = dict(reversed(list(fields.items())))
    assert sign(fields, key) == sign(reordered, key)


@given(fields_strategy, st.text(), st.text())
def test_signature_field_is_never_signed(fields: dict[str, Any], key: str, old: str) -> None:
    without = {k: v for k, v in fields.items() if k != "Signature"}
    assert sign({**without, "Signature": old}, key) == sign(without, key)


@given(st.text(min_size=1), st.text())
def test_text_is_hashed_as_utf8(value: str, key: str) -> None:
    import hashlib

    expected = hashlib.sha1(f"x{value}{key}".encode(), usedforsecurity=False).hexdigest()
    assert sign({"x": value}, key) == expected


def test_rejects_non_json_values() -> None:
    with pytest.raises(TypeError, match=r"^not a JSON value: object$"):
        flatten(object())
