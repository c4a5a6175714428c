"""Logging set up once at start (never on import), with secrets blanked in every record.

Correlation ids (the Slack event or envelope id, the team, a watch id, an upstream call's
`request_uuid`) travel in a context variable: set once where the work starts, they reach every
log line of that work, tasks it spawns included (asyncio copies the context into new tasks).
JSON lines carry them as fields; text lines append those their message does not already show.
JSON lines are stamped in ISO 8601 UTC (`2026-12-07T11:28:20.368Z`), which log stores parse
as a time without being told a format or a zone.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

REDACTED = "[redacted]"
# Only these names become fields: an id, never a token, a URL or a message body.
CORRELATION_FIELDS = ("event_id", "envelope_id", "team", "watch_id", "request_uuid")

_correlation: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "correlation", default=None
)


def bind(**ids: str | None) -> None:
    """Add correlation ids to the current context (and to tasks started from it from now on)."""
    current = dict(_correlation.get() or {})
    current.update({k: v for k, v in ids.items() if v and k in CORRELATION_FIELDS})
    _correlation.set(current)


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """`bind` for one block of work only."""
    token = _correlation.set(dict(_correlation.get() or {}))
    bind(**ids)
    try:
        yield
    finally:
        _correlation.reset(token)


def correlation() -> dict[str, str]:
    return dict(_correlation.get() or {})


class RedactSecrets(logging.Filter):
    """Replaces every known secret value, wherever a message or its arguments carry it.

    In OAuth mode the tokens are not known at start (each installation brings its own, and
    rotation makes new ones), so anything shaped like a Slack token goes too: the SDK's
    DEBUG lines print request forms and answers, refresh tokens and access tokens included.
    """

    def __init__(self, secrets: Iterable[str], *, token_shapes: bool = True) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]
        self._shapes = token_shapes

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, REDACTED)
        if self._shapes:
            message = SLACK_TOKEN.sub(REDACTED, message)
        message = FORM_VALUE.sub(rf"\g<key>\g<q>{REDACTED}\g<q>", message)
        record.msg, record.args = message, None
        return True


# xoxb-/xoxp-/xoxe-1- tokens and rotating ones (`xoxe.xoxb-1-...`).
SLACK_TOKEN = re.compile(r"xox[a-z]{0,2}[.-][A-Za-z0-9._-]{6,}")

# What people type into a form: a view submission's `state.values` holds each input as
# `{"type": "plain_text_input", "value": "..."}`, the connect modal's private key included,
# and slack_sdk's Socket Mode client logs every frame it receives at DEBUG (Bolt prints
# bodies too, as Python reprs). Every `value` (and `private_key`) string is blanked, quoted
# as JSON, as a repr, escaped inside another string, or URL-encoded; a button's value goes
# with them, a small loss for a DEBUG line. Linear on hostile text: an escape and a plain
# character never both match a backslash, and a value is read for 4,096 characters at most.
FORM_VALUE = re.compile(
    r"""(?P<key>(?P<q>\\{0,8}["']|%22|%27)(?:value|private_key)(?P=q)\s*(?::|%3A)\s*(?:%20|\+)*)"""
    r"""(?P=q)(?:\\.|[^\\]){0,4096}?(?<!\\)(?<!%5C)(?P=q)""",
    re.DOTALL,
)


class AddCorrelation(logging.Filter):
    """Copies the context's correlation ids (and ids given as `extra=`) onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = correlation()
        for name in CORRELATION_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str) and value:
                ids[name] = value
        record.correlation = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. A few fields do not justify another dependency."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": iso_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "correlation", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def iso_utc(created: float) -> str:
    """A record's time as ISO 8601 in UTC, to the millisecond, with `Z` for the zone."""
    stamp = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.removesuffix("+00:00") + "Z"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids: dict[str, str] = getattr(record, "correlation", {})
        # A message may name an id itself (`[request_uuid=...]`, for people reading JSON lines):
        # it is not repeated at the end.
        shown = [f"{k}={v}" for k, v in ids.items() if f"{k}={v}" not in line]
        if not shown:
            return line
        return line + " {" + " ".join(shown) + "}"


def configure(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(AddCorrelation())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
