"""The watch state machine, pure: state and event in, next state and effect out."""

from __future__ import annotations

import pytest

from bot.records.watch import Watch
from bot.taskapi.errors import TaskApiError
from bot.taskapi.models import Failed, Found, NotFound, TaskDetail, TaskResult
from bot.watch import machine
from bot.watch.machine import MISSING_POLLS, Edit, Expire, Finish, Rules

RULES = Rules(poll_interval=10.0, max_duration=100.0, heartbeat=50.0)


def watch(**fields: object) -> Watch:
    base = {"user_id": "U1", "channel_id": "C1", "uids": ["a"], "created_at": 0, "expires_at": 0}
    return Watch.model_validate(base | fields)


def task(uid: str, status: str) -> Found:
    return Found(uid, TaskDetail.model_validate({"TaskUid": uid, "TaskStatus": status}))


def poll(
    w: Watch, *results: TaskResult, elapsed: float = 10.0, may_edit: bool = True
) -> tuple[Watch, machine.Effect | None]:
    return machine.poll(
        w, list(results), elapsed=elapsed, now=1000.0, rules=RULES, may_edit=may_edit
    )


def test_a_change_is_shown_then_remembered() -> None:
    w, effect = poll(watch(), task("a", "Running"))
    assert isinstance(effect, Edit)
    shown = machine.edited(w, "sent", effect.digest)
    assert shown.last_hash == effect.digest
    assert poll(shown, task("a", "Running"))[1] is None  # no change, no edit


def test_skipped_or_rate_limited_edits_are_retried_next_poll() -> None:
    w, effect = poll(watch(), task("a", "Running"))
    assert isinstance(effect, Edit)
    for outcome in ("skipped", "rate_limited"):
        kept = machine.edited(w, outcome, effect.digest)
        assert isinstance(poll(kept, task("a", "Running"))[1], Edit)


def test_all_done_moves_to_notifying_with_one_finish() -> None:
    w, effect = poll(watch(), task("a", "Finished"))
    assert (w.state, isinstance(effect, Finish), w.notice_due_at) == ("notifying", True, 1000.0)
    assert poll(w, task("a", "Finished")) == (w, None)  # notifying: the poll changes nothing
    shown = machine.final_shown(w, "sent")
    assert shown is not None
    done = machine.noticed(shown)
    assert done is not None
    assert (done.state, done.end_reason) == ("done", "done")
    assert machine.noticed(done) is None


def test_a_notice_failing_by_the_bots_own_fault_is_given_up_after_a_few_tries() -> None:
    w, _ = poll(watch(), task("a", "Finished"))
    for _ in range(machine.MAX_NOTICE_ATTEMPTS - 1):
        failed = machine.notice_failed(w, "fault", elapsed=1.0, rules=RULES)
        assert failed is not None
        w = failed
        assert w.state == "notifying"
    last = machine.notice_failed(w, "fault", elapsed=1.0, rules=RULES)
    assert last is not None
    assert (last.state, last.end_reason) == ("done", "gone")


def test_stop_is_final() -> None:
    stopped = machine.stop(watch(), "U2")
    assert stopped is not None
    assert (stopped.state, stopped.end_reason, stopped.stopped_by) == ("done", "stopped", "U2")
    assert machine.stop(stopped, "U3") is None
    assert poll(stopped, task("a", "Finished")) == (stopped, None)
    assert machine.edited(stopped, "sent", "x") is stopped
    assert machine.abandon(stopped) is None
    assert machine.noticed(stopped) is None


def test_stop_while_notifying_is_refused() -> None:
    w, _ = poll(watch(), task("a", "Finished"))
    assert machine.stop(w, "U2") is None


def test_a_gone_message_ends_the_watch() -> None:
    w, effect = poll(watch(), task("a", "Running"))
    assert isinstance(effect, Edit)
    gone = machine.edited(w, "gone", effect.digest)
    assert (gone.state, gone.end_reason) == ("done", "gone")


def test_expiry_counts_seconds_watched_not_wall_time() -> None:
    w = watch()
    for _ in range(9):
        w, effect = poll(w, task("a", "Running"), may_edit=False)
        assert effect is None
    w, effect = poll(w, task("a", "Running"))
    assert isinstance(effect, Expire)
    assert (w.state, w.end_reason, w.age) == ("done", "expired", 100.0)


