"""Workflow Builder steps, the pure parts: the step watch in the state machine, the outputs
and error texts, and reading the step's inputs."""

from __future__ import annotations

import pytest

from bot.reading.parse import parse_uid_list
from bot.records.watch import Step, Watch
from bot.render.step import (
    bad_timeout_error,
    no_uid_error,
    read_timeout,
    step_outputs,
    timeout_error,
    upstream_error,
)
from bot.taskapi.errors import ApiUnavailable
from bot.taskapi.models import Failed, Found, NotFound, TaskDetail, TaskResult
from bot.watch import machine
from bot.watch.machine import Effect, Expire, Finish, Rules

RULES = Rules(poll_interval=10.0, max_duration=100.0, heartbeat=50.0)


def step_watch(timeout: float = 600.0, created_at: float = 0.0) -> Watch:
    return Watch(
        user_id="",
        channel_id="",
        uids=["a"],
        created_at=created_at,
        expires_at=0,
        mode="step",
        final_shown=True,
        step=Step(execution_id="Fx1", token="plain:xwfp-1", timeout=timeout),
    )


def task(uid: str, status: str, **extra: object) -> Found:
    return Found(uid, TaskDetail.model_validate({"TaskUid": uid, "TaskStatus": status, **extra}))


def poll(
    w: Watch, *results: TaskResult, now: float = 0.0, elapsed: float = 10.0
) -> tuple[Watch, Effect | None]:
    """As the scheduler polls a step: it never edits (there is no message)."""
    return machine.poll(w, list(results), elapsed=elapsed, now=now, rules=RULES, may_edit=False)


def test_a_step_outlives_max_duration_and_edits_nothing() -> None:
    w, effect = poll(step_watch(), task("a", "Running"), elapsed=150.0)  # past max_duration
    assert effect is None  # no Expire: a step keeps its own timeout (the scheduler never edits)
    assert w.state == "active"


@pytest.mark.parametrize(("elapsed", "now"), [(600.0, 0.0), (10.0, 600.0)])
def test_a_step_times_out_by_age_or_by_the_wall_clock(elapsed: float, now: float) -> None:
    """The token dies on Slack's clock: time no process counted (a takeover) counts too."""
    w, effect = poll(step_watch(), task("a", "Running"), elapsed=elapsed, now=now)
    assert isinstance(effect, Finish)
    assert w.state == "notifying"
    assert w.step is not None
    assert w.step.timed_out is True
    done = machine.noticed(w)
    assert done is not None
    assert (done.state, done.end_reason) == ("done", "expired")
    assert done.step is not None
    assert done.step.token == ""


def test_done_tasks_win_over_a_timeout_reached_in_the_same_poll() -> None:
    w, effect = poll(step_watch(), task("a", "Finished"), now=600.0)
    assert isinstance(effect, Finish)
    assert w.step is not None
    assert w.step.timed_out is False


def test_the_token_is_dropped_on_every_way_to_done() -> None:
    notifying, _ = poll(step_watch(), task("a", "Finished"))
    assert notifying.step is not None
    assert notifying.step.token == "plain:xwfp-1"  # still owed its completion
    done = machine.noticed(notifying)
    gone = machine.notice_failed(notifying, "never", elapsed=0.0, rules=RULES)
    abandoned = machine.abandon(step_watch())
    for ended in (done, gone, abandoned):
        assert ended is not None
        assert ended.state == "done"
        assert ended.step is not None
        assert ended.step.token == ""


def test_no_stop_ends_a_step_without_its_completion() -> None:
    assert machine.stop(step_watch(), "U1") is None


def test_a_plain_watch_still_expires() -> None:
    plain = step_watch().model_copy(update={"mode": "all", "step": None})
    _, effect = poll(plain, task("a", "Running"), elapsed=150.0)
    assert isinstance(effect, Expire)


def test_a_step_is_polled_every_interval_however_long_unchanged() -> None:
    w = step_watch().model_copy(update={"age": 3600.0})
    assert machine.next_delay(w, RULES) == RULES.poll_interval
    plain = w.model_copy(update={"step": None, "mode": "all"})
    assert machine.next_delay(plain, RULES) > RULES.poll_interval


def test_the_token_never_shows_in_a_repr() -> None:
    assert "xwfp-1" not in repr(step_watch())


def test_outputs_escape_the_vendors_words() -> None:
    outputs = step_outputs([task("a", "<!channel> & co"), NotFound("b")])
    assert outputs["statuses"] == "a: &lt;!channel&gt; &amp; co\nb: not found"
    assert "<" not in outputs["summary"]
    assert (outputs["all_done"], outputs["failed_count"]) == (False, 0)


def test_error_texts_escape_what_they_quote_as_the_outputs_do() -> None:
    failed = Failed("c", ApiUnavailable("<!channel> says <https://evil.example|hi>", "r&1"))
    errors = [
        upstream_error([failed]) or "",
        no_uid_error(["<!here>", "a&b"]),
        bad_timeout_error("<!channel>"),
    ]
    for error in errors:
        assert "<" not in error
        assert ">" not in error
    assert "&lt;!channel&gt; says" in errors[0]
    assert "(ref r&amp;1)" in errors[0]
    assert "&lt;!here&gt;, a&amp;b" in errors[1]


def test_failed_count_counts_error_tasks_not_failed_lookups() -> None:
    failed = Failed("c", ApiUnavailable("timed out", "req-1"))
    outputs = step_outputs([task("a", "Error"), task("b", "Error"), failed])
    assert outputs["failed_count"] == 2
    assert outputs["all_done"] is False
    assert upstream_error([task("a", "Error"), failed]) == (
        "The task API did not answer for 1 of 2 task(s): timed out (ref req-1). "
        "Run the step again later."
    )
    assert upstream_error([task("a", "Error")]) is None


def test_the_timeout_error_names_what_was_not_done() -> None:
    results = [task("a", "Finished")] + [task(f"s{n}", "Running") for n in range(12)]
    text = timeout_error(10, results)
    assert text.startswith("Timed out after 10 minute(s) (timeout_minutes): 12 of 13 task(s)")
    assert text.endswith("s8, s9 and 2 more.")


@pytest.mark.parametrize(
    ("given", "minutes"),
    [
        (None, 10),
        ("", 10),
        (1, 1),
        (14, 14),
        ("7", 7),
        (5.0, 5),
        (0, None),
        (15, None),
        ("x", None),
        (True, None),
        (2.5, None),
        ("nan", None),
    ],
)
def test_timeout_minutes_is_read_within_its_bounds(given: object, minutes: int | None) -> None:
    assert read_timeout(given) == minutes


def test_task_uids_follow_the_explicit_rules() -> None:
    assert parse_uid_list("a-1, b_2\n`c3` a-1 watch ??") == (["a-1", "b_2", "c3", "watch"], ["??"])
    assert parse_uid_list("  ") == ([], [])
