"""Each move of the watch state machine, exactly: what changes, what stays, on the boundary."""

from __future__ import annotations

from bot.records.watch import Watch
from bot.taskapi.errors import ApiUnavailable
from bot.taskapi.models import Failed, TaskResult
from bot.watch import machine
from bot.watch.fingerprint import fingerprint
from bot.watch.machine import Edit, Expire
from tests.test_machine import RULES, task, watch

MAX = machine.MAX_NOTICE_ATTEMPTS


def poll(
    w: Watch, *results: TaskResult, elapsed: float = 10.0, now: float = 1000.0, edit: bool = True
) -> tuple[Watch, machine.Effect | None]:
    return machine.poll(w, list(results), elapsed=elapsed, now=now, rules=RULES, may_edit=edit)


def ending(w: Watch | None) -> tuple[str, str, str] | None:
    return None if w is None else (w.state, w.end_reason, w.stopped_by)


def test_started_remembers_what_it_showed() -> None:
    first = watch()
    shown = [task("a", "Running")]
    new = machine.started(first, shown)
    assert new.last_hash == fingerprint(shown, "watching")
    assert new.last_known() == shown
    assert (first.last_hash, first.snapshot) == ("", {})  # the old one is left as it was
    assert poll(new, task("a", "Running"))[1] is None


def test_stop_ends_an_active_watch_only() -> None:
    active = watch()
    assert ending(machine.stop(active, "U2")) == ("done", "stopped", "U2")
    assert ending(active) == ("active", "", "")
    assert machine.stop(watch(state="notifying"), "U2") is None
    assert machine.stop(watch(state="done"), "U2") is None


def test_abandon_ends_anything_not_done() -> None:
    assert ending(machine.abandon(watch())) == ("done", "gone", "")
    assert ending(machine.abandon(watch(state="notifying"))) == ("done", "gone", "")
    assert machine.abandon(watch(state="done")) is None


def test_noticed_and_notice_failed_need_a_notifying_watch() -> None:
    shown = watch(state="notifying", final_shown=True)
    assert ending(machine.noticed(shown)) == ("done", "done", "")
    assert machine.noticed(watch()) is None
    assert machine.notice_failed(watch(), "fault", elapsed=1.0, rules=RULES) is None
    assert machine.final_shown(watch(), "sent") is None


def test_a_notice_before_the_final_form_keeps_the_watch_notifying() -> None:
    first = watch(state="notifying")
    posted = machine.noticed(first)
    assert posted is not None
    assert (posted.state, posted.end_reason, posted.notice_posted) == ("notifying", "", True)
    assert first.notice_posted is False  # the old copy is left as it was
    done = machine.final_shown(posted, "sent")
    assert done is not None
    assert (ending(done), done.final_shown) == (("done", "done", ""), True)


def test_the_final_form_alone_keeps_the_watch_notifying() -> None:
    first = watch(state="notifying")
    for outcome in ("sent", "gone", "skipped"):
        shown = machine.final_shown(first, outcome)
        assert shown is not None
        assert (shown.state, shown.final_shown, shown.end_reason) == ("notifying", True, "")
    assert first.final_shown is False
    assert machine.final_shown(first, "rate_limited") is None  # tried again later
    assert machine.final_shown(watch(state="notifying", final_shown=True), "sent") is None


def test_waiting_out_slack_is_no_attempt_and_counts_time() -> None:
    first = watch(state="notifying", notice_attempts=MAX - 1, notifying_for=10.0)
    waited = machine.notice_failed(first, "wait", elapsed=5.0, rules=RULES)
    assert waited is not None
    assert (waited.state, waited.notice_attempts, waited.notifying_for) == (
        "notifying",
        MAX - 1,
        15.0,
    )
    assert first.notifying_for == 10.0
    back = machine.notice_failed(first, "wait", elapsed=-5.0, rules=RULES)
    assert back is not None
    assert back.notifying_for == 10.0  # a monotonic clock never counts backwards


