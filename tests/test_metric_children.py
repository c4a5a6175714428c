"""Metrics that remember their children expose exactly what prometheus-client's own do."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

import prometheus_client
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from bot.ops.metric_children import Counter, Histogram


class Kind(StrEnum):
    A = "a"
    B = "b"


class Mix(str, Enum):  # noqa: UP042 - the point: not a StrEnum
    """Equal to "a", but printed as `Mix.A`: another label."""

    A = "a"


class Loud(str):
    def __str__(self) -> str:
        return self.upper()


VALUES = st.one_of(
    st.sampled_from(["a", "b", "1", "True", ""]),
    st.sampled_from(list(Kind)),
    st.sampled_from([Mix.A, Loud("a"), Loud("b")]),
    st.integers(-2, 2),
    st.booleans(),
    st.text(max_size=3),
)
STEPS = st.lists(
    st.tuples(st.sampled_from(["inc", "inc_kw", "observe", "remove", "clear"]), VALUES, VALUES),
    max_size=30,
)


def _pair(kind: str) -> tuple[Any, Any, CollectorRegistry, CollectorRegistry]:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    if kind == "counter":
        return (
            Counter("c", "doc", ["x", "y"], registry=ours),
            prometheus_client.Counter("c", "doc", ["x", "y"], registry=theirs),
            ours,
            theirs,
        )
    return (
        Histogram("h", "doc", ["x", "y"], registry=ours),
        prometheus_client.Histogram("h", "doc", ["x", "y"], registry=theirs),
        ours,
        theirs,
    )


def _apply(metric: Any, step: str, x: Any, y: Any) -> None:
    if step == "remove":
        metric.remove(x, y)
    elif step == "clear":
        metric.clear()
    elif step == "inc_kw":
        child = metric.labels(x=x, y=y)
        child.inc() if hasattr(child, "inc") else child.observe(1.0)
    elif hasattr(metric, "inc"):
        metric.labels(x, y).inc(2 if step == "observe" else 1)
    else:
        metric.labels(x, y).observe(0.3 if step == "observe" else 7.0)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["counter", "histogram"]), STEPS)
@example("counter", [("inc", "a", "a"), ("inc", "a", "\r")])  # a line break in a label
@example("counter", [("inc", "a", "a"), ("inc", "a", Mix.A)])  # equal, printed otherwise
@example("histogram", [("inc", Loud("b"), "a"), ("inc", "b", "a")])
def test_same_exposition_as_prometheus_client(kind: str, steps: list[tuple[str, Any, Any]]) -> None:
    ours, theirs, our_registry, their_registry = _pair(kind)
    for step, x, y in steps:
        _apply(ours, step, x, y)
        _apply(theirs, step, x, y)
        assert _samples(our_registry) == _samples(their_registry)


def _samples(registry: CollectorRegistry) -> list[bytes]:
    """The exposition without `_created` lines, which hold the moment each child was made."""
    return [line for line in generate_latest(registry).split(b"\n") if b"_created" not in line]


def test_a_child_asked_for_again_is_the_same_one() -> None:
    counter = Counter("c", "doc", ["lane"], registry=CollectorRegistry())
    first = counter.labels("a")
    assert counter.labels("a") is first
    assert counter.labels(Kind.A) is first  # a StrEnum names the child of its text
    counter.labels(Kind.A).inc()
    assert first._value.get() == 1.0
    counter.remove("a")
    assert counter.labels("a") is not first  # a removed child is not handed out again


def test_unhashable_and_wrong_counts_behave_as_prometheus_client() -> None:
    counter = Counter("c", "doc", ["lane"], registry=CollectorRegistry())
    counter.labels(["x"]).inc()
    assert counter.labels("['x']")._value.get() == 1.0
    for wrong in ((), ("a", "b")):
        with pytest.raises(ValueError, match="Incorrect label count"):
            counter.labels(*wrong)
