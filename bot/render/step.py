"""What the Workflow Builder steps hand to the next step: their outputs and error texts.

Pure: results in, the `outputs` object of `functions.completeSuccess` (or the `error` of
`functions.completeError`) out. A workflow may drop any output into a message step, so the
vendor's words are escaped as in the bot's own messages (`&`, `<`, `>`): a status word can
never ping a channel or make a link there. Error texts are escaped the same way, since they
echo what a person typed (a UID, a timeout) and what the task API said.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render.status import status_of, summary
from bot.render.text import clip, escape, one_line
from bot.taskapi.models import Failed, TaskResult, all_done, is_done, is_error

# The callback ids of the two steps (`manifest.yaml` `functions`, `bot.slack.basics.ids`).
GET_TASK_STATUS = "get_task_status"
WAIT_FOR_TASKS = "wait_for_tasks"
OUTPUTS = ("summary", "all_done", "failed_count", "statuses")
TIMEOUT_MINUTES = (1, 14)  # under the 15-minute life of the execution's token
DEFAULT_TIMEOUT_MINUTES = 10
MAX_ERROR = 500  # characters of an error text: Slack shows it to the workflow's people


def step_outputs(results: Sequence[TaskResult]) -> dict[str, Any]:
    """`summary` (one line), `all_done`, `failed_count` (tasks in `Error`) and `statuses`:
    one `uid: Status` line per task, in the order given (`not found` for an unknown UID)."""
    return {
        "summary": summary(results),
        "all_done": all_done(results),
        "failed_count": sum(1 for r in results if is_error(r)),
        "statuses": "\n".join(f"{r.uid}: {_status(r)}" for r in results),
    }


def _status(result: TaskResult) -> str:
    return escape(clip(one_line(status_of(result)), 40))


def upstream_error(results: Sequence[TaskResult]) -> str | None:
    """The readable error of a lookup that failed (None when every task was answered)."""
    failed = [r for r in results if isinstance(r, Failed)]
    if not failed:
        return None
    first = failed[0].error
    return clip(
        f"The task API did not answer for {len(failed)} of {len(results)} task(s): "
        f"{escape(one_line(first.detail))} (ref {escape(first.request_uuid)}). "
        "Run the step again later.",
        MAX_ERROR,
    )


def no_uid_error(invalid: Sequence[str]) -> str:
    if not invalid:
        return "No task UID given: put one or more task UIDs in task_uids."
    named = ", ".join(escape(clip(one_line(t), 40)) for t in invalid[:5])
    return clip(
        f"No task UID in task_uids (not UIDs: {named}). A UID is letters, digits, - and _, "
        "separated by spaces, commas or new lines.",
        MAX_ERROR,
    )


def no_account_error() -> str:
    return (
        "This workspace has not connected a task API account, so no task can be looked up. "
        "A workspace admin connects one with /taskstatus connect."
    )


def internal_error() -> str:
    return (
        "The task status bot hit an unexpected fault and could not run this step. "
        "Run the workflow again; if it keeps failing, tell the bot's operator."
    )


def too_many_error(count: int, limit: int) -> str:
    return f"{count} task UIDs given; this step takes at most {limit}. Split them over steps."


def bad_timeout_error(given: object) -> str:
    low, high = TIMEOUT_MINUTES
    shown = escape(clip(one_line(str(given)), 20))
    return f"timeout_minutes must be a whole number from {low} to {high}; got {shown}."


def timeout_error(minutes: float, results: Sequence[TaskResult]) -> str:
    """The timeout, named: how long was waited, and what was still not done."""
    waiting = [r.uid for r in results if not is_done(r)]
    shown = ", ".join(waiting[:10]) + (
        f" and {len(waiting) - 10} more" if len(waiting) > 10 else ""
    )
    return clip(
        f"Timed out after {minutes:g} minute(s) (timeout_minutes): {len(waiting)} of "
        f"{len(results)} task(s) not done yet: {shown}.",
        MAX_ERROR,
    )


def read_timeout(value: object) -> int | None:
    """`timeout_minutes` as Workflow Builder sends it (a number, or text of one; absent: the
    default); None when it is no whole number within bounds."""
    if value is None or value == "":
        return DEFAULT_TIMEOUT_MINUTES
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    low, high = TIMEOUT_MINUTES
    return int(number) if number.is_integer() and low <= number <= high else None