def test_waiting_ends_at_exactly_the_maximum_duration() -> None:
    first = watch(state="notifying", notifying_for=RULES.max_duration - 1.0)
    almost = machine.notice_failed(first, "wait", elapsed=0.5, rules=RULES)
    assert ending(almost) == ("notifying", "", "")
    spent = machine.notice_failed(first, "wait", elapsed=1.0, rules=RULES)
    assert ending(spent) == ("done", "gone", "")


def test_a_refusal_that_can_never_succeed_ends_at_once() -> None:
    ended = machine.notice_failed(watch(state="notifying"), "never", elapsed=0.0, rules=RULES)
    assert ending(ended) == ("done", "gone", "")
    assert ended is not None
    assert ended.notice_attempts == 0


def test_faults_count_up_to_the_limit_exactly() -> None:
    first = watch(state="notifying", notice_attempts=MAX - 2)
    counted = machine.notice_failed(first, "fault", elapsed=0.0, rules=RULES)
    assert counted is not None
    assert (ending(counted), counted.notice_attempts) == (("notifying", "", ""), MAX - 1)
    last = machine.notice_failed(counted, "fault", elapsed=0.0, rules=RULES)
    assert last is not None
    assert (ending(last), last.notice_attempts) == (("done", "gone", ""), MAX)


def test_a_failed_lookup_says_what_failed_and_its_reference() -> None:
    failure = Failed("a", ApiUnavailable("timed out", "req-9"))
    _, effect = poll(watch(), failure)
    assert isinstance(effect, Edit)
    assert effect.retrying == "timed out; ref req-9"
    assert effect.digest == fingerprint([failure], "retrying")
    _, effect = poll(watch(), task("a", "Running"))
    assert isinstance(effect, Edit)
    assert (effect.retrying, effect.digest) == ("", fingerprint([task("a", "Running")], "watching"))


def test_age_counts_monotonic_seconds_never_backwards() -> None:
    w, _ = poll(watch(age=5.0), task("a", "Running"), elapsed=-3.0)
    assert w.age == 5.0
    w, _ = poll(w, task("a", "Running"), elapsed=2.5)
    assert w.age == 7.5


def test_expiry_at_exactly_the_maximum_age() -> None:
    w, effect = poll(watch(age=89.0), task("a", "Running"), elapsed=10.0)
    assert (w.state, effect.__class__) != ("done", Expire)
    w, effect = poll(watch(age=90.0), task("a", "Running"), elapsed=10.0)
    assert ending(w) == ("done", "expired", "")
    assert effect == Expire((task("a", "Running"),))


def test_response_url_is_dropped_at_its_expiry() -> None:
    live = watch(response_url="https://hooks.slack.com/x", response_url_expires_at=1000.0)
    assert poll(live, task("a", "Running"), now=999.9)[0].response_url == live.response_url
    assert poll(live, task("a", "Running"), now=1000.0)[0].response_url is None


def test_an_unchanged_message_is_restamped_at_the_heartbeat() -> None:
    shown = [task("a", "Running")]
    w = machine.started(watch(), shown)
    quiet = w.model_copy(update={"age": 39.0, "last_shown_age": 0.0})
    assert poll(quiet, *shown, elapsed=10.9)[1] is None
    assert isinstance(poll(quiet, *shown, elapsed=11.0)[1], Edit)
    assert poll(quiet, *shown, elapsed=11.0, edit=False)[1] is None


def test_edited_remembers_when_it_changed() -> None:
    w = watch(age=30.0, last_change_age=10.0, last_hash="old")
    same = machine.edited(w, "sent", "old")
    assert (same.last_hash, same.last_shown_age, same.last_change_age) == ("old", 30.0, 10.0)
    changed = machine.edited(w, "sent", "new")
    assert (changed.last_hash, changed.last_shown_age, changed.last_change_age) == (
        "new",
        30.0,
        30.0,
    )
    assert ending(machine.edited(w, "gone", "new")) == ("done", "gone", "")
    assert machine.edited(watch(state="notifying"), "gone", "x").state == "notifying"
