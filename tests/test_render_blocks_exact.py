"""`block_dict` and `validate`, exactly: what is worked out once per class, how validators run,
and the empty values Slack allows. Classes are made afresh in each test (`fresh`), as in
`test_render_blocks.py`, so nothing is remembered from another test.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import MarkdownTextObject, RichTextSectionElement, SectionBlock

from bot.render.blocks import block_dict, validate
from tests import test_render_blocks as render_blocks
from tests.test_render_blocks import fresh

T = TypeVar("T")


class KeysRead(SectionBlock):
    """Counts reads of `attributes`, the keys `block_dict` learns from a class's first object."""

    reads = 0

    @property
    def attributes(self) -> set[str]:  # type: ignore[override]
        KeysRead.reads += 1
        return set(super().attributes)


def test_a_class_is_learnt_once_from_its_first_object() -> None:
    cls = fresh(KeysRead)
    outer = cls(text=MarkdownTextObject(text="o"), block_id="1")
    outer.fields = [cls(text=MarkdownTextObject(text="i"))]  # type: ignore[list-item]
    KeysRead.reads = 0
    expected = {
        "block_id": "1",
        "fields": [{"text": {"text": "i", "type": "mrkdwn"}, "type": "section"}],
        "text": {"text": "o", "type": "mrkdwn"},
        "type": "section",
    }
    assert block_dict(outer) == expected
    assert block_dict(outer) == expected
    assert KeysRead.reads == 1


class Probe:
    """A class attribute that counts its reads from the class: one per scan for validators."""

    reads = 0

    def __get__(self, obj: object, cls: type) -> Probe:
        if obj is None:
            Probe.reads += 1
        return self


class Counted(render_blocks.Counted):
    """One validator that counts its calls, and a probe that counts scans of the class."""

    probe = Probe()


def test_validate_scans_a_class_once_and_runs_its_validators_each_time() -> None:
    cls = fresh(Counted)
    Probe.reads = 0
    ok = cls(1)
    validate(ok)
    validate(ok)
    assert ok.calls == 2
    with pytest.raises(SlackObjectFormationError, match=r"^n must not be negative$"):
        validate(cls(-1))
    assert Probe.reads == 1


def _never(obj: Any) -> None:
    raise AssertionError("a name starting with __ is never a validator")


_never.validator = True  # type: ignore[attr-defined]


def test_dunder_names_are_not_scanned_for_validators() -> None:
    cls = type("Dunder", (Counted,), {"__never__": _never})
    assert block_dict(cls(2)) == {"n": 2, "type": "counted"} == cls(2).to_dict()


class Wrapped(JsonObject):
    """A validator as `@JsonValidator` makes one (its wrapper marked, `__wrapped__` the check),
    with a wrapper that counts its calls."""

    attributes = {"n"}  # noqa: RUF012 (slack_sdk declares it so)
    wrapper_calls = 0

    def __init__(self, n: int) -> None:
        self.n = n


def _positive(obj: Any) -> bool:
    return bool(obj.n > 0)


def _positive_wrapper(obj: Any) -> None:
    Wrapped.wrapper_calls += 1
    if not _positive(obj):
        raise SlackObjectFormationError("n must be positive")


_positive_wrapper.validator = True  # type: ignore[attr-defined]
_positive_wrapper.__wrapped__ = _positive  # type: ignore[attr-defined]
Wrapped.check_n = _positive_wrapper  # type: ignore[attr-defined]


def test_a_passing_check_is_called_without_its_wrapper() -> None:
    cls = fresh(Wrapped)
    Wrapped.wrapper_calls = 0
    assert block_dict(cls(1)) == {"n": 1}
    assert Wrapped.wrapper_calls == 0
    assert cls(1).to_dict() == {"n": 1}
    assert Wrapped.wrapper_calls == 1
    with pytest.raises(SlackObjectFormationError, match=r"^n must be positive$"):
        block_dict(cls(0))


class Unwrapped(JsonObject):
    """A marked validator that wraps nothing: it raises by itself, and counts its calls."""

    attributes = {"n"}  # noqa: RUF012 (slack_sdk declares it so)
    calls = 0

    def __init__(self, n: int) -> None:
        self.n = n


def _small(obj: Any) -> None:
    Unwrapped.calls += 1
    if obj.n > 9:
        raise SlackObjectFormationError("n must be under 10")


_small.validator = True  # type: ignore[attr-defined]
Unwrapped.check_n = _small  # type: ignore[attr-defined]


def test_a_validator_that_wraps_nothing_runs_once() -> None:
    cls = fresh(Unwrapped)
    Unwrapped.calls = 0
    assert block_dict(cls(9)) == {"n": 9}
    assert Unwrapped.calls == 1
    assert cls(9).to_dict() == {"n": 9}
    assert Unwrapped.calls == 2
    with pytest.raises(SlackObjectFormationError, match=r"^n must be under 10$"):
        block_dict(cls(10))
    assert Unwrapped.calls == 3


def test_an_empty_text_is_kept_where_slack_allows_empty_values() -> None:
    element = fresh(RichTextSectionElement)(elements=[])
    element.elements = ""  # type: ignore[assignment]
    expected = {"elements": "", "type": "rich_text_section"}
    assert block_dict(element) == expected == element.to_dict()


class Untyped(JsonObject):
    """No `type` attribute at all."""

    attributes = {"name"}  # noqa: RUF012 (slack_sdk declares it so)

    def __init__(self, name: str) -> None:
        self.name = name


def test_an_empty_text_of_an_object_without_a_type_is_left_out() -> None:
    assert block_dict(fresh(Untyped)("")) == {} == fresh(Untyped)("").to_dict()
