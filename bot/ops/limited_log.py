"""Log lines a stranger can trigger, with a budget: a flood costs a few lines, not a disk.

A token bucket (``burst`` lines at once, refilled at ``per_minute``); lines over budget are
counted and the next line that gets through says how many were left out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError


class LimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        per_minute: float = 30.0,
        burst: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._rate = per_minute / 60.0
        self._burst = burst
        self._tokens = burst
        self._clock = clock
        self._last = clock()
        self.suppressed = 0

    def allow(self) -> bool:
        """Spends one line of budget; False (and counted) when there is none left."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.suppressed += 1
        return False

    def take_suppressed(self) -> str:
        """ " (N similar lines left out)" once after a quiet spell, else ""."""
        count, self.suppressed = self.suppressed, 0
        return f" ({count} similar lines left out)" if count else ""

    def warning(self, message: str, *args: object) -> None:
        if self.allow():
            self._logger.warning(message + "%s", *args, self.take_suppressed())


class QuietParseErrors(logging.Filter):
    """aiohttp logs malformed HTTP (bad request lines, over-long headers, ``HTTP/9.9``) at
    ERROR with a traceback, once per request from anyone. Such a record becomes one short
    WARNING naming the kind of error, within a budget; every other record passes unchanged."""

    def __init__(self, limiter: LimitedLog) -> None:
        super().__init__()
        self._limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RequestPayloadError) and exc.__cause__ is not None:
            exc = exc.__cause__  # a bad body found while aiohttp drained it
        if not isinstance(exc, HttpProcessingError):
            return True
        if not self._limiter.allow():
            return False
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.msg = "malformed HTTP request%s refused (%s)%s"
        record.args = (
            f" from {peer}" if peer else "",
            type(exc).__name__,
            self._limiter.take_suppressed(),
        )
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_parse_errors(logger_name: str = "aiohttp.server") -> None:
    """Installs `QuietParseErrors` on aiohttp's server logger (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, QuietParseErrors) for f in logger.filters):
        logger.addFilter(QuietParseErrors(LimitedLog(logger)))
