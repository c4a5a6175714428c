"""`block_dict` is `to_dict()`: the same dicts, the same key order, the same validation.

Each test makes its classes afresh (`fresh`), so the per-class facts `block_dict` keeps are
worked out again in every test rather than remembered from another.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject, JsonValidator
from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    RichTextBlock,
    RichTextSectionElement,
    SectionBlock,
)

from bot.render.blocks import block_dict

T = TypeVar("T")


def fresh(cls: type[T]) -> type[T]:
    """A new subclass: a class `block_dict` has never seen."""
    return type(cls.__name__, (cls,), {})


def same(obj: JsonObject) -> dict[str, Any]:
    """`block_dict(obj)`, checked against `to_dict()` key for key and in key order."""
    made = block_dict(obj)
    assert made == obj.to_dict()
    assert json.dumps(made) == json.dumps(obj.to_dict())
    return made


def test_plain_values_nested_objects_and_lists() -> None:
    section = fresh(SectionBlock)(
        block_id="b1",
        text=fresh(MarkdownTextObject)(text="*x* <y>", verbatim=True),
        fields=(fresh(PlainTextObject)(text="f", emoji=False), MarkdownTextObject(text="g")),
        accessory=fresh(ButtonElement)(text="Go", action_id="go", value="1"),
    )
    assert same(section) == {
        "accessory": {
            "action_id": "go",
            "text": {"emoji": True, "text": "Go", "type": "plain_text"},
            "type": "button",
            "value": "1",
        },
        "block_id": "b1",
        "fields": [
            {"emoji": False, "text": "f", "type": "plain_text"},
            {"text": "g", "type": "mrkdwn"},
        ],
        "text": {"text": "*x* <y>", "type": "mrkdwn", "verbatim": True},
        "type": "section",
    }
    assert list(block_dict(section)) == ["accessory", "block_id", "fields", "text", "type"]


def test_empty_values_are_left_out_except_where_slack_allows_them() -> None:
    section = fresh(SectionBlock)(text=MarkdownTextObject(text="t"), block_id="", fields=[])
    assert same(section) == {"text": {"text": "t", "type": "mrkdwn"}, "type": "section"}
    rich = fresh(RichTextBlock)(elements=[fresh(RichTextSectionElement)(elements=[])])
    assert same(rich) == {
        "elements": [{"elements": [], "type": "rich_text_section"}],
        "type": "rich_text",
    }
    context = fresh(ContextBlock)(elements=[])
    assert same(context) == {"type": "context"}


def test_slack_sdks_validators_run() -> None:
    too_long = fresh(ButtonElement)(text="x" * 76, action_id="a", value="v")
    with pytest.raises(SlackObjectFormationError) as caught:
        block_dict(too_long)
    with pytest.raises(SlackObjectFormationError) as expected:
        too_long.to_dict()
    assert str(caught.value) == str(expected.value)
    assert (
        same(fresh(ButtonElement)(text="x" * 75, action_id="a", value="v"))["text"]["text"]
        == "x" * 75
    )


class Counted(JsonObject):
    """A class of our own: one validator that counts its calls, and a plain method."""

    attributes = {"type", "n"}  # noqa: RUF012 (slack_sdk declares it so)

    def __init__(self, n: int) -> None:
        self.type = "counted"
        self.n = n
        self.calls = 0

    @JsonValidator("n must not be negative")
    def _n_not_negative(self) -> bool:
        self.calls += 1
        return self.n >= 0

    def not_a_validator(self) -> bool:
        raise AssertionError("only methods marked as validators are called")


def test_only_marked_methods_are_validators_each_run_once() -> None:
    ok = fresh(Counted)(3)
    assert block_dict(ok) == {"n": 3, "type": "counted"}
    assert ok.calls == 1
    with pytest.raises(SlackObjectFormationError, match=r"^n must not be negative$"):
        block_dict(fresh(Counted)(-1))


class OwnDict(SectionBlock):
    def to_dict(self, *args: Any) -> dict[str, Any]:
        return {"own": "to_dict"}


class OwnAttributes(SectionBlock):
    def get_non_null_attributes(self) -> dict[str, Any]:
        return {"own": "attributes"}


class OwnAttribute(SectionBlock):
    def get_object_attribute(self, key: str) -> Any:
        return "own" if key == "block_id" else getattr(self, key, None)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (OwnDict, {"own": "to_dict"}),
        (OwnAttributes, {"own": "attributes"}),
        (
            OwnAttribute,
            {"block_id": "own", "text": {"text": "t", "type": "mrkdwn"}, "type": "section"},
        ),
    ],
)
def test_a_class_that_serialises_itself_is_left_to_itself(
    cls: type[SectionBlock], expected: dict[str, Any]
) -> None:
    block = fresh(cls)(text=MarkdownTextObject(text="t"), block_id="b")
    assert same(block) == expected
    inside = fresh(SectionBlock)(text=MarkdownTextObject(text="u"))
    inside.fields = [block]  # type: ignore[list-item]
    assert same(inside)["fields"] == [expected]


class Stamp:
    """Not a Block Kit object, but with a `to_dict` (as `to_dict()` accepts)."""

    def to_dict(self) -> dict[str, Any]:
        return {"at": (1, MarkdownTextObject(text="m"))}


class Opaque:
    """Neither: kept as it is."""


def test_values_that_are_not_block_kit_objects() -> None:
    opaque = Opaque()
    block = fresh(SectionBlock)(text=MarkdownTextObject(text="t"))
    block.fields = [Stamp(), opaque, (2.5, True)]  # type: ignore[list-item]
    assert block_dict(block) == block.to_dict()
    assert block_dict(block)["fields"] == [
        {"at": [1, {"text": "m", "type": "mrkdwn"}]},
        opaque,
        [2.5, True],
    ]


class Scanned(SectionBlock):
    """Counts `to_dict()`'s per-call scan for validators, the work `block_dict` exists to save."""

    scans = 0

    def validate_json(self) -> None:
        Scanned.scans += 1
        super().validate_json()


def test_block_kit_objects_take_the_short_way_nested_ones_too() -> None:
    outer = fresh(Scanned)(text=MarkdownTextObject(text="o"))
    inner = fresh(Scanned)(text=MarkdownTextObject(text="i"), block_id="in")
    outer.fields = [inner]  # type: ignore[list-item]
    Scanned.scans = 0
    made = block_dict(outer)
    again = block_dict(outer)
    assert Scanned.scans == 0
    assert made == again == outer.to_dict()
    assert made["fields"] == [
        {"block_id": "in", "text": {"text": "i", "type": "mrkdwn"}, "type": "section"}
    ]


class Untyped(JsonObject):
    """No `type` attribute at all, and a class attribute that cannot be read from the class."""

    attributes = {"name"}  # noqa: RUF012 (slack_sdk declares it so)

    class _Unreadable:
        def __get__(self, obj: object, cls: type) -> str:
            if obj is None:
                raise AttributeError("only on instances")
            return "x"

    unreadable = _Unreadable()

    def __init__(self, name: str) -> None:
        self.name = name


def test_objects_without_a_type_or_with_odd_class_attributes() -> None:
    assert same(fresh(Untyped)("n")) == {"name": "n"}
