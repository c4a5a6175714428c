"""Table-driven checks of the quick paths in the pure core (fast enough for mutation runs):
each gives exactly what the general path gives, including where it must step aside."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from bot.reading.parse import Command, _command, parse_command
from bot.taskapi.models import ListResponse, read_envelope
from bot.taskapi.signing import sign, sign_list_call


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok-1", Command("lookup", ["ok-1"], [])),
        ("A_b-9", Command("lookup", ["A_b-9"], [])),
        ("a" * 128, Command("lookup", ["a" * 128], [])),
        ("a" * 129, Command("lookup", [], ["a" * 129])),
        ("_", Command("lookup", [], ["_"])),
        ("-h", Command("help")),
        ("HELP", Command("help")),
        ("watch", Command("watch", [], [])),
        ("WATCH", Command("watch", [], [])),
        ("", Command("help")),
        ("ok-1 ok-2", Command("lookup", ["ok-1", "ok-2"], [])),
    ],
)
def test_one_word_commands(text: str, expected: Command) -> None:
    assert parse_command(text) == expected
    assert _command(text) == expected


def _body(uids: list[Any]) -> dict[str, Any]:
    return {"Action": "A", "PublicKey": "pub", "TaskUIDs": uids, "request_uuid": "r-1"}


@pytest.mark.parametrize("uids", [[], ["a"], ["a", "b-2"], ["é"], [1], ["a", None], [True]])
def test_call_signature(uids: list[Any]) -> None:
    assert sign_list_call("A", "pub", uids, "r-1", "key") == sign(_body(uids), "key")


def test_call_signature_bytes() -> None:
    data = b"ActionAPublicKeypubTaskUIDsab-2request_uuidr-1key"
    expected = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert sign_list_call("A", "pub", ["a", "b-2"], "r-1", "key") == expected


ONE_TASK = {"RetCode": 0, "Message": "m", "TaskDetailList": [{"TaskUid": "a", "TaskErrorCode": 7}]}


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(ONE_TASK).encode(),
        b"\xef\xbb\xbf" + json.dumps(ONE_TASK).encode(),  # refused by pydantic, read by json
        json.dumps(ONE_TASK).encode("utf-16"),
        b'{"RetCode": 0, "Message": "\\ud800"}',
    ],
)
def test_envelope_read(raw: bytes) -> None:
    expected = ListResponse.model_validate(json.loads(raw))
    got = read_envelope(raw)
    assert got.model_dump() == expected.model_dump()
    assert [d.model_dump() for d in got.details()] == [d.model_dump() for d in expected.details()]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"Message": "no code"}', b"\xff"])
def test_envelope_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the client maps any of them to one message
        read_envelope(raw)
