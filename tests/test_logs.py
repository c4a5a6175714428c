"""Log lines as an operator's tools read them: JSON stamped in ISO 8601 UTC, text without
an id said twice."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from bot.ops.logs import AddCorrelation, JsonFormatter, TextFormatter, bound

# 2026-12-07 11:28:20.368 UTC
CREATED = datetime(2026, 12, 7, 11, 28, 20, 368_000, tzinfo=UTC).timestamp()


def record(message: str, *args: object, **extra: str) -> logging.LogRecord:
    made = logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, args, None)
    made.created = CREATED
    made.msecs = 368.0
    for name, value in extra.items():
        setattr(made, name, value)
    AddCorrelation().filter(made)
    return made


def test_json_lines_are_stamped_in_iso_8601_utc() -> None:
    entry = json.loads(JsonFormatter().format(record("hello")))
    assert entry["time"] == "2026-12-07T11:28:20.368Z"
    assert datetime.fromisoformat(entry["time"]).timestamp() == CREATED


def test_json_time_keeps_leading_zero_milliseconds() -> None:
    made = record("hello")
    made.created = datetime(2026, 12, 7, 11, 28, 20, 8_000, tzinfo=UTC).timestamp()
    assert json.loads(JsonFormatter().format(made))["time"] == "2026-12-07T11:28:20.008Z"


def test_text_lines_name_an_id_the_message_shows_once() -> None:
    with bound(event_id="Ev1", team="T1"):
        line = TextFormatter().format(
            record("task API call: 2 UIDs [request_uuid=%s]", "r-42", request_uuid="r-42")
        )
    assert line.count("request_uuid=r-42") == 1
    assert line.endswith("[request_uuid=r-42] {event_id=Ev1 team=T1}")


def test_text_lines_still_append_ids_the_message_does_not_show() -> None:
    line = TextFormatter().format(record("task API call: 2 UIDs", request_uuid="r-43"))
    assert re.search(r"task API call: 2 UIDs \{request_uuid=r-43\}$", line)
