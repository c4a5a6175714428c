from __future__ import annotations

from typing import Any

import pytest

from bot.taskapi.models import ListResponse, TaskDetail


def test_sparse_and_odd_items_are_accepted() -> None:
    task = TaskDetail.model_validate({"TaskUid": "a"})
    assert (task.task_status, task.final_picture_urls, task.task_error_code) == ("", (), 0)
    assert not task.is_final


@pytest.mark.parametrize(
    ("item", "field", "expected"),
    [
        ({"TaskStatus": "Paused"}, "task_status", "Paused"),
        ({"TaskStatus": None}, "task_status", ""),
        ({"FinalPictureUrls": None}, "final_picture_urls", ()),
        ({"FinalPictureUrls": ["u", 3, None, ""]}, "final_picture_urls", ("u",)),
        ({"TaskErrorCode": "42"}, "task_error_code", 42),
        ({"TaskErrorCode": "E_QUOTA"}, "task_error_code", "E_QUOTA"),
        ({"TaskErrorCode": None}, "task_error_code", 0),
        ({"TaskErrorMsg": 12}, "task_error_msg", "12"),
    ],
)
def test_field_leniency(item: dict[str, Any], field: str, expected: Any) -> None:
    assert getattr(TaskDetail.model_validate({"TaskUid": "a", **item}), field) == expected


def test_extra_fields_are_kept() -> None:
    task = TaskDetail.model_validate({"TaskUid": "a", "Progress": 40, "TaskStatus": "Running"})
    assert task.raw() == {
        "TaskUid": "a",
        "TaskType": "",
        "TaskStatus": "Running",
        "FinalPictureUrls": [],
        "TaskErrorMsg": "",
        "TaskErrorCode": 0,
        "Progress": 40,
    }


def test_envelope_skips_unusable_items() -> None:
    envelope = ListResponse.model_validate(
        {"RetCode": 0, "TaskDetailList": [{"NoUid": 1}, "junk", {"TaskUid": ""}, {"TaskUid": "a"}]}
    )
    assert [t.task_uid for t in envelope.details()] == ["a"]


def test_envelope_without_list() -> None:
    assert ListResponse.model_validate({"RetCode": 0, "TaskDetailList": None}).details() == []
