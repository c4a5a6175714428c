"""Only what was asked: an answer carrying other UIDs, or one UID twice, serves the asker and
the cache the same way, with the first entry for a UID and nothing it did not ask for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.slack_harness import Harness

ODD: list[dict[str, Any]] = [
    {"TaskUid": "ok-1", "TaskStatus": "Error", "TaskErrorCode": 7, "TaskErrorMsg": "first entry"},
    {"TaskUid": "ghost-9", "TaskStatus": "Finished", "FinalPictureUrls": []},
]


@pytest.mark.parametrize("harness", [{"step": 0.0}], indirect=True)
async def test_an_answer_with_an_extra_uid_and_a_duplicate(harness: Harness) -> None:
    api = harness.api
    api.extra_details = ODD  # in front of the real entries: ok-1 twice, ghost-9 unasked
    _, key = await harness.command("ok-1")
    [answer] = await harness.answers(key)
    text = json.dumps(answer)
    assert "first entry" in text  # the first of the two ok-1 entries
    assert "ghost-9" not in text
    calls = len(api.calls)
    api.extra_details = []
    _, again = await harness.command("ok-1")
    assert "first entry" in json.dumps(await harness.answers(again))  # the cache agrees
    assert len(api.calls) == calls  # and served it
    _, ghost = await harness.command("ghost-9")
    [unknown] = await harness.answers(ghost)
    assert len(api.calls) == calls + 1  # ghost-9 was never cached from the odd answer
    assert "Not found" in json.dumps(unknown)
