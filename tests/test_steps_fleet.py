"""Workflow Builder "Wait for tasks" across real bot processes on one store: a wait outlives
the process that took it (SIGKILL, a restart) and completes exactly once for the fleet."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpServer

from bot.store import Store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from tests.fleet import Replica, fleet
from tests.slack_harness import start_fakes
from tests.steps_payloads import completions, function_event
from tests.test_fleet import INTERVAL, LEASE_MARGIN, WAIT, polls, until


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, FakeTaskApi, str]:
    api = FakeTaskApi(step=3600.0)  # queued until a test says otherwise
    slack, api_url = await start_fakes(aiohttp_server, api)
    return slack, api, api_url


async def wait_step(replica: Replica, uids: str, execution: str) -> None:
    body = function_event("wait_for_tasks", {"task_uids": uids}, execution, "xwfp-" + execution)
    assert await replica.post(body, "application/json") == 200


def assert_one_success(slack: FakeSlack, execution: str) -> None:
    done = completions(slack, execution)
    assert [d["method"] for d in done] == ["functions.completeSuccess"], done
    assert done[0]["token"] == "xwfp-" + execution
    assert done[0]["outputs"]["all_done"] is True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_a_wait_completes_once_after_its_process_dies_and_another_starts(
    tmp_path: Path,
    fakes: tuple[FakeSlack, FakeTaskApi, str],
    shared: Store,
    redis_url: str,
    sig: signal.Signals,
) -> None:
    slack, api, api_url = fakes
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        first = await start()
        await wait_step(first, "ok-w1 ok-w2", "FxK1")
        await until(lambda: polls(api, "ok-w1") >= 2)  # its wait is under way there
        await first.stop(sig)
        api.step = 0.0  # the tasks end while no process runs
        assert slack.completions == {}
        await start()  # the restart: a new process on the same store
        # SIGTERM hands the lease back at once; SIGKILL leaves it to run out first.
        limit = 2 * INTERVAL + (LEASE_MARGIN if sig == signal.SIGKILL else 0) + 10
        await slack.wait_for(lambda: "FxK1" in slack.completions, limit)
        assert_one_success(slack, "FxK1")

        async def closed() -> bool:
            return await shared.open_watches("T0HOME") == []

        await until(closed)
        record = await shared.get_watch("T0HOME", "step-T0HOME-FxK1")
        assert record is not None
        assert record.step is not None
        assert record.step.token == ""


async def test_two_processes_on_one_redis_complete_each_wait_once(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeTaskApi, str], shared: Store, redis_url: str
) -> None:
    slack, api, api_url = fakes
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    async with fleet(tmp_path, slack, api_url, redis_url) as start:
        a, b = await start(), await start()
        executions = [f"FxR{n}" for n in range(6)]
        for n, execution in enumerate(executions):
            body = function_event(
                "wait_for_tasks", {"task_uids": f"ok-r{n}"}, execution, "xwfp-" + execution
            )
            # Each event arrives at one process and, retried by Slack, at the other.
            statuses = await asyncio.gather(
                a.post(body, "application/json"), b.post(body, "application/json", **retry)
            )
            assert list(statuses) == [200, 200]
        await until(lambda: all(polls(api, f"ok-r{n}") >= 2 for n in range(6)))
        api.step = 0.0
        await slack.wait_for(lambda: len(slack.completions) == 6, WAIT)
        await a.post(  # one more wait through both: later ticks ran, no late second tries
            function_event("wait_for_tasks", {"task_uids": "ok-late"}, "FxLate", "xwfp-FxLate"),
            "application/json",
        )
        await slack.wait_for(lambda: "FxLate" in slack.completions, WAIT)
        for execution in [*executions, "FxLate"]:
            assert_one_success(slack, execution)
        # One batched lookup per tick serves every wait: no UID is asked for twice in a call.
        assert all(len(set(call)) == len(call) for call in api.calls)
