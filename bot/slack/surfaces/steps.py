"""Workflow Builder steps (Slack's custom functions): "Get task status" and "Wait for tasks".

Bolt acknowledges `function_executed` before the listener runs; the listener hands its work
to the tracker and returns. Every `functions.*` call uses the event's own `bot_access_token`
(Bolt's function-token middleware sets it on the request's client, which `TeamClients` makes
for this request alone: `bot.slack.bolt.lean_bolt`), and nothing else is sent to Slack.

- `get_task_status` looks the tasks up once and answers with one `completeSuccess`, or one
  `completeError` when no UID was given or the task API failed.
- `wait_for_tasks` starts a `step` watch: leased, store-backed and polled with every other
  watch (one batched lookup per tick), completed exactly once by the scheduler when every
  task is done or its timeout has passed (`bot.slack.delivery.steps`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bot.reading.parse import parse_uid_list
from bot.records.watch import Step
from bot.render.step import (
    GET_TASK_STATUS,
    WAIT_FOR_TASKS,
    bad_timeout_error,
    internal_error,
    no_account_error,
    no_uid_error,
    read_timeout,
    step_outputs,
    too_many_error,
    upstream_error,
)
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import MAX_LOOKUP_UIDS
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import slack_error
from bot.slack.delivery.steps import ALREADY_COMPLETE
from bot.taskapi.client import Lane

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.function(GET_TASK_STATUS)
    async def get_task_status(
        inputs: dict[str, Any], context: AsyncBoltContext, complete: AsyncComplete, fail: AsyncFail
    ) -> None:
        deps.metrics.requests.labels("step").inc()
        ws = request_workspace(context)
        execution = str(context.function_execution_id or "")
        work = _status(deps, ws, inputs, complete, fail)
        deps.tracker.spawn(_answered_once(deps, ws, execution, work, fail), "step status")

    @app.function(WAIT_FOR_TASKS)
    async def wait_for_tasks(
        inputs: dict[str, Any], context: AsyncBoltContext, fail: AsyncFail
    ) -> None:
        deps.metrics.requests.labels("step").inc()
        ws = request_workspace(context)
        execution = str(context.function_execution_id or "")
        token = str(context.function_bot_access_token or "")
        # No claim: the watch's id (one per execution) is the dedupe, since `create_watch`
        # refuses a second one; a claim taken first would leave the workflow hanging forever
        # if the process died between the claim and the stored wait.
        work = _wait(deps, ws, execution, token, inputs, fail)
        deps.tracker.spawn(_ends(execution, work, fail), "step wait")


async def _answered_once(
    deps: Deps,
    ws: str,
    execution: str,
    work: Coroutine[Any, Any, None],
    fail: AsyncFail,
) -> None:
    """Slack retries an event it thinks was missed: each execution is taken up once. When
    even the failure could not be sent, the claim is given back, so a retry can end it."""
    key = f"function:{execution}"
    if not execution or not await deps.store.claim(ws, key):
        work.close()  # never started: no "never awaited" warning
        return
    if not await _always_ends(execution, work, fail):
        await deps.store.release_claim(ws, key)


async def _ends(execution: str, work: Coroutine[Any, Any, None], fail: AsyncFail) -> None:
    await _always_ends(execution, work, fail)


async def _always_ends(execution: str, work: Coroutine[Any, Any, None], fail: AsyncFail) -> bool:
    """Run a step's work; any exception becomes a readable `completeError`, so a workflow
    never waits forever on a fault of ours. False when even that could not be sent."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("step %s failed", execution)
        try:
            await _once(fail(internal_error()))
        except Exception:
            log.exception("step %s: its failure could not be sent either", execution)
            return False
    return True


def _uids(inputs: dict[str, Any]) -> tuple[list[str], list[str]]:
    raw = inputs.get("task_uids")
    return parse_uid_list(raw if isinstance(raw, str) else "" if raw is None else str(raw))


async def _status(
    deps: Deps, ws: str, inputs: dict[str, Any], complete: AsyncComplete, fail: AsyncFail
) -> None:
    uids, invalid = _uids(inputs)
    if not uids:
        await _once(fail(no_uid_error(invalid)))
        return
    if len(uids) > MAX_LOOKUP_UIDS:
        await _once(fail(too_many_error(len(uids), MAX_LOOKUP_UIDS)))
        return
    client = await deps.accounts.client_for(ws)
    if client is None:
        await _once(fail(no_account_error()))
        return
    results = await client.get_tasks(uids, lane=Lane.PERSON)
    error = upstream_error(results)
    deps.metrics.answers.labels("step", "error" if error else "ok").inc()
    await _once(fail(error) if error is not None else complete(step_outputs(results)))


async def _wait(
    deps: Deps, ws: str, execution: str, token: str, inputs: dict[str, Any], fail: AsyncFail
) -> None:
    uids, invalid = _uids(inputs)
    minutes = read_timeout(inputs.get("timeout_minutes"))
    limit = deps.settings.watch_max_uids
    if not uids:
        await _once(fail(no_uid_error(invalid)))
    elif len(uids) > limit:
        await _once(fail(too_many_error(len(uids), limit)))
    elif minutes is None:
        await _once(fail(bad_timeout_error(inputs.get("timeout_minutes"))))
    elif await deps.accounts.client_for(ws) is None:
        await _once(fail(no_account_error()))
    elif not token:
        log.warning("step %s: no bot_access_token in the event; nothing can complete it", execution)
    else:
        step = Step(
            execution_id=execution,
            token=deps.step_tokens.seal(token),
            timeout=minutes * 60.0,
        )
        watch = deps.watcher.new_watch(
            id=step_watch_id(ws, execution),  # one watch per execution, whatever is retried
            team_id=ws,  # the workspace key: a step belongs to no person or channel
            workspace=ws,
            user_id="",
            channel_id="",
            uids=uids,
            final_shown=True,  # no message of ours to turn final
            mode="step",
            step=step,
        )
        started = await deps.watcher.begin(watch, [])
        deps.metrics.answers.labels("step", "wait" if started else "duplicate").inc()


def step_watch_id(ws: str, execution: str) -> str:
    return f"step-{ws}-{execution}"


async def _once(call: Awaitable[Any]) -> None:
    """One completion; Slack refusing it as already complete (a retried call) is no fault."""
    try:
        await call
    except SlackApiError as exc:
        if slack_error(exc) not in ALREADY_COMPLETE:
            raise
        log.info("step completion: already complete (%s)", slack_error(exc))