def test_a_negative_step_never_runs_age_backwards() -> None:
    w, _ = poll(watch(), task("a", "Running"), elapsed=-500.0)
    assert w.age == 0.0


def test_a_task_missing_for_a_few_polls_keeps_its_last_state() -> None:
    w, _ = poll(watch(uids=["a", "b"]), task("a", "Running"), task("b", "Finished"))
    for _ in range(MISSING_POLLS - 1):
        w, effect = poll(w, NotFound("a"), task("b", "Finished"))
        assert w.state == "active"
        assert effect is None or isinstance(effect, Edit)
    w, effect = poll(w, NotFound("a"), task("b", "Finished"))
    assert isinstance(effect, Finish)  # now it counts as not found
    assert isinstance(effect.results[0], NotFound)


def test_a_task_back_after_missing_resets_the_count() -> None:
    w, _ = poll(watch(), task("a", "Running"))
    w, _ = poll(w, NotFound("a"))
    assert w.missing == {"a": 1}
    w, _ = poll(w, task("a", "Running"))
    assert w.missing == {}


def test_a_never_seen_task_that_is_not_found_is_done_at_once() -> None:
    _, effect = poll(watch(), NotFound("a"))
    assert isinstance(effect, Finish)


def test_a_failed_lookup_shows_last_known_and_says_retrying() -> None:
    w, _ = poll(watch(), task("a", "Running"))
    error = TaskApiError("timed out", request_uuid="r1")
    w2, effect = poll(w, Failed("a", error))
    assert isinstance(effect, Edit)
    assert "timed out" in effect.retrying
    assert isinstance(effect.results[0], Found)
    assert w2.state == "active"


def test_heartbeat_edits_an_unchanged_message() -> None:
    w, effect = poll(watch(), task("a", "Running"))
    assert isinstance(effect, Edit)
    w = machine.edited(w, "sent", effect.digest)
    w, effect = poll(w, task("a", "Running"), elapsed=RULES.heartbeat)
    assert isinstance(effect, Edit)


def test_an_expired_response_url_is_not_kept() -> None:
    w, _ = poll(
        watch(response_url="https://x", response_url_expires_at=999.0), task("a", "Running")
    )
    assert w.response_url is None
    w, _ = poll(
        watch(response_url="https://x", response_url_expires_at=2000.0), task("a", "Running")
    )
    assert w.response_url == "https://x"


@pytest.mark.parametrize(("unchanged", "factor"), [(0, 1), (299, 1), (300, 2), (1800, 4)])
def test_unchanged_watches_slow_down(unchanged: float, factor: int) -> None:
    w = watch(age=unchanged + 5, last_change_age=5)
    assert machine.next_delay(w, RULES) == RULES.poll_interval * factor


def test_the_input_copy_is_never_changed() -> None:
    original = watch()
    before = original.model_dump()
    poll(original, task("a", "Finished"))
    machine.stop(original, "U2")
    assert original.model_dump() == before


def test_the_snapshot_keeps_only_rendered_fields() -> None:
    detail = TaskDetail.model_validate(
        {"TaskUid": "a", "TaskStatus": "Running", "Secretish": "x" * 500}
    )
    w, _ = poll(watch(), Found("a", detail))
    assert "Secretish" not in w.snapshot["a"]
    assert w.snapshot["a"]["TaskStatus"] == "Running"


def test_only_a_change_resets_the_slowdown() -> None:
    rules = Rules(poll_interval=10.0, max_duration=10_000.0, heartbeat=50.0)

    def step(w: Watch, elapsed: float) -> tuple[Watch, machine.Effect | None]:
        return machine.poll(
            w, [task("a", "Running")], elapsed=elapsed, now=0.0, rules=rules, may_edit=True
        )

    w, effect = step(watch(), 400.0)
    assert isinstance(effect, Edit)
    w = machine.edited(w, "sent", effect.digest)
    assert w.last_change_age == 400.0  # a new state: polled at full rate again
    w, effect = step(w, rules.heartbeat)
    assert isinstance(effect, Edit)  # heartbeat
    w = machine.edited(w, "sent", effect.digest)
    assert w.last_change_age == 400.0
    assert w.last_shown_age == 400.0 + rules.heartbeat
