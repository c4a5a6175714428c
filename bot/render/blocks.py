"""slack_sdk Block Kit objects to JSON dicts: the dicts `to_dict()` makes, for less work.

Hand-written because `JsonObject.to_dict()` redoes, on every call, work that depends only on
the class: it finds the validators by scanning the object's attributes, builds and sorts the
set of JSON keys, and converts every nested object twice. An answer is a handful of the same
few classes, made for every command, and that overhead was most of the cost of rendering one.

Here the per-class facts are looked up once, into one converter per class; per object it runs
each of slack_sdk's own validators (so a field over Slack's limits raises
`SlackObjectFormationError` as `to_dict()` does) and copies the non-empty attributes, exactly
as `get_non_null_attributes` decides. A class that serialises itself differently (its own
`to_dict`, `get_non_null_attributes` or `get_object_attribute`) goes through its own
`to_dict()`. Tests compare the result with `to_dict()` on random answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_DEFAULT = (JsonObject.to_dict, JsonObject.get_non_null_attributes, JsonObject.get_object_attribute)
_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)
_PLAIN = frozenset({str, bool, int, float, type(None)})
_SCALARS = frozenset({bool, int, float})  # kept as they are: no length, never empty

Convert = Callable[[Any], dict[str, Any]]
_Check = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (the check, its validator)
_checks: dict[type, tuple[_Check, ...]] = {}
# Per class: the function that makes its dict (see `_converter`).
# Every slack_sdk Block Kit class declares a fixed set of keys, so one object tells for all.
_converters: dict[type, Convert] = {}


def block_dict(obj: JsonObject) -> dict[str, Any]:
    """`obj.to_dict()`, validation included."""
    convert = _converters.get(type(obj))
    if convert is None:
        convert = _learn(obj)
    return convert(obj)


def validate(obj: JsonObject) -> None:
    """Runs slack_sdk's validators of `obj`'s class, as `to_dict()` does (not nested objects)."""
    checks = _checks.get(type(obj))
    if checks is None:
        checks = _checks[type(obj)] = _validators(type(obj))
    for check, validator in checks:
        if not check(obj):
            validator(obj)


def _learn(obj: JsonObject) -> Convert:
    cls = type(obj)
    own = (cls.to_dict, cls.get_non_null_attributes, cls.get_object_attribute) != _DEFAULT
    convert = _own if own else _converter(_validators(cls), tuple(sorted(obj.attributes)))
    _converters[cls] = convert
    return convert


def _own(obj: JsonObject) -> dict[str, Any]:
    return obj.to_dict()


def _converter(checks: Sequence[_Check], keys: Sequence[str]) -> Convert:
    """The dict of one class's objects: its validators run, then its non-empty keys, sorted."""

    def convert(obj: Any) -> dict[str, Any]:
        for check, validator in checks:
            if not check(obj):
                validator(obj)
        data: dict[str, Any] = {}
        for key in keys:
            value = getattr(obj, key, None)
            if value is None:
                continue
            kind = type(value)  # pragma: no mutate (any other key only skips the fast branches)
            if kind is str:  # the commonest value: no conversion, empty only when ""
                if value or _empty_allowed(obj, key):
                    data[key] = value
            elif kind in _SCALARS:
                data[key] = value
            elif not (hasattr(value, "__len__") and not len(value)) or _empty_allowed(obj, key):
                data[key] = _value(value)
        return data

    return convert


def _empty_allowed(obj: Any, key: str) -> bool:
    return (getattr(obj, "type", None), key) in _EMPTY_ALLOWED


def _value(value: Any) -> Any:
    kind = type(value)  # pragma: no mutate (any other key only skips the fast checks)
    if kind in _PLAIN:
        return value
    convert = _converters.get(kind)
    if convert is None and isinstance(value, JsonObject):
        convert = _learn(value)
    if convert is not None and convert is not _own:
        return convert(value)
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {k: _value(v) for k, v in to_dict().items()}
    return value


def _validators(cls: type) -> tuple[_Check, ...]:
    """The methods slack_sdk's `@JsonValidator` marked, as `validate_json` finds them, sorted.

    Each as (its check, itself): the check is the method `@JsonValidator` wrapped, called
    directly (the wrapper's own call was a third of the cost); when it fails, the validator
    itself runs again and raises slack_sdk's own error with its own message.
    """
    names = (n for n in dir(cls) if not n.startswith("__"))
    validators = [getattr(cls, n) for n in sorted(names) if _is_validator(getattr(cls, n, None))]
    return tuple((getattr(v, "__wrapped__", None) or _raising(v), v) for v in validators)


def _raising(validator: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """A check for a validator that wraps nothing: running it is the check (it raises)."""

    def check(obj: Any) -> bool:
        validator(obj)
        return True

    return check


def _is_validator(value: Any) -> bool:
    return callable(value) and hasattr(value, "validator")
