"""The watch state machine, pure: a watch and an event in, the next watch and its effect out.

No clock, no store, no Slack: the scheduler feeds it what happened and applies the result as
one compare-and-set in the store, so a process holding a stale copy can never win. States:

    active --(all done)--> notifying --(final form shown + notice sent / found)--> done (done)
    active --(expired)--> done (expired)     active --(Stop)--> done (stopped)
    active --(message gone)--> done (gone)   notifying --(notice can never go)--> done (gone)
    step: active --(timeout)--> notifying --(the function failed with it)--> done (expired)

While notifying, Slack's bad minutes (rate limits, 5xx, lost connections) only delay: they
never count as attempts. Only a refusal that can never change, a run of the bot's own faults
or `max_duration` of trying ends a completion without its notice.

`done` is final: every function here returns a done watch unchanged (or None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.records.watch import EndReason, Watch
from bot.taskapi.models import Failed, Found, NotFound, TaskResult, all_done, is_error
from bot.watch.fingerprint import fingerprint, slowdown

MAX_NOTICE_ATTEMPTS = 5
MISSING_POLLS = 3  # a task absent from this many answers in a row is treated as not found


@dataclass(frozen=True)
class Rules:
    poll_interval: float
    max_duration: float
    heartbeat: float


@dataclass(frozen=True)
class Edit:
    """Show `results` on the live message (its fingerprint is `digest`)."""

    results: tuple[TaskResult, ...]
    retrying: str
    digest: str


@dataclass(frozen=True)
class Finish:
    """Every task is done: final form, then the one completion notice."""

    results: tuple[TaskResult, ...]


@dataclass(frozen=True)
class Expire:
    """Watched for too long: final form and a short note."""

    results: tuple[TaskResult, ...]


Effect = Edit | Finish | Expire
EditOutcome = Literal["sent", "skipped", "gone", "rate_limited"]
# Why a completion step failed: Slack's passing trouble (wait, it is no attempt), a refusal
# that can never succeed (channel gone, archived, not a member), or anything else (a fault).
Trouble = Literal["wait", "never", "fault"]


def poll(
    watch: Watch,
    latest: Sequence[TaskResult],
    *,
    elapsed: float,
    now: float,
    rules: Rules,
    may_edit: bool,
) -> tuple[Watch, Effect | None]:
    """Fold one poll's results into `watch`. `elapsed`: monotonic seconds since its last poll;
    `now`: wall time, only to drop a `response_url` past its life, date a notice and end a
    step whose execution's token dies on Slack's clock."""
    if watch.state != "active":
        return watch, None
    new = watch.model_copy(deep=True)
    new.age += max(0.0, elapsed)
    if new.response_url and now >= new.response_url_expires_at:
        new.response_url = None  # dead after 30 minutes: no point keeping it
    results = _merge(new, latest)
    if new.step is None and new.age >= rules.max_duration:  # a step has its own timeout
        _end(new, "expired")
        return new, Expire(tuple(results))
    # A quiet (`errors`) watch completes at its first failed task: its one message says so
    # while the others may still run (its *Watch* button follows them).
    if all_done(results) or (new.mode == "errors" and any(is_error(r) for r in results)):
        new.state, new.notice_due_at = "notifying", now
        return new, Finish(tuple(results))
    if new.step is not None and _step_timed_out(new, now):
        # A step's timeout is a completion like any other (the function fails with it):
        # written as "notifying" before it is sent, so it goes exactly once.
        new.state, new.notice_due_at, new.step.timed_out = "notifying", now, True
        return new, Finish(tuple(results))
    failures = [r for r in latest if isinstance(r, Failed)]
    retrying = (
        f"{failures[0].error.detail}; ref {failures[0].error.request_uuid}" if failures else ""
    )
    digest = fingerprint(results, "retrying" if failures else "watching")
    stale = new.age - new.last_shown_age >= rules.heartbeat
    if may_edit and (digest != new.last_hash or stale):
        return new, Edit(tuple(results), retrying, digest)
    return new, None


def _step_timed_out(watch: Watch, now: float) -> bool:
    """Past the step's timeout by its age, or by the wall clock: the execution's token dies
    on Slack's clock, so time no process counted (a takeover's gap) counts too."""
    assert watch.step is not None
    return watch.age >= watch.step.timeout or now >= watch.created_at + watch.step.timeout


def _end(watch: Watch, reason: EndReason) -> None:
    """Every way into `done`: a step's execution token is dropped with it, never kept."""
    watch.state, watch.end_reason = "done", reason
    if watch.step is not None:
        watch.step.token = ""


