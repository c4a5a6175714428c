"""A live message changes exactly when what it shows changes, and quiet tasks are polled less."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.taskapi.errors import ApiRejected, ApiUnavailable, ApiUnreadable
from bot.taskapi.models import Failed, Found, NotFound, TaskDetail, TaskResult
from bot.watch.fingerprint import fingerprint, slowdown


def found(uid: str = "ok-1", **fields: Any) -> Found:
    data = {
        "TaskUid": uid,
        "TaskType": "TaskGeneratePicture",
        "TaskStatus": "Error",
        "TaskErrorCode": 1001,
        "TaskErrorMsg": "refused",
        "FinalPictureUrls": ["https://x/1.png", "https://x/2.png"],
        **fields,
    }
    return Found(uid, TaskDetail.model_validate(data))


BASE: list[TaskResult] = [found(), NotFound("nope-2"), Failed("f-3", ApiUnavailable("down", "r1"))]

CHANGES: dict[str, list[TaskResult]] = {
    "uid": [found("ok-9"), *BASE[1:]],
    "type": [found(TaskType="TaskUpscale"), *BASE[1:]],
    "status": [found(TaskStatus="Finished"), *BASE[1:]],
    "error code alone": [found(TaskErrorCode=1002), *BASE[1:]],
    "error code as text": [found(TaskErrorCode="E1001"), *BASE[1:]],
    "error message": [found(TaskErrorMsg="refused!"), *BASE[1:]],
    "a picture": [found(FinalPictureUrls=["https://x/1.png"]), *BASE[1:]],
    "picture order": [found(FinalPictureUrls=["https://x/2.png", "https://x/1.png"]), *BASE[1:]],
    "not found uid": [BASE[0], NotFound("nope-9"), BASE[2]],
    "not found became failed": [BASE[0], Failed("nope-2", ApiUnavailable("d", "r")), BASE[2]],
    "failed became not found": [*BASE[:2], NotFound("f-3")],
    "failed uid": [*BASE[:2], Failed("f-9", ApiUnavailable("down", "r1"))],
    "failure kind": [*BASE[:2], Failed("f-3", ApiRejected("down", "r1", 5))],
    "which tasks failed": [BASE[0], Failed("nope-2", ApiUnreadable("x", "r")), NotFound("f-3")],
    "order of results": [BASE[1], BASE[0], BASE[2]],
    "one result less": BASE[:2],
}


def test_same_results_same_fingerprint() -> None:
    again: list[TaskResult] = [
        found(),
        NotFound("nope-2"),
        Failed("f-3", ApiUnavailable("down", "r1")),
    ]
    assert fingerprint(again, "live") == fingerprint(BASE, "live")
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint(BASE, "live"))


def test_known_value() -> None:
    """Pinned: a fingerprint stored before a restart or an upgrade still matches afterwards,
    so unchanged watches are not all edited at once."""
    assert fingerprint(BASE, "live") == "2095c10dc59b63701927b4c3a80a3bd6"


def test_what_a_failure_says_beyond_its_kind_is_no_change() -> None:
    """Detail and reference change on every failed call; the message says the same."""
    other = [*BASE[:2], Failed("f-3", ApiUnavailable("timed out again", "r2"))]
    assert fingerprint(other, "live") == fingerprint(BASE, "live")


@pytest.mark.parametrize("name", CHANGES)
def test_every_visible_change_changes_the_fingerprint(name: str) -> None:
    assert fingerprint(CHANGES[name], "live") != fingerprint(BASE, "live")


def test_the_note_is_part_of_it() -> None:
    assert fingerprint(BASE, "retrying") != fingerprint(BASE, "live")


def test_error_code_zero_as_number_or_text_is_the_same() -> None:
    assert fingerprint([found(TaskErrorCode="0")], "") == fingerprint([found(TaskErrorCode=0)], "")


@pytest.mark.parametrize(
    ("unchanged_for", "factor"),
    [
        (0.0, 1),
        (299.9, 1),
        (300.0, 2),
        (1799.9, 2),
        (1800.0, 4),
        (86_400.0, 4),
    ],
)
def test_slowdown(unchanged_for: float, factor: int) -> None:
    assert slowdown(unchanged_for) == factor
