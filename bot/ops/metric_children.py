"""prometheus-client's `Counter` and `Histogram`, with `labels()` remembering its children.

`labels()` checks its arguments, turns each into text and looks the child up under a lock,
every time: about a microsecond and a half, several times per answer. Here the child is kept
under the values it was asked for, so asking again is one dict lookup. Children are still
created by prometheus-client, on first use only (the exposition is the same), and `remove()`
and `clear()` forget what they drop.

The label values this app passes are text (`str` or a `StrEnum`): only those are remembered,
and a value finds a remembered child only when it is of the same type as the one that made
it (an equal value of another type may print otherwise, and name another child). Keyword
labels, and any other value, take prometheus-client's own path.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

import prometheus_client
from prometheus_client.metrics import MetricWrapperBase


class _Children(MetricWrapperBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Under the values asked for: their types, and the child they named.
        self._children: dict[tuple[object, ...], tuple[tuple[type, ...], Self]] = {}

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Self:
        if not labelkwargs:
            try:
                known = self._children.get(labelvalues)
            except TypeError:  # an unhashable value: prometheus-client turns it into text
                known = None
            # An equal value of another type may print otherwise: a child of its own.
            if known is not None and known[0] == tuple(map(type, labelvalues)):
                return known[1]
        child = super().labels(*labelvalues, **labelkwargs)
        if not labelkwargs and all(_plain_text(value) for value in labelvalues):
            self._children[labelvalues] = (tuple(map(type, labelvalues)), child)
        return child

    def remove(self, *labelvalues: Any) -> None:
        super().remove(*labelvalues)
        self._children.clear()

    def clear(self) -> None:
        super().clear()
        self._children.clear()


def _plain_text(value: object) -> bool:
    """Text that is its own label: `str` itself, or a `StrEnum` member (whose text is its
    value); a subclass of `str` may print otherwise."""
    return type(value) is str or isinstance(value, StrEnum)


class Counter(_Children, prometheus_client.Counter):
    pass


class Histogram(_Children, prometheus_client.Histogram):
    pass
