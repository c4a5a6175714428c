"""prometheus-client's `Counter` and `Histogram`, with `labels()` remembering its children.

`labels()` checks its arguments, turns each into text and looks the child up under a lock,
every time: about a microsecond and a half, several times per answer. Here the child is kept
under the values it was asked for, so asking again is one dict lookup. Children are still
created by prometheus-client, on first use only (the exposition is the same), and `remove()`
and `clear()` forget what they drop.

The label values this app passes are text (`str` or a `StrEnum`): a value is remembered only
when its text is itself, so any value equal to it names the same child prometheus-client
would return. Keyword labels, and any other value, take prometheus-client's own path.
"""

from __future__ import annotations

from typing import Any, Self

import prometheus_client
from prometheus_client.metrics import MetricWrapperBase


class _Children(MetricWrapperBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[tuple[object, ...], Self] = {}

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Self:
        try:
            child = self._children.get(labelvalues) if not labelkwargs else None
        except TypeError:  # an unhashable value: prometheus-client turns it into text
            child = None
        if child is None:
            child = super().labels(*labelvalues, **labelkwargs)
            if not labelkwargs and all(
                isinstance(value, str) and str(value) == value for value in labelvalues
            ):
                self._children[labelvalues] = child
        return child

    def remove(self, *labelvalues: Any) -> None:
        super().remove(*labelvalues)
        self._children.clear()

    def clear(self) -> None:
        super().clear()
        self._children.clear()


class Counter(_Children, prometheus_client.Counter):
    pass


class Histogram(_Children, prometheus_client.Histogram):
    pass
