"""Workflow Builder steps end to end: signed `function_executed` events into the real bot,
completed against the fake Slack with the execution's own token."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.records.watch import Step, Watch
from bot.testing.fake_slack import HOME_TEAM, Call
from tests.slack_harness import Harness
from tests.steps_payloads import completions, function_event

BOT_TOKEN = "xoxb-test-token"


async def run_step(
    harness: Harness, callback_id: str, inputs: dict[str, Any], execution: str, token: str
) -> dict[str, Any]:
    """Send the event; return the execution's completion once it is in."""
    body = function_event(callback_id, inputs, execution, token)
    response = await harness.send(body, "application/json")
    assert response.status == 200
    await harness.slack.wait_for(lambda: execution in harness.slack.completions)
    done = completions(harness.slack, execution)
    assert len(done) == 1, done  # one completion, never a second try
    return done[0]


async def test_get_task_status_outputs_each_task(harness: Harness) -> None:
    inputs = {"task_uids": "ok-1, err-2\nslow-3 nope-4 ok-1"}
    done = await run_step(harness, "get_task_status", inputs, "Fx1", "xwfp-one")
    assert done["method"] == "functions.completeSuccess"
    assert done["token"] == "xwfp-one"
    assert done["outputs"] == {
        "summary": "4 tasks: 1 Finished, 1 Error, 1 Running, 1 not found",
        "all_done": False,
        "failed_count": 1,
        "statuses": "ok-1: Finished\nerr-2: Error\nslow-3: Running\nnope-4: not found",
    }


async def test_get_task_status_all_done(harness: Harness) -> None:
    done = await run_step(harness, "get_task_status", {"task_uids": "ok-1"}, "Fx2", "xwfp-2")
    assert done["outputs"]["all_done"] is True
    assert done["outputs"]["failed_count"] == 0
    assert done["outputs"]["statuses"] == "ok-1: Finished"


@pytest.mark.parametrize(
    ("uids", "says"),
    [
        ("", "No task UID given"),
        ("#!? $$$", "No task UID in task_uids (not UIDs: #!?, $$$)"),
    ],
)
async def test_get_task_status_without_a_uid_fails_readably(
    harness: Harness, uids: str, says: str
) -> None:
    done = await run_step(harness, "get_task_status", {"task_uids": uids}, "Fx3", "xwfp-3")
    assert done["method"] == "functions.completeError"
    assert done["error"].startswith(says)
    assert harness.api.calls == []  # nothing to look up


async def test_get_task_status_upstream_fault_fails_readably(harness: Harness) -> None:
    harness.api.faults.http_500 = 10  # every try of the lookup fails
    done = await run_step(harness, "get_task_status", {"task_uids": "ok-1"}, "Fx4", "xwfp-4")
    assert done["method"] == "functions.completeError"
    assert done["error"].startswith("The task API did not answer for 1 of 1 task(s)")
    assert "ref " in done["error"]


async def test_a_retried_event_is_completed_once(harness: Harness) -> None:
    body = function_event("get_task_status", {"task_uids": "ok-1"}, "Fx5", "xwfp-5")
    for _ in range(2):  # Slack's retry carries the same body
        assert (await harness.send(body, "application/json")).status == 200
    await harness.slack.wait_for(lambda: "Fx5" in harness.slack.completions)
    await harness.bot.deps.tracker.idle.wait()
    assert len(completions(harness.slack, "Fx5")) == 1


async def test_a_retried_wait_is_stored_and_completed_once(harness: Harness) -> None:
    harness.api.step = 0.1
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxR", "xwfp-r")
    for _ in range(2):  # the watch's id is the dedupe: the second is refused by the store
        assert (await harness.send(body, "application/json")).status == 200
    await harness.slack.wait_for(lambda: "FxR" in harness.slack.completions)
    await harness.bot.deps.tracker.idle.wait()
    assert len(completions(harness.slack, "FxR")) == 1
    assert len(await _watches(harness)) == 1


async def test_a_wait_claimed_by_a_process_that_died_before_storing_it_still_runs(
    harness: Harness,
) -> None:
    """What a process that claimed the execution and died before storing its wait leaves
    behind must not keep Slack's retry from running the step: the workflow would hang."""
    assert await harness.bot.deps.store.claim(HOME_TEAM, "function:FxK")
    harness.api.step = 0.1
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxK", "xwfp-k")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.slack.wait_for(lambda: "FxK" in harness.slack.completions)
    (done,) = completions(harness.slack, "FxK")
    assert done["method"] == "functions.completeSuccess"


