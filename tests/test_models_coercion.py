"""Each coercion of the vendor's fields, one row each, and which results count as done."""

from __future__ import annotations

from typing import Any

import pytest

from bot.taskapi.errors import ApiUnavailable
from bot.taskapi.models import (
    Failed,
    Found,
    ListResponse,
    NotFound,
    TaskDetail,
    TaskResult,
    all_done,
    as_text,
    error_code,
    is_done,
    picture_urls,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), ("", ""), ("Running", "Running"), (12, "12"), (1.5, "1.5"), (False, "False")],
)
def test_text_fields(value: Any, expected: str) -> None:
    assert as_text(value) == expected
    item = {"TaskUid": "a", "TaskType": value, "TaskStatus": value, "TaskErrorMsg": value}
    task = TaskDetail.model_validate(item)
    assert (task.task_type, task.task_status, task.task_error_msg) == (expected,) * 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("https://x/1.png", ()),  # one string is not a list of pictures
        ({"0": "https://x/1.png"}, ()),
        ([], ()),
        (["https://x/1.png", "https://x/2.png"], ("https://x/1.png", "https://x/2.png")),
        (("a", "b"), ("a", "b")),
        ([3, None, "", "b", ["c"], "a", "b"], ("b", "a", "b")),  # order and repeats kept
    ],
)
def test_picture_urls(value: Any, expected: tuple[str, ...]) -> None:
    assert picture_urls(value) == expected
    task = TaskDetail.model_validate({"TaskUid": "a", "FinalPictureUrls": value})
    assert task.final_picture_urls == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, 0),
        ("", 0),
        (0, 0),
        (7, 7),
        (-3, -3),
        (True, 1),
        (False, 0),
        ("42", 42),
        ("-42", -42),
        ("0", 0),
        ("E_QUOTA", "E_QUOTA"),
        ("4-2", "4-2"),
        ("--5", "--5"),  # passes `lstrip("-").isdigit()`, yet is no number
        ("²", "²"),  # a digit to `isdigit`, not to `int`
        (" 42", " 42"),
        ("+5", "+5"),
        (1.5, "1.5"),
    ],
)
def test_error_code(value: Any, expected: int | str) -> None:
    assert error_code(value) == expected
    assert type(error_code(value)) is type(expected)
    task = TaskDetail.model_validate({"TaskUid": "a", "TaskErrorCode": value})
    assert task.task_error_code == expected


def test_missing_fields_take_their_defaults() -> None:
    task = TaskDetail.model_validate({"TaskUid": "a"})
    assert task.raw() == {
        "TaskUid": "a",
        "TaskType": "",
        "TaskStatus": "",
        "FinalPictureUrls": [],
        "TaskErrorMsg": "",
        "TaskErrorCode": 0,
    }


@pytest.mark.parametrize("item", [{}, {"TaskUid": ""}, {"TaskUid": None}, "junk", None, 3])
def test_an_item_without_a_usable_uid_is_refused(item: Any) -> None:
    envelope = ListResponse.model_validate({"RetCode": 0, "TaskDetailList": [item]})
    assert envelope.details() == []


def test_envelope_fields() -> None:
    envelope = ListResponse.model_validate({"RetCode": "5", "Message": None, "Extra": 1})
    assert (envelope.ret_code, envelope.message, envelope.task_detail_list) == (5, "", [])
    envelope = ListResponse.model_validate({"RetCode": 1, "Message": 404, "TaskDetailList": {}})
    assert (envelope.ret_code, envelope.message, envelope.task_detail_list) == (1, "404", [])


def test_details_skip_each_unusable_item_and_keep_the_rest_in_order() -> None:
    items = [{"NoUid": 1}, {"TaskUid": "b"}, "junk", {"TaskUid": ""}, {"TaskUid": "a"}, None]
    envelope = ListResponse.model_validate({"RetCode": 0, "TaskDetailList": items})
    assert [t.task_uid for t in envelope.details()] == ["b", "a"]


def _found(status: str) -> Found:
    return Found("a", TaskDetail.model_validate({"TaskUid": "a", "TaskStatus": status}))


@pytest.mark.parametrize(
    ("result", "done"),
    [
        (_found("Finished"), True),
        (_found("Error"), True),
        (_found("Running"), False),
        (_found("Queuing"), False),
        (_found("finished"), False),  # the vendor's exact words only
        (_found(""), False),
        (NotFound("a"), True),
        (Failed("a", ApiUnavailable("down", "r")), False),
    ],
)
def test_is_done(result: TaskResult, done: bool) -> None:
    assert is_done(result) is done
    assert all_done([result]) is done
    assert all_done([_found("Finished"), result, NotFound("b")]) is done


def test_nothing_to_wait_for_in_no_results() -> None:
    assert all_done([]) is True