def _merge(watch: Watch, latest: Sequence[TaskResult]) -> list[TaskResult]:
    """What to show: a failed lookup or a task briefly missing keeps its last known state."""
    known = {r.uid: r for r in watch.last_known()}
    shown: list[TaskResult] = []
    for result in latest:
        if isinstance(result, Found):
            watch.missing.pop(result.uid, None)
            watch.remember([result])
            shown.append(result)
        elif isinstance(result, NotFound) and result.uid in watch.snapshot:
            count = watch.missing.get(result.uid, 0) + 1
            watch.missing[result.uid] = count
            shown.append(result if count >= MISSING_POLLS else known[result.uid])
        elif isinstance(result, Failed) and result.uid in watch.snapshot:
            shown.append(known[result.uid])
        else:
            shown.append(result)
    return shown


def edited(watch: Watch, outcome: EditOutcome, digest: str) -> Watch:
    """After a live edit: remember what is shown, or end the watch if the message is gone."""
    if watch.state != "active" or outcome in ("skipped", "rate_limited"):
        return watch
    new = watch.model_copy(deep=True)
    if outcome == "gone":
        _end(new, "gone")
    else:
        if digest != new.last_hash:
            new.last_change_age = new.age
        new.last_hash, new.last_shown_age = digest, new.age
    return new


def started(watch: Watch, results: Sequence[TaskResult]) -> Watch:
    """A new watch, its first results already shown."""
    new = watch.model_copy(deep=True)
    new.remember(list(results))
    new.last_hash = fingerprint(results, "watching")
    return new


def stop(watch: Watch, user: str) -> Watch | None:
    """Stop pressed: final. None when there is nothing left to stop (finishing or done), or
    for a step, which no button stops: it ends with its one completion."""
    if watch.state != "active" or watch.step is not None:
        return None
    new = watch.model_copy(deep=True)
    _end(new, "stopped")
    new.stopped_by = user
    return new


def abandon(watch: Watch) -> Watch | None:
    """The live message could not be shown or kept: end quietly."""
    if watch.state == "done":
        return None
    new = watch.model_copy(deep=True)
    _end(new, "gone")
    return new


def final_shown(watch: Watch, outcome: EditOutcome) -> Watch | None:
    """The final edit went through, or can never (message gone, `response_url` used up):
    either way it is not tried again. None when there is nothing to record."""
    if watch.state != "notifying" or watch.final_shown or outcome == "rate_limited":
        return None
    new = watch.model_copy(deep=True)
    new.final_shown = True
    return _closed_when_complete(new)


def noticed(watch: Watch) -> Watch | None:
    """The notice is in Slack (sent now, or found after a crash)."""
    if watch.state != "notifying":
        return None
    new = watch.model_copy(deep=True)
    new.notice_posted = True
    return _closed_when_complete(new)


def _closed_when_complete(watch: Watch) -> Watch:
    if watch.final_shown and watch.notice_posted:
        _end(watch, "expired" if watch.step is not None and watch.step.timed_out else "done")
    return watch


def notice_failed(watch: Watch, trouble: Trouble, *, elapsed: float, rules: Rules) -> Watch | None:
    """A completion step failed. `elapsed`: monotonic seconds since the last try was counted.
    Waiting is free, but no completion is tried for longer than `max_duration`."""
    if watch.state != "notifying":
        return None
    new = watch.model_copy(deep=True)
    new.notifying_for += max(0.0, elapsed)
    if trouble == "fault":
        new.notice_attempts += 1
    if (
        trouble == "never"
        or new.notice_attempts >= MAX_NOTICE_ATTEMPTS
        or new.notifying_for >= rules.max_duration
    ):
        _end(new, "gone")
    return new


def next_delay(watch: Watch, rules: Rules) -> float:
    """Unchanged tasks are polled less often (see `slowdown`); a step never is: it must go on
    within one poll interval of its last task ending."""
    if watch.step is not None:
        return rules.poll_interval
    return rules.poll_interval * slowdown(watch.age - watch.last_change_age)