async def test_a_fault_while_answering_a_step_ends_it_with_a_readable_error(
    harness: Harness,
) -> None:
    """Slack refuses the success with an unexpected error: the step still ends, failed."""
    harness.slack.fail("functions.completeSuccess", "invalid_arguments")
    body = function_event("get_task_status", {"task_uids": "ok-1"}, "FxF", "xwfp-f")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.slack.wait_for(lambda: "FxF" in harness.slack.completions)
    refused, failed = completions(harness.slack, "FxF")
    assert refused["method"] == "functions.completeSuccess"
    assert failed["method"] == "functions.completeError"
    assert "unexpected fault" in failed["error"]


async def test_a_step_whose_failure_cannot_be_sent_is_given_back_for_a_retry(
    harness: Harness,
) -> None:
    harness.slack.fail("functions.completeSuccess", "invalid_arguments")
    harness.slack.fail("functions.completeError", "invalid_arguments")
    body = function_event("get_task_status", {"task_uids": "ok-1"}, "FxG", "xwfp-g")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.bot.deps.tracker.idle.wait()
    assert "FxG" not in harness.slack.completions
    assert (await harness.send(body, "application/json")).status == 200  # Slack's retry
    await harness.slack.wait_for(lambda: "FxG" in harness.slack.completions)
    assert harness.slack.completions["FxG"].method == "functions.completeSuccess"


async def test_the_function_token_is_used_for_functions_only(harness: Harness) -> None:
    before = len(harness.slack.calls)
    await run_step(harness, "get_task_status", {"task_uids": "ok-1"}, "Fx6", "xwfp-six")
    await harness.mention("ok-1")  # a later request on the same team
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    calls = harness.slack.calls[before:]
    assert {c.token for c in calls if c.method.startswith("functions.")} == {"xwfp-six"}
    others = [c for c in calls if not c.method.startswith("functions.")]
    # Bolt's one `auth.test` of the process (at its first request), then the answer.
    assert [c.method for c in others if c.method != "auth.test"] == ["chat.postMessage"]
    assert {c.token for c in others} == {BOT_TOKEN}


async def test_wait_for_tasks_completes_once_when_all_are_done(harness: Harness) -> None:
    harness.api.step = 0.2  # ok-7 is done 0.4 s after its first lookup
    started = time.monotonic()
    inputs = {"task_uids": "ok-7 err-8", "timeout_minutes": 2}
    done = await run_step(harness, "wait_for_tasks", inputs, "Fx7", "xwfp-seven")
    assert done["method"] == "functions.completeSuccess"
    assert done["token"] == "xwfp-seven"
    assert done["outputs"] == {
        "summary": "2 tasks: 1 Finished, 1 Error",
        "all_done": True,
        "failed_count": 1,
        "statuses": "ok-7: Finished\nerr-8: Error",
    }
    assert time.monotonic() - started >= 0.4  # not before the tasks were done
    watch = next(w for w in await _watches(harness) if w.step and w.step.execution_id == "Fx7")
    assert watch.state == "done"
    assert watch.end_reason == "done"
    assert watch.step is not None
    assert watch.step.token == ""
    sent = [c.method for c in harness.slack.calls if c.method != "auth.test"]
    assert sent == ["functions.completeSuccess"]  # no message, no edit: only the completion


@pytest.mark.parametrize("harness", [{"watch_poll_interval": 0.5}], indirect=True)
async def test_wait_for_tasks_completes_within_one_poll_of_the_last_done(
    harness: Harness,
) -> None:
    harness.api.step = 0.4
    body = function_event("wait_for_tasks", {"task_uids": "ok-9"}, "Fx9", "xwfp-9")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.api.wait_until(lambda: harness.api.calls)
    finished_at = time.monotonic() + 2 * harness.api.step  # Queuing, Running, then Finished
    await harness.slack.wait_for(lambda: "Fx9" in harness.slack.completions)
    late = harness.slack.completions["Fx9"].at - finished_at
    interval = harness.bot.deps.settings.watch_poll_interval
    assert late <= interval + 0.5, late  # one poll interval, plus a loaded machine's slack


