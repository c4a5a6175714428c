"""`python -m bot check UID...`: the bot's own lookup, from a terminal."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import aiohttp

from bot.config import Settings
from bot.render.answer import Message, lookup_message
from bot.render.links import TaskLinks
from bot.slack.basics.values import UidRef
from bot.taskapi.errors import ApiRejected, ApiUnreachable, TaskApiError
from bot.taskapi.models import Failed, Found, NotFound, TaskResult
from bot.tenancy.accounts import accounts_from_settings

EXIT_OK, EXIT_INCOMPLETE, EXIT_UNUSABLE = 0, 1, 2
KEY_REJECTED = {171, 172}  # the vendor's "unknown public key" and "bad signature"


async def run_check(
    settings: Settings, uids: Sequence[str], output: str, out: TextIO = sys.stdout
) -> int:
    async with aiohttp.ClientSession() as session:
        # The registry the bot uses, without a store: the settings' keys serve the terminal.
        client = await accounts_from_settings(settings, session, None).require("")
        results = await client.get_tasks(uids)
    failures = [r for r in results if isinstance(r, Failed)]
    fault = settings_fault([f.error for f in failures], all_failed=len(failures) == len(results))
    if fault:
        print(f"error: {fault}", file=sys.stderr)
        return EXIT_UNUSABLE
    if output == "json":
        json.dump([_raw(r) for r in results], out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif output == "blocks":
        links = TaskLinks.of(settings.task_link_url)
        json.dump(bot_answer(results, links).as_payload(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(format_table(results))
    for failure in failures:
        error = failure.error
        print(
            f"error: {failure.uid}: {error.detail} [request_uuid={error.request_uuid}]",
            file=sys.stderr,
        )
    complete = all(isinstance(r, Found) for r in results)
    return EXIT_OK if complete else EXIT_INCOMPLETE


def settings_fault(errors: Sequence[TaskApiError], *, all_failed: bool) -> str | None:
    """What is wrong with the settings, when the failures say so (exit 2), else None.

    Keys the vendor rejects and an HTTP 4xx (a wrong path in TASK_API_URL) fail every lookup
    alike, as does an API that cannot be reached at all: none of these is about one task.
    An API that was reached but timed out or answered 5xx is trouble on the task side, which
    a script should tell from a wrong setting.
    """
    for error in errors:
        where = f"[request_uuid={error.request_uuid}]"
        if isinstance(error, ApiRejected) and error.ret_code in KEY_REJECTED:
            return (
                f"the task API rejected the keys ({error.detail}) {where}: check "
                "TASK_API_PUBLIC_KEY and TASK_API_PRIVATE_KEY"
            )
        if isinstance(error, ApiRejected) and error.ret_code is None:
            return f"TASK_API_URL {error.detail} {where}: check the URL, path included"
    # Only an API that never answered: a timeout or a 5xx is the API's own trouble (exit 1).
    if errors and all_failed and all(isinstance(e, ApiUnreachable) for e in errors):
        error = errors[0]
        return (
            f"task API unreachable: {error.detail} [request_uuid={error.request_uuid}]: "
            "check TASK_API_URL and that this host can reach it"
        )
    return None


def bot_answer(results: Sequence[TaskResult], links: TaskLinks | None = None) -> Message:
    """The answer as the bot would post it, buttons included (their value inline)."""
    value = UidRef(u=[r.uid for r in results]).model_dump_json(exclude_none=True)
    return lookup_message(results, value, time.time(), links=links)


def _raw(result: TaskResult) -> dict[str, object]:
    if isinstance(result, Found):
        return result.task.raw()
    if isinstance(result, NotFound):
        return {"TaskUid": result.uid, "NotFound": True}
    return {
        "TaskUid": result.uid,
        "LookupError": result.error.detail,
        "request_uuid": result.error.request_uuid,
    }


def format_table(results: Sequence[TaskResult]) -> str:
    header = ("UID", "TYPE", "STATUS", "ERROR", "PICTURES")
    rows = [header, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def _row(result: TaskResult) -> tuple[str, str, str, str, str]:
    if isinstance(result, NotFound):
        return (result.uid, "-", "not found", "-", "-")
    if isinstance(result, Failed):
        return (result.uid, "-", "lookup failed", _one_line(result.error.detail), "-")
    task = result.task
    error = (
        f"{task.task_error_code}: {_one_line(task.task_error_msg)}" if task.task_error_code else "-"
    )
    pictures = " ".join(task.final_picture_urls) or "-"
    return (result.uid, task.task_type or "-", task.task_status or "?", error, pictures)


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
