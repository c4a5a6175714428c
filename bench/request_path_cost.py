"""Microseconds of the bot's own code per `/taskstatus UID` answer, step by step.

Only the pure steps outside Bolt and rendering, each timed in a loop in this process (no
servers, no I/O): what a change to one of them saves shows up here on its own line.
Usage: python bench/request_path_cost.py [--number N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.ops.metrics import Metrics
from bot.reading.parse import parse_command
from bot.slack.basics.limits import LookupLimiter
from bot.slack.basics.payloads import is_external, text
from bot.slack.basics.values import inline_value
from bot.slack.delivery.response_url import response_url_allowed
from bot.slack.delivery.response_uses import ResponseUrlUses
from bot.slack.front.request_body import decode
from bot.taskapi.client import ACTION, ClientConfig, Lane, TaskApiClient
from bot.taskapi.signing import sign_list_call

API_BASE = "http://127.0.0.1:9000/api/"
FORM = "application/x-www-form-urlencoded"
PICTURES = "http://127.0.0.1:8765/pictures/ok-bench-1/"
READS = ("text", "channel_id", "user_id", "team_id", "response_url")
_counter = itertools.count()


def _form(n: int) -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": f"U{n}",
            "user_name": "someone",
            "command": "/taskstatus",
            "text": f"ok-bench-{n}",
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:9000/answer/bench-{n}",
            "trigger_id": "1.2.3",
        }
    ).encode()


_FORMS = [_form(n) for n in range(200_000)]
_ANSWER = json.dumps(
    {
        "Action": "ListGenerateTaskDetailResponse",
        "RetCode": 0,
        "Message": "",
        "TaskDetailList": [
            {
                "TaskUid": "ok-bench-1",
                "TaskType": "txt2img",
                "TaskStatus": "Finished",
                "FinalPictureUrls": [f"{PICTURES}{n}.png" for n in range(4)],
                "TaskErrorMsg": "",
                "TaskErrorCode": 0,
            }
        ],
    }
).encode()


def steps() -> dict[str, Callable[[], Any]]:
    metrics = Metrics()
    limiter = LookupLimiter(60)
    uses = ResponseUrlUses()
    client = TaskApiClient(None, ClientConfig(API_BASE, "pub", "priv"))  # type: ignore[arg-type]
    command = decode(_FORMS[0], FORM, None, API_BASE)
    people = itertools.count()
    url = command["response_url"]

    def decode_new() -> Any:  # a new response_url each time, as Slack sends
        return decode(_FORMS[next(_counter) % len(_FORMS)], FORM, None, API_BASE)

    def handler_reads() -> Any:
        is_external(command, "T1", [])
        return [text(command, key) for key in READS]

    def sign_call() -> Any:  # as the client signs each call
        return sign_list_call(ACTION, "pub", ["ok-1"], "u", "priv")

    def next_lane() -> Any:  # twice per batch sent: once to pick it, once to stop
        client._queued[Lane.PERSON]["ok-1"] = None
        client._next_lane()
        client._queued[Lane.PERSON].clear()
        return client._next_lane()

    def uses_one_answer() -> None:
        url = f"http://127.0.0.1:9000/answer/{next(people)}"
        uses.take(url)

    def metric_labels() -> None:  # the labelled metrics one answer touches
        metrics.requests.labels("command").inc()
        metrics.cache_lookups.labels("miss").inc()
        metrics.upstream.labels("ok").inc()
        metrics.task_api_latency.labels("person", "ok").observe(0.01)
        metrics.task_api_uids.labels("person").observe(1)
        metrics.answers.labels("command", "response_url").inc()
        metrics.answer_latency.labels("command").observe(0.05)

    return {
        "decode (form, new response_url)": decode_new,
        "decode (form, same response_url)": lambda: decode(_FORMS[0], FORM, None, API_BASE),
        "response_url_allowed (at delivery)": lambda: response_url_allowed(url, API_BASE),
        "handler reads (is_external+text)": handler_reads,
        "parse_command": lambda: parse_command("ok-bench-1"),
        "LookupLimiter.take (new person)": lambda: limiter.take(f"U{next(people)}", 1),
        "sign (task API call)": sign_call,
        "TaskApiClient._parse (one task)": lambda: client._parse(_ANSWER, "u"),
        "ResponseUrlUses take (was left+spend)": uses_one_answer,
        "TaskApiClient._next_lane x2": next_lane,
        "metrics labels (7 per answer)": metric_labels,
        "inline_value (button value)": lambda: inline_value(["ok-1"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, step in steps().items():
        best = min(timeit.repeat(step, number=args.number, repeat=args.repeat))
        print(f"{name:40} {best / args.number * 1e6:7.2f} us")


if __name__ == "__main__":
    main()
