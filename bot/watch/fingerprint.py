"""What counts as a change on a live message: statuses, errors and pictures, not timestamps."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from bot.taskapi.models import Failed, Found, TaskResult


def fingerprint(results: Sequence[TaskResult], note: str) -> str:
    parts: list[object] = [note]
    for result in results:
        if isinstance(result, Found):
            task = result.task
            parts.append(
                [
                    result.uid,
                    task.task_type,
                    task.task_status,
                    str(task.task_error_code),
                    task.task_error_msg,
                    list(task.final_picture_urls),
                ]
            )
        elif isinstance(result, Failed):
            parts.append([result.uid, "failed", result.error.kind])
        else:
            parts.append([result.uid, "not found"])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def slowdown(unchanged_for: float) -> int:
    """Unchanged tasks are polled less often: x1, then x2 after 5 minutes, x4 after 30."""
    if unchanged_for >= 1800:
        return 4
    return 2 if unchanged_for >= 300 else 1
