"""The client through real HTTP to the fake API on loopback."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.taskapi.client import ClientConfig, Lane, TaskApiClient
from bot.taskapi.errors import ApiRejected, ApiUnavailable, ApiUnreadable
from bot.taskapi.fake import FakeTaskApi
from bot.taskapi.models import Failed, Found, NotFound
from tests.conftest import ClientFactory, ManualClock


async def test_finished_task_with_pictures(
    fake_api: FakeTaskApi, make_client: ClientFactory, clock: ManualClock
) -> None:
    client = await make_client()
    clock.advance(0)
    [first] = await client.get_tasks(["ok3-a"])
    assert isinstance(first, Found)
    assert first.task.task_status == "Queuing"
    clock.advance(25)
    [done] = await client.get_tasks(["ok3-a"])
    assert isinstance(done, Found)
    assert done.task.task_status == "Finished"
    assert len(done.task.final_picture_urls) == 3
    async with aiohttp.ClientSession() as s, s.get(done.task.final_picture_urls[0]) as resp:
        assert resp.status == 200
        assert (await resp.read()).startswith(b"\x89PNG")


async def test_error_task_carries_code_and_message(
    fake_api: FakeTaskApi, make_client: ClientFactory, clock: ManualClock
) -> None:
    client = await make_client()
    await client.get_tasks(["err-1"])
    clock.advance(25)
    [result] = await client.get_tasks(["err-1"])
    assert isinstance(result, Found)
    assert (result.task.task_status, result.task.task_error_code) == ("Error", 1001)
    assert result.task.task_error_msg


async def test_batches_keep_the_callers_order(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client(batch_size=20)
    uids = [f"ok-{n}" for n in range(45)]
    results = await client.get_tasks(uids)
    assert [r.uid for r in results] == uids
    assert all(isinstance(r, Found) and r.task.task_uid == r.uid for r in results)
    assert sorted(len(c) for c in fake_api.calls) == [5, 20, 20]


async def test_unknown_uids_are_not_found(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client()
    results = await client.get_tasks(["nope-1", "ok-1", "nope-1"])
    assert [type(r) for r in results] == [NotFound, Found, NotFound]
    assert fake_api.calls == [["nope-1", "ok-1"]]


@pytest.mark.parametrize(
    ("fault", "error_type", "words"),
    [
        ("http_500", ApiUnavailable, "HTTP 500"),
        ("broken_json", ApiUnreadable, "not the documented JSON"),
        ("ret_code", ApiRejected, "RetCode 500"),
        ("oversize", ApiUnreadable, "larger than"),
    ],
)
async def test_faults_become_typed_errors(
    fake_api: FakeTaskApi, make_client: ClientFactory, fault: str, error_type: type, words: str
) -> None:
    client = await make_client(retries=0, max_response_bytes=100_000)
    setattr(fake_api.faults, fault, 1)
    [result] = await client.get_tasks(["ok-1"])
    assert isinstance(result, Failed)
    assert isinstance(result.error, error_type)
    assert words in result.error.detail
    assert len(result.error.request_uuid) == 36


async def test_bad_signature_is_rejected_and_not_retried(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client(private_key="wrong", retries=3)
    [result] = await client.get_tasks(["ok-1"])
    assert isinstance(result, Failed)
    assert isinstance(result.error, ApiRejected)
    assert result.error.ret_code == 172
    assert "wrong" not in str(result.error)
    assert fake_api.calls == []  # the fake refused before serving; one request only
    [again] = await client.get_tasks(["ok-1"])
    assert isinstance(again, Failed)


async def test_retry_then_success(fake_api: FakeTaskApi, make_client: ClientFactory) -> None:
    client = await make_client(retries=2)
    fake_api.faults.http_500 = 2
    [result] = await client.get_tasks(["ok-1"])
    assert isinstance(result, Found)
    assert client.upstream_calls == 3


async def test_timeout_is_unavailable(fake_api: FakeTaskApi, make_client: ClientFactory) -> None:
    client = await make_client(timeout=0.05, retries=1)
    fake_api.faults.latency = 1.0
    [result] = await client.get_tasks(["ok-1"])
    assert isinstance(result, Failed)
    assert isinstance(result.error, ApiUnavailable)
    assert "timed out" in result.error.detail
    assert client.upstream_calls == 2


async def test_unreachable_api(session: aiohttp.ClientSession) -> None:
    config = ClientConfig("http://127.0.0.1:9/", "p", "k", retries=1, backoff_base=0.01)
    [result] = await TaskApiClient(session, config).get_tasks(["ok-1"])
    assert isinstance(result, Failed)
    assert "could not connect" in result.error.detail


async def test_concurrent_lookups_share_one_call(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client()
    fake_api.faults.latency = 0.05
    results = await asyncio.gather(*(client.get_tasks(["slow-1"]) for _ in range(100)))
    assert all(isinstance(r[0], Found) for r in results)
    assert fake_api.calls == [["slow-1"]]


async def test_distinct_concurrent_lookups_are_batched(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client(batch_size=20)
    await asyncio.gather(*(client.get_tasks([f"ok-{n}"]) for n in range(100)))
    assert len(fake_api.calls) == 5


async def test_final_tasks_are_cached_running_ones_are_not(
    fake_api: FakeTaskApi, make_client: ClientFactory, clock: ManualClock
) -> None:
    client = await make_client()
    await client.get_tasks(["ok-1", "slow-1"])
    clock.advance(25)
    await client.get_tasks(["ok-1", "slow-1"])
    calls_before = len(fake_api.calls)
    [done, running] = await client.get_tasks(["ok-1", "slow-1"])
    assert isinstance(done, Found)
    assert done.task.task_status == "Finished"
    assert isinstance(running, Found)
    assert running.task.task_status == "Running"
    assert fake_api.calls[calls_before:] == [["slow-1"]]


async def test_cache_expires(
    fake_api: FakeTaskApi, make_client: ClientFactory, clock: ManualClock
) -> None:
    client = await make_client(cache_ttl=60)
    await client.get_tasks(["ok-1"])
    clock.advance(25)
    await client.get_tasks(["ok-1"])
    await client.get_tasks(["ok-1"])
    assert len(fake_api.calls) == 2
    clock.advance(61)
    await client.get_tasks(["ok-1"])
    assert len(fake_api.calls) == 3


async def test_cancelled_asker_does_not_cancel_others(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client()
    fake_api.faults.latency = 0.1
    first = asyncio.create_task(client.get_tasks(["ok-1"]))
    second = asyncio.create_task(client.get_tasks(["ok-1"]))
    await asyncio.sleep(0)
    first.cancel()
    [result] = await second
    assert isinstance(result, Found)


def test_config_repr_hides_keys() -> None:
    config = ClientConfig("http://x/", "public-abc", "private-xyz")
    assert "private-xyz" not in repr(config)
    assert "public-abc" not in repr(config)


async def test_lookups_arriving_while_busy_leave_in_full_batches(
    fake_api: FakeTaskApi, make_client: ClientFactory
) -> None:
    client = await make_client(batch_size=20, concurrency=1)
    fake_api.faults.latency = 0.1
    first = asyncio.create_task(client.get_tasks(["ok-first"]))
    await asyncio.sleep(0)  # let the first call leave alone
    await asyncio.sleep(0)
    later = []
    for n in range(40):  # each in its own loop turn, while the only slot is busy
        later.append(asyncio.create_task(client.get_tasks([f"ok-{n}"])))
        await asyncio.sleep(0)
    await asyncio.gather(first, *later)
    assert [len(c) for c in fake_api.calls] == [1, 20, 20]


async def test_the_watcher_keeps_a_slot_while_people_flood(
    make_client: ClientFactory, fake_api: FakeTaskApi
) -> None:
    fake_api.faults.latency = 0.05
    client = await make_client(batch_size=1, concurrency=2)
    people = [asyncio.create_task(client.get_tasks([f"ok-p{n}"])) for n in range(10)]
    watcher = asyncio.create_task(client.get_tasks(["slow-w"], lane=Lane.WATCH))
    await asyncio.gather(*people, watcher)
    asked = [call[0] for call in fake_api.calls]
    assert asked.index("slow-w") < 2  # sent with the first person's call, not after all ten


async def test_a_person_takes_a_queued_watch_uid_ahead(
    make_client: ClientFactory, fake_api: FakeTaskApi
) -> None:
    fake_api.faults.latency = 0.1
    client = await make_client(batch_size=1, concurrency=2)  # the watcher gets one slot
    uids = [f"slow-w{n}" for n in range(6)]
    watcher = asyncio.create_task(client.get_tasks(uids, lane=Lane.WATCH))
    await fake_api.wait_until(lambda: fake_api.received >= 1)  # slow-w0 in flight
    [mine] = await client.get_tasks(["slow-w4"])
    assert isinstance(mine, Found)
    assert fake_api.received <= 3  # not behind slow-w1 .. slow-w3
    assert not watcher.done()
    results = await watcher
    assert [r.uid for r in results] == uids
    assert sum(call.count("slow-w4") for call in fake_api.calls) == 1  # asked once, shared
