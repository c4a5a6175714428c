"""slack_sdk Block Kit objects to JSON dicts: the dicts `to_dict()` makes, for less work.

Hand-written because `JsonObject.to_dict()` redoes, on every call, work that depends only on
the class: it finds the validators by scanning the object's attributes, builds and sorts the
set of JSON keys, and converts every nested object twice. An answer is a handful of the same
few classes, made for every command, and that overhead was most of the cost of rendering one.

Here the per-class facts are looked up once; per object it runs each of slack_sdk's own
validators (so a field over Slack's limits raises `SlackObjectFormationError` as `to_dict()`
does) and copies the non-empty attributes, exactly as `get_non_null_attributes` decides. A
class that serialises itself differently (its own `to_dict`, `get_non_null_attributes` or
`get_object_attribute`) goes through its own `to_dict()`. Tests compare the result with
`to_dict()` on random answers.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_DEFAULT = (JsonObject.to_dict, JsonObject.get_non_null_attributes, JsonObject.get_object_attribute)
_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)
_PLAIN = frozenset({str, bool, int, float, type(None)})
# Per class: None when it serialises itself, else (its validators, its JSON keys), both sorted.
# Every slack_sdk Block Kit class declares a fixed set of keys, so one object tells for all.
_shapes: dict[type, tuple[tuple[str, ...], tuple[str, ...]] | None] = {}


def block_dict(obj: JsonObject) -> dict[str, Any]:
    """`obj.to_dict()`, validation included."""
    shape = _shape(obj)
    if shape is None:
        return obj.to_dict()
    validators, keys = shape
    for name in validators:
        getattr(obj, name)()
    kind = getattr(obj, "type", None)
    data: dict[str, Any] = {}
    for key in keys:
        value = getattr(obj, key, None)
        if value is None:
            continue
        if hasattr(value, "__len__") and not len(value) and (kind, key) not in _EMPTY_ALLOWED:
            continue
        data[key] = _value(value)
    return data


def _value(value: Any) -> Any:
    kind = type(value)  # pragma: no mutate (any other key only skips the fast checks)
    if kind in _PLAIN:
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if _shapes.get(kind) is not None or (
        isinstance(value, JsonObject) and _shape(value) is not None
    ):
        return block_dict(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {k: _value(v) for k, v in to_dict().items()}
    return value


def _shape(obj: JsonObject) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    cls = type(obj)
    if cls not in _shapes:
        own = (cls.to_dict, cls.get_non_null_attributes, cls.get_object_attribute) != _DEFAULT
        _shapes[cls] = None if own else (_validators(cls), tuple(sorted(obj.attributes)))
    return _shapes[cls]


def _validators(cls: type) -> tuple[str, ...]:
    """The methods slack_sdk's `@JsonValidator` marked, as `validate_json` finds them."""
    names = (n for n in dir(cls) if not n.startswith("__"))
    return tuple(sorted(n for n in names if _is_validator(getattr(cls, n, None))))


def _is_validator(value: Any) -> bool:
    return callable(value) and hasattr(value, "validator")