@pytest.mark.parametrize("timeout", [0, 15, "ten", True, 2.5])
async def test_wait_for_tasks_refuses_a_bad_timeout(harness: Harness, timeout: object) -> None:
    inputs = {"task_uids": "ok-1", "timeout_minutes": timeout}
    done = await run_step(harness, "wait_for_tasks", inputs, "FxT", "xwfp-t")
    assert done["method"] == "functions.completeError"
    assert done["error"].startswith("timeout_minutes must be a whole number from 1 to 14")
    assert await _watches(harness) == []


async def test_wait_for_tasks_without_a_uid_fails(harness: Harness) -> None:
    done = await run_step(harness, "wait_for_tasks", {"task_uids": " , "}, "FxN", "xwfp-n")
    assert done["method"] == "functions.completeError"
    assert done["error"].startswith("No task UID")


class MovableClock:
    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


CLOCK = MovableClock()


@pytest.mark.parametrize("harness", [{"watch_clock": CLOCK}], indirect=True)
async def test_wait_for_tasks_times_out_with_a_readable_error(harness: Harness) -> None:
    CLOCK.ahead = 0.0
    inputs = {"task_uids": "slow-1 ok-2", "timeout_minutes": "1"}
    body = function_event("wait_for_tasks", inputs, "FxTO", "xwfp-to")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.api.wait_until(lambda: len(harness.api.calls) >= 2)  # polled, still waiting
    assert harness.slack.completions == {}
    CLOCK.ahead = 61.0  # a minute on Slack's clock, the execution's token with it
    await harness.slack.wait_for(lambda: "FxTO" in harness.slack.completions)
    done = completions(harness.slack, "FxTO")
    assert [d["method"] for d in done] == ["functions.completeError"]
    assert done[0]["token"] == "xwfp-to"
    assert done[0]["error"] == (
        "Timed out after 1 minute(s) (timeout_minutes): 1 of 2 task(s) not done yet: slow-1."
    )
    watch = (await _watches(harness))[0]
    assert watch.end_reason == "expired"
    assert watch.step is not None
    assert watch.step.token == ""


@pytest.mark.parametrize(
    "harness", [{"secrets_key": Fernet.generate_key().decode()}], indirect=True
)
async def test_the_kept_token_is_sealed_with_secrets_key(harness: Harness) -> None:
    harness.api.step = 3600.0  # the tasks stay queued: the wait goes on
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxS", "xwfp-secret")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.api.wait_until(lambda: harness.api.calls)
    (watch,) = await _watches(harness)
    assert watch.step is not None
    assert watch.step.token.startswith("sealed:")
    assert "xwfp-secret" not in watch.model_dump_json()
    assert "xwfp-secret" not in repr(watch)


