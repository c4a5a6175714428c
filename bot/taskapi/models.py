"""Upstream data as lenient pydantic models: a legacy API may drop fields or add new ones."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.taskapi.errors import TaskApiError

FINAL_STATUSES = frozenset({"Finished", "Error"})
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def as_text(value: Any) -> str:
    """A text field: missing or null is empty, anything else is shown as the vendor sent it."""
    return "" if value is None else str(value)


def picture_urls(value: Any) -> tuple[str, ...]:
    """Only non-empty strings from a list; anything else is no pictures."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def error_code(value: Any) -> int | str:
    """0 for none; whole numbers (also as text) as numbers; any other code as its text.

    Only ASCII digits make a number: `"--5"` or `"²"` pass `isdigit` but not `int()`, and a
    code that cannot be read must never make its whole task unreadable.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else text


class TaskDetail(BaseModel):
    """One task as the vendor reports it. Unknown statuses and extra fields are kept as-is."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    task_uid: str = Field(alias="TaskUid", min_length=1)
    task_type: str = Field("", alias="TaskType")
    task_status: str = Field("", alias="TaskStatus")
    final_picture_urls: tuple[str, ...] = Field((), alias="FinalPictureUrls")
    task_error_msg: str = Field("", alias="TaskErrorMsg")
    task_error_code: int | str = Field(0, alias="TaskErrorCode")

    # The coercions are plain functions above: mutation testing skips decorated methods.
    @field_validator("task_type", "task_status", "task_error_msg", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_text(value)

    @field_validator("final_picture_urls", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> tuple[str, ...]:
        return picture_urls(value)

    @field_validator("task_error_code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> int | str:
        return error_code(value)

    @property
    def is_final(self) -> bool:
        return self.task_status in FINAL_STATUSES

    def raw(self) -> dict[str, Any]:
        """The vendor's own field names, extras included (for `check --json`)."""
        return self.model_dump(by_alias=True, mode="json")


class ListResponse(BaseModel):
    """The envelope. Only `RetCode` is required; each list item is validated on its own."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    ret_code: int = Field(alias="RetCode")
    message: str = Field("", alias="Message")
    task_detail_list: list[Any] = Field(default_factory=list, alias="TaskDetailList")

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any) -> str:
        return as_text(value)

    @field_validator("task_detail_list", mode="before")
    @classmethod
    def _list(cls, value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    def details(self) -> list[TaskDetail]:
        """The readable items; one without a usable `TaskUid` cannot be matched: skipped."""
        found = []
        for item in self.task_detail_list:
            try:
                found.append(TaskDetail.model_validate(item))
            except ValidationError:
                continue
        return found


def read_envelope(raw: bytes) -> ListResponse:
    """`ListResponse.model_validate(json.loads(raw))`, quicker for an ordinary answer:
    pydantic reads the bytes itself. Whatever it refuses (a byte order mark, UTF-16, a lone
    surrogate escape, nesting beyond its limit, ...) is read the old way, which then accepts
    it or raises exactly what it always did."""
    try:
        return ListResponse.model_validate_json(raw)  # pragma: no mutate: see the docstring
    except ValidationError:
        return ListResponse.model_validate(json.loads(raw))


@dataclass(frozen=True, slots=True)
class Found:
    uid: str
    task: TaskDetail


@dataclass(frozen=True, slots=True)
class NotFound:
    uid: str


@dataclass(frozen=True, slots=True)
class Failed:
    uid: str
    error: TaskApiError


TaskResult = Found | NotFound | Failed


def is_done(result: TaskResult) -> bool:
    """A result that will not change any more: a final task, or a UID the API does not know."""
    return isinstance(result, NotFound) or (isinstance(result, Found) and result.task.is_final)


def all_done(results: Sequence[TaskResult]) -> bool:
    """Nothing left to wait for: every result done and no lookup failed."""
    return all(is_done(r) for r in results)


# -- quiet follows: the one status they speak about ---------------------------------------------

ERROR_STATUS = "Error"


def is_error(result: TaskResult) -> bool:
    """A task the vendor reports as failed (not a lookup that failed: that may pass)."""
    return isinstance(result, Found) and result.task.task_status == ERROR_STATUS
