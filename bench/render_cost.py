"""CPU cost of rendering one-off answers: `lookup_message`, then the payload as it is sent.

What a `/taskstatus` answer costs between the task API's results and the bytes posted to the
`response_url`: the answer (`lookup_message`), its payload (`as_payload`) and the JSON body
`Delivery.respond` encodes. Answers of 1, 5 and 50 finished tasks, each with a new UID (so
nothing is remembered from the answer before) and a picture; the clock moves one second every
100 answers, as under a load. Short: a few seconds in all, one core.
Usage: python bench/render_cost.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.render.answer import lookup_message
from bot.slack.basics.values import inline_value
from bot.taskapi.models import Found, TaskDetail, TaskResult

SIZES = (1, 5, 50)
ROUNDS = 5  # the best of these is printed: the machine is shared


def answers(size: int, count: int) -> list[tuple[list[TaskResult], str, float]]:
    """`count` lookups of `size` tasks each, every UID new."""
    made = []
    for n in range(count):
        results: list[TaskResult] = []
        for k in range(size):
            uid = f"task-{n:06d}-{k:02d}-0a1b2c3d4e5f"
            detail = TaskDetail.model_validate(
                {
                    "TaskUid": uid,
                    "TaskType": "TaskGeneratePicture",
                    "TaskStatus": "Finished",
                    "FinalPictureUrls": [f"https://img.example/{uid}/0.png"],
                }
            )
            results.append(Found(uid, detail))
        uids = [r.uid for r in results]
        made.append((results, inline_value(uids), 1.8e9 + n // 100))
    return made


def per_answer(size: int, count: int) -> tuple[float, float]:
    """Best µs per answer over ROUNDS: rendering alone, and rendering then encoding."""
    render_best = total_best = float("inf")
    for _ in range(ROUNDS):
        work = answers(size, count)
        start = time.perf_counter()
        for results, value, checked in work:
            lookup_message(results, value, checked)
        render_best = min(render_best, (time.perf_counter() - start) / count)
        work = answers(size, count)
        start = time.perf_counter()
        for results, value, checked in work:
            message = lookup_message(results, value, checked)
            message.as_json(response_type="ephemeral", replace_original=False)  # as respond does
        total_best = min(total_best, (time.perf_counter() - start) / count)
    return render_best * 1e6, total_best * 1e6


def main() -> None:
    for size in SIZES:
        count = max(2000 // size, 100)
        render, total = per_answer(size, count)
        print(
            f"{size:>3} task(s): lookup_message {render:8.1f} µs"
            f"   + JSON body {total:8.1f} µs   ({count} answers x {ROUNDS})"
        )


if __name__ == "__main__":
    main()