async def test_without_secrets_key_the_kept_token_is_sealed_in_the_file(
    harness: Harness,
) -> None:
    """No `SECRETS_KEY`: the token is sealed with a key derived from the signing secret; the
    SQLite file's raw bytes never hold it, and the wait still completes with it."""
    assert harness.bot.deps.settings.secrets_key is None
    harness.api.step = 3600.0
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxP", "xwfp-plain-secret")
    assert (await harness.send(body, "application/json")).status == 200
    await harness.api.wait_until(lambda: harness.api.calls)
    path = Path(str(harness.bot.deps.settings.state_url).removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # with -wal
    assert b"FxP" in raw  # the watch is in the file
    assert b"xwfp-plain-secret" not in raw
    harness.api.step = 0.0  # finished now
    await harness.slack.wait_for(lambda: "FxP" in harness.slack.completions)
    (done,) = completions(harness.slack, "FxP")
    assert done["token"] == "xwfp-plain-secret"


async def _watches(harness: Harness) -> list[Watch]:
    """The step watches of this test's executions, open or done."""
    store = harness.bot.deps.store
    ids = {f"step-{HOME_TEAM}-{c.args.get('function_execution_id')}" for c in harness.slack.calls}
    ids |= {w.id for w in await store.open_watches(HOME_TEAM)}
    found = [await store.get_watch(HOME_TEAM, i) for i in sorted(ids)]
    return [w for w in found if w is not None]


async def test_a_wait_already_completed_by_a_lost_process_ends_as_done(harness: Harness) -> None:
    """A process that completed the step and died before writing `done`: its successor sends
    the completion again, Slack refuses it as complete, and that counts as done."""
    harness.slack.completions["FxA"] = Call("functions.completeSuccess", {}, token="xwfp-a")
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxA", "xwfp-a")
    assert (await harness.send(body, "application/json")).status == 200

    async def ended() -> bool:
        return not await harness.bot.deps.store.open_watches(HOME_TEAM)

    await harness.slack.wait_for(lambda: completions(harness.slack, "FxA"))
    await _until(harness, ended)
    (watch,) = await _watches(harness)
    assert (watch.state, watch.end_reason) == ("done", "done")
    assert len(completions(harness.slack, "FxA")) == 1  # refused once, never tried again


async def test_a_wait_whose_token_no_longer_works_ends_without_retrying(harness: Harness) -> None:
    harness.slack.rejected_tokens.add("xwfp-dead")
    body = function_event("wait_for_tasks", {"task_uids": "ok-1"}, "FxD", "xwfp-dead")
    assert (await harness.send(body, "application/json")).status == 200

    async def ended() -> bool:
        return not await harness.bot.deps.store.open_watches(HOME_TEAM)

    await harness.slack.wait_for(lambda: completions(harness.slack, "FxD"))
    await _until(harness, ended)
    (watch,) = await _watches(harness)
    assert (watch.state, watch.end_reason) == ("done", "gone")
    assert watch.step is not None
    assert watch.step.token == ""
    assert len(completions(harness.slack, "FxD")) == 1


async def test_a_taken_over_completion_refused_for_a_dead_token_counts_as_done(
    harness: Harness,
) -> None:
    """A process wrote `notifying`, completed the step (Slack then revokes its token) and
    died before writing `done`: the process that takes it over is refused for the dead
    token, which means the step was completed, not that it never can be."""
    harness.slack.rejected_tokens.add("xwfp-used")
    deps = harness.bot.deps
    step = Step(execution_id="FxT", token=deps.step_tokens.seal("xwfp-used"), timeout=600.0)
    watch = deps.watcher.new_watch(
        id=f"step-{HOME_TEAM}-FxT",
        team_id=HOME_TEAM,
        workspace=HOME_TEAM,
        user_id="",
        channel_id="",
        uids=["ok-1"],
        final_shown=True,
        mode="step",
        step=step,
        state="notifying",
    )
    assert await deps.store.create_watch(watch, slot_seconds=3600.0)  # from another process

    async def ended() -> bool:
        return not await deps.store.open_watches(HOME_TEAM)

    await harness.slack.wait_for(lambda: completions(harness.slack, "FxT"))
    await _until(harness, ended)
    (done,) = [w for w in await _watches(harness) if w.id == watch.id]
    assert (done.state, done.end_reason) == ("done", "done")
    assert len(completions(harness.slack, "FxT")) == 1


async def _until(harness: Harness, check: Callable[[], Awaitable[bool]]) -> None:
    """The store sends no event: look again after each of the watcher's ticks."""
    for _ in range(200):
        if await check():
            return
        await harness.bot.deps.watcher.wait_ticks(1)
    raise AssertionError("condition not met in time")


async def test_the_event_is_acknowledged_before_the_step_completes(harness: Harness) -> None:
    held = harness.slack.stall("functions.completeSuccess")  # Slack sits on the completion
    body = function_event("get_task_status", {"task_uids": "ok-1"}, "FxAck", "xwfp-ack")
    response = await harness.send(body, "application/json")
    assert response.status == 200  # acknowledged while the completion is still unanswered
    await harness.slack.wait_for(lambda: "FxAck" in harness.slack.completions)
    held.set()
    await harness.bot.deps.tracker.idle.wait()
    assert len(completions(harness.slack, "FxAck")) == 1


async def test_a_wait_belongs_to_the_workspace_of_its_event(harness: Harness) -> None:
    """An org-wide install: the wait is keyed by the enterprise (the workspace key)."""
    harness.api.step = 3600.0
    body = function_event(
        "wait_for_tasks",
        {"task_uids": "ok-1"},
        "FxE",
        "xwfp-e",
        enterprise_id="E1",
        is_enterprise_install=True,
        authorizations=[
            {"enterprise_id": "E1", "team_id": None, "is_bot": True, "is_enterprise_install": True}
        ],
    )
    assert (await harness.send(body, "application/json")).status == 200
    await harness.api.wait_until(lambda: harness.api.calls)
    watch = await harness.bot.deps.store.get_watch("E1", "step-E1-FxE")
    assert watch is not None
    assert watch.team_id == "E1"
