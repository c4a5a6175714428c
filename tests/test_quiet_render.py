"""Quiet follows, pure parts: when a silent watch completes, and its failure message."""

from __future__ import annotations

import json

import pytest

from bot.records.watch import Watch
from bot.render.quiet import failure_message
from bot.taskapi.models import Found, NotFound, TaskDetail, TaskResult
from bot.watch import machine
from bot.watch.machine import Finish, Rules

RULES = Rules(poll_interval=10.0, max_duration=100.0, heartbeat=50.0)


def task(uid: str, status: str, **fields: object) -> Found:
    return Found(uid, TaskDetail.model_validate({"TaskUid": uid, "TaskStatus": status, **fields}))


def watch(mode: str) -> Watch:
    return Watch.model_validate(
        {
            "user_id": "U1",
            "channel_id": "C1",
            "uids": ["a", "b"],
            "created_at": 0,
            "expires_at": 0,
            "mode": mode,
        }
    )


@pytest.mark.parametrize(("mode", "finished"), [("errors", True), ("all", False)])
def test_a_quiet_watch_completes_at_its_first_failure(mode: str, finished: bool) -> None:
    w, effect = machine.poll(
        watch(mode),
        [task("a", "Error"), task("b", "Running")],
        elapsed=10.0,
        now=5.0,
        rules=RULES,
        may_edit=False,
    )
    assert isinstance(effect, Finish) is finished
    assert (w.state == "notifying") is finished


def test_a_quiet_watch_without_failures_waits_for_all_done() -> None:
    running = [task("a", "Finished"), task("b", "Running")]
    _, effect = machine.poll(
        watch("errors"), running, elapsed=1, now=1, rules=RULES, may_edit=False
    )
    assert effect is None  # no edit either: a quiet watch has nothing to show


def test_the_failure_message_names_failed_tasks_escaped_and_pings_a_person() -> None:
    results: list[TaskResult] = [
        task("ok-1", "Finished"),
        task("err-2", "Error", TaskErrorCode=1001, TaskErrorMsg="<!channel> *boom* & <b>"),
        NotFound("gone-3"),
    ]
    message = failure_message(results, "U2", "VALUE")
    text = json.dumps(message.as_payload())
    assert ":x: <@U2> 1 of 3 tasks failed." in text
    assert "err-2" in text
    assert "1001" in text
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "ok-1" not in text
    actions = [b for b in message.as_payload()["blocks"] if b["type"] == "actions"]
    [buttons] = [a["elements"] for a in actions]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("task_refresh", "VALUE"),
        ("task_watch", "VALUE"),
    ]


@pytest.mark.parametrize("author", ["", "U 2", "<!here>"])
def test_the_failure_message_of_a_bot_pings_nobody(author: str) -> None:
    message = failure_message([task("err-1", "Error")], author, "V")
    assert "<@" not in json.dumps(message.as_payload())
    assert "<!here>" not in json.dumps(message.as_payload())
    assert message.text.startswith("1 of 1 task failed")
