"""Answer latency: the clock starts when a request reaches the app (Bolt's middleware,
`bot.slack.bolt.observe`) and stops when its answer reaches Slack. It lives here, below both,
so that the surfaces and the answering code stop the clock without reaching up into Bolt."""

from __future__ import annotations

import contextvars
import time

from bot.ops.metrics import Metrics

# When the request being served reached the app (monotonic); unset outside request work.
_received: contextvars.ContextVar[float | None] = contextvars.ContextVar("received", default=None)


def start() -> None:
    """The request being served reached the app now."""
    _received.set(time.monotonic())


def answered(metrics: Metrics, surface: str) -> None:
    """An answer reached Slack: how long since its request reached the app."""
    received = _received.get()
    if received is not None:
        metrics.answer_latency.labels(surface).observe(time.monotonic() - received)
